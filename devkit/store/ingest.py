"""Import JSON-lines events into the store: lines validated a chunk at a time (devkit.core.chunks),
good ones written in batches, bad ones reported with their line numbers.

A regular file is read from where the last ingest of it stopped (store.sources); the byte offset
is committed in the same transaction as the rows it covers, so a rerun, a crash or a kill -9
never counts a line twice or skips one. ``follow`` tails a growing log like ``tail -F``.
"""

import copy
import os
import time
from functools import partial
from itertools import islice

from devkit.core.chunks import EventColumns, read_chunk
from devkit.core.events import MAX_LINE_BYTES
from devkit.core.records import Batch
from devkit.store.sources import seal

BATCH_SIZE = 20000
CHUNK_LINES = 1000
# A chunk stops growing past this many bytes (it is read in steps of STEP_LINES lines, so a chunk of
# hostile 1 MiB lines stays near CHUNK_BYTES + STEP_LINES MiB).
CHUNK_BYTES = 8 << 20
STEP_LINES = 64
MAX_KEPT_ERRORS = 1000
POLL_S = 0.2


def bounded_lines(handle, limit=MAX_LINE_BYTES):
    """Lines of a binary ``handle``; a line longer than ``limit`` comes as its first ``limit + 1`` bytes
    (the rest is skipped unread into memory), so it is reported instead of filling memory."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            _skip_rest(handle, limit)
        yield line


def _skip_rest(handle, limit):
    while True:
        rest = handle.readline(limit)
        if not rest or rest.endswith(b"\n"):
            return


class FileReader:
    """An open regular file read from its cursor; the cursor moves past each line as it is handed out."""

    def __init__(self, handle, cursor):
        self.handle, self.cursor = handle, cursor
        self.committed = cursor.offset
        handle.seek(cursor.offset)

    def chunks(self, final=True):
        """Lists of complete lines from the cursor on (see ``lines``), read with C-level readline calls; a
        chunk with an over-long or unfinished line is read again line by line."""
        readlines = iter(partial(self.handle.readline, MAX_LINE_BYTES + 1), b"")
        while True:
            start = self.cursor.offset
            lines = read_lines(readlines)
            if not lines:
                return
            if max(map(len, lines)) > MAX_LINE_BYTES or not (final or lines[-1].endswith(b"\n")):
                self.handle.seek(start)
                lines = list(islice(self.lines(final), CHUNK_LINES))
                if not lines:
                    return
            else:
                self.cursor.offset += sum(map(len, lines))
                self.cursor.lineno += len(lines)
            yield lines

    def lines(self, final=True):
        """Complete lines from the cursor on; an unfinished last line waits unless ``final``."""
        handle, cursor = self.handle, self.cursor
        while True:
            line = handle.readline(MAX_LINE_BYTES + 1)
            if line.endswith(b"\n"):
                cursor.offset += len(line)
            elif not line or not final and len(line) <= MAX_LINE_BYTES:
                handle.seek(cursor.offset)
                return
            else:
                if len(line) > MAX_LINE_BYTES:
                    _skip_rest(handle, MAX_LINE_BYTES)
                cursor.offset = handle.tell()
            cursor.lineno += 1
            yield line

    def truncated(self):
        """True (and the cursor back at the start) when the file is now shorter than what was read."""
        if os.fstat(self.handle.fileno()).st_size >= self.cursor.offset:
            return False
        self.cursor.offset = self.cursor.lineno = self.cursor.head_len = 0
        self.cursor.head = ""
        self.committed = -1
        self.handle.seek(0)
        return True

    def replaced(self, path):
        """True when ``path`` now names another file (rotated); False while it is missing."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return False
        return (st.st_dev, st.st_ino) != (self.cursor.dev, self.cursor.ino)

    def snapshot(self):
        """A copy of the cursor with its head hash, ready to commit."""
        return seal(copy.copy(self.cursor), self.handle.fileno())

    def close(self):
        """Close the file."""
        self.handle.close()


def new_result():
    """The summary dict every ingest returns."""
    return {"ingested": 0, "rejected": 0, "duplicates": 0, "errors": [], "spills_taken": 0, "files": []}


def ingest(store, open_lines, strict=False, now=None, on_error=None, replayable=True):
    """Validate and write events from ``open_lines()`` (a pipe or stdin: no cursor); returns the summary.

    With ``strict`` nothing is written when any line is bad: a replayable source is read twice
    (flat memory), any other is held in memory. ``on_error(lineno, problem)`` sees each bad line.
    """
    result = new_result()
    _load(store, lambda: (chunked(open_lines()), 1), None, strict, now, on_error, result, replayable)
    result["spills_taken"] = store.take_spills()
    return result


def ingest_file(store, path, strict=False, now=None, on_error=None, on_batch=None):
    """Ingest what is new in the regular file ``path`` (and the unread rest of the file it was before a
    rotation); returns the summary with one ``files`` entry per file read."""
    result = new_result()
    rotated = rotated_reader(store, path)
    if rotated is not None:
        with rotated.handle:
            _from_reader(store, rotated, strict, now, on_error, result, on_batch)
    reader = open_reader(store, path)
    with reader.handle:
        reader.truncated()
        _from_reader(store, reader, strict, now, on_error, result, on_batch)
    result["spills_taken"] = store.take_spills()
    return result


def follow(store, path, stop, now=time.time, on_error=None, on_event=None, poll_s=POLL_S):
    """Tail ``path`` like ``tail -F`` until ``stop`` (a threading.Event) is set: new lines as they are
    completed, the rest of the old file after a rotation, from the start after a truncation.
    ``now()`` gives the validation clock; ``on_event(what, path)`` hears of rotations and truncations."""
    result, reader = new_result(), None
    on_event = on_event or (lambda what, name: None)
    while True:
        if reader is None:
            reader = _reopen(store, path, now, on_error, result, on_event)
        if reader is not None:
            if reader.truncated():
                on_event("truncated", path)
            _from_reader(store, reader, False, now(), on_error, result, None, final=False)
            if reader.replaced(path):
                _from_reader(store, reader, False, now(), on_error, result, None)
                reader.close()
                reader = None
                on_event("rotated", path)
                continue
        if stop.wait(poll_s):
            break
    if reader is not None:
        reader.close()
    result["spills_taken"] = store.take_spills()
    return result


def _reopen(store, path, now, on_error, result, on_event):
    rotated = rotated_reader(store, path)
    if rotated is not None:
        with rotated.handle:
            _from_reader(store, rotated, False, now(), on_error, result, None)
        on_event("rotated", path)
    try:
        return open_reader(store, path)
    except FileNotFoundError:
        return None


def open_reader(store, path, name=None):
    """A FileReader for ``path`` at the cursor the store has for it (``name`` is the path it is followed by)."""
    handle = open(path, "rb")
    try:
        return FileReader(handle, store.file_cursor(name or path, handle.fileno()))
    except BaseException:
        handle.close()
        raise


def rotated_reader(store, path):
    """A reader for the file ``path`` named when last read, when that file was rotated away under another
    name in the same directory and still has unread lines; else None."""
    last = store.file_cursor(path)
    if last is None:
        return None
    try:
        st = os.stat(path)
        if (st.st_dev, st.st_ino) == (last.dev, last.ino):
            return None
    except FileNotFoundError:
        pass
    folder, base = os.path.split(path)
    with os.scandir(folder or ".") as entries:
        for entry in entries:
            if entry.name != base and entry.name.startswith(base) and entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                if (st.st_dev, st.st_ino) == (last.dev, last.ino) and st.st_size > last.offset:
                    return open_reader(store, entry.path, name=path)
    return None


def _from_reader(store, reader, strict, now, on_error, result, on_batch, final=True):
    start = copy.copy(reader.cursor)

    def lines():
        reader.cursor.offset, reader.cursor.lineno = start.offset, start.lineno
        reader.handle.seek(start.offset)
        return reader.chunks(final), start.lineno + 1

    before = result["ingested"]
    _load(store, lines, reader, strict, now, on_error, result, True, on_batch)
    if reader.cursor.offset != start.offset:
        _note_file(
            result["files"],
            reader.handle.name,
            start.lineno,
            reader.cursor.lineno,
            result["ingested"] - before,
        )


def _note_file(files, path, after_line, to_line, ingested):
    # A follower reads one file in many small steps: one entry per run of lines, so the summary stays small.
    last = files[-1] if files else None
    if last is not None and last["path"] == path and last["to_line"] == after_line:
        last["to_line"] = to_line
        last["ingested"] += ingested
    elif len(files) < MAX_KEPT_ERRORS:
        files.append({"path": path, "from_line": after_line + 1, "to_line": to_line, "ingested": ingested})


def read_lines(lines):
    """The next chunk of ``lines`` (an iterator): up to about CHUNK_LINES lines or CHUNK_BYTES bytes."""
    chunk, size = [], 0
    while len(chunk) < CHUNK_LINES and size < CHUNK_BYTES:
        step = list(islice(lines, STEP_LINES))
        if not step:
            break
        chunk += step
        size += sum(map(len, step))
    return chunk


def chunked(lines):
    """``lines`` (any iterable) as chunks: lists of about CHUNK_LINES lines or CHUNK_BYTES bytes."""
    lines = iter(lines)
    return iter(partial(read_lines, lines), [])


def _load(store, open_chunks, reader, strict, now, on_error, result, replayable, on_batch=None):
    if strict:
        kept = _validate_all(open_chunks(), now, result, on_error, keep=not replayable)
        if result["rejected"]:
            return
        source = iter(kept) if kept is not None else _valid(open_chunks(), now)
    else:
        source = _valid(open_chunks(), now, result, on_error)
    pending, count = [], 0
    for items in source:
        pending += items
        count += _events(items)
        if count >= BATCH_SIZE:
            _flush(store, pending, count, reader, result, on_batch)
            count = 0
    _flush(store, pending, count, reader, result, on_batch)


def _events(items):
    return sum(len(item) if type(item) is EventColumns else 1 for item in items)


def _flush(store, pending, count, reader, result, on_batch):
    cursor = None
    if reader is not None:
        cursor = reader.snapshot()
        if not pending and cursor.offset == reader.committed:
            return
    stats = {}
    store.write_batch(Batch(pending), cursor=cursor, stats=stats)
    result["ingested"] += count - stats.get("duplicates", 0)
    result["duplicates"] += stats.get("duplicates", 0)
    del pending[:]
    if cursor is not None:
        reader.committed = reader.cursor.stored = cursor.offset
        if on_batch is not None:
            on_batch(cursor.offset)


def _note(result, lineno, error, on_error):
    result["rejected"] += 1
    if len(result["errors"]) < MAX_KEPT_ERRORS:
        result["errors"].append({"line": lineno, "message": error.problem})
    if on_error is not None:
        on_error(lineno, error.problem)


def _valid(source, now, result=None, on_error=None):
    """The valid items of each chunk (EventColumns or OperationRecords); bad lines noted in ``result``."""
    chunks, lineno = source
    for lines in chunks:
        items, errors = read_chunk(lines, now, lineno)
        lineno += len(lines)
        if result is not None:
            for at, error in errors:
                _note(result, at, error, on_error)
        yield items


def _validate_all(source, now, result, on_error, keep):
    kept = [] if keep else None
    for items in _valid(source, now, result, on_error):
        if keep and not result["rejected"]:
            kept.append(items)
    return kept
