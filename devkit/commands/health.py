"""``devkit health``: run the checks, print a table, JSON (IETF health+json) or a Nagios line.

Exit codes, profile ``nagios`` (default): 0 pass, 1 warn, 2 fail, 3 could not run
(bad config, no checks, unknown --check name, bad --timeout, any internal error). Profile ``docker``:
0 healthy (pass or warn), 1 unhealthy (fail or could not run).
"""

from devkit.errors import ConfigError, UsageError
from devkit.term import printable

FORMATS = ("table", "json", "nagios")


def add_arguments(parser):
    """Options of ``devkit health``."""
    parser.add_argument(
        "--check",
        action="append",
        dest="checks",
        metavar="NAME",
        help="run only this check (repeatable); names as in the table",
    )
    parser.add_argument(
        "--timeout", metavar="S", help="deadline for the whole run, e.g. 2 or 2s (default health.deadline_s)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--live", action="store_true", help="liveness only: the process can run; no probes")
    mode.add_argument("--ready", action="store_true", help="readiness: only the critical checks")
    parser.add_argument(
        "--exit-profile",
        choices=("nagios", "docker"),
        default="nagios",
        help="nagios: 0 ok 1 warn 2 fail 3 unknown; docker: 0 healthy 1 unhealthy",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (--json = json)")


def run(ctx, args):
    """Run the selected checks, print the report, save it to the store, return the profile's exit code."""
    try:
        return _run(ctx, args)
    except Exception as exc:  # noqa: BLE001 - a monitor must read "could not run" (3), never WARNING (1)
        scrub = ctx._config.scrub if ctx._config is not None else str
        return _cannot_run(ctx, args, scrub(f"unexpected {type(exc).__name__}: {exc}".splitlines()[0]))


def _run(ctx, args):
    from devkit.health import CannotRun
    from devkit.health.record import run_and_save
    from devkit.health.render import exit_code

    cfg, scrub = None, str
    try:
        deadline_s = _deadline(args.timeout)
        if not args.live:
            cfg = ctx.config
            scrub = cfg.scrub
        mode = "live" if args.live else "ready" if args.ready else "all"
        recorded = run_and_save(cfg, names=args.checks, mode=mode, deadline_s=deadline_s, clock=ctx.clock)
    except (ConfigError, CannotRun, UsageError) as exc:
        return _cannot_run(ctx, args, scrub(exc.message))
    _render(ctx, args, recorded, scrub)
    _detail(ctx, mode, recorded.report, scrub)
    if recorded.note and ctx.verbose:
        ctx.err(printable(scrub(f"devkit: note: {recorded.note}")))
    elif cfg is not None:
        ctx.detail(f"health: report saved to the store in {cfg.state_dir}")
    return exit_code(recorded.report.status, args.exit_profile)


def _detail(ctx, mode, report, scrub):
    skipped = {"live": "config not read, only the process check", "ready": "non-critical checks skipped"}
    ctx.detail(f"health: mode {mode} ({skipped.get(mode, 'every check')}); {len(report.results)} run")
    for result in report.results:
        kind = "critical" if result.critical else "non-critical"
        ctx.detail(
            printable(
                scrub(f"health: {result.name} ({kind}) {result.status} in {result.duration_s * 1000:.1f} ms")
            )
        )


def _deadline(text):
    from devkit.health import CannotRun
    from devkit.util import parse_duration

    if text is None:
        return None
    from devkit.config.schema import SECTIONS

    seconds = parse_duration(text, "--timeout")
    longest = SECTIONS["health"]["deadline_s"].bound
    if not 0 < seconds <= longest:
        raise CannotRun(f"--timeout: expected a duration above 0 and at most {longest:g} s, got {text!r}")
    return seconds


def _cannot_run(ctx, args, message):
    from devkit.health.render import exit_code, unknown_line

    ctx.err(printable(f"devkit: error: {message}"))
    if args.format == "nagios" and not ctx.json:
        ctx.out(unknown_line(message))
    return exit_code("unknown", args.exit_profile)


def _render(ctx, args, recorded, scrub):
    from devkit.health.render import nagios_line
    from devkit.output import to_json

    if ctx.json or args.format == "json":
        ctx.out(scrub(to_json(recorded.data)))
    elif args.format == "nagios":
        ctx.out(scrub(nagios_line(recorded.report)))
    else:
        ctx.out(scrub(render_table(ctx, recorded.report)))


def render_table(ctx, report):
    """The terminal screen of a report: one row per check, then the overall verdict."""
    from devkit import term
    from devkit.health.render import table_rows, verdict

    color = ctx.color_stdout
    rows = table_rows(report)
    text = term.table(
        ("check", "status", "latency", "output"),
        rows,
        width=ctx.width,
        align="llrl",
        colors={1: term.STATUS_COLORS.get},
        color=color,
    )
    status = term.style(report.status.upper(), term.STATUS_COLORS[report.status], color)
    return f"{text}\n\nhealth: {status} - {printable(verdict(report))} ({report.duration_s:.2f} s)"
