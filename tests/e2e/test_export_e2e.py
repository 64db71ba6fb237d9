"""``python -m devkit metrics export`` as a real subprocess: stdout, files, errors and Ctrl-C on a schedule."""

import os
import signal
import subprocess
import sys
import time

import pytest

from devkit.core.records import Batch, OperationRecord
from devkit.store import Store
from tests.conftest import REPO_ROOT, clean_env
from tests.integration._store_helpers import write_config
from tests.unit import _promparse


@pytest.fixture
def project(tmp_path):
    write_config(tmp_path)
    now = time.time()
    ops = [
        OperationRecord(f"op{i}", now - 100 + i, "chat", 'model "é"\n2', "ok", 5.0 * i, 1, 2)
        for i in range(20)
    ]
    with Store(str(tmp_path / ".devkit" / "devkit.db")) as store:
        store.write_batch(Batch(ops))
    return tmp_path


def test_openmetrics_to_stdout(run_devkit, project):
    result = run_devkit("metrics", "export", "--format", "openmetrics", cwd=project)
    assert result.code == 0, result.err
    families = _promparse.parse(result.out, openmetrics=True)
    assert families["devkit_operations"].samples[0][1]["model"] == 'model "é"\n2'


def test_markdown_to_a_file_and_a_bad_format(run_devkit, project):
    ok = run_devkit("metrics", "export", "--format", "md", "-o", "report.md", cwd=project)
    assert ok.code == 0, ok.err
    assert (project / "report.md").read_text(encoding="utf-8").startswith("# devkit report")
    bad = run_devkit("metrics", "export", "--format", "xls", cwd=project)
    assert bad.code == 2
    assert (
        bad.err.strip()
        == "devkit: error: --format: unknown format 'xls' (choose from json, csv, md, prom, openmetrics, otlp)"
    )


def _default_sigint():
    # A test runner started as a background job ignores SIGINT, and children inherit that.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_a_scheduled_export_cleanly(project, signum):
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    cmd = [
        sys.executable,
        "-m",
        "devkit",
        "metrics",
        "export",
        "--format",
        "json",
        "--every",
        "0.2s",
        "-o",
        "out",
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=str(project),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(_exports(project)) < 2:
            time.sleep(0.05)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "export schedule stopped" in err
    assert len(_exports(project)) >= 2 and "export(s) to" in out
    assert not [n for n in os.listdir(project / "out") if n.startswith(".tmp")]


def _exports(project):
    folder = project / "out"
    return [n for n in os.listdir(folder) if n.endswith(".json")] if folder.exists() else []
