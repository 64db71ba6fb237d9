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
    return subprocess.run([sys.executable, *args], cwd=str(cwd), env=full_env, capture_output=True, text=True,
                          timeout=60, **kwargs)  # fmt: skip


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_llm_app_records_what_status_then_shows(tmp_path):
    shutil.copy(os.path.join(EXAMPLES, "devkit.json"), str(tmp_path / "devkit.json"))
    # No PYTHONPATH: the app finds the checkout's devkit/ by itself.
    env = clean_env({"DEVKIT_CONFIG": str(tmp_path / "devkit.json")})
    env.pop("PYTHONPATH", None)
    app = subprocess.run([sys.executable, os.path.join(EXAMPLES, "llm_app.py"), "--calls", "150"], cwd=str(tmp_path),
                         env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
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
    server = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "fake_ollama.py"), "--port", str(port)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
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
    server = subprocess.Popen([sys.executable, script, "--port", str(port), "--serve-for", "1"],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
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
