"""The fast tar pieces agree with tarfile: same ustar headers, same members read back."""

import io
import os
import tarfile

import pytest

from devkit.maintenance import tarstream
from devkit.maintenance.archive import CHUNK, GzipReader, TarGzWriter
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


PLAIN_HEADERS = [
    ("data/x.json", tarfile.REGTYPE, 0o644, 0, 0, 123, 1_700_000_001, ""),
    ("data", tarfile.DIRTYPE, 0o750, 1000, 100, 0, 1, ""),
    ("data/latest", tarfile.SYMTYPE, 0o777, 0, 0, 0, 0, "runs/r1.json"),
    ("data/again", tarfile.LNKTYPE, 0o600, 7, 7, 0, 8**11 - 1, "data/x.json"),
    ("e" * 100, tarfile.REGTYPE, 0o7777, 8**7 - 1, 8**7 - 1, 8**11 - 1, 8**11 - 1, ""),
]


def _facts(info):
    return (info.name, info.type, info.mode, info.uid, info.gid, info.size, info.mtime, info.linkname)


@pytest.mark.parametrize("fields", PLAIN_HEADERS, ids=lambda fields: fields[0][:12])
def test_the_quick_header_parse_gives_what_the_full_one_gives(fields):
    block = ustar_header(*fields)
    quick = tarstream._plain_header(block)
    assert quick is not None  # our own usual headers take the quick parse
    assert _facts(quick) == _facts(TarStream._header(block, {}))
    assert _facts(quick)[:2] == (fields[0], fields[1])


def test_headers_the_quick_parse_declines_still_read_in_full():
    info = tarfile.TarInfo("n/" + "é" * 10)  # non-ASCII bytes: tarfile may have summed them signed
    info.size, info.uname, info.mtime = 3, "root", 5
    block = info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")
    assert tarstream._plain_header(block) is None  # an owner name past the magic
    signed = bytearray(block)
    signed[148:156] = b"%06o\0 " % tarstream._signed_sum(block)
    for header in (block, bytes(signed)):
        member = next(iter(TarStream(_Reader(header + b"abc".ljust(512, b"\0")), 256)))
        assert (member.name, member.size, member.mtime) == ("n/" + "é" * 10, 3, 5)


def test_a_damaged_byte_anywhere_in_a_usual_header_is_caught():
    block = ustar_header("data/x.json", tarfile.REGTYPE, 0o644, 0, 0, 0, 1)
    for at in (0, 40, 99, 100, 140, 157, 300, 511):
        damaged = bytearray(block)
        damaged[at] ^= 0x20
        with pytest.raises(ValueError, match="bad checksum|base 8|invalid"):
            list(TarStream(_Reader(bytes(damaged) + bytes(1024)), 256))


def test_small_members_come_whole_from_the_reader_and_large_ones_in_chunks(tmp_path):
    path = str(tmp_path / "a.tar.gz")
    contents = {"small.json": b'{"a": 1}', "big.bin": os.urandom(3 << 20), "after.txt": b"x" * 600}
    with open(path, "wb") as handle, TarGzWriter(handle, 1) as writer:
        for name, data in contents.items():
            writer.add_bytes(name, data, 0o644, 1)
        writer.close()
    got, whole = {}, set()
    with GzipReader(path, threaded=True) as reader:
        stream = TarStream(reader, CHUNK)
        for info in stream:
            data = stream.data(info)
            if data is not None:
                whole.add(info.name)
                got[info.name] = bytes(data)
            else:
                got[info.name] = b"".join(stream.chunks(info))
        reader.finish()
    assert got == contents
    assert whole == {"small.json", "after.txt"}  # 3 MiB spans the reader's 1 MiB blocks
    plain = TarStream(_Reader(b""), 256)
    assert plain.data(tarfile.TarInfo("x")) is None  # a reader without take(): chunks() it is
