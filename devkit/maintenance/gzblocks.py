"""Indexed gzip members: a backup is a chain of gzip members, each saying its compressed length.

Concatenated gzip members are one valid ``.gz`` (gzip, GNU tar and Python's ``gzip`` read them
as one stream). Each member devkit writes carries, in the header's FEXTRA field (RFC 1952 2.3.1.1),
a ``DK`` subfield with the length of its deflate data, so a reader can find the next member without
inflating this one and inflate several members at once (the idea of BGZF, samtools' block gzip).
Every member still ends with its own CRC-32 and length, both checked.
"""

import collections
import struct
import zlib

# A member's header: magic, deflate, FEXTRA flag, mtime 0, no extra flags, OS unknown, then XLEN
# and the one subfield: "DK", 4 bytes of data, the deflate length (all little-endian).
_HEADER = struct.Struct("<4sIBBHccHI")
_MAGIC = b"\x1f\x8b\x08\x04"
HEADER_SIZE = _HEADER.size
_TRAILER = struct.Struct("<II")
# devkit's members hold at most 1 MiB of tar data. A header claiming more deflate data than this is
# read as plain gzip; an indexed member that inflates past it is refused (a bomb).
MAX_BLOCK_BYTES = 4 << 20
# Members read and queued for inflating ahead of the reader: bounds memory to a few dozen MiB.
IN_FLIGHT = 6


def member(block, level):
    """One indexed gzip member holding ``block`` compressed at ``level``."""
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    data = deflate.compress(block) + deflate.flush()
    header = _HEADER.pack(_MAGIC, 0, 0, 255, 8, b"D", b"K", 4, len(data))
    return b"".join((header, data, _TRAILER.pack(zlib.crc32(block), len(block) & 0xFFFFFFFF)))


def indexed_length(header):
    """The deflate length an indexed member's header gives, or None for any other header."""
    if len(header) != HEADER_SIZE:
        return None
    magic, _mtime, _xfl, _os, xlen, si1, si2, sublen, length = _HEADER.unpack(header)
    if (magic, xlen, si1, si2, sublen) != (_MAGIC, 8, b"D", b"K", 4) or length > MAX_BLOCK_BYTES:
        return None
    return length


def inflate(payload):
    """The data of one member's deflate bytes plus trailer; raise ValueError when they do not agree."""
    decoder = zlib.decompressobj(-15)
    try:
        data = decoder.decompress(payload[:-8], MAX_BLOCK_BYTES)
    except zlib.error as exc:
        raise ValueError(f"the gzip stream is damaged ({exc})") from None
    crc, size = _TRAILER.unpack(payload[-8:])
    if not decoder.eof or decoder.unconsumed_tail or decoder.unused_data:
        raise ValueError("the gzip stream is damaged (a block's length is wrong, or it inflates past 4 MiB)")
    if zlib.crc32(data) != crc or len(data) & 0xFFFFFFFF != size:
        raise ValueError("the gzip stream is damaged (CRC or length check failed)")
    return data


class BlockReader:
    """Reads indexed members from ``handle`` in order, inflating up to ``IN_FLIGHT`` ahead in ``pool``.

    ``next()`` gives each member's data, None at the end of the file, or ``FALLBACK`` when the next
    member is not indexed (the handle is then left at its start for a plain gzip decoder).
    """

    FALLBACK = object()
    _END = object()

    def __init__(self, handle, pool=None):
        self.handle, self.pool = handle, pool
        self.pending = collections.deque()
        self.stop = None

    def _queue_next(self):
        start = self.handle.tell()
        header = self.handle.read(HEADER_SIZE)
        length = indexed_length(header)
        if length is None:
            self.handle.seek(start)
            self.stop = self.FALLBACK if header else self._END
            return
        payload = self.handle.read(length + _TRAILER.size)
        if len(payload) != length + _TRAILER.size:
            # Raised after the members before it, in order.
            self.stop = ValueError("the gzip stream ends early (truncated archive)")
        else:
            self.pending.append(self.pool.submit(inflate, payload) if self.pool else payload)

    def next(self):
        """The next member's data, None at the end, or ``FALLBACK``; raises ValueError on damage."""
        while self.stop is None and len(self.pending) < (IN_FLIGHT if self.pool else 1):
            self._queue_next()
        if self.pending:
            item = self.pending.popleft()
            return item.result() if self.pool else inflate(item)
        if isinstance(self.stop, ValueError):
            raise self.stop
        return None if self.stop is self._END else self.FALLBACK

    def close(self):
        """Drop what is still queued (a member being inflated finishes in its thread)."""
        if self.pool:
            for future in self.pending:
                future.cancel()
        self.pending.clear()
