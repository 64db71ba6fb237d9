"""Fast tar headers: building plain ustar headers, and streaming members out of a decompressed tar.

``tarfile`` spends most of its time per member in Python; backups hold tens of thousands of
small files, so common headers are packed and parsed here directly. Anything unusual (long
or non-ASCII names, huge numbers) is written by ``tarfile`` itself, and read here through its
pax or GNU long-name records. Members come back as ordinary ``tarfile.TarInfo`` objects.
"""

import struct
import tarfile

BLOCK = tarfile.BLOCKSIZE
_ZERO_BLOCK = bytes(BLOCK)
_USTAR = b"ustar\x0000"
_AFTER_USTAR = bytes(BLOCK - 265)
_MAX_OCTAL_7 = 8**7
_MAX_OCTAL_11 = 8**11
# pax and GNU long-name records are read whole; real ones are a few hundred bytes.
MAX_EXTENSION_BYTES = 1 << 20
# name, mode, uid, gid, size, mtime, checksum, type, linkname, magic+version, (owner names,
# device numbers), prefix; the last 12 bytes are unused.
_FIELDS = struct.Struct("100s8s8s8s12s12s8s1s100s8s80x155s12x")
_KIND_FIX = {tarfile.AREGTYPE: tarfile.REGTYPE, tarfile.CONTTYPE: tarfile.REGTYPE}
# The fields up to the magic: all a usual header (ustar, zeros after the magic) holds.
_PLAIN_FIELDS = struct.Struct("100s8s8s8s12s12s8s1s100s8s")
_USTAR_SUM = sum(_USTAR)
_PLAIN_KINDS = frozenset((tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE))


def ustar_header(name, kind, mode, uid, gid, size, mtime, linkname=""):
    """The 512-byte ustar header ``tarfile`` would write for these simple values, or None when they are not simple."""
    name = name + "/" if kind == tarfile.DIRTYPE else name
    if not (name.isascii() and linkname.isascii() and len(name) <= 100 and len(linkname) <= 100):
        return None
    if not (
        0 <= uid < _MAX_OCTAL_7
        and 0 <= gid < _MAX_OCTAL_7
        and 0 <= size < _MAX_OCTAL_11
        and 0 <= mtime < _MAX_OCTAL_11
    ):
        return None
    name, linkname = name.encode("ascii"), linkname.encode("ascii")
    numbers = b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode & 0o7777, uid, gid, size, mtime)
    # The checksum sums the header with its own field as spaces; NUL padding adds nothing.
    checksum = sum(name) + sum(numbers) + 256 + kind[0] + sum(linkname) + _USTAR_SUM
    return b"".join(
        (
            name.ljust(100, b"\0"),
            numbers,
            b"%06o\0 " % checksum,
            kind,
            linkname.ljust(100, b"\0"),
            _USTAR,
            _AFTER_USTAR,
        )
    )


def _number(field):
    if field and field[0] in (0o200, 0o377):
        value = int.from_bytes(field[1:], "big")
        return -((1 << (8 * (len(field) - 1))) - value) if field[0] == 0o377 else value
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _numbers(*fields):
    # Plain octal fields (nearly all) in one pass; base-256 or blank fields through _number.
    try:
        return [int(field.split(b"\0", 1)[0], 8) for field in fields]
    except ValueError:
        return [_number(field) for field in fields]


def _unsigned_sum(block, name, linkname):
    # The header's byte sum with the checksum field as spaces. NUL bytes add nothing, so the usual
    # header (short names, nothing past the magic) sums a few dozen bytes instead of 512.
    if block[265:] != _AFTER_USTAR:
        return sum(block) - sum(block[148:156]) + 256
    return (
        sum(name.rstrip(b"\0"))
        + sum(block[100:148])
        + 256
        + block[156]
        + sum(linkname.rstrip(b"\0"))
        + sum(block[257:265])
    )


def _plain_header(block):
    # The usual header of our own archives, parsed in one go; None sends anything else (pax or
    # GNU records, a prefix, owner names, base-256 numbers, a bad checksum) to the full parser.
    if block[265:] != _AFTER_USTAR:
        return None
    name, mode, uid, gid, size, mtime, stored, kind, linkname, magic = _PLAIN_FIELDS.unpack_from(block)
    if magic != _USTAR or kind not in _PLAIN_KINDS:
        return None
    try:
        mode, uid, gid, size, mtime, stored = [
            int(field.split(b"\0", 1)[0], 8) for field in (mode, uid, gid, size, mtime, stored)
        ]
    except ValueError:
        return None
    if stored != _unsigned_sum(block, name, linkname):
        return None
    info = tarfile.TarInfo(name.split(b"\0", 1)[0].decode("utf-8", "surrogateescape"))
    info.type, info.mode, info.uid, info.gid, info.size, info.mtime = kind, mode, uid, gid, size, mtime
    info.linkname = linkname.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    if kind == tarfile.DIRTYPE:
        info.name = info.name.rstrip("/")
    return info


def _signed_sum(block):
    # Some old tars summed the header as signed bytes; tarfile accepts both, so do we.
    return sum(struct.unpack_from("148b8x356b", block)) + 256


def _text(field):
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _parse_pax(data):
    records, pos = {}, 0
    while pos < len(data) and data[pos] != 0:
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


class TarStream:
    """Members of an uncompressed tar read from ``reader`` (``read(n)``, ``read1(n)``), in order, each read once.

    Iterate for ``TarInfo`` objects; ``chunks(info)`` yields the current member's data.
    Raises ``ValueError`` on a damaged header or an early end.
    """

    def __init__(self, reader, chunk_size):
        self.reader, self.chunk_size = reader, chunk_size
        self.unread = 0
        # A reader that can hand over what it already holds lets small members skip the chunk loop.
        self._take = getattr(reader, "take", None)

    def _exact(self, size):
        data = self.reader.read(size)
        if len(data) != size:
            raise ValueError("the tar stream ends early (truncated archive)")
        return data

    def _skip_rest(self):
        if self._take is not None and self._take(self.unread) is not None:
            self.unread = 0
            return
        while self.unread:
            self.unread -= len(self._exact(min(self.unread, self.chunk_size)))

    def data(self, info):
        """All the data of ``info`` (the member just returned, nothing of it read yet) in one piece when
        the reader already holds it, padding skipped; else None and ``chunks(info)`` reads it."""
        if self._take is None or self.unread != info.size + (-info.size % BLOCK):
            return None
        whole = self._take(self.unread)
        if whole is None:
            return None
        self.unread = 0
        return whole[: info.size]

    def pieces(self, info):
        """The data of ``info`` (the member just returned): one piece when the reader holds it all, else chunks."""
        whole = self.data(info)
        return (whole,) if whole is not None else self.chunks(info)

    def chunks(self, info):
        """The data of ``info`` (the member just returned), in chunks, then its padding is skipped."""
        left = self.unread - (-info.size % BLOCK)
        while left > 0:
            chunk = self.reader.read1(min(left, self.chunk_size))
            if not chunk:
                raise ValueError("the tar stream ends early (truncated archive)")
            left -= len(chunk)
            self.unread -= len(chunk)
            yield chunk

    def __iter__(self):
        extra = {}
        while True:
            if self.unread:
                self._skip_rest()
            block = self._exact(BLOCK)
            if block == _ZERO_BLOCK:
                return
            info = (not extra and _plain_header(block)) or self._header(block, extra)
            if info.type in (
                tarfile.XHDTYPE,
                tarfile.XGLTYPE,
                tarfile.GNUTYPE_LONGNAME,
                tarfile.GNUTYPE_LONGLINK,
            ):
                extra = self._extension(info, extra)
                continue
            extra = {}
            has_data = info.isfile() or info.type not in tarfile.SUPPORTED_TYPES
            self.unread = info.size + (-info.size % BLOCK) if has_data else 0
            yield info

    def _extension(self, info, extra):
        if info.size > MAX_EXTENSION_BYTES:
            raise ValueError(f"a tar extension header of {info.size} bytes (more than {MAX_EXTENSION_BYTES})")
        data = self._exact(info.size + (-info.size % BLOCK))[: info.size]
        if info.type == tarfile.XHDTYPE:
            return {**extra, **_parse_pax(data)}
        if info.type == tarfile.XGLTYPE:
            return extra
        key = "path" if info.type == tarfile.GNUTYPE_LONGNAME else "linkpath"
        return {**extra, key: data.rstrip(b"\0").decode("utf-8", "surrogateescape")}

    @staticmethod
    def _header(block, extra):
        name, mode, uid, gid, size, mtime, stored, kind, linkname, magic, prefix = _FIELDS.unpack(block)
        stored = _number(stored)
        if stored != _unsigned_sum(block, name, linkname) and stored != _signed_sum(block):
            raise ValueError("a tar header is damaged (bad checksum)")
        name = _text(name)
        if magic == _USTAR and prefix[0] != 0:
            name = _text(prefix) + "/" + name
        info = tarfile.TarInfo(extra.get("path", name))
        info.type = _KIND_FIX.get(kind, kind)
        info.mode, info.uid, info.gid, size, mtime = _numbers(mode, uid, gid, size, mtime)
        info.size = int(extra.get("size", size))
        info.mtime = float(extra["mtime"]) if "mtime" in extra else mtime
        info.linkname = extra.get("linkpath", _text(linkname))
        if kind == tarfile.AREGTYPE and info.name.endswith("/"):
            info.type = tarfile.DIRTYPE
        if info.type == tarfile.DIRTYPE:
            info.name = info.name.rstrip("/")
        return info
