"""devkit debug: request records keep no credentials; replay talks to a real local server; tokens; deps."""

import json
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from devkit.config import load_config
from devkit.debug import record_request

SECRET = "sk-test-secret-4242"


class _Model(BaseHTTPRequestHandler):
    seen = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        answer = json.dumps({"usage": {"prompt_tokens": 12, "completion_tokens": 30}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def model_server():
    _Model.seen = []
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Model) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield [f"http://127.0.0.1:{s.server_address[1]}" for s in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


def _project(tmp_path, url, record=True):
    config = {
        "models": [{"name": "m", "url": url, "api_key": "env:MODEL_KEY"}],
        "debug": {"record_requests": record},
    }
    (tmp_path / "devkit.json").write_text(json.dumps(config))
    return load_config(cwd=str(tmp_path), env={"MODEL_KEY": SECRET})


def _request(url):
    body = {"model": "m", "messages": [{"role": "user", "content": f"say hi; my key is {SECRET}"}]}
    return {
        "method": "POST",
        "url": url + "/v1/chat/completions",
        "body": body,
        "headers": {
            "Authorization": f"Bearer {SECRET}",
            "Content-Type": "application/json",
            "X-Api-Key": "k",
        },
    }


def test_recording_is_off_by_default(tmp_path):
    cfg = _project(tmp_path, "http://127.0.0.1:9", record=False)
    assert record_request("op1", _request("http://127.0.0.1:9"), config=cfg) is None
    assert not os.path.exists(os.path.join(cfg.state_dir, "requests"))


def test_records_keep_no_credentials(tmp_path):
    cfg = _project(tmp_path, "http://127.0.0.1:9")
    path = record_request(
        "op1", _request("http://127.0.0.1:9"), {"status": 200, "prompt_tokens": 12}, config=cfg
    )
    raw = open(path, encoding="utf-8").read()
    assert SECRET not in raw and "Authorization" not in raw and "X-Api-Key" not in raw
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(raw)["request"]["headers"] == {"Content-Type": "application/json"}


def test_replay_resends_with_the_key_only_to_the_models_origin(cli, tmp_path, model_server):
    own, other = model_server
    cfg = _project(tmp_path, own)
    record_request(
        "same",
        _request(own),
        {"status": 200, "latency_ms": 5, "prompt_tokens": 12, "completion_tokens": 30},
        config=cfg,
    )
    record_request("elsewhere", _request(other), {"status": 200, "prompt_tokens": 99}, config=cfg)
    same = cli("--json", "debug", "replay", "same", env={"MODEL_KEY": SECRET}, cwd=tmp_path)
    assert same.code == 0, same
    result = json.loads(same.out)
    assert (
        result["replay"]["status"] == 200
        and result["replay"]["prompt_tokens"] == 12
        and result["changes"] == {}
    )
    moved = cli("debug", "replay", "elsewhere", env={"MODEL_KEY": SECRET}, cwd=tmp_path)
    assert moved.code == 1, moved
    assert "changed: prompt_tokens 99 -> 12" in moved.out.splitlines()
    assert [s["auth"] for s in _Model.seen] == [f"Bearer {SECRET}", None]
    assert all(SECRET.encode() not in s["body"] for s in _Model.seen)


def test_unknown_operation_is_a_usage_error(cli, tmp_path):
    done = cli("debug", "replay", "nope", cwd=tmp_path)
    assert done.code == 2 and done.err.startswith("devkit: error: operation 'nope': no recorded request")


def test_tokens_flags_counts_that_stray(cli, tmp_path):
    cfg = _project(tmp_path, "http://127.0.0.1:9")
    text = "The quick brown fox jumps over the lazy dog."
    body = {"messages": [{"role": "user", "content": text}]}
    record_request("good", {"url": "http://127.0.0.1:9", "body": body}, {"prompt_tokens": 11}, config=cfg)
    record_request("bad", {"url": "http://127.0.0.1:9", "body": body}, {"prompt_tokens": 500}, config=cfg)
    done = cli("--json", "debug", "tokens", cwd=tmp_path)
    assert done.code == 1, done
    rows = {r["op_id"]: r for r in json.loads(done.out)["checked"]}
    assert rows["good"]["estimated"] == 10 and not rows["good"]["flagged"]
    assert rows["bad"]["flagged"] and json.loads(done.out)["flagged"] == 1


def test_deps_lists_modules_and_tools(cli, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tar").write_text("#!/bin/sh\n")
    (bin_dir / "tar").chmod(0o755)
    done = cli("--json", "debug", "deps", env={"PATH": str(bin_dir)}, cwd=tmp_path)
    assert done.code == 0, done
    data = json.loads(done.out)
    assert [m["name"] for m in data["modules"] if m["available"]] == ["sqlite3", "zlib", "ssl"]
    assert {t["name"]: t["path"] for t in data["tools"]} == {
        "git": None,
        "chromium": None,
        "tar": str(bin_dir / "tar"),
    }


def test_only_the_newest_records_are_kept(tmp_path):
    cfg = _project(tmp_path, "http://127.0.0.1:9")
    (tmp_path / "devkit.json").write_text(json.dumps({"debug": {"record_requests": True, "max_records": 2}}))
    cfg = load_config(cwd=str(tmp_path), env={})
    for i in range(4):
        record_request(f"op{i}", {"url": "http://127.0.0.1:9"}, config=cfg, now=1_700_000_000 + i)
    names = sorted(os.listdir(os.path.join(cfg.state_dir, "requests")))
    assert [n.rsplit("-", 1)[1] for n in names] == ["op2.json", "op3.json"]


def test_debug_config_is_config_show(cli, tmp_path):
    (tmp_path / "devkit.json").write_text(json.dumps({"server": {"token": "env:TOK"}}))
    shown = cli("debug", "config", env={"TOK": "hunter22"}, cwd=tmp_path)
    assert shown.code == 0 and shown.out == cli("config", "show", env={"TOK": "hunter22"}, cwd=tmp_path).out
    assert "hunter22" not in shown.out


def test_deps_fails_when_a_required_module_is_missing(cli, tmp_path, monkeypatch):
    import importlib

    real = importlib.import_module

    def refuse_sqlite(name, *args):
        if name == "sqlite3":
            raise ImportError("No module named 'sqlite3'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", refuse_sqlite)
    done = cli("debug", "deps", cwd=tmp_path)
    assert done.code == 1, done
    assert "module   sqlite3   MISSING (required)" in done.out.splitlines()


def test_replay_refuses_a_non_http_url(cli, tmp_path):
    cfg = _project(tmp_path, "http://127.0.0.1:9")
    record_request("local", {"url": "file:///etc/passwd"}, config=cfg)
    done = cli("debug", "replay", "local", cwd=tmp_path)
    assert done.code == 2, done
    assert (
        done.err
        == "devkit: error: operation 'local': recorded url 'file:///etc/passwd' is not http(s); not replayed\n"
    )
