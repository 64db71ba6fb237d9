"""The read-ahead GzipReader: same bytes as the plain one, damage raised in order, stops cleanly when left early."""

import gzip
import os

import pytest

from devkit.maintenance.archive import GzipReader


@pytest.fixture
def archive(tmp_path):
    data = os.urandom(1 << 20) + bytes(9 << 20)
    path = str(tmp_path / "a.gz")
    with gzip.open(path, "wb", compresslevel=1) as handle:
        handle.write(data)
    return path, data


def test_threaded_reads_the_same_bytes_and_checks_the_trailer(archive):
    path, data = archive
    with GzipReader(path, threaded=True) as reader:
        assert reader.read(512) + reader.read(3 << 20) + reader.read() == data
        reader.finish()


def test_a_cut_off_stream_raises_in_the_reading_thread(archive, tmp_path):
    path, _ = archive
    cut = str(tmp_path / "cut.gz")
    with open(path, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read()[:-5])
    with GzipReader(cut, threaded=True) as reader:
        with pytest.raises(ValueError) as caught:
            reader.read()
    assert str(caught.value) == "the gzip stream ends early (truncated archive)"


def test_leaving_early_stops_the_read_ahead_thread(archive):
    path, data = archive
    with GzipReader(path, threaded=True) as reader:
        assert reader.read(512) == data[:512]
    reader.ahead.join(timeout=5)
    assert not reader.ahead.is_alive()
