"""Terminal output: colour decision, styling, tables that fit, a progress bar only on a TTY."""

import io

import pytest

from devkit import term
from devkit.context import Context


@pytest.mark.parametrize(
    "env, isatty, expected",
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": "0"}, True, True),
        ({"FORCE_COLOR": "0"}, False, False),
        ({"TERM": "dumb"}, True, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, False, True),
        ({"NO_COLOR": "x", "FORCE_COLOR": "1"}, True, False),
    ],
)
def test_wants_color(env, isatty, expected):
    assert term.wants_color(env, isatty) is expected


def test_style():
    assert term.style("ok", "green", True) == "\x1b[32mok\x1b[0m"
    assert term.style("ok", "bold+red", True) == "\x1b[1;31mok\x1b[0m"
    assert term.style("ok", "green", False) == "ok"
    assert term.style(3, None, True) == "3"


def test_table_alignment():
    text = term.table(["name", "count"], [["a", 1], ["longer", 12345]], width=80, align="lr")
    assert text.splitlines() == [
        "name    count",
        "a           1",
        "longer  12345",
    ]


def test_table_cells_render_none_bool_float():
    text = term.table(["a", "b", "c"], [[None, True, 1.5], ["x", False, 2e7]], width=80)
    assert text.splitlines()[1].split() == ["-", "yes", "1.50"]
    assert text.splitlines()[2].split() == ["x", "no", "2e+07"]


def test_table_fits_width():
    rows = [["model-" + "x" * 40, "http://127.0.0.1:11434/" + "p" * 40, "ok"] for _ in range(3)]
    text = term.table(["name", "url", "status"], rows, width=40)
    lines = text.splitlines()
    assert all(len(line) <= 40 for line in lines), lines
    assert all("…" in line for line in lines[1:])
    assert lines[1].rstrip().endswith("ok")


def test_table_fits_context_width_from_columns():
    ctx = Context(stdout=io.StringIO(), stderr=io.StringIO(), env={"COLUMNS": "40"})
    assert ctx.width == 40
    rows = [["a" * 30, "b" * 30]]
    assert all(len(line) <= 40 for line in term.table(["x", "y"], rows, ctx.width).splitlines())


def test_table_into_a_pipe_is_not_cut():
    ctx = Context(stdout=io.StringIO(), stderr=io.StringIO(), env={}, stdout_isatty=False)
    long_value = "v" * 300
    assert long_value in term.table(["k"], [[long_value]], ctx.width)


def test_table_colors_only_when_enabled():
    colors = {1: lambda v: term.STATUS_COLORS.get(v)}
    plain = term.table(["check", "status"], [["db", "fail"]], colors=colors, color=False)
    assert "\x1b[" not in plain
    coloured = term.table(["check", "status"], [["db", "fail"]], colors=colors, color=True)
    assert "\x1b[31mfail" in coloured
    assert coloured.splitlines()[0].startswith("\x1b[1m")


def test_can_encode():
    ascii_stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    utf8_stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert term.can_encode(utf8_stream, "█ …")
    assert not term.can_encode(ascii_stream, "█ …")
    assert term.can_encode(ascii_stream, "# ...")


def _progress_ctx(tty, quiet=False):
    ctx = Context(stdout=io.StringIO(), stderr=io.StringIO(), env={}, stdout_isatty=tty, stderr_isatty=tty)
    ctx.quiet = quiet
    return ctx


def test_progress_draws_on_a_tty():
    ctx = _progress_ctx(True)
    with term.Progress(ctx, 4, "ingest") as bar:
        for _ in range(4):
            bar.advance()
    drawn = ctx.stderr.getvalue()
    assert drawn.count("\r") == 4
    assert "ingest [" in drawn and "100.0%" in drawn
    assert drawn.endswith("\n")
    assert ctx.stdout.getvalue() == ""


@pytest.mark.parametrize("tty, quiet", [(False, False), (True, True)])
def test_progress_silent_without_tty_or_with_quiet(tty, quiet):
    ctx = _progress_ctx(tty, quiet)
    with term.Progress(ctx, 10, "ingest") as bar:
        bar.advance(10)
    assert ctx.stderr.getvalue() == ""
    assert ctx.stdout.getvalue() == ""


def test_progress_follows_stderr_not_stdout():
    ctx = Context(stdout=io.StringIO(), stderr=io.StringIO(), env={}, stdout_isatty=True, stderr_isatty=False)
    with term.Progress(ctx, 2) as bar:
        bar.advance(2)
    assert ctx.stderr.getvalue() == ""


def test_progress_zero_total_does_not_crash():
    ctx = _progress_ctx(True)
    with term.Progress(ctx, 0, "empty") as bar:
        bar.advance()
    assert "0.0%" in ctx.stderr.getvalue()


def _pty_stream(columns):
    import fcntl
    import os
    import struct
    import termios

    master, slave = os.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    return master, os.fdopen(slave, "w")


@pytest.mark.parametrize(
    "env, tty_columns, expected",
    [
        ({}, 0, 80),
        ({"COLUMNS": "0"}, 0, 80),
        ({"COLUMNS": "0"}, 132, 132),
        ({}, 132, 132),
        ({"COLUMNS": "100"}, 0, 100),
        ({"COLUMNS": "wide"}, 0, 80),
    ],
)
def test_terminal_width_of_a_tty_reporting_zero_columns_is_80(env, tty_columns, expected):
    import os

    master, stream = _pty_stream(tty_columns)
    try:
        assert term.terminal_width(env, stream) == expected
        ctx = Context(stdout=stream, stderr=io.StringIO(), env=env, stdout_isatty=True)
        assert ctx.width == expected
    finally:
        stream.close()
        os.close(master)


def test_terminal_width_without_a_stream_is_columns_or_80():
    assert term.terminal_width({}) == 80
    assert term.terminal_width({"COLUMNS": "0"}) == 80
    assert term.terminal_width({"COLUMNS": "64"}) == 64
