"""The self-test of ``validate``: each component end to end in a throwaway project folder.

Config load, store write and read, every export format, health checks, the experiments CSV,
and a cleanup plan and apply; nothing outside the temporary folder is read or written.
"""

import csv
import io
import json
import os
import tempfile

from devkit.errors import OperationError

RECORDS = 5


def self_test_item(now=None):
    """Run every step in a fresh temp folder; a ``validate`` item (fail naming the first broken step)."""
    import time

    now = time.time() if now is None else now
    done = []
    with tempfile.TemporaryDirectory(prefix="devkit-selftest-") as folder:
        for name, step in STEPS:
            try:
                step(folder, now)
            except Exception as exc:  # noqa: BLE001 - any failure is the answer this check gives
                detail = f"{name}: {type(exc).__name__}: {exc}"
                return {"name": "self-test", "status": "fail", "output": detail, "details": done + [detail]}
            done.append(f"{name}: ok")
    return {
        "name": "self-test",
        "status": "pass",
        "output": f"{len(done)} components work end to end",
        "details": done,
    }


def _config(folder):
    from devkit.config import load_config

    return load_config(cwd=folder, env={})


def _step_config(folder, now):
    config = {"project": {"name": "selftest", "data_dirs": ["data"]}, "experiments": {"path": "data/exp"}}
    with open(os.path.join(folder, "devkit.json"), "w", encoding="utf-8") as handle:
        json.dump(config, handle)
    _expect(_config(folder).project_name == "selftest", "the config file was not read")


def _step_store(folder, now):
    from devkit import snapshot
    from devkit.core.records import Batch, OperationRecord
    from devkit.store import open_store

    cfg = _config(folder)
    ops = [
        OperationRecord(
            f"op{i}", now - i, "chat", "m", duration_ms=10.0 + i, prompt_tokens=3, completion_tokens=4
        )
        for i in range(RECORDS)
    ]
    with open_store(cfg) as store:
        store.write_batch(Batch(ops))
    data = snapshot.take(cfg, now=now + 1).to_dict()
    _expect(data["totals"]["requests"] == RECORDS, f"store read {data['totals']['requests']} of {RECORDS}")
    _expect(data["totals"]["total_tokens"] == 7 * RECORDS, "token totals do not add up")


def _step_exports(folder, now):
    from devkit import snapshot
    from devkit.export import FORMATS, render

    taken = snapshot.take(_config(folder), now=now + 1)
    texts = {fmt: "".join(render(taken, fmt)) for fmt in FORMATS}
    _expect(json.loads(texts["json"])["totals"]["requests"] == RECORDS, "JSON export lost operations")
    _expect("devkit_operations_total" in texts["prom"], "Prometheus export has no operations counter")
    _expect(all(texts.values()), "an export format rendered nothing")


def _step_health(folder, now):
    from devkit.health.runner import run_checks
    from devkit.health.system import config_check, store_check

    report = run_checks([config_check(_config(folder)), store_check(_config(folder))], 5.0)
    _expect(report.status != "fail", "; ".join(f"{r.name}: {r.output}" for r in report.results))


def _step_experiments_csv(folder, now):
    from devkit.maintenance.export_data import produce

    exp = os.path.join(folder, "data", "exp")
    os.makedirs(exp)
    for i in range(3):
        with open(os.path.join(exp, f"r{i}.json"), "w", encoding="utf-8") as handle:
            json.dump({"id": i, "params": {"lr": 0.1 * i, "tags": ["a", "b"]}}, handle)
    chunks, info = produce(_config(folder), "experiments", now=now)
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    _expect(len(rows) == 3 and rows[2]["params.lr"] == "0.2", "experiment records did not round-trip")


def _step_cleanup(folder, now):
    from devkit.maintenance.cleanup import cleanup

    stale = os.path.join(folder, "data", "stale.tmp")
    with open(stale, "w", encoding="utf-8") as handle:
        handle.write("x")
    result = cleanup(_config(folder), apply=True, now=now + 7200)
    _expect(
        [e["path"] for e in result["entries"]] == [os.path.realpath(stale)], "cleanup planned other paths"
    )
    _expect(
        not os.path.exists(stale) and os.path.exists(os.path.join(folder, "devkit.json")), "cleanup missed"
    )


def _expect(condition, message):
    if not condition:
        raise OperationError(message)


STEPS = (
    ("config", _step_config),
    ("store", _step_store),
    ("exports", _step_exports),
    ("health", _step_health),
    ("experiments csv", _step_experiments_csv),
    ("cleanup", _step_cleanup),
)
