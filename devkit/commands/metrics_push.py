"""``devkit metrics push``: POST the metrics as OTLP/HTTP JSON to an OpenTelemetry collector, once or on a schedule."""

import argparse
import functools

from devkit.commands._args import since_arg
from devkit.errors import UsageError
from devkit.output import emit
from devkit.util import parse_duration


def add_arguments(parser):
    """Options of ``metrics push``."""
    parser.description = (
        "Push one snapshot as an OTLP/HTTP JSON ExportMetricsServiceRequest to a collector, "
        "retrying 429/5xx and connection errors; with --every, until Ctrl-C."
    )
    parser.add_argument(
        "--otlp", required=True, metavar="URL", help="collector URL; a bare http://host:4318 gets /v1/metrics"
    )
    parser.add_argument("--every", metavar="DURATION", help="push every DURATION (e.g. 60s) until Ctrl-C")
    parser.add_argument("--count", type=_positive_int, metavar="N", help="with --every: stop after N pushes")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="K=V",
        help="extra HTTP header, repeatable; V may be env:VAR (never printed)",
    )
    parser.add_argument(
        "--retries",
        type=_retries,
        default=None,
        metavar="N",
        help="retries per push on 429/5xx/connection errors (default 3)",
    )
    parser.add_argument("--since", default=argparse.SUPPRESS, metavar="SPAN", help="1h, 24h, 7d or all")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _retries(text):
    from devkit.export.push import MAX_RETRIES

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_RETRIES:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_RETRIES}, got {text!r}")
    return value


def run(ctx, args):
    """Push once, or every --every until Ctrl-C/SIGTERM (the round in progress finishes)."""
    from devkit.export.push import DEFAULT_RETRIES, otlp_url, parse_headers, shown_url
    from devkit.service import every, stop_on_signals

    url = otlp_url(args.otlp)
    headers = parse_headers(args.header, ctx.env)
    retries = DEFAULT_RETRIES if args.retries is None else args.retries
    interval = _interval(args)
    with stop_on_signals() as stop:
        push_round = functools.partial(_round, ctx, args, url, headers, stop, retries)
        rounds, last = every(
            interval or 0, push_round, ctx.clock, stop, 1 if interval is None else args.count
        )
    if interval is None and rounds:
        emit(ctx, last[0], _render_once)
        return 0
    if stop.is_set():
        ctx.info("devkit: push schedule stopped")
    data = {"url": shown_url(url), "rounds": rounds, "interval_s": interval}
    emit(ctx, data, lambda c, d: f"{d['rounds']} push(es) to {d['url']}")
    return 0


def _interval(args):
    if args.every is None:
        if args.count is not None:
            raise UsageError("--count: only with --every")
        return None
    interval = parse_duration(args.every, "--every")
    if interval <= 0:
        raise UsageError(f"--every: the period must be > 0, got {args.every!r}")
    return interval


def _round(ctx, args, url, headers, stop, retries):
    from devkit.export.push import push, request_body, shown_url

    now = ctx.clock()
    body = request_body(ctx.config, since_arg(args), now)
    result = push(url, body, headers, stop, retries)
    data = {
        "url": shown_url(url),
        "status": result["status"],
        "attempts": result["attempts"],
        "bytes": len(body),
        "generated_at": now,
    }
    if args.every is not None:
        ctx.info(_render_once(ctx, data))
    return data


def _render_once(ctx, data):
    return (
        f"pushed {data['bytes']} bytes to {data['url']}: HTTP {data['status']} (attempts: {data['attempts']})"
    )
