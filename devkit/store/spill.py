"""Spill files: what an exiting app could not write (store locked or missing) waits beside the store.

A spill file is JSON lines next to ``devkit.db`` (``devkit.db.spill-*.jsonl``), written atomically.
The next writer takes each in once: the file's name goes into the ``spills`` table in the same
transaction as its contents, so a crash between that commit and the file's removal counts nothing twice.

A journal (``...-journal.jsonl``) is a flush's aggregates written before the flush's own transaction,
under the same name: killed before the commit, the app loses nothing but raw rows. Other writers leave
a journal alone while its process lives (for up to ``JOURNAL_STALE_S``).
"""

import glob
import json
import os
import time

from devkit.core.records import Batch, InstrumentDelta, full_row
from devkit.core.rollup import Aggregate
from devkit.core.sketch import Sketch
from devkit.util.fs import atomic_write

SPILL_GLOB = ".spill-*.jsonl"
JOURNAL_SUFFIX = "-journal.jsonl"
JOURNAL_STALE_S = 60.0


def spill_paths(store_path):
    """Spill files waiting beside ``store_path``, oldest name first (journals of live processes left out)."""
    paths = sorted(glob.glob(glob.escape(store_path) + SPILL_GLOB))
    return [path for path in paths if not _live_journal(path)]


def write_spill(store_path, batch, now, journal=False):
    """Write ``batch`` as a new spill file (or a flush's ``journal``) beside ``store_path``; return its path."""
    suffix = JOURNAL_SUFFIX if journal else ".jsonl"
    name = f"{store_path}.spill-{int(now * 1000):015d}-{os.getpid()}-{os.urandom(4).hex()}{suffix}"
    lines = [json.dumps({"devkit_spill": 1, "not_kept": batch.not_kept, "dropped": batch.dropped})]
    lines += [json.dumps({"a": [list(key), agg.to_list()]}) for key, agg in batch.aggregates.items()]
    lines += [json.dumps({"r": list(row)}) for row in batch.rows]
    lines += [json.dumps({"r": list(full_row(row))}) for row in batch.plain + batch.streamed]
    lines += [json.dumps({"i": _delta_dict(d)}) for d in batch.instruments]
    # A journal guards against a killed process, whose written pages the kernel keeps: no fsync (two per
    # second per app, and under a busy disk each can take longer than the flush interval).
    atomic_write(name, ("\n".join(lines) + "\n").encode("utf-8"), sync=not journal)
    return name


def _live_journal(path):
    if not path.endswith(JOURNAL_SUFFIX):
        return False
    try:
        pid = int(os.path.basename(path).split("-")[2])
        if time.time() - os.path.getmtime(path) > JOURNAL_STALE_S:
            return False
        if pid != os.getpid():
            os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError, IndexError):
        return True  # another user's process, or a file vanishing: its writer is still at work
    return True


def read_spill(path):
    """The Batch a spill file holds (raises ValueError or OSError when unreadable)."""
    batch = Batch()
    with open(path, encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        if not isinstance(header, dict) or header.get("devkit_spill") != 1:
            raise ValueError(f"{path}: not a devkit spill file")
        batch.not_kept, batch.dropped = int(header["not_kept"]), int(header["dropped"])
        for line in handle:
            _add_line(batch, json.loads(line))
    return batch


def _add_line(batch, item):
    if "a" in item:
        key, data = item["a"]
        batch.aggregates[tuple(key)] = Aggregate.from_list(data)
    elif "r" in item:
        batch.rows.append(tuple(item["r"]))
    else:
        d = item["i"]
        sketch = None if d["sketch"] is None else Sketch.from_dict(d["sketch"])
        labels = tuple(tuple(pair) for pair in d["labels"])
        batch.instruments.append(InstrumentDelta(d["name"], d["kind"], d["help"], labels, d["value"], sketch))


def _delta_dict(d):
    return {
        "name": d.name,
        "kind": d.kind,
        "help": d.help,
        "labels": [list(p) for p in d.labels or ()],
        "value": d.value,
        "sketch": None if d.sketch is None else d.sketch.to_dict(),
    }
