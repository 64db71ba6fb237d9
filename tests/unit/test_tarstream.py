"""The fast tar pieces agree with tarfile: same ustar headers, same members read back."""

import io
import tarfile

import pytest

from devkit.maintenance.tarstream import TarStream, ustar_header


@pytest.mark.parametrize(
    "name,kind,mode,size,link",
    [
        ("data/x.json", tarfile.REGTYPE, 0o644, 123, ""),
        ("data", tarfile.DIRTYPE, 0o750, 0, ""),
        ("data/latest", tarfile.SYMTYPE, 0o777, 0, "runs/r1.json"),
        ("e", tarfile.REGTYPE, 0o1600, 0, ""),
    ],
)
def test_ustar_header_is_byte_for_byte_what_tarfile_writes(name, kind, mode, size, link):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime, info.linkname, info.uid, info.gid = (
        kind,
        mode,
        size,
        1_700_000_001,
        link,
        1000,
        100,
    )
    assert ustar_header(name, kind, mode, 1000, 100, size, 1_700_000_001, link) == info.tobuf(
        tarfile.PAX_FORMAT, "utf-8", "surrogateescape"
    )


def test_ustar_header_declines_what_ustar_cannot_hold():
    assert ustar_header("x" * 101, tarfile.REGTYPE, 0o644, 0, 0, 1, 1) is None
    assert ustar_header("café.json", tarfile.REGTYPE, 0o644, 0, 0, 1, 1) is None
    assert ustar_header("big", tarfile.REGTYPE, 0o644, 0, 0, 8**11, 1) is None


class _Reader:
    def __init__(self, data):
        self.data = io.BytesIO(data)

    def read(self, size):
        return self.data.read(size)

    def read1(self, size):
        return self.data.read1(size)


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_stream_reads_what_tarfile_wrote_including_long_and_unicode_names(fmt):
    names = ["a/" + "long" * 40 + ".json", "b/short.txt"] + (
        ["c/café €.json"] if fmt != tarfile.USTAR_FORMAT else []
    )
    if fmt == tarfile.USTAR_FORMAT:
        names[0] = "p" * 120 + "/x.json"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
        for i, name in enumerate(names):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = 700 + i, 0o640, 1_700_000_000 + i
            tar.addfile(info, io.BytesIO(bytes([65 + i]) * info.size))
        link = tarfile.TarInfo("b/link")
        link.type, link.linkname = tarfile.SYMTYPE, "short.txt"
        tar.addfile(link)
    stream = TarStream(_Reader(raw.getvalue()), 256)
    seen = [
        (m.name, m.type, m.size, m.mode, int(m.mtime), m.linkname, b"".join(stream.chunks(m))) for m in stream
    ]
    assert seen == [
        (n, tarfile.REGTYPE, 700 + i, 0o640, 1_700_000_000 + i, "", bytes([65 + i]) * (700 + i))
        for i, n in enumerate(names)
    ] + [("b/link", tarfile.SYMTYPE, 0, 0o644, 0, "short.txt", b"")]


def test_stream_rejects_a_damaged_header_and_an_early_end():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("x")
        info.size = 10
        tar.addfile(info, io.BytesIO(b"0123456789"))
    data = bytearray(raw.getvalue())
    data[5] ^= 1
    with pytest.raises(ValueError, match="bad checksum"):
        list(TarStream(_Reader(bytes(data)), 256))
    with pytest.raises(ValueError, match="ends early"):
        stream = TarStream(_Reader(raw.getvalue()[:600]), 256)
        for member in stream:
            b"".join(stream.chunks(member))


def test_stream_refuses_an_oversized_extension_header():
    info = tarfile.TarInfo("././@PaxHeader")
    info.type, info.size = tarfile.XHDTYPE, 2 << 20
    header = info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
    with pytest.raises(ValueError, match="a tar extension header of 2097152 bytes"):
        list(TarStream(_Reader(header + bytes(4096)), 256))
