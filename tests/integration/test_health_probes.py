"""Health probes against real local servers, real directories and real SQLite files."""

import json
import os
import shutil
import sqlite3
import time

from devkit.config import load_config
from devkit.health import Registry
from devkit.store import Store
from devkit.store.schema import SCHEMA_VERSION
from tests.integration._health_fakes import (
    closed_port_url,
    fake_401,
    fake_ollama,
    fake_openai,
    hanging_server,
    http_server,
)

KEY = "sk-test-0a1b2c3d4e5f"


def config(tmp_path, models=(), env=None, **sections):
    """Write devkit.json in ``tmp_path`` and load it."""
    (tmp_path / "devkit.json").write_text(json.dumps({"models": list(models), **sections}))
    return load_config(cwd=str(tmp_path), env=env or {})


def run(cfg, names=None, deadline_s=None):
    """Run the built-in checks of ``cfg`` (no cache); return {name: (status, output)}."""
    report = Registry().run(config=cfg, names=names, deadline_s=deadline_s, use_cache=False)
    return {r.name: (r.status, r.output) for r in report.results}


def model(name, url, provider="ollama", **extra):
    """One model entry of the config."""
    return {"name": name, "provider": provider, "url": url, "timeout": 2, **extra}


def test_ollama_lists_the_model_under_its_latest_tag(tmp_path):
    with fake_ollama(["llama3:latest", "mistral:7b"]) as url:
        cfg = config(tmp_path, [model("llama3", url), model("mistral", url, model="mistral:7b")])
        got = run(cfg, ["model.llama3", "model.mistral"])
    assert got["model.llama3"][0] == "pass"
    assert got["model.llama3"][1].startswith("model llama3:latest available (")
    assert got["model.mistral"][0] == "pass"


def test_ollama_up_but_the_model_missing_is_told_apart(tmp_path):
    with fake_ollama(["mistral:7b"]) as url:
        got = run(config(tmp_path, [model("llama3", url)]), ["model.llama3"])
    assert got["model.llama3"] == ("fail", "model missing: 'llama3' not among 1 listed (mistral:7b)")


def test_openai_compatible_server_gets_the_bearer_key_from_env(tmp_path):
    with fake_openai(KEY, ["gpt-4o-mini"]) as url:
        good = model("gpt", url, "openai", model="gpt-4o-mini", api_key="env:TEST_KEY")
        bad = model("gpt-bad", url + "/v1", "openai", model="gpt-4o-mini", api_key="env:WRONG_KEY")
        cfg = config(tmp_path, [good, bad], env={"TEST_KEY": KEY, "WRONG_KEY": "sk-wrong-999999"})
        got = run(cfg, ["model.gpt", "model.gpt-bad"])
    assert got["model.gpt"][0] == "pass" and "gpt-4o-mini available" in got["model.gpt"][1]
    assert got["model.gpt-bad"] == ("fail", "auth failed: HTTP 401 (check the model's api_key)")


def test_a_401_server_is_an_auth_failure(tmp_path):
    with fake_401() as url:
        got = run(
            config(tmp_path, [model("llama3", url), model("gpt", url, "openai")]),
            ["model.llama3", "model.gpt"],
        )
    assert got["model.llama3"] == ("fail", "auth failed: HTTP 401 (check the model's api_key)")
    assert got["model.gpt"] == ("fail", "auth failed: HTTP 401 (check the model's api_key)")


def test_a_closed_port_is_unreachable(tmp_path):
    url = closed_port_url()
    got = run(config(tmp_path, [model("llama3", url)]), ["model.llama3"])
    assert got["model.llama3"] == ("fail", f"unreachable: connection refused by {url[len('http://'):]}")


def test_an_unknown_host_is_unreachable(tmp_path):
    got = run(config(tmp_path, [model("llama3", "http://no-such-host.invalid:11434")]), ["model.llama3"], 3)
    assert got["model.llama3"] == ("fail", "unreachable: cannot resolve no-such-host.invalid")


def test_a_hanging_server_times_out_and_teardown_is_fast(tmp_path):
    started = time.monotonic()
    with hanging_server() as url:
        cfg = config(tmp_path, [model("stuck", url, timeout=30)])
        got = run(cfg, ["model.stuck", "config"], deadline_s=0.5)
    assert got["model.stuck"] == ("fail", "timed out after 0.5 s")
    assert got["config"][0] == "pass"
    assert time.monotonic() - started < 3


def test_a_slow_answer_warns(tmp_path):
    with fake_ollama(["llama3:latest"], delay_s=0.3) as url:
        got = run(config(tmp_path, [model("llama3", url)], health={"slow_ms": 100}), ["model.llama3"])
    status, output = got["model.llama3"]
    assert status == "warn" and output.startswith("slow: answered in ") and output.endswith("(over 100 ms)")


def test_a_bad_response_is_told_apart(tmp_path):
    with http_server({"/api/tags": (200, b"<html>proxy login</html>"), "/v1/models": (500, {})}) as url:
        cfg = config(tmp_path, [model("llama3", url), model("gpt", url, "openai")])
        got = run(cfg, ["model.llama3", "model.gpt"])
    assert got["model.llama3"] == ("fail", "bad response: not the JSON a ollama server sends at /api/tags")
    assert got["model.gpt"] == ("fail", "bad response: HTTP 500")


def test_http_provider_compares_the_expected_status(tmp_path):
    with http_server({"/ping": (204, b""), "/auth": (401, {})}) as url:
        models = [
            model("ping", url + "/ping", "http", expected_status=204),
            model("wrong", url + "/ping", "http"),
            model("guarded", url + "/auth", "http", expected_status=401),
        ]
        got = run(config(tmp_path, models), ["model.ping", "model.wrong", "model.guarded"])
    assert got["model.ping"][0] == "pass"
    assert got["model.wrong"] == ("fail", "bad response: HTTP 204, expected 200")
    assert got["model.guarded"][0] == "pass"


def test_a_non_critical_model_down_only_warns_overall(tmp_path):
    cfg = config(tmp_path, [model("spare", closed_port_url(), critical=False)])
    report = Registry().run(config=cfg, names=["model.spare", "config"], use_cache=False)
    assert [r.status for r in report.results] == ["fail", "pass"]
    assert report.status == "warn"


def test_storage_paths_missing_not_a_dir_and_ok(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "file.txt").write_text("x")
    cfg = config(tmp_path, storage={"paths": ["data", "file.txt", "gone"], "min_free_mb": 0})
    got = run(cfg, ["storage.data", "storage.file.txt", "storage.gone"])
    assert got["storage.data"][0] == "pass" and got["storage.data"][1].endswith("; 0 JSON files parse")
    assert got["storage.file.txt"] == ("fail", f"not a directory: {tmp_path / 'file.txt'}")
    assert got["storage.gone"] == ("fail", f"missing: {tmp_path / 'gone'} does not exist")
    assert os.listdir(tmp_path / "data") == []


def test_storage_names_each_bad_json_file_with_its_line(tmp_path):
    runs = tmp_path / "data" / "runs"
    runs.mkdir(parents=True)
    (runs / "good.json").write_text('{"ok": true}')
    (runs / "broken.json").write_text('{\n  "loss": 0.1,\n  "acc": \n}')
    (tmp_path / "data" / "z.json").write_text("[1, 2")
    got = run(config(tmp_path, storage={"paths": ["data"], "min_free_mb": 0}), ["storage.data"])
    status, output = got["storage.data"]
    assert status == "fail"
    broken = os.path.join("runs", "broken.json")
    assert output.startswith(f"bad JSON: z.json:1 (Expecting ',' delimiter), {broken}:4 (Expecting value); ")


def test_storage_samples_json_files_up_to_the_limit(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(5):
        (data / f"{i}.json").write_text("{}")
    (data / "9.json").write_text("{")
    cfg = config(tmp_path, storage={"paths": ["data"], "min_free_mb": 0}, health={"json_sample_limit": 5})
    assert run(cfg, ["storage.data"])["storage.data"][1].endswith("5 JSON files parse")


def test_storage_free_space_warns_below_twice_and_fails_below_the_minimum(tmp_path):
    (tmp_path / "data").mkdir()
    free_mb = shutil.disk_usage(tmp_path).free / (1024 * 1024)
    warn = run(config(tmp_path, storage={"paths": ["data"], "min_free_mb": free_mb * 0.7}), ["storage.data"])
    fail = run(config(tmp_path, storage={"paths": ["data"], "min_free_mb": free_mb * 10}), ["storage.data"])
    assert warn["storage.data"][0] == "warn" and "below 2x the" in warn["storage.data"][1]
    assert fail["storage.data"][0] == "fail" and "below the" in fail["storage.data"][1]


def test_store_no_store_yet_ok_and_corrupt(tmp_path):
    cfg = config(tmp_path)
    assert run(cfg, ["store"])["store"] == ("pass", "no store yet")
    os.makedirs(cfg.state_dir)
    db = os.path.join(cfg.state_dir, "devkit.db")
    Store(db).close()
    status, output = run(cfg, ["store"])["store"]
    size = os.path.getsize(db) + (os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0)
    assert (status, output) == ("pass", f"quick_check ok ({size / 1024:.1f} KB)")
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    assert run(cfg, ["store"])["store"] == (
        "fail",
        f"{db}: not a usable metrics store: schema version 99 is newer than this devkit ({SCHEMA_VERSION})",
    )
    with open(db, "wb") as handle:
        handle.write(b"this is not a database at all" * 200)
    status, output = run(cfg, ["store"])["store"]
    assert status == "fail" and "not a database" in output


def test_config_check_warns_about_an_unset_key_variable(tmp_path):
    cfg = config(tmp_path, [model("gpt", "http://127.0.0.1:9", "openai", api_key="env:NOT_SET_KEY")])
    assert run(cfg, ["config"])["config"] == (
        "warn",
        "devkit.json: models[0].api_key: NOT_SET_KEY is not set",
    )
