"""Golden tests of the screens not being reworked now: the health table and Nagios line, ``config show``.

Each screen is rendered on a real pseudo-terminal: one 80 columns wide, and one
that reports 0 columns (as under ``script`` or some CI runners), which must look
exactly like 80 columns.
"""

import contextlib
import fcntl
import io
import json
import os
import struct
import termios

import pytest

from devkit.commands.config_show import render_show
from devkit.commands.health import render_table
from devkit.context import Context
from devkit.health.core import Check, CheckResult, Outcome
from devkit.health.render import nagios_line
from devkit.health.runner import Report
from tests.golden import assert_golden

STARTED_TS = 1767225600.0  # 2026-01-01T00:00:00Z
FAKE_CHECKS = [
    # name, critical, outcome, duration_s
    ("config", True, Outcome("pass", "devkit.json is valid"), 0.0004),
    ("store", False, Outcome("pass", "quick_check ok (40.0 KB)", 0.04, "MB"), 0.0123),
    ("model.llama3", True, Outcome("pass", "model llama3:latest available (14 ms)", 14.2, "ms"), 0.0142),
    ("model.gpt-4o-mini", False, Outcome("fail", "unreachable: cannot resolve api.openai.com"), 0.0281),
    (
        "storage.data",
        True,
        Outcome(
            "warn",
            "low space: 612 MB free, below 2x the 500 MB minimum; 3 JSON files parse",
            612.0,
            "MB",
            ("1000:", "500:", "0", None),
        ),
        0.0019,
    ),
    ("budget.tokens", False, Outcome("pass", "18,138 of 1,000,000 tokens in the last 24 h (2 %)"), 0.0051),
]


def fake_report():
    """A fixed report: six checks with known statuses, outputs, durations and clock."""
    results = [
        CheckResult(Check(name, None, critical=critical), outcome, duration_s, STARTED_TS + 0.5)
        for name, critical, outcome, duration_s in FAKE_CHECKS
    ]
    return Report(results, STARTED_TS, 0.4217)


@contextlib.contextmanager
def terminal(columns):
    """A Context whose stdout is a real pseudo-terminal ``columns`` wide (0: one that reports no size)."""
    master, slave = os.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    with os.fdopen(slave, "w") as stdout:
        try:
            yield Context(stdout=stdout, stderr=io.StringIO(), env={"NO_COLOR": "1"}, stdout_isatty=True)
        finally:
            os.close(master)


@pytest.mark.parametrize("columns", [80, 0])
def test_health_table(columns):
    with terminal(columns) as ctx:
        assert ctx.width == 80
        assert_golden("health_table", render_table(ctx, fake_report()))


def test_health_nagios_line():
    assert_golden("health_nagios", nagios_line(fake_report()))


def config_show_data(tmp_path, cli):
    """``config show --json`` for a fixed config with two models, paths made independent of tmp_path."""
    config = {
        "project": {"name": "golden-app", "data_dirs": ["data", "logs"]},
        "models": [
            {"name": "llama3", "provider": "ollama", "url": "http://127.0.0.1:11434", "timeout": 3},
            {
                "name": "gpt-4o-mini",
                "provider": "openai",
                "api_key": "env:OPENAI_API_KEY",
                "critical": False,
                "url": "https://api.openai.com/v1/a/very/long/path/that/cannot/fit/in/eighty/columns/of/terminal",
                "price_input_per_1m": 0.15,
                "price_output_per_1m": 0.6,
            },
        ],
        "storage": {"paths": ["data"], "min_free_mb": 250},
        "server": {"port": 9000},
    }
    (tmp_path / "devkit.json").write_text(json.dumps(config))
    result = cli("--json", "config", "show", env={"DEVKIT_HEALTH_SLOW_MS": "1500"})
    assert result.code == 0, result
    return json.loads(result.out.replace(str(tmp_path), "/project"))


@pytest.mark.parametrize("columns", [80, 0])
def test_config_show(columns, tmp_path, cli):
    data = config_show_data(tmp_path, cli)
    with terminal(columns) as ctx:
        text = render_show(ctx, data)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert_golden("config_show", text)


def test_a_changed_screen_fails_with_a_diff_and_the_refresh_command(monkeypatch):
    monkeypatch.delenv("DEVKIT_UPDATE_GOLDEN", raising=False)
    with pytest.raises(AssertionError) as failed:
        assert_golden("health_nagios", "DEVKIT HEALTH OK - 6 checks passed")
    message = str(failed.value)
    assert "if intended: make golden" in message
    assert "\n+DEVKIT HEALTH OK - 6 checks passed\n" in message and "\n-DEVKIT HEALTH WARNING - " in message
