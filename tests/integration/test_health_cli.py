"""``devkit health`` in-process: table, JSON, Nagios line, saving to the store, budgets, secrets."""

import json
import time

from devkit.config import load_config
from devkit.core.records import Batch, OperationRecord
from devkit.store import open_store
from tests.integration._health_fakes import closed_port_url, fake_ollama, fake_openai

PLANTED = "sk-planted-7Qz9xW4vB2"


def write_config(tmp_path, models=(), **sections):
    """devkit.json with a data folder as the storage path (min_free_mb 0) plus ``sections``."""
    (tmp_path / "data").mkdir(exist_ok=True)
    sections.setdefault("storage", {"paths": ["data"], "min_free_mb": 0})
    (tmp_path / "devkit.json").write_text(json.dumps({"models": list(models), **sections}))


def ollama(url, name="llama3", **extra):
    """A model entry for the fake Ollama at ``url``."""
    return {"name": name, "provider": "ollama", "url": url, "timeout": 2, **extra}


def test_table_lists_every_check_and_a_verdict(cli, tmp_path):
    with fake_ollama() as url:
        write_config(tmp_path, [ollama(url)])
        res = cli("health")
    assert res.code == 0, res
    lines = res.out.splitlines()
    assert lines[0].split() == ["check", "status", "latency", "output"]
    assert [line.split()[0] for line in lines[1:5]] == ["config", "store", "model.llama3", "storage.data"]
    assert any(line.startswith("model.llama3") and " pass " in line for line in lines)
    assert lines[-1].startswith("health: PASS - 4 checks passed (")
    assert "\x1b[" not in res.out


def test_table_colours_status_on_a_tty(cli, tmp_path):
    write_config(tmp_path, [ollama(closed_port_url())])
    res = cli("health", tty=True)
    assert res.code == 2
    assert "\x1b[31mfail" in res.out and "\x1b[32mpass" in res.out
    assert (
        "health: \x1b[31mFAIL\x1b[0m - 1 failed of 4: model.llama3: unreachable: connection refused"
        in res.out
    )


def test_json_is_the_ietf_shape_and_is_saved_to_the_store(cli, tmp_path):
    with fake_ollama() as url:
        write_config(tmp_path, [ollama(url)])
        res = cli("health", "--json")
        same = cli("health", "--format", "json")
    doc = json.loads(res.out)
    assert doc["status"] == "pass" and doc["version"]
    assert set(doc["checks"]) == {"config", "store:size", "model.llama3:latency", "storage.data:free"}
    entry = doc["checks"]["model.llama3:latency"][0]
    assert entry["componentType"] == "model" and entry["observedUnit"] == "ms" and entry["status"] == "pass"
    assert set(json.loads(same.out)["checks"]) == set(doc["checks"])
    with open_store(load_config(cwd=str(tmp_path), env={})) as store:
        saved = store.last_health()
    assert saved["checks"]["model.llama3:latency"][0]["componentId"] == "llama3"
    assert saved["status"] == "pass"


def test_nagios_line_with_perfdata(cli, tmp_path):
    with fake_ollama() as url:
        write_config(tmp_path, [ollama(url)], health={"slow_ms": 1500})
        res = cli("health", "--format", "nagios", "--check", "model.llama3")
    assert res.code == 0
    assert len(res.out.splitlines()) == 1
    text, perf = res.out.strip().split(" | ")
    assert text == "DEVKIT HEALTH OK - 1 check passed"
    assert perf.startswith("'model_llama3_latency'=") and perf.endswith("s;1.5;2;0;")


def test_ready_runs_only_critical_checks_and_live_probes_nothing(cli, tmp_path):
    write_config(tmp_path, [ollama(closed_port_url(), critical=False)])
    ready = cli("health", "--ready", "--json")
    live = cli("health", "--live", "--json")
    assert ready.code == 0 and set(json.loads(ready.out)["checks"]) == {"config", "storage.data:free"}
    assert live.code == 0 and set(json.loads(live.out)["checks"]) == {"process"}


def _record(i, tokens):
    return OperationRecord(
        f"op{i}", time.time() - 60, "chat", "llama3", prompt_tokens=tokens, completion_tokens=0
    )


def test_token_budget_counts_the_last_24_hours_from_the_store(cli, tmp_path):
    write_config(tmp_path, health={"token_budget_24h": 1000})
    with open_store(load_config(cwd=str(tmp_path), env={})) as store:
        store.write_batch(Batch([_record(1, 500), _record(2, 350)]))
    res = cli("health", "--check", "budget.tokens")
    assert res.code == 1, res
    assert "near budget: 850 of 1,000 tokens in the last 24 h (85 %)" in res.out


def test_unsaved_report_still_answers_and_notes_only_with_verbose(cli, tmp_path):
    write_config(tmp_path, project={"state_dir": "state-is-a-file"})
    (tmp_path / "state-is-a-file").write_text("not a folder")
    quiet = cli("health", "--check", "config")
    loud = cli("health", "--check", "config", "-v")
    assert (quiet.code, quiet.err) == (0, "")
    assert loud.code == 0 and "health report not saved" in loud.err
    assert "health: PASS" in loud.out


def test_a_planted_secret_never_appears_in_any_format(cli, tmp_path):
    with fake_openai(PLANTED, ["gpt-4o-mini"]) as url:
        good = {
            "name": "gpt",
            "provider": "openai",
            "url": url,
            "model": "gpt-4o-mini",
            "api_key": "env:DK_KEY",
        }
        echoed = {
            "name": "echo",
            "provider": "openai",
            "url": url,
            "model": f"{PLANTED}-model",
            "api_key": "env:DK_KEY",
        }
        write_config(
            tmp_path, [good, echoed], storage={"paths": ["data", f"gone-{PLANTED}"], "min_free_mb": 0}
        )
        runs = [
            cli("health", *argv, env={"DK_KEY": PLANTED}) for argv in ([], ["--json"], ["--format", "nagios"])
        ]
        runs.append(cli("health", "-v", "--check", "nope", env={"DK_KEY": PLANTED}))
    assert "gpt-4o-mini available" in runs[0].out
    assert "model missing: '***-model'" in runs[0].out
    for res in runs:
        assert PLANTED not in res.out and PLANTED not in res.err
    assert [r.code for r in runs] == [2, 2, 2, 3]
    with open_store(load_config(cwd=str(tmp_path), env={"DK_KEY": PLANTED})) as store:
        saved = json.dumps(store.last_health())
    assert PLANTED not in saved and "storage.gone-***:free" in saved
