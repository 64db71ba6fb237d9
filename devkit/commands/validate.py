"""``devkit validate``: a checklist over config, JSON data, SQLite, model endpoints and a self-test.

Exit codes as ``devkit health``: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not run).
"""

from devkit import term
from devkit.commands._maint_render import printable
from devkit.output import emit

MARKS = {"pass": "ok", "warn": "WARN", "fail": "FAIL"}
WORDS = {"pass": "OK", "warn": "WARNING", "fail": "CRITICAL"}
CODES = {"pass": 0, "warn": 1, "fail": 2}


def add_arguments(parser):
    """--no-self-test, --timeout."""
    parser.add_argument("--no-self-test", action="store_true", help="skip the end-to-end self-test")
    parser.add_argument(
        "--timeout", metavar="S", default="10s", help="deadline for the model probes (default 10s)"
    )


def run(ctx, args):
    """Run the checklist, print it, return 0/1/2 (3 when it cannot run)."""
    from devkit.errors import UsageError
    from devkit.maintenance.validate import validate
    from devkit.util import parse_duration

    try:
        deadline_s = parse_duration(args.timeout, "--timeout")
    except UsageError as exc:
        ctx.err(f"devkit: error: {exc.message}")
        return 3
    data = validate(ctx.config_path, ctx.cwd, ctx.env, ctx.clock(), not args.no_self_test, deadline_s)
    emit(ctx, data, render)
    return CODES[data["status"]]


def render(ctx, data):
    """``[ ok ] name  output`` per item, details indented, then the verdict."""
    color = ctx.color_stdout
    lines = []
    for entry in data["items"]:
        mark = term.style(f"{MARKS[entry['status']]:^4}", term.STATUS_COLORS.get(entry["status"]), color)
        lines.append(f"[{mark}] {entry['name']:<11} {printable(entry['output'])}")
        shown = entry["details"] if entry["status"] != "pass" or ctx.verbose else []
        lines += [f"       {printable(d)}" for d in shown]
    lines.append(f"validate: {WORDS[data['status']]}")
    return "\n".join(lines)
