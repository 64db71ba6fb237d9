"""``export-data``: experiments CSV, metrics (CSV or JSON), redacted config, Markdown report, or all of them.

Each kind is produced as an iterator of text chunks; ``write`` stores one atomically and
``export_all`` fills a fresh timestamped folder that appears whole (built under a temp name, renamed).
"""

import csv
import io
import json
import os
import shutil
import tempfile

from devkit.errors import OperationError, UsageError
from devkit.maintenance import experiments_csv, report
from devkit.util.fs import atomic_write
from devkit.util.names import timestamped_name

KINDS = ("experiments", "metrics", "config", "report", "all")
METRIC_FORMATS = ("json", "csv")
HISTORY_COLUMNS = (
    "ts",
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "p50_ms",
    "p95_ms",
    "p99_ms",
)
ALL_FILES = (
    ("experiments", "json", "experiments.csv"),
    ("metrics", "json", "metrics.json"),
    ("metrics", "csv", "metrics.csv"),
    ("config", "json", "config.json"),
    ("report", "json", "report.md"),
)


def produce(cfg, kind, fmt="json", now=None):
    """``(chunks, info)`` for one kind; ``info`` holds counts and problems (unreadable records)."""
    if kind == "experiments":
        rows, problems = experiments_csv.read_records(cfg)
        columns = experiments_csv.columns_of(rows)
        return experiments_csv.csv_chunks(rows, columns), {
            "rows": len(rows),
            "columns": len(columns),
            "problems": problems,
        }
    if kind == "metrics":
        return _metrics(cfg, fmt, now), {"format": fmt}
    if kind == "config":
        return [json.dumps(cfg.redacted(), indent=2, ensure_ascii=False) + "\n"], {}
    if kind == "report":
        data = report.build_report(cfg, now, experiments_csv.read_records(cfg))
        return [report.render_report(data)], {}
    raise UsageError(f"kind {kind!r}: expected one of {', '.join(KINDS)}")


def _metrics(cfg, fmt, now):
    if fmt not in METRIC_FORMATS:
        raise UsageError(f"metrics format: expected json or csv, got {fmt!r}")
    doc = report.metrics_document(cfg, now)
    if fmt == "json":
        return [json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HISTORY_COLUMNS)
    for point in doc["history"]:
        writer.writerow(["" if point.get(c) is None else point.get(c) for c in HISTORY_COLUMNS])
    return [buffer.getvalue()]


def write(path, chunks):
    """Write ``chunks`` to ``path`` atomically; return the number of bytes."""
    if os.path.isdir(path):
        raise UsageError(f"{path} is a folder; give a file name")
    return atomic_write(path, chunks)


def export_all(cfg, parent, now):
    """Every kind into ``parent/devkit-data-<UTC stamp>/``; return ``{"path", "files", "problems"}``."""
    os.makedirs(parent, exist_ok=True)
    final = os.path.join(parent, timestamped_name(now, "", prefix="devkit-data-"))
    if os.path.lexists(final):
        raise OperationError(f"{final} already exists")
    staging = tempfile.mkdtemp(prefix=".devkit-data-", dir=parent)
    files, problems = [], []
    try:
        for kind, fmt, name in ALL_FILES:
            chunks, info = produce(cfg, kind, fmt, now)
            files.append({"name": name, "bytes": atomic_write(os.path.join(staging, name), chunks)})
            problems += info.get("problems", [])
        os.chmod(staging, 0o755)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"path": final, "files": files, "problems": problems}
