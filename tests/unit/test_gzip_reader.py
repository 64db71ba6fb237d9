"""GzipReader over plain gzip (read-ahead thread) and over indexed members (a pool of threads): same bytes as
gzip, damage raised in order, threads stopped when left early; the writer ends a member every MiB."""

import gzip
import io
import os
import tarfile

import pytest

from devkit.maintenance import gzblocks
from devkit.maintenance.archive import CHUNK, GzipReader, TarGzWriter


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


BLOCKS = [os.urandom(200_000) + bytes(800_000) for _ in range(4)]


@pytest.fixture
def indexed(tmp_path):
    """An archive of four indexed gzip members, as backups are written."""
    path = str(tmp_path / "blocks.gz")
    with open(path, "wb") as handle:
        for block in BLOCKS:
            handle.write(gzblocks.member(block, 4))
    return path


def _member_starts(path):
    with open(path, "rb") as handle:
        raw = handle.read()
    starts, pos = [], 0
    while pos < len(raw):
        starts.append(pos)
        pos += gzblocks.HEADER_SIZE + gzblocks.indexed_length(raw[pos : pos + gzblocks.HEADER_SIZE]) + 8
    assert pos == len(raw)
    return starts


def _read_all(path, threaded):
    with GzipReader(path, threaded=threaded) as reader:
        data = reader.read()
        reader.finish()
    return data


@pytest.mark.parametrize("threaded", [False, True])
def test_indexed_members_are_one_gzip_stream_for_gzip_and_for_both_readers(indexed, threaded):
    assert len(_member_starts(indexed)) == 4
    with open(indexed, "rb") as handle:
        assert gzip.decompress(handle.read()) == b"".join(BLOCKS)
    assert _read_all(indexed, threaded) == b"".join(BLOCKS)


@pytest.mark.parametrize("threaded", [False, True])
@pytest.mark.parametrize("field", ["magic", "length", "data", "crc", "size"])
def test_one_flipped_byte_in_any_part_of_a_member_fails(indexed, threaded, field):
    second = _member_starts(indexed)[1]
    offset = second + {"magic": 1, "length": 16, "data": 5000, "crc": -7, "size": -2}[field]
    if offset < second:
        offset += _member_starts(indexed)[2] - second
    with open(indexed, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([byte ^ 0x10]))
    with pytest.raises(ValueError, match="^the gzip stream (is damaged|ends early)"):
        _read_all(indexed, threaded)


@pytest.mark.parametrize("threaded", [False, True])
def test_a_cut_inside_any_member_fails_and_earlier_members_come_first(indexed, threaded):
    for cut in [s + d for s in _member_starts(indexed) for d in (3, gzblocks.HEADER_SIZE + 1)] + [-1, -8]:
        with open(indexed, "rb") as handle:
            raw = handle.read()
        short = indexed + ".cut"
        with open(short, "wb") as handle:
            handle.write(raw[:cut])
        with GzipReader(short, threaded=threaded) as reader:
            got = bytearray()
            with pytest.raises(ValueError, match=r"^the gzip stream ends early \(truncated archive\)$"):
                while True:
                    got += reader.read1(1 << 20)
        assert bytes(got) == b"".join(BLOCKS)[: len(got)] and len(got) % 1_000_000 == 0


@pytest.mark.parametrize("threaded", [False, True])
def test_a_plain_gzip_member_after_indexed_ones_is_read_too(indexed, threaded):
    with open(indexed, "ab") as handle:
        handle.write(gzip.compress(b"tail" * 1000))
    assert _read_all(indexed, threaded) == b"".join(BLOCKS) + b"tail" * 1000


def test_a_member_claiming_an_oversized_block_is_read_as_plain_gzip(tmp_path):
    # zlib skips the FEXTRA field, so the member still reads, just without the parallel path.
    block = os.urandom(1000)
    raw = bytearray(gzblocks.member(block, 4))
    raw[14:18] = (gzblocks.MAX_BLOCK_BYTES + 1).to_bytes(4, "little")
    path = str(tmp_path / "big.gz")
    with open(path, "wb") as handle:
        handle.write(bytes(raw))
    assert _read_all(path, threaded=True) == block


def test_leaving_early_stops_the_inflating_threads(indexed):
    with GzipReader(indexed, threaded=True) as reader:
        assert reader.read(512) == BLOCKS[0][:512]
        workers = list(reader.pool._threads)
    assert workers and not any(t.is_alive() for t in workers)


def test_the_writer_ends_a_gzip_member_every_mib_even_inside_one_large_member(tmp_path):
    raw = io.BytesIO()
    big = os.urandom(100_000) * 30
    with TarGzWriter(raw, 4) as out:
        out.add_bytes("big.json", big, 0o644, 1_700_000_000)
        out.close()
    path = str(tmp_path / "w.tar.gz")
    with open(path, "wb") as handle:
        handle.write(raw.getvalue())
    starts = _member_starts(path)
    sizes = [
        int.from_bytes(raw.getvalue()[end - 4 : end], "little") for end in starts[1:] + [len(raw.getvalue())]
    ]
    assert len(starts) == 4 and all(size <= CHUNK for size in sizes)
    with tarfile.open(path) as tar:
        assert tar.extractfile("big.json").read() == big


@pytest.mark.parametrize("threaded", [False, True])
def test_an_indexed_member_inflating_past_its_bound_is_refused(tmp_path, threaded):
    bomb = bytes(gzblocks.MAX_BLOCK_BYTES + 1)
    path = str(tmp_path / "bomb.gz")
    with open(path, "wb") as handle:
        handle.write(gzblocks.member(bomb, 9))
    with pytest.raises(ValueError, match=r"inflates past 4 MiB\)$"):
        _read_all(path, threaded)
