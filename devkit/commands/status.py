"""``devkit status``: one screen of rates, totals, latency, models, error types, health and recent operations.

``--watch [SECONDS]`` redraws it in place on a terminal (repeated blocks into a pipe) until Ctrl-C.
"""

from devkit import charts, term, units
from devkit.commands._args import since_arg
from devkit.commands.metrics import streaming_block
from devkit.errors import UsageError
from devkit.output import emit

SINCE_CHOICES = "1h, 24h, 7d or all"
# The screen lists this many of the recent operations; --json carries metrics.recent_limit of them.
SCREEN_RECENT = 10
SPARK_WIDTH = 60
WATCH_DEFAULT_S = 2.0
WATCH_MIN_S, WATCH_MAX_S = 0.5, 3600.0
# Home the cursor, redraw, clear what the previous (longer) screen left below: no flicker of a full clear.
REDRAW_START, CLEAR_BELOW, CLEAR_LINE = "\x1b[H", "\x1b[J", "\x1b[K"
# Store info keys the writer adds when it had to shed raw rows or bad records.
LOSSES = (
    ("operations_not_kept", "operations not kept"),
    ("records_dropped", "records dropped"),
    ("series_overflowed", "operations counted under __overflow__ (too many series)"),
)
WINDOWS = ("1m", "5m", "15m")


def add_arguments(parser):
    """--since and --watch."""
    parser.add_argument(
        "--since",
        default="all",
        metavar="SPAN",
        help=f"only count what happened in this span: {SINCE_CHOICES} (default: all since reset)",
    )
    parser.add_argument(
        "--watch",
        nargs="?",
        const=str(WATCH_DEFAULT_S),
        metavar="SECONDS",
        help=f"redraw every SECONDS (default {WATCH_DEFAULT_S:g}, {WATCH_MIN_S:g} to "
        f"{WATCH_MAX_S:g}) until Ctrl-C",
    )


def run(ctx, args):
    """Read the store (never creating it) and show one screen or one JSON document; or keep redrawing."""
    if args.watch is not None:
        return _watch(ctx, args, _watch_interval(args.watch))
    emit(ctx, _data(ctx, args), render)
    return 0


def _data(ctx, args):
    from devkit.snapshot import take

    return take(ctx.config, since_arg(args), ctx.clock()).to_dict()


def _watch_interval(text):
    from devkit.util import parse_duration

    seconds = parse_duration(text, "--watch")
    if not WATCH_MIN_S <= seconds <= WATCH_MAX_S:
        raise UsageError(f"--watch: expected {WATCH_MIN_S:g} to {WATCH_MAX_S:g} seconds, got {text!r}")
    return seconds


def _watch(ctx, args, interval_s):
    from devkit.service import every, stop_on_signals

    if ctx.json:
        raise UsageError("--watch: not with --json (run status --json on a schedule instead)")
    since_arg(args)
    with stop_on_signals() as stop:
        every(interval_s, lambda: _draw(ctx, render(ctx, _data(ctx, args))), ctx.clock, stop)
    return 0


def _draw(ctx, screen):
    if ctx.stdout_isatty:
        body = "\n".join(line + CLEAR_LINE for line in screen.split("\n"))
        ctx.stdout.write(REDRAW_START + body + "\n" + CLEAR_BELOW)
    else:
        ctx.stdout.write(screen + "\n\n")
    ctx.stdout.flush()


def render(ctx, data):
    """The human screen for ``data``."""
    color = ctx.color_stdout
    title = f"devkit status (since {data['since']}) at {units.utc_stamp(data['now'])} UTC"
    lines = [term.style(title, "bold", color), ""]
    lines += [_rates_table(ctx, data), ""]
    lines += _summary_lines(data, color)
    lines += _series_line(ctx, data)
    lines += ["", term.style("models", "bold", color)] + _models_block(ctx, data)
    stream = streaming_block(ctx, data["by_model"], ("model",))
    lines += ["", term.style("streaming", "bold", color), stream] if stream else []
    lines += ["", term.style("errors by type", "bold", color)] + _errors_block(ctx, data)
    recent = data["recent"][:SCREEN_RECENT]
    heading = f"last {len(recent)} operations (UTC)"
    lines += ["", term.style(heading, "bold", color)] + _recent_block(ctx, recent, data["now"])
    return "\n".join(lines)


def _rates_table(ctx, data):
    windows, totals = data["windows"], data["totals"]
    span = "all time" if data["since"] == "all" else f"last {data['since']}"
    rows = [
        ("requests",)
        + tuple(units.count(windows[w]["requests"]) for w in WINDOWS)
        + (units.count(totals["requests"]),),
        ("errors",)
        + tuple(units.count(windows[w]["errors"]) for w in WINDOWS)
        + (units.count(totals["errors"]),),
        ("per min",) + tuple(units.rate(windows[w]["rate_per_min"]) for w in WINDOWS) + ("",),
    ]
    for name in ("p50", "p95", "p99"):
        rows.append(
            (f"{name} ms",)
            + tuple(units.ms(windows[w][name + "_ms"]) for w in WINDOWS)
            + (units.ms(data["latency_ms"][name]),)
        )
    headers = ("",) + tuple(f"last {w}" for w in WINDOWS) + (span,)
    return term.table(headers, rows, ctx.width, "lrrrr", None, ctx.color_stdout)


def _summary_lines(data, color):
    t = data["totals"]
    err_color = "red" if t["errors"] else None
    error_rate = term.style(units.percent(t["error_rate"]) if t["requests"] else "-", err_color, color)
    return [
        f"error rate {error_rate}",
        f"tokens     prompt {units.count(t['prompt_tokens'])}   completion {units.count(t['completion_tokens'])}"
        f"   total {units.count(t['total_tokens'])}",
        *_llm_tokens_line(t),
        f"cost       {units.usd(t['cost'])} (estimated)",
        f"cache      hits {units.count(t['cache_hits'])}   misses {units.count(t['cache_misses'])}"
        f"   hit ratio {units.percent(t['cache_hit_ratio'])}",
        _health_line(data, color),
        _store_line(data["store"]),
    ]


def _llm_tokens_line(totals):
    if not (totals.get("cached_prompt_tokens") or totals.get("reasoning_tokens")):
        return []
    return [
        f"           of which cached prompt {units.count(totals['cached_prompt_tokens'])}"
        f"   reasoning {units.count(totals['reasoning_tokens'])}"
    ]


def _health_line(data, color):
    health = data.get("health")
    if not health:
        return "health     never run here (devkit health saves its result for this screen)"
    status = health.get("status") or "unknown"
    when = "at an unknown time"
    if health.get("ts") is not None:
        when = (
            f"{units.utc_clock(health['ts'], data['now'])} UTC ({units.ago(health['ts'], data['now'])} ago)"
        )
    counts = ", ".join(f"{n} {name}" for name, n in sorted(health["checks"].items()))
    styled = term.style(status, term.STATUS_COLORS.get(status), color)
    return f"health     {styled} {when}" + (f": {counts}" if counts else "")


def _store_line(store):
    missing = "" if store.get("exists", True) else " (no store yet)"
    words = [f"{units.count(store[key])} {label}" for key, label in LOSSES if store.get(key)]
    losses = f"   ({', '.join(words)})" if words else ""
    return (
        f"store      {store['path']}   {units.human_size(store['size_bytes'])}   "
        f"{units.count(store['operations'])} operations{missing}{losses}"
    )


def _series_line(ctx, data):
    values = [point["requests"] for point in data["history"]]
    if not any(values):
        return []
    spark = charts.sparkline(values, ascii=charts.wants_ascii(ctx.stdout), width=SPARK_WIDTH)
    return [
        f"activity   {spark}  peak {units.count(max(values))} requests per {data['history_resolution_s']} s"
    ]


def _models_block(ctx, data):
    usage = {row["model"]: row for row in data["by_model"]}
    health = {m["name"]: m for m in data["models"]}
    names = [m["name"] for m in data["models"]] + sorted((n for n in usage if n not in health), key=str)
    if not names:
        return ["(no models configured or used)"]
    rows, notes = [], []
    for name in names:
        row, model = usage.get(name, {}), health.get(name, {})
        status = model.get("status", "-")
        rows.append(
            (
                name,
                status,
                units.count(row.get("count", 0)),
                units.count(row.get("errors", 0)),
                units.ms(row.get("p50_ms")),
                units.ms(row.get("p95_ms")),
                units.ms(row.get("p99_ms")),
                units.count(row.get("total_tokens", 0)),
                units.usd(row.get("cost", 0.0)),
            )
        )
        if model.get("output") and status != "pass":
            notes.append((name, model["output"]))
    headers = ("model", "health", "count", "errors", "p50 ms", "p95 ms", "p99 ms", "tokens", "cost")
    colors = {1: term.STATUS_COLORS.get}
    block = [term.table(headers, rows, ctx.width, "llrrrrrrr", colors, ctx.color_stdout)]
    if notes:
        block += [
            "",
            term.table(("model", "health check said"), notes, ctx.width, "ll", None, ctx.color_stdout),
        ]
    return block


def _errors_block(ctx, data):
    from devkit.export.markdown import error_name

    rows = data["error_types"]
    if not rows:
        return ["(no errors)"]
    total = sum(r["count"] for r in rows)
    cells = [(error_name(r), units.count(r["count"]), units.percent(r["count"] / total)) for r in rows]
    return [term.table(("error", "count", "share"), cells, ctx.width, "lrr", None, ctx.color_stdout)]


def _recent_block(ctx, recent, now):
    if not recent:
        return ["(no operations recorded)"]
    rows = [
        (
            units.utc_clock(op["ts"], now),
            op["operation"],
            op["model"],
            _outcome(op),
            units.ms(op["duration_ms"]),
            _tokens(op),
        )
        for op in recent
    ]
    colors = {3: lambda outcome: term.STATUS_COLORS.get(outcome, "cyan")}
    headers = ("time", "operation", "model", "status", "ms", "tokens")
    return [term.table(headers, rows, ctx.width, "llllrr", colors, ctx.color_stdout)]


def _outcome(op):
    if op["status"] == "ok" and op.get("cache_hit"):
        return "cache hit"
    return op["status"]


def _tokens(op):
    total = (op["prompt_tokens"] or 0) + (op["completion_tokens"] or 0)
    return "-" if op.get("cache_hit") and not total else units.count(total)
