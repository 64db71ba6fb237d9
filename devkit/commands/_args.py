"""Argument helpers shared by the CLI core and command modules."""

import argparse
import functools

from devkit.errors import UsageError


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise UsageError and whose output goes to the context."""

    def __init__(self, *args, ctx=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ctx = ctx

    def error(self, message):
        """Turn argparse's message into one ``devkit: error:`` line, exit 2."""
        where = self.prog.partition(" ")[2]
        raise UsageError(f"{where}: {message}" if where else message)

    def _print_message(self, message, file=None):
        if message and self.ctx is not None:
            self.ctx.stdout.write(message)
        elif message:
            super()._print_message(message, file)


def add_global_options(parser, suppress=False):
    """Add --config/--json/--no-color/-q/-v; with ``suppress`` they keep earlier values."""
    default = {"default": argparse.SUPPRESS} if suppress else {}
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: search upward)",
        **({"default": argparse.SUPPRESS} if suppress else {"default": None}),
    )
    group.add_argument("--json", action="store_true", help="print one JSON document", **default)
    group.add_argument("--no-color", action="store_true", help="never colour output", **default)
    group.add_argument(
        "-q", "--quiet", action="store_true", help="only errors and the data asked for; no notices", **default
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        help="more detail on stderr: paths, timings, what was skipped; tracebacks",
        **default,
    )


def subcommands(parser, dest, required=True):
    """Nested subcommands whose parsers also accept the global options."""
    # Nested parsers get the context too, so their --help and errors go through its streams.
    parser_class = functools.partial(_SubParser, ctx=getattr(parser, "ctx", None))
    sub = parser.add_subparsers(dest=dest, metavar="SUBCOMMAND", parser_class=parser_class)
    sub.required = required
    return sub


def since_arg(args, flag="--since"):
    """The ``--since`` value after checking it is ``all`` or a duration (UsageError naming the flag)."""
    from devkit.util import parse_duration

    text = getattr(args, "since", "all")
    if str(text).strip().lower() != "all":
        parse_duration(text, flag)
    return text


class _SubParser(Parser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_global_options(self, suppress=True)
