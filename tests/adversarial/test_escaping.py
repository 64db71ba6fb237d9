"""Issue 15 item 6: control characters in names reach a terminal escaped; JSON and CSV keep exact values."""

import csv
import io
import json

import pytest

from devkit import term
from tests.adversarial.conftest import HOSTILE, assert_terminal_safe, ingest_events, run_cli, write_json

SHOWN = "evil\\x1b[31mRED\\x1b[0m\\nline2\\r\\x07"


def test_printable_escapes_every_control_visibly():
    assert term.printable(HOSTILE) == SHOWN
    assert term.printable("tab\there\x00\x7f\x9b\u202e\u2028") == "tab\\there\\x00\\x7f\\x9b\\u202e\\u2028"
    assert term.printable("plain ü — ✓") == "plain ü — ✓"


def test_a_table_cell_shows_the_escaped_name():
    text = term.table(["name", "n"], [[HOSTILE, 1]])
    assert text.splitlines()[1] == f"{SHOWN}  1"


@pytest.fixture
def hostile_store(tmp_path):
    model = {"name": HOSTILE, "provider": "http", "url": "http://127.0.0.1:9/"}
    write_json(tmp_path / "devkit.json", {"models": [model]})
    ingest_events(
        tmp_path,
        [
            {
                "operation": HOSTILE,
                "model": HOSTILE,
                "status": "error",
                "error": HOSTILE,
                "duration_ms": 5,
                "prompt_tokens": 3,
                "completion_tokens": 4,
            }
        ],
    )
    return tmp_path


@pytest.mark.parametrize(
    "argv",
    [
        ["metrics"],
        ["metrics", "tokens"],
        ["status"],
        ["metrics", "export", "--format", "md"],
        ["config", "show"],
        ["config", "models"],
        ["health"],
        ["health", "--format", "nagios"],
    ],
    ids=lambda argv: "-".join(argv),
)
def test_human_screens_escape_controls(hostile_store, argv):
    code, out, err = run_cli(hostile_store, *argv)
    assert code in (0, 1, 2), err
    assert_terminal_safe(out)
    assert_terminal_safe(err)
    assert SHOWN.replace("\\", "") not in out
    assert "evil" in out, out


def test_json_keeps_the_exact_name(hostile_store):
    code, out, _err = run_cli(hostile_store, "metrics", "export", "--format", "json")
    assert code == 0
    text = json.dumps(json.loads(out), ensure_ascii=False)
    assert json.dumps(HOSTILE, ensure_ascii=False)[1:-1] in text
    code, out, _err = run_cli(hostile_store, "--json", "health")
    assert f"model.{HOSTILE}:latency" in json.loads(out)["checks"]


def test_csv_keeps_the_exact_name(hostile_store):
    code, out, _err = run_cli(hostile_store, "metrics", "export", "--format", "csv", "--operations")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert rows[0]["operation"] == HOSTILE


def test_config_validate_escapes_a_hostile_key(tmp_path):
    write_json(tmp_path / "devkit.json", {"health": {HOSTILE: 1}})
    code, out, err = run_cli(tmp_path, "config", "validate")
    assert code == 2
    assert_terminal_safe(err)
    code, out, err = run_cli(tmp_path, "--json", "config", "validate")
    assert HOSTILE in json.loads(out)["problems"][0]
    code, out, err = run_cli(tmp_path, "status")
    assert code == 2 and "unknown key" in err
    assert_terminal_safe(err)
