"""``devkit status``: one screen of requests, errors, tokens, cost, latency, recent operations and models."""

import time

from devkit import charts, term
from devkit.commands._args import since_arg
from devkit.output import emit

SINCE_CHOICES = "1h, 24h, 7d or all"
# The screen lists this many of the recent operations; --json carries metrics.recent_limit of them.
SCREEN_RECENT = 10
SPARK_WIDTH = 60
# Store info keys the writer adds when it had to shed raw rows or bad records.
LOSSES = (("operations_not_kept", "operations not kept"), ("records_dropped", "records dropped"))


def add_arguments(parser):
    """--since."""
    parser.add_argument("--since", default="all", metavar="SPAN",
                        help=f"only count what happened in this span: {SINCE_CHOICES} (default: all since reset)")  # fmt: skip


def run(ctx, args):
    """Read the store (never creating it) and show one screen or one JSON document."""
    from devkit.snapshot import take

    emit(ctx, take(ctx.config, since_arg(args), ctx.clock()).to_dict(), render)
    return 0


def render(ctx, data):
    """The human screen for ``data``."""
    color = ctx.color_stdout
    lines = [term.style(f"devkit status (since {data['since']})", "bold", color), ""]
    lines += _summary_lines(data, color)
    lines += _series_line(ctx, data)
    lines += ["", term.style("models", "bold", color)] + _models_block(ctx, data, color)
    recent = data["recent"][:SCREEN_RECENT]
    lines += ["", term.style(f"last {len(recent)} operations", "bold", color)] + _recent_block(ctx, recent)
    return "\n".join(lines)


def _summary_lines(data, color):
    t, lat = data["totals"], data["latency_ms"]
    err_color = "red" if t["errors"] else None
    errors = term.style(f"{t['errors']:,} ({t['error_rate'] * 100:.2f}%)", err_color, color)
    ratio = t["cache_hit_ratio"]
    store = data["store"]
    return [
        f"requests   {t['requests']:,}   errors {errors}   rate {data['rate_per_min']:,.2f}/min",
        f"tokens     prompt {t['prompt_tokens']:,}   completion {t['completion_tokens']:,}"
        f"   total {t['total_tokens']:,}",
        f"cost       ${t['cost']:,.4f} (estimated)",
        f"latency    p50 {_ms(lat['p50'])}   p95 {_ms(lat['p95'])}   p99 {_ms(lat['p99'])}",
        f"cache      hits {t['cache_hits']:,}   misses {t['cache_misses']:,}"
        f"   hit ratio {'-' if ratio is None else f'{ratio * 100:.1f}%'}",
        f"store      {store['path']}   {_size(store['size_bytes'])}   {store['operations']:,} operations"
        + ("" if store.get("exists", True) else " (no store yet)")
        + _losses(store),
    ]


def _losses(store):
    words = [f"{store[key]:,} {label}" for key, label in LOSSES if store.get(key)]
    return f"   ({', '.join(words)})" if words else ""


def _series_line(ctx, data):
    values = [point["requests"] for point in data["history"]]
    if not any(values):
        return []
    spark = charts.sparkline(values, ascii=charts.wants_ascii(ctx.stdout), width=SPARK_WIDTH)
    return [f"activity   {spark}  peak {max(values):,} requests per {data['history_resolution_s']} s"]


def _models_block(ctx, data, color):
    if not data["models"]:
        return ["(no models configured)"]
    rows = [(m["name"], m["provider"], m["status"], m.get("output") or "") for m in data["models"]]
    colors = {2: lambda status: term.STATUS_COLORS.get(status)}
    return [term.table(("model", "provider", "status", "detail"), rows, ctx.width, "llll", colors, color)]


def _recent_block(ctx, recent):
    if not recent:
        return ["(no operations recorded)"]
    rows = [(time.strftime("%H:%M:%S", time.localtime(op["ts"])), op["operation"], op["model"], op["status"],
             round(op["duration_ms"], 1), (op["prompt_tokens"] or 0) + (op["completion_tokens"] or 0))
            for op in recent]  # fmt: skip
    colors = {3: lambda status: term.STATUS_COLORS.get(status)}
    headers = ("time", "operation", "model", "status", "ms", "tokens")
    return [term.table(headers, rows, ctx.width, "llllrr", colors, ctx.color_stdout)]


def _ms(value):
    return "-" if value is None else f"{value:,.1f} ms"


def _size(size):
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024.0
    return f"{size} B"
