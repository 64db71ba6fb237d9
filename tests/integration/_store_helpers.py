"""Helpers for the store tests: records with known sums and a small config file."""

import json
import os

from devkit.core.records import Batch, OperationRecord


def record(i, ts, operation="chat", model="llama3", status="ok", duration_ms=10.0, **extra):
    """One OperationRecord with a predictable id."""
    prompt, completion = extra.pop("prompt", 1), extra.pop("completion", 2)
    return OperationRecord(f"r{i}", ts, operation, model, status, duration_ms, prompt, completion, **extra)


def batch_of(start, count, ts, **fields):
    """A Batch of ``count`` records numbered from ``start`` at ``ts``."""
    return Batch([record(i, ts, **fields) for i in range(start, start + count)])


def write_config(root, models=(), **sections):
    """Write devkit.json in ``root`` with ``models`` and any other sections; return its path."""
    data = dict(sections)
    if models:
        data["models"] = list(models)
    path = os.path.join(str(root), "devkit.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    return path
