"""The CLI core in-process: global options anywhere, exit codes, one-line errors, -q/-v, --json, colour."""

import io
import json
import sys

import pytest

import devkit
from devkit.cli import main
from devkit.commands import COMMANDS
from devkit.context import Context
from tests.conftest import listed_commands

PROBE_MODULE = '''
"""A throwaway command used by the CLI-core tests."""
from devkit.errors import OperationError


def add_arguments(parser):
    """Pick what the probe does."""
    parser.add_argument("action", choices=["crash", "fail", "talk"])


def run(ctx, args):
    """Crash, fail cleanly or talk on both streams."""
    if args.action == "crash":
        raise RuntimeError("kaput\\nsecond line")
    if args.action == "fail":
        raise OperationError("probe.txt: could not be done")
    ctx.info("working on it")
    ctx.out("result line")
    return 0
'''


@pytest.fixture
def probe_command(tmp_path, monkeypatch):
    """Register a ``probe`` command whose module is a real file in tmp_path."""
    folder = tmp_path / "probe_pkg"
    folder.mkdir()
    name = f"devkit_probe_{abs(hash(str(tmp_path)))}"
    (folder / f"{name}.py").write_text(PROBE_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setitem(COMMANDS, "probe", (name, "a probe for tests"))
    yield "probe"
    sys.modules.pop(name, None)


def test_global_options_before_or_after_command(cli, tmp_path):
    (tmp_path / "devkit.json").write_text('{"server": {"port": 9001}}')
    first = cli("--json", "config", "show")
    assert first.code == 0, first
    for argv in (["config", "show", "--json"], ["config", "--json", "show"]):
        other = cli(*argv)
        assert other.code == 0, other
        assert other.out == first.out, argv
    assert json.loads(first.out)["config"]["server"]["port"] == 9001


def test_config_option_after_command(cli, tmp_path):
    (tmp_path / "alt.json").write_text('{"server": {"port": 9002}}')
    before = cli("--config", "alt.json", "--json", "config", "show")
    after = cli("config", "show", "--config", "alt.json", "--json")
    assert before.code == after.code == 0, (before, after)
    assert before.out == after.out
    assert json.loads(after.out)["config"]["server"]["port"] == 9002


def test_version(cli):
    result = cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"devkit {devkit.__version__}"


def test_no_command_prints_help_and_exits_2(cli):
    result = cli()
    assert result.code == 2
    assert result.out.startswith("usage: devkit")
    assert listed_commands(result.out) == [(name, text.split()[0]) for name, (_, text) in COMMANDS.items()]


def test_help_lists_every_command(cli):
    result = cli("--help")
    assert result.code == 0
    for name in COMMANDS:
        assert name in result.out


def test_unknown_command_is_one_line(cli):
    result = cli("frobnicate")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("devkit: error: ")
    assert "frobnicate" in lines[0]


@pytest.mark.parametrize("argv", [["--bogus"], ["config", "show", "--bogus"], ["config", "nope"], ["config"]])
def test_bad_option_is_one_line(cli, argv):
    result = cli(*argv)
    assert result.code == 2, result
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("devkit: error:"), result


def test_unexpected_exception_is_one_line_with_hint(cli, probe_command):
    result = cli(probe_command, "crash")
    assert result.code == 1
    lines = result.err.splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("devkit: error: ")
    assert "RuntimeError" in lines[0] and "kaput" in lines[0] and "second line" not in lines[0]
    assert "rerun with -v" in lines[0]
    assert "Traceback" not in result.err


@pytest.mark.parametrize("argv", [["-v", "probe", "crash"], ["probe", "crash", "-v"]])
def test_verbose_shows_traceback(cli, probe_command, argv):
    result = cli(*argv)
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert "RuntimeError: kaput" in result.err


def test_devkit_error_from_a_command_is_exit_1_one_line(cli, probe_command):
    result = cli(probe_command, "fail")
    assert result.code == 1
    assert result.err == "devkit: error: probe.txt: could not be done\n"


def test_quiet_hides_info_lines(cli, probe_command):
    loud = cli(probe_command, "talk")
    assert loud.code == 0
    assert loud.err == "working on it\n" and loud.out == "result line\n"
    for argv in (["-q", probe_command, "talk"], [probe_command, "talk", "--quiet"]):
        quiet = cli(*argv)
        assert quiet.code == 0
        assert quiet.err == "" and quiet.out == "result line\n"


@pytest.mark.parametrize("sub", ["show", "models", "experiments", "validate"])
def test_json_is_one_document_on_stdout_only(cli, tmp_path, sub):
    (tmp_path / "devkit.json").write_text('{"models": [{"name": "m", "url": "http://x"}]}')
    result = cli("--json", "config", sub, tty=True, env={"FORCE_COLOR": "1"})
    assert result.code == 0, result
    assert result.err == ""
    assert isinstance(json.loads(result.out), dict)
    assert "\x1b[" not in result.out


def test_config_error_under_json_keeps_stdout_empty(cli, tmp_path):
    (tmp_path / "devkit.json").write_text('{"server": {"port": "x"}}')
    result = cli("--json", "config", "show")
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("devkit: error: devkit.json: server.port")


@pytest.mark.parametrize(
    "env, tty, argv, coloured",
    [
        ({"TERM": "xterm"}, True, [], True),
        ({"TERM": "xterm"}, False, [], False),
        ({"TERM": "xterm", "NO_COLOR": "1"}, True, [], False),
        ({"TERM": "xterm", "NO_COLOR": ""}, True, [], True),
        ({"TERM": "xterm", "FORCE_COLOR": "1"}, False, [], True),
        ({"TERM": "dumb"}, True, [], False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, True, [], True),
        ({"TERM": "xterm", "FORCE_COLOR": "1"}, True, ["--no-color"], False),
        ({"TERM": "xterm", "NO_COLOR": "1", "FORCE_COLOR": "1"}, True, [], False),
    ],
)
def test_colour_decision_in_config_show(cli, env, tty, argv, coloured):
    result = cli("config", "show", *argv, env=env, tty=tty)
    assert result.code == 0
    assert ("\x1b[" in result.out) is coloured


def test_colour_is_decided_per_stream():
    ctx = Context(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        env={"TERM": "xterm"},
        stdout_isatty=True,
        stderr_isatty=False,
    )
    assert ctx.color_stdout is True
    assert ctx.color_stderr is False
    ctx = Context(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        env={"TERM": "xterm"},
        stdout_isatty=False,
        stderr_isatty=True,
    )
    assert ctx.color_stdout is False
    assert ctx.color_stderr is True


def test_stringio_streams_are_not_ttys():
    ctx = Context(stdout=io.StringIO(), stderr=io.StringIO(), env={"FORCE_COLOR": "0"})
    assert ctx.stdout_isatty is False and ctx.stderr_isatty is False
    assert ctx.color_stdout is False


@pytest.mark.parametrize("argv", [("metrics", "export", "--help"), ("metrics", "tokens", "--help")])
def test_nested_subcommand_help_goes_to_the_context_stdout(cli, argv, capsys):
    result = cli(*argv)
    assert result.code == 0 and result.out.startswith(f"usage: devkit {argv[0]} {argv[1]}")
    assert capsys.readouterr().out == ""


class _ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_closed_stdout_is_exit_141_with_nothing_on_stderr(tmp_path):
    err = io.StringIO()
    ctx = Context(stdout=_ClosedPipe(), stderr=err, env={}, cwd=str(tmp_path))
    assert main(["config", "show"], ctx) == 141
    assert err.getvalue() == ""
