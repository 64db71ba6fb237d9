"""The first minutes of a new user, as real subprocesses: a first config that passes, whole words
under `script`, -q and -v that change what is printed, and a closed stdout pipe that ends quietly."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, clean_env


def test_config_init_then_health_in_an_empty_folder_is_pass_or_warn(run_devkit, tmp_path):
    init = run_devkit("config", "init", cwd=tmp_path)
    assert init.code == 0, init
    assert init.out == (
        "wrote devkit.json and created data/; check it with 'devkit config validate', then 'devkit health'\n"
    )
    assert (tmp_path / "data").is_dir()
    health = run_devkit("--json", "health", cwd=tmp_path, env={"OPENAI_API_KEY": ""})
    assert health.code in (0, 1), health
    checks = json.loads(health.out)["checks"]
    assert checks["storage.data:free"][0]["status"] == "pass"
    assert not any(
        entry["status"] == "fail" and entry["critical"] for group in checks.values() for entry in group
    )


def test_config_init_again_refuses_and_quiet_init_prints_nothing(run_devkit, tmp_path):
    first = run_devkit("-q", "config", "init", cwd=tmp_path)
    assert (first.code, first.out, first.err) == (0, "", "")
    again = run_devkit("config", "init", cwd=tmp_path)
    assert again.code == 1
    assert again.err == "devkit: error: devkit.json: already exists (use --force to overwrite)\n"


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) from util-linux")
def test_health_under_script_prints_whole_words(tmp_path):
    # script(1) with no terminal on stdin gives the command a pseudo-terminal that reports 0 columns.
    (tmp_path / "devkit.json").write_text('{"project": {"name": "a-project-with-a-long-name"}}')
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    proc = subprocess.run(
        ["script", "-q", "-c", "python3 -m devkit --no-color health", "/dev/null"],
        cwd=str(tmp_path),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = proc.stdout.replace("\r\n", "\n").splitlines()
    assert lines[0].split() == ["check", "status", "latency", "output"], proc.stdout
    assert re.fullmatch(r"config +pass +\d+ ms +valid: devkit\.json, 0 models", lines[1]), proc.stdout
    assert "…" not in proc.stdout
    assert lines[-1].startswith("health: PASS - ")


def test_quiet_keeps_data_and_drops_notices(run_devkit, tmp_path):
    (tmp_path / "devkit.json").write_text("{}")
    shown = run_devkit("-q", "config", "show", cwd=tmp_path)
    assert shown.code == 0 and shown.out.startswith("# file: ") and shown.err == ""
    exported = run_devkit("-q", "metrics", "export", "--format", "md", "-o", "report.md", cwd=tmp_path)
    assert (exported.code, exported.out, exported.err) == (0, "", "")
    assert (tmp_path / "report.md").read_text().startswith("# ")
    as_json = run_devkit(
        "-q", "--json", "metrics", "export", "--format", "md", "-o", "report.md", cwd=tmp_path
    )
    assert json.loads(as_json.out)["path"] == str(tmp_path / "report.md") and as_json.err == ""
    loud = run_devkit("metrics", "export", "--format", "md", "-o", "report.md", cwd=tmp_path)
    assert re.fullmatch(r"exported md to .*report\.md \((\d+ B|\d+\.\d KB)\)\n", loud.out), loud


def test_verbose_adds_paths_timings_and_what_ran(run_devkit, tmp_path):
    (tmp_path / "devkit.json").write_text(
        '{"models": [{"name": "m", "url": "http://127.0.0.1:9", "critical": false}]}'
    )
    plain = run_devkit("health", "--ready", cwd=tmp_path)
    verbose = run_devkit("-v", "health", "--ready", cwd=tmp_path)
    assert plain.err == ""
    assert plain.out.splitlines()[0] == verbose.out.splitlines()[0]
    lines = verbose.err.splitlines()
    assert lines[0] == "devkit: health: mode ready (non-critical checks skipped); 1 run"
    assert re.fullmatch(r"devkit: health: config \(critical\) pass in \d+\.\d ms", lines[1])
    assert lines[2] == f"devkit: health: report saved to the store in {tmp_path / '.devkit'}"
    assert lines[3] == f"devkit: config file: {tmp_path / 'devkit.json'}; state dir: {tmp_path / '.devkit'}"
    assert re.fullmatch(r"devkit: 'health' finished: exit 0 in \d+\.\d{3} s", lines[4])
    quiet_verbose = run_devkit("-q", "-v", "health", "--ready", cwd=tmp_path)
    assert quiet_verbose.err == ""


def test_closed_stdout_pipe_ends_quietly(tmp_path):
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    proc = subprocess.Popen(
        [sys.executable, "-m", "devkit", "config", "show"],
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before the first write, as with `| head -0`
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert err == b""


def test_head_of_config_show_through_a_shell_pipe(tmp_path):
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    proc = subprocess.run(
        ["sh", "-c", "python3 -m devkit config show | head -1"],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "# file: (none: defaults)\n", "")
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_test_installs_only_what_the_tests_need(tmp_path):
    venv = str(tmp_path / "venv")
    plan = subprocess.run(
        ["make", "-n", "test", f"VENV={venv}"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    installs = [
        line.split(" install -q ", 1)[1].split()
        for line in plan.stdout.splitlines()
        if " install -q " in line
    ]
    assert installs == [["--upgrade", "pip"], ["pytest", "pytest-cov"]], plan.stdout
