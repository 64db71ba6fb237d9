"""The ``devkit`` command line: global options, the command table, errors to exit codes."""

import importlib
import os
import sys
import time

import devkit
from devkit.commands import COMMANDS
from devkit.commands._args import Parser, add_global_options
from devkit.context import Context
from devkit.errors import EXIT_FAILED, DevkitError

DESCRIPTION = "Metrics, health checks, exporters and safe maintenance for local (LLM) services."
EPILOG = "Run 'devkit COMMAND --help' for a command's options. Exit codes: 0 ok, 1 failed, 2 usage or config error."
# What a program killed by SIGPIPE reports (128 + 13): the reader of stdout went away, e.g. `| head -1`.
EXIT_STDOUT_CLOSED = 141


def main(argv=None, ctx=None):
    """Run the CLI with ``argv`` (default sys.argv[1:]) in ``ctx``; return the exit code."""
    ctx = ctx or Context()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _run(argv, ctx)
        ctx.stdout.flush()
        return code
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 0
    except DevkitError as exc:
        ctx.err(f"devkit: error: {exc.message}")
        return exc.exit_code
    except KeyboardInterrupt:
        ctx.err("devkit: interrupted")
        return 130
    except BrokenPipeError:
        return _stdout_closed(ctx)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        return _unexpected(ctx, exc)


def _run(argv, ctx):
    command = find_command(argv)
    parser = build_parser(ctx, command)
    args = parser.parse_args(argv)
    _apply_globals(ctx, args)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    started = time.perf_counter()
    code = module.run(ctx, args) or 0
    _detail_run(ctx, args.command, code, time.perf_counter() - started)
    return code


def _detail_run(ctx, command, code, elapsed_s):
    if ctx._config is not None:
        cfg = ctx._config
        ctx.detail(f"config file: {cfg.path or 'none found (defaults)'}; state dir: {cfg.state_dir}")
    ctx.detail(f"'{command}' finished: exit {code} in {elapsed_s:.3f} s")


def find_command(argv):
    """The first argument that names a command, skipping the value of --config."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "--config":
            skip = True
        elif token == "--":
            return None
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def build_parser(ctx, command=None):
    """The top-level parser; only ``command``'s module is imported to add its arguments."""
    parser = Parser(prog="devkit", description=DESCRIPTION, epilog=EPILOG, ctx=ctx)
    parser.add_argument("--version", action="version", version=f"devkit {devkit.__version__}")
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text, ctx=ctx)
        if name == command:
            importlib.import_module(module_name).add_arguments(child)
        add_global_options(child, suppress=True)
    return parser


def _apply_globals(ctx, args):
    ctx.json = bool(args.json)
    ctx.no_color = bool(args.no_color)
    ctx.quiet = bool(args.quiet)
    ctx.verbose = args.verbose or 0
    if args.config is not None:
        ctx.config_path = args.config


def _stdout_closed(ctx):
    """Stop quietly when stdout's reader is gone; point it at /dev/null so the exit flush cannot complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, ctx.stdout.fileno())
        os.close(devnull)
    except (AttributeError, ValueError, OSError):
        pass
    return EXIT_STDOUT_CLOSED


def _unexpected(ctx, exc):
    scrub = ctx._config.scrub if ctx._config is not None else str
    if ctx.verbose:
        import traceback

        ctx.stderr.write(scrub("".join(traceback.format_exception(type(exc), exc, exc.__traceback__))))
    else:
        detail = scrub(str(exc).splitlines()[0]) if str(exc) else ""
        ctx.err(f"devkit: error: unexpected {type(exc).__name__}: {detail} (rerun with -v for the traceback)")
    return EXIT_FAILED


def entry():
    """Console-script entry point for ``devkit``."""
    sys.exit(main())


def entry_metrics_export():
    """Console-script entry point for ``devkit-metrics-export`` (the same as ``devkit metrics export``)."""
    _entry_for("metrics", "export")


def entry_cleanup():
    """Console-script entry point for ``devkit-cleanup`` (the same as ``devkit cleanup``)."""
    _entry_for("cleanup")


def entry_export_data():
    """Console-script entry point for ``devkit-export-data`` (the same as ``devkit export-data``)."""
    _entry_for("export-data")


def entry_validate():
    """Console-script entry point for ``devkit-validate`` (the same as ``devkit validate``)."""
    _entry_for("validate")


def _entry_for(*command):
    sys.exit(main([*command, *sys.argv[1:]]))


def entry_backup():
    """Console-script entry point for ``devkit-backup`` (the same as ``devkit backup``)."""
    _entry_for("backup")


def entry_restore():
    """Console-script entry point for ``devkit-restore`` (the same as ``devkit restore``)."""
    _entry_for("restore")
