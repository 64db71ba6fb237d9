"""Generate docs/CLI.md from the real ``--help`` output: ``python -m devkit._docs > docs/CLI.md``."""

import argparse
import io
import os
import sys

from devkit.cli import build_parser
from devkit.commands import COMMANDS
from devkit.context import Context

WIDTH = "100"


def _help_text(parser):
    return parser.format_help().rstrip()


def _children(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _section(title, parser, depth):
    parts = [f"{'#' * depth} `{title}`", "", "```text", _help_text(parser), "```", ""]
    for name, child in _children(parser):
        if depth > 2:
            parts += _section(f"{title} {name}", child, depth + 1)
    return parts


def generate():
    """Return the Markdown text of the CLI reference."""
    os.environ["COLUMNS"] = WIDTH
    ctx = Context(stdout=io.StringIO(), stderr=io.StringIO(), env={"COLUMNS": WIDTH})
    version = "%d.%d" % sys.version_info[:2]
    note = f"Generated from `--help` by `make docs` (Python {version}); do not edit by hand."
    lines = ["# devkit command reference", "", note, ""]
    lines += _section("devkit", build_parser(ctx), 2)[:-1] + [""]
    for name in COMMANDS:
        command_parser = dict(_children(build_parser(ctx, name)))[name]
        command_parser.prog = f"devkit {name}"
        lines += _section(f"devkit {name}", command_parser, 3)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(generate())
