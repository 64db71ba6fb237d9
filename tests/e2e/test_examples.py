"""The examples in examples/ run as their README says and give what it promises."""

import json
import os
import shutil
import socket
import subprocess
import sys

from tests.conftest import REPO_ROOT, clean_env

EXAMPLES = os.path.join(REPO_ROOT, "examples")


def _python(args, cwd, env=None, **kwargs):
    full_env = clean_env(dict(env or {}, PYTHONPATH=REPO_ROOT))
    return subprocess.run(
        [sys.executable, *args],
        cwd=str(cwd),
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_llm_app_records_what_status_then_shows(tmp_path):
    shutil.copy(os.path.join(EXAMPLES, "devkit.json"), str(tmp_path / "devkit.json"))
    # No PYTHONPATH: the app finds the checkout's devkit/ by itself.
    env = clean_env({"DEVKIT_CONFIG": str(tmp_path / "devkit.json")})
    env.pop("PYTHONPATH", None)
    app = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "llm_app.py"), "--calls", "150"],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert app.returncode == 0, app.stderr
    status = _python(["-m", "devkit", "status", "--json"], tmp_path)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["totals"]["requests"] == 150
    assert data["totals"]["cache_hits"] + data["totals"]["cache_misses"] == 150
    assert data["totals"]["cost"] > 0, "gpt-4o-mini's price in examples/devkit.json gives a cost"


def test_example_events_ingest_cleanly(tmp_path):
    result = _python(
        ["-m", "devkit", "--json", "metrics", "ingest", os.path.join(EXAMPLES, "events.jsonl")], tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ingested"] == 5


def test_example_config_is_valid(tmp_path):
    result = _python(["-m", "devkit", "config", "validate", os.path.join(EXAMPLES, "devkit.json")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_fake_ollama_makes_the_model_check_pass(tmp_path):
    port = _free_port()
    with open(os.path.join(EXAMPLES, "devkit.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    config["models"][0]["url"] = f"http://127.0.0.1:{port}"
    (tmp_path / "devkit.json").write_text(json.dumps(config))
    server = subprocess.Popen(
        [sys.executable, os.path.join(EXAMPLES, "fake_ollama.py"), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().startswith("fake ollama on")
        health = _python(["-m", "devkit", "--json", "health", "--check", "model.llama3"], tmp_path)
    finally:
        server.terminate()
        server.wait(10)
    assert health.returncode == 0, health.stdout + health.stderr
    assert json.loads(health.stdout)["status"] == "pass"


def test_fake_ollama_serve_for_stops_by_itself_and_busy_port_is_one_line(tmp_path):
    port = _free_port()
    script = os.path.join(EXAMPLES, "fake_ollama.py")
    server = subprocess.Popen(
        [sys.executable, script, "--port", str(port), "--serve-for", "1"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout.readline().startswith("fake ollama on")
        busy = _python([script, "--port", str(port)], tmp_path)
        assert server.wait(30) == 0
    finally:
        server.kill()
        server.wait(10)
        server.stdout.close()
    assert busy.returncode == 1
    assert busy.stderr.strip().startswith(f"fake_ollama: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in busy.stderr


def _serve(cwd, port, token):
    """A real ``devkit serve`` on 127.0.0.1:``port``, returned once it says it listens."""
    args = [
        sys.executable,
        "-m",
        "devkit",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--token",
        token,
    ]
    server = subprocess.Popen(
        args,
        cwd=str(cwd),
        env=clean_env({"PYTHONPATH": REPO_ROOT}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = server.stderr.readline()
    assert "dashboard at http://127.0.0.1:" in line, line
    return server


def test_post_events_script_posts_a_batch_that_status_then_counts(tmp_path):
    port = _free_port()
    script = os.path.join(EXAMPLES, "post_events.sh")
    server = _serve(tmp_path, port, "s3cret")
    try:
        url = f"http://127.0.0.1:{port}"
        refused = subprocess.run(
            ["sh", script, url], env=clean_env(), capture_output=True, text=True, timeout=30
        )
        posted = subprocess.run(
            ["sh", script, url],
            env=clean_env({"DEVKIT_TOKEN": "s3cret"}),
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        server.terminate()
        server.wait(20)
        server.stderr.close()
    assert refused.returncode == 1 and "did not accept" in refused.stderr
    assert posted.returncode == 0, posted.stdout + posted.stderr
    assert "HTTP 202" in posted.stdout
    status = _python(["-m", "devkit", "status", "--json"], tmp_path)
    totals = json.loads(status.stdout)["totals"]
    assert (totals["requests"], totals["errors"]) == (3, 1)


def test_maintenance_script_backs_up_verifies_prunes_cleans_and_reports(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("keep me\n")
    # Ages by mtime: a test can set a file's mtime back, never its ctime.
    config = {"project": {"name": "demo", "data_dirs": ["data"]}, "cleanup": {"age_by": "mtime"}}
    (tmp_path / "devkit.json").write_text(json.dumps(config))
    (tmp_path / "data" / "scratch.tmp").write_text("old temp file\n")
    os.utime(str(tmp_path / "data" / "scratch.tmp"), (0, 0))
    script = os.path.join(EXAMPLES, "maintenance.sh")
    env = clean_env()
    env.pop("PYTHONPATH", None)  # the script finds the checkout's devkit by itself
    runs = [
        subprocess.run(
            ["sh", script], cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
    steps = [line.split(" devkit ", 1)[1] for line in runs[1].stdout.splitlines() if line.startswith("== ")]
    assert [step.split(" -")[0] for step in steps] == [
        "backup create",
        "backup verify",
        "backup prune",
        "cleanup",
        "cleanup",
        "export-data report",
    ]
    assert "delete " in runs[1].stdout, "the second night's prune deletes the first night's backup"
    assert len([n for n in os.listdir(str(tmp_path / "backups")) if n.endswith(".tar.gz")]) == 1
    assert not (tmp_path / "data" / "scratch.tmp").exists(), "cleanup --apply removed the old temp file"
    assert (tmp_path / "data" / "notes.txt").read_text() == "keep me\n"
    assert (tmp_path / "reports" / "maintenance.md").read_text().startswith("# demo: maintenance report")


def test_maintenance_script_stops_at_the_first_failing_step(tmp_path):
    env = clean_env()
    env.pop("PYTHONPATH", None)
    (tmp_path / "devkit.json").write_text('{"backup": {"level": 99}}')
    run = subprocess.run(
        ["sh", os.path.join(EXAMPLES, "maintenance.sh")],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "'devkit backup create --label nightly' failed with exit code 2" in run.stderr
    assert not (tmp_path / "reports").exists()


def test_sample_configs_validate(tmp_path):
    samples = ["devkit.json"] + (["devkit.toml"] if sys.version_info >= (3, 11) else [])
    for name in samples:
        result = _python(["-m", "devkit", "config", "validate", os.path.join(EXAMPLES, name)], tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == f"{os.path.join(EXAMPLES, name)}: valid"


def test_every_example_is_run_by_a_test():
    here = os.path.dirname(os.path.abspath(__file__))
    tests = ""
    for name in ("test_examples.py", "test_fake_model_server.py", "test_doc_commands.py"):
        with open(os.path.join(here, name), encoding="utf-8") as handle:
            tests += handle.read()
    for name in os.listdir(EXAMPLES):
        if name != "README.md" and not name.startswith("."):
            assert name in tests, f"examples/{name} is not run by any test"
