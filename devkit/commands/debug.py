"""``devkit debug``: replay a recorded request, estimate and check tokens, the effective config, dependencies.

``replay`` exits 1 when the replay failed or its status or token counts differ from the original;
``tokens`` exits 1 when a recorded count strays beyond the tolerance; ``deps`` exits 1 when a
required module is missing.
"""

from devkit import term
from devkit.commands._args import subcommands
from devkit.commands._maint_render import printable
from devkit.errors import UsageError
from devkit.output import emit


def add_arguments(parser):
    """The debug subcommands."""
    sub = subcommands(parser, "debug_command")
    replay = sub.add_parser("replay", help="re-send a recorded model request and compare with the original")
    replay.add_argument("op_id", metavar="OP_ID", help="the operation id the app recorded the request under")
    replay.add_argument("--timeout", metavar="S", help="request timeout (default health.timeout_s)")
    tokens = sub.add_parser("tokens", help="estimate tokens of a text, or check recorded token counts")
    tokens.add_argument("--text", help="estimate the tokens of this text instead of checking records")
    tokens.add_argument(
        "--tolerance", type=float, metavar="R", help="allowed relative gap (default debug.token_tolerance)"
    )
    sub.add_parser("config", help="the effective config, redacted, with the source of each value")
    sub.add_parser("deps", help="Python version and build, sqlite3/zlib/ssl, git/chromium/tar on PATH")


def run(ctx, args):
    """Dispatch to one debug subcommand."""
    handlers = {"replay": _replay, "tokens": _tokens, "config": _config, "deps": _deps}
    return handlers[args.debug_command](ctx, args)


def _replay(ctx, args):
    from devkit.debug.replay import replay
    from devkit.util import parse_duration

    timeout_s = parse_duration(args.timeout, "--timeout") if args.timeout else None
    data = replay(ctx.config, args.op_id, timeout_s)
    emit(ctx, data, _render_replay)
    return 1 if data["replay"]["error"] or data["changes"] else 0


def _render_replay(ctx, data):
    rows = [
        (key, data["original"].get(key), data["replay"].get(key))
        for key in ("status", "latency_ms", "prompt_tokens", "completion_tokens")
    ]
    lines = [
        f"replayed {printable(data['op_id'])} -> {printable(data['url'])}",
        term.table(("", "original", "replay"), rows, width=ctx.width, align="lrr"),
    ]
    if data["replay"]["error"]:
        lines.append(f"replay failed: {printable(data['replay']['error'])}")
    lines += [f"changed: {key} {old} -> {new}" for key, (old, new) in data["changes"].items()]
    lines.append(
        "same status and token counts" if not data["changes"] and not data["replay"]["error"] else ""
    )
    return "\n".join(line for line in lines if line)


def _tokens(ctx, args):
    from devkit.debug.records import all_records
    from devkit.debug.tokens import check_records, estimate_tokens

    if args.text is not None:
        data = {"text_chars": len(args.text), "estimated_tokens": estimate_tokens(args.text)}
        emit(
            ctx,
            data,
            lambda _ctx, d: f"{d['estimated_tokens']} tokens (estimated, {d['text_chars']} characters)",
        )
        return 0
    cfg = ctx.config
    tolerance = cfg.get("debug", "token_tolerance") if args.tolerance is None else args.tolerance
    if tolerance <= 0:
        raise UsageError(f"--tolerance: expected a number above 0, got {tolerance}")
    rows = check_records(all_records(cfg), tolerance)
    data = {"tolerance": tolerance, "checked": rows, "flagged": sum(1 for r in rows if r["flagged"])}
    emit(ctx, data, _render_tokens)
    return 1 if data["flagged"] else 0


def _render_tokens(ctx, data):
    if not data["checked"]:
        return "no recorded requests with text and token counts to check"
    rows = [
        (
            printable(r["op_id"]),
            r["field"],
            r["reported"],
            r["estimated"],
            f"{r['gap'] * 100:.0f}%",
            "STRAYS" if r["flagged"] else "ok",
        )
        for r in data["checked"]
    ]
    table = term.table(
        ("op id", "field", "reported", "estimated", "gap", "check"), rows, width=ctx.width, align="llrrrl"
    )
    return f"{table}\n{data['flagged']} of {len(rows)} counts stray beyond {data['tolerance'] * 100:.0f}%"


def _config(ctx, args):
    from devkit.commands.config_cmd import run as config_run

    args.config_command = "show"
    return config_run(ctx, args)


def _deps(ctx, args):
    from devkit.debug.deps import dependencies

    data = dependencies(ctx.env.get("PATH"))
    emit(ctx, data, _render_deps)
    return 1 if data["status"] == "fail" else 0


def _render_deps(ctx, data):
    py = data["python"]
    lines = [
        f"python   {py['implementation']} {py['version']} ({py['build']}; {py['compiler']})",
        f"         {printable(py['executable'])} on {py['platform']}",
    ]
    for m in data["modules"]:
        state = (
            f"{m['version']}"
            if m["available"]
            else f"MISSING ({'required' if m['required'] else 'optional'})"
        )
        lines.append(f"module   {m['name']:<9} {state}")
    lines += [
        f"tool     {t['name']:<9} {printable(t['path']) if t['path'] else 'not found'}" for t in data["tools"]
    ]
    return "\n".join(lines)
