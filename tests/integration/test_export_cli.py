"""``devkit metrics export`` against a real SQLite store, in-process: formats, files, schedule, errors."""

import csv
import io
import json
import os
import shutil
import subprocess
import time

import pytest

from devkit.core.records import Batch, InstrumentDelta, OperationRecord
from devkit.core.sketch import Sketch
from devkit.store import Store
from tests.integration._store_helpers import write_config
from tests.unit import _promparse

NAMES = ['chat, "v2"', "embed\nraw", "ünï|code"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with devkit.json and a store holding operations and instruments."""
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, project={"name": "demo"})
    now = time.time()
    ops = [
        OperationRecord(
            f"op{i}",
            now - 600 + i,
            NAMES[i % 3],
            [None, "llama3", 'm"x'][i % 3],
            "error" if i % 5 == 0 else "ok",
            10.0 + i,
            i,
            2 * i,
            [None, True, False][i % 3],
            0.001 * i,
            "boom\n|x" if i % 5 == 0 else None,
        )
        for i in range(60)
    ]
    sketch = Sketch()
    for value in (0.02, 0.3, 4.0):
        sketch.add(value)
    deltas = [
        InstrumentDelta("jobs.done", "counter", "jobs", (("queue", 'a"\\b\n€'),), 3.0),
        InstrumentDelta("queue depth", "gauge", "depth", (), 7.0),
        InstrumentDelta("step_seconds", "histogram", "step", (("le", "x"),), 0.0, sketch),
    ]
    with Store(str(tmp_path / ".devkit" / "devkit.db")) as store:
        store.write_batch(Batch(ops, deltas))
    return tmp_path


def test_prometheus_and_openmetrics_outputs_pass_the_strict_parser(cli, project):
    prom = cli("metrics", "export", "--format", "prom")
    assert prom.code == 0, prom.err
    families = _promparse.parse(prom.out)
    assert sum(s[2] for s in families["devkit_operations_total"].samples) == 60
    assert families["jobs_done_total"].samples[0][1] == {"queue": 'a"\\b\n€'}
    om = cli("metrics", "export", "--format", "openmetrics")
    assert om.code == 0, om.err
    families = _promparse.parse(om.out, openmetrics=True)
    assert om.out.endswith("# EOF\n")
    assert any(s[0] == "devkit_operations_created" for s in families["devkit_operations"].samples)


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (apt-get install prometheus)"
)
def test_promtool_check_metrics_accepts_the_prometheus_output(cli, project):
    prom = cli("metrics", "export", "--format", "prom")
    proc = subprocess.run(
        ["promtool", "check", "metrics"], input=prom.out, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_json_and_markdown_exports_describe_the_same_snapshot(cli, project):
    data = json.loads(cli("metrics", "export", "--format", "json").out)
    assert data["totals"]["requests"] == 60 and data["totals"]["errors"] == 12
    assert data["metadata"]["consistent_snapshot"] is True and data["metadata"]["project"] == "demo"
    assert {s["operation"] for s in data["series"]} == set(NAMES)
    md = cli("metrics", "export", "--format", "md", "--since", "1h")
    assert md.code == 0 and "| Requests | 60 |" in md.out and "ünï\\|code" in md.out


def test_operations_csv_streams_every_operation_in_order(cli, project):
    result = cli("metrics", "export", "--format", "csv", "--operations")
    rows = list(csv.reader(io.StringIO(result.out, newline="")))
    assert rows[0][:3] == ["id", "ts", "time_utc"]
    assert [r[0] for r in rows[1:]] == [f"op{i}" for i in range(60)]
    assert rows[1][3] == NAMES[0] and rows[2][3] == NAMES[1] and rows[2][4] == "llama3"


def test_output_file_is_written_atomically_and_reported(cli, project):
    result = cli("metrics", "export", "--format", "csv", "-o", "out/series.csv")
    assert result.code == 0, result.err
    path = project / "out" / "series.csv"
    assert f"exported csv to {path}" in result.out
    assert os.listdir(project / "out") == ["series.csv"]
    assert path.read_bytes().startswith(b"record,start_ts,")
    again = cli("metrics", "export", "--format", "json", "-o", "out/series.csv", "--json")
    assert json.loads(again.out)["bytes"] == path.stat().st_size


def test_scheduled_export_keeps_the_newest_n_files(cli, project):
    result = cli(
        "metrics",
        "export",
        "--format",
        "prom",
        "--every",
        "0.05s",
        "--count",
        "4",
        "--keep",
        "2",
        "-o",
        "exports",
        "--json",
    )
    assert result.code == 0, result.err
    names = sorted(os.listdir(project / "exports"))
    assert len(names) == 2 and all(n.startswith("devkit-export-") and n.endswith(".prom") for n in names)
    data = json.loads(result.out)
    assert data["rounds"] == 4 and sorted(os.path.basename(p) for p in data["kept"]) == names
    for name in names:
        _promparse.parse((project / "exports" / name).read_text(encoding="utf-8"))


def test_scheduled_export_uses_the_config_interval_dir_and_keep(cli, project):
    write_config(
        project,
        project={"name": "demo"},
        export={"interval_s": 0.05, "dir": "snaps", "keep": 1, "format": "json"},
    )
    result = cli("metrics", "export", "--every", "--count", "2")
    assert result.code == 0, result.err
    names = os.listdir(project / "snaps")
    assert len(names) == 1 and names[0].endswith(".json")
    assert json.loads((project / "snaps" / names[0]).read_text(encoding="utf-8"))["totals"]["requests"] == 60


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["--format", "xml"], 2, "--format: unknown format 'xml'"),
        (["--format", "json", "--operations"], 2, "--operations: only with --format csv"),
        (["-o", "."], 2, "is a folder"),
        (["--keep", "3"], 2, "--keep/--count: only with --every"),
        (["--every", "soon", "-o", "d"], 2, "--every: expected a duration"),
        (["--every", "--count", "1"], 2, "export.interval_s is 0"),
        (["--every", "1s", "--keep", "0"], 2, "expected a whole number >= 1"),
        (["--since", "yesterday"], 2, "--since: expected a duration"),
    ],
)
def test_bad_arguments_give_one_error_line(cli, project, argv, code, message):
    result = cli("metrics", "export", *argv)
    assert result.code == code
    assert result.err.count("\n") == 1 and result.err.startswith("devkit: error: ") and message in result.err
    assert result.out == ""


def test_unwritable_output_is_one_error_line(cli, project):
    (project / "blocker").write_text("a file, not a folder")
    result = cli("metrics", "export", "-o", "blocker/sub/out.json")
    assert result.code == 1
    assert result.err.startswith("devkit: error: cannot write ") and result.err.count("\n") == 1


def test_export_without_a_store_shows_zeros_and_creates_nothing(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path)
    result = cli("metrics", "export", "--format", "prom")
    assert result.code == 0
    assert _promparse.parse(result.out)["devkit_operations_total"].samples == []
    assert not (tmp_path / ".devkit").exists()
