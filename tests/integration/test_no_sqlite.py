"""A Python without sqlite3: recording spills, the next normal Python takes it in, commands say why."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO_ROOT, clean_env

NO_SQLITE_LINE = "devkit: error: sqlite3 unavailable: this Python was built without the sqlite3 module"


@pytest.fixture
def no_sqlite(tmp_path):
    """Run code or the CLI in a subprocess where ``import sqlite3`` fails (as on a build without it)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['sqlite3'] = None\n")
    (tmp_path / "devkit.json").write_text("{}")
    env = clean_env({"PYTHONPATH": os.pathsep.join([str(site), REPO_ROOT])})

    def run(*argv, code=None):
        args = (
            [sys.executable, "-c", textwrap.dedent(code)] if code else [sys.executable, "-m", "devkit", *argv]
        )
        proc = subprocess.run(args, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr

    return run


def test_an_app_records_without_sqlite3_and_a_normal_python_counts_every_operation(
    tmp_path, no_sqlite, run_devkit
):
    code, out, err = no_sqlite(code="""
        import devkit
        for i in range(10_000):
            with devkit.track("chat", model="m") as op:
                op.tokens(prompt=2, completion=1)
        print("done")
    """)
    assert (code, out, err) == (0, "done\n", "")
    state = tmp_path / ".devkit"
    assert [p.name for p in state.iterdir() if ".spill-" in p.name] != []
    (tmp_path / "empty.jsonl").write_text("")
    for _ in range(2):  # taken in exactly once
        assert run_devkit("metrics", "ingest", "empty.jsonl").code == 0
    totals = json.loads(run_devkit("status", "--json").out)["totals"]
    assert (totals["requests"], totals["prompt_tokens"], totals["completion_tokens"]) == (
        10_000,
        20_000,
        10_000,
    )
    assert [p.name for p in state.iterdir() if ".spill-" in p.name] == []


@pytest.mark.parametrize("argv", [("status",), ("metrics", "export", "--format", "prom"), ("metrics",)])
def test_commands_that_need_the_store_say_why_in_one_line(no_sqlite, argv):
    code, out, err = no_sqlite(*argv)
    assert (code, out) == (1, "")
    assert err.startswith(NO_SQLITE_LINE) and err.count("\n") == 1, err


def test_health_config_and_backup_still_work_without_sqlite3(tmp_path, no_sqlite):
    code, out, err = no_sqlite("health", "--check", "store")
    assert code == 1 and "Traceback" not in err
    assert out.splitlines()[1].split()[:2] == ["store", "warn"] and "sqlite3 unavailable" in out
    assert no_sqlite("config", "show")[0] == 0
    no_sqlite(code="import devkit; devkit.counter('c').inc()")
    code, out, err = no_sqlite("backup", "create")
    assert code == 0, err
