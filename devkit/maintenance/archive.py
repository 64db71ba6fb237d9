"""The backup archive format: an ordinary ``.tar.gz`` written as indexed gzip members, read back to its end.

Writing streams tar headers and file data (hashing each file in the same single read) through a
compressor thread that ends a gzip member about every MiB (``gzblocks``); reading inflates those
members in parallel, or a plain gzip stream in large chunks, and insists on every member's
trailer (CRC and length), which ``tarfile`` alone does not check for a cut-off file.
"""

import hashlib
import os
import queue
import re
import tarfile
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

from devkit.maintenance.gzblocks import BlockReader, member
from devkit.maintenance.tarstream import ustar_header
from devkit.util.names import timestamped_name

MANIFEST_NAME = "MANIFEST.json"
SUFFIX = ".tar.gz"
TMP_PREFIX = ".tmp-backup-"
CHUNK = 1 << 20
# GNU tar pads an archive to its record size (10 KiB by default, up to a few hundred KiB).
MAX_TRAILING_BYTES = 1 << 20
BLOCK = tarfile.BLOCKSIZE
# zlib's gzip container (wbits 16+15), for archives of plain gzip members.
GZIP_WBITS = 31
# Threads inflating indexed members at once (zlib releases the GIL while it inflates).
INFLATE_THREADS = max(1, min(4, os.cpu_count() or 1))
_NAME = re.compile(
    r"^(?P<project>.+)-(?P<stamp>\d{8}T\d{6}\.\d{3}Z)(?:-(?P<label>[A-Za-z0-9_.]+))?\.tar\.gz$"
)
LABEL = re.compile(r"^[A-Za-z0-9_.]{1,40}$")


def archive_name(project, now, label=None):
    """``<project>-<UTC timestamp>[-<label>].tar.gz``; names of one project sort in time order."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", project).strip("._") or "devkit"
    return timestamped_name(now, f"-{label}{SUFFIX}" if label else SUFFIX, f"{safe}-")


def parse_name(name):
    """The timestamp (Unix seconds) and label a backup's name carries, or None for another file."""
    import calendar
    import time

    match = _NAME.match(name)
    if not match:
        return None
    stamp = match.group("stamp")
    seconds = calendar.timegm(time.strptime(stamp[:15], "%Y%m%dT%H%M%S"))
    return {"created_ts": seconds + int(stamp[16:19]) / 1000.0, "label": match.group("label")}


class TarGzWriter:
    """Writes tar members into one gzip stream on ``fileobj``; a second thread compresses.

    zlib and hashlib release the GIL, so reading and hashing overlap with compression
    much as ``tar | gzip`` overlap in two processes. Use as a context manager.
    """

    def __init__(self, fileobj, level):
        self.compressor = _Compressor(fileobj, level)
        self.pending = bytearray()
        self.raw_bytes = 0
        self.compressor.start()

    def _put(self, data):
        self.pending += data
        self.raw_bytes += len(data)
        if len(self.pending) >= CHUNK:
            # At most CHUNK bytes a gzip member (a large manifest too), so readers inflate in parallel.
            for start in range(0, len(self.pending), CHUNK):
                self.compressor.feed(bytes(self.pending[start : start + CHUNK]))
            self.pending = bytearray()

    def add_header(self, name, kind, mode, mtime, uid=0, gid=0, size=0, linkname=""):
        """Write one member's header (plain ustar when possible, else what tarfile writes)."""
        fast = ustar_header(name, kind, mode, uid, gid, size, mtime, linkname)
        if fast is None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime, info.uid, info.gid = kind, mode, mtime, uid, gid
            info.size, info.linkname = size, linkname
            fast = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        self._put(fast)

    def add_bytes(self, name, data, mode, mtime):
        """Write a file member whose whole content is ``data``."""
        self.add_header(name, tarfile.REGTYPE, mode, mtime, size=len(data))
        self._put(data)
        self._pad(len(data))

    def add_file(self, header, fd, first):
        """Write a file member: ``header`` (add_header's arguments), ``first`` (already read), then the
        rest of ``fd``; return (sha256, short), ``short`` being bytes the file no longer had (zero-padded)."""
        self.add_header(*header)
        size = header[-1]
        digest, left = hashlib.sha256(first), size - len(first)
        self._put(first)
        while left > 0:
            chunk = os.read(fd, min(CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            self._put(chunk)
            left -= len(chunk)
        if left > 0:
            filler = bytes(left)
            digest.update(filler)
            self._put(filler)
        self._pad(size)
        return digest.hexdigest(), max(left, 0)

    def _pad(self, size):
        if size % BLOCK:
            self._put(bytes(BLOCK - size % BLOCK))

    def close(self):
        """End the archive (two zero blocks, padded to a tar record) and flush the gzip trailer."""
        self._put(bytes(2 * BLOCK))
        if self.raw_bytes % tarfile.RECORDSIZE:
            self._put(bytes(tarfile.RECORDSIZE - self.raw_bytes % tarfile.RECORDSIZE))
        if self.pending:
            self.compressor.feed(bytes(self.pending))
        self.pending = bytearray()
        self.compressor.finish()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.compressor.stop()
        return False


class _Compressor(threading.Thread):
    """Writes each fed block as one indexed gzip member, in order; an error is re-raised by ``finish``."""

    def __init__(self, fileobj, level):
        super().__init__(daemon=True)
        self.fileobj, self.level = fileobj, level
        self.blocks = queue.Queue(maxsize=4)
        self.error = None

    def feed(self, block):
        """Queue ``block`` (blocks while the compressor is 4 blocks behind)."""
        if self.error is not None:
            raise self.error
        self.blocks.put(block)

    def run(self):
        while True:
            block = self.blocks.get()
            if block is None:
                break
            if self.error is None:
                try:
                    self.fileobj.write(member(block, self.level))
                except BaseException as exc:  # noqa: BLE001 - handed to the writing thread
                    self.error = exc

    def finish(self):
        """Wait for every block to be written; re-raise a write error."""
        self.stop()
        if self.error is not None:
            raise self.error

    def stop(self):
        """End the thread (idempotent)."""
        if self.is_alive():
            self.blocks.put(None)
            self.join()


class GzipReader:
    """A read-only file object over a gzip file that fails on any damage, including a cut-off end.

    ``read`` raises ``ValueError`` with a one-line reason; ``finish`` reads to the end of
    the file and checks that the last gzip member was complete. ``threaded`` inflates indexed
    members in a pool of threads, or a plain gzip stream in one read-ahead thread.
    """

    def __init__(self, path, threaded=False):
        self.handle = open(path, "rb")
        self.decoder = zlib.decompressobj(GZIP_WBITS)
        self.buffer = b""
        self.offset = 0
        self.at_end = False
        self.threaded, self.ahead = threaded, None
        self.pool = ThreadPoolExecutor(INFLATE_THREADS) if threaded else None
        self.blocks = BlockReader(self.handle, self.pool)

    def _next(self):
        if self.blocks is not None:
            chunk = self.blocks.next()
            if chunk is BlockReader.FALLBACK:
                # The rest is plain gzip (an older backup, or another tool's): inflate it as a stream.
                self.blocks = None
                self.ahead = _ReadAhead(self._decompress_more) if self.threaded else None
                return self._next()
        else:
            chunk = self._decompress_more() if self.ahead is None else self.ahead.next()
        if chunk is None:
            self.at_end = True
            return b""
        return chunk

    def _decompress_more(self):
        decoder = self.decoder
        if decoder.eof:
            # Concatenated gzip members are one valid stream (gzip and GNU tar read them so).
            data = decoder.unused_data or self.handle.read(CHUNK)
            if not data:
                return None
            self.decoder = decoder = zlib.decompressobj(GZIP_WBITS)
        else:
            data = decoder.unconsumed_tail or self.handle.read(CHUNK)
            if not data:
                raise ValueError("the gzip stream ends early (truncated archive)")
        try:
            return decoder.decompress(data, CHUNK)
        except zlib.error as exc:
            raise ValueError(f"the gzip stream is damaged ({exc})") from None

    def read(self, size=-1):
        """Up to ``size`` decompressed bytes (all with -1); b"" only at the true end."""
        start = self.offset
        if 0 <= size <= len(self.buffer) - start:
            self.offset = start + size
            return self.buffer[start : self.offset]
        while (size < 0 or len(self.buffer) - self.offset < size) and not self.at_end:
            chunk = self._next()
            self.buffer = self.buffer[self.offset :] + chunk if self.offset < len(self.buffer) else chunk
            self.offset = 0
        end = len(self.buffer) if size < 0 else self.offset + size
        data = self.buffer[self.offset : end]
        self.offset += len(data)
        return data

    def read1(self, size):
        """Up to ``size`` bytes of what one inflated block still holds, without joining blocks (bytes
        or a memoryview); b"" only at the true end."""
        while self.offset >= len(self.buffer):
            if self.at_end:
                return b""
            self.buffer, self.offset = self._next(), 0
        start, self.offset = self.offset, min(self.offset + size, len(self.buffer))
        if start == 0 and self.offset == len(self.buffer):
            return self.buffer
        return memoryview(self.buffer)[start : self.offset]

    def take(self, size):
        """The next ``size`` bytes as a memoryview when the inflated block in hand holds them all
        (no copy, no join: small members), else None and nothing is consumed."""
        start = self.offset
        end = start + size
        if end > len(self.buffer):
            return None
        self.offset = end
        return memoryview(self.buffer)[start:end]

    def finish(self):
        """Read and check the rest of the stream; raise ValueError when it is damaged, cut off, or
        holds more than a tar's end padding after the archive's end (a bomb of trailing zeros)."""
        trailing = len(self.buffer) - self.offset
        self.buffer, self.offset = b"", 0
        while not self.at_end:
            trailing += len(self._next())
            if trailing > MAX_TRAILING_BYTES:
                raise ValueError(f"more than {MAX_TRAILING_BYTES} bytes follow the end of the tar archive")

    def close(self):
        """Stop the inflating threads, if any, and close the underlying file."""
        if self.blocks is not None:
            self.blocks.close()
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        if self.ahead is not None:
            self.ahead.stop()
        self.handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _ReadAhead(threading.Thread):
    """Calls ``produce`` (decompress the next chunk) in a second thread, up to 4 chunks ahead.

    zlib releases the GIL while it inflates, so decompressing overlaps with hashing and
    writing in the reading thread; an exception is handed over in order, at its place.
    """

    def __init__(self, produce):
        super().__init__(daemon=True)
        self.produce, self.chunks, self.stopped = produce, queue.Queue(maxsize=4), False
        self.start()

    def run(self):
        while not self.stopped:
            try:
                item = (self.produce(), None)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the reading thread
                item = (None, exc)
            self.chunks.put(item)
            if item[0] is None:
                return

    def next(self):
        """The next chunk, None at the end of the stream; raises what the producer raised."""
        chunk, error = self.chunks.get()
        if error is not None:
            raise error
        return chunk

    def stop(self):
        """End the thread, draining what it queued so it never blocks (idempotent)."""
        self.stopped = True
        while self.is_alive():
            try:
                self.chunks.get(timeout=0.05)
            except queue.Empty:
                pass


def remove_leftovers(directory):
    """Delete temporary files a crashed backup run left in ``directory``; return their names."""
    removed = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return removed
    for name in sorted(names):
        if name.startswith(TMP_PREFIX):
            path = os.path.join(directory, name)
            try:
                _remove_tree_or_file(path)
                removed.append(name)
            except FileNotFoundError:
                pass
    return removed


def _remove_tree_or_file(path):
    import shutil

    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)
