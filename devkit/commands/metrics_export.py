"""``devkit metrics export``: one snapshot rendered as JSON, CSV, Markdown, Prometheus, OpenMetrics or OTLP.

To stdout, atomically to ``-o FILE``, or on a schedule (``--every 60s -o DIR --keep N``)
as timestamped files of which the newest N are kept.
"""

import argparse
import os

from devkit import units
from devkit.commands._args import since_arg
from devkit.config.schema import EXPORT_FORMATS, SECTIONS
from devkit.errors import UsageError
from devkit.output import emit
from devkit.util import atomic_write, parse_duration


def add_arguments(parser):
    """Options of ``metrics export``."""
    parser.description = (
        "Export metrics from one consistent snapshot. csv writes one row per series and "
        "interval; with --operations it streams the raw operations instead."
    )
    names = ", ".join(EXPORT_FORMATS[:-1]) + " or " + EXPORT_FORMATS[-1]
    default = SECTIONS["export"]["format"].default
    parser.add_argument("--format", metavar="FORMAT", help=f"{names} (default: export.format, {default})")
    parser.add_argument("--since", default=argparse.SUPPRESS, metavar="SPAN", help="1h, 24h, 7d or all")
    parser.add_argument("-o", "--output", metavar="PATH", help="write to this file (a folder with --every)")
    parser.add_argument("--operations", action="store_true", help="csv of the raw operations (streamed)")
    parser.add_argument(
        "--every",
        nargs="?",
        const="config",
        metavar="DURATION",
        help="export every DURATION (e.g. 60s) until Ctrl-C; alone: export.interval_s",
    )
    parser.add_argument("--keep", type=_positive_int, metavar="N", help="scheduled: keep the newest N files")
    parser.add_argument("--count", type=_positive_int, metavar="N", help="scheduled: stop after N exports")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def run(ctx, args):
    """Export once (stdout or -o FILE) or on a schedule (--every)."""
    from devkit.export import check_format

    cfg = ctx.config
    try:
        fmt = check_format(cfg.get("export", "format") if args.format is None else args.format)
    except UsageError as exc:
        raise UsageError(f"--format: {exc}") from None
    if args.operations and fmt != "csv":
        raise UsageError("--operations: only with --format csv")
    if args.every is not None:
        return _scheduled(ctx, args, cfg, fmt)
    if args.keep is not None or args.count is not None:
        raise UsageError("--keep/--count: only with --every")
    if args.output and os.path.isdir(args.output):
        raise UsageError(f"-o: {args.output} is a folder; give a file name (or --every to fill a folder)")
    return _export_once(ctx, args, cfg, fmt)


def _export_once(ctx, args, cfg, fmt):
    from devkit import charts
    from devkit.export import render
    from devkit.snapshot import take

    now = ctx.clock()
    snapshot = take(cfg, since_arg(args), now)
    if not args.output:
        ascii = charts.wants_ascii(ctx.stdout)
        for chunk in render(snapshot, fmt, operations=args.operations, ascii=ascii, cfg=cfg):
            ctx.stdout.write(chunk)
        return 0
    size = atomic_write(args.output, render(snapshot, fmt, operations=args.operations, cfg=cfg))
    path = os.path.abspath(args.output)
    emit(ctx, {"path": path, "format": fmt, "bytes": size, "generated_at": now}, _render_written, notice=True)
    return 0


def _render_written(ctx, data):
    return f"exported {data['format']} to {data['path']} ({units.human_size(data['bytes'])})"


def _schedule_settings(args, cfg):
    if args.every == "config":
        interval = float(cfg.get("export", "interval_s"))
        if interval <= 0:
            raise UsageError(
                "--every: export.interval_s is 0 (off) in the config; give a period like --every 60s"
            )
    else:
        interval = parse_duration(args.every, "--every")
        if interval <= 0:
            raise UsageError(f"--every: the period must be > 0, got {args.every!r}")
    directory = os.path.abspath(args.output) if args.output else cfg.resolve_path(cfg.get("export", "dir"))
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise UsageError(f"-o: {directory} is a file; --every writes timestamped files into a folder")
    keep = args.keep if args.keep is not None else cfg.get("export", "keep")
    return interval, directory, keep


def _scheduled(ctx, args, cfg, fmt):
    from devkit.service import every, stop_on_signals

    interval, directory, keep = _schedule_settings(args, cfg)
    with stop_on_signals() as stop:
        rounds, written = every(
            interval,
            lambda: _export_round(ctx, args, cfg, fmt, directory, keep),
            ctx.clock,
            stop,
            args.count,
            keep=keep,
        )
    if stop.is_set():
        ctx.info("devkit: export schedule stopped")
    kept = [p for p in written if os.path.exists(p)]
    data = {
        "directory": directory,
        "format": fmt,
        "rounds": rounds,
        "interval_s": interval,
        "keep": keep,
        "kept": kept,
    }
    emit(
        ctx,
        data,
        lambda c, d: f"{d['rounds']} export(s) to {d['directory']}; newest kept: {len(d['kept'])}",
        notice=True,
    )
    return 0


def _export_round(ctx, args, cfg, fmt, directory, keep):
    from devkit.export import EXTENSIONS, render
    from devkit.export.files import OPERATIONS_PREFIX, PREFIX, prune_exports, timestamped_name
    from devkit.snapshot import take

    now = ctx.clock()
    prefix = OPERATIONS_PREFIX if args.operations else PREFIX
    extension = EXTENSIONS[fmt]
    path = os.path.join(directory, timestamped_name(now, extension, prefix))
    snapshot = take(cfg, since_arg(args), now)
    size = atomic_write(path, render(snapshot, fmt, operations=args.operations, cfg=cfg))
    prune_exports(directory, extension, keep, prefix)
    ctx.info(f"exported {fmt} to {path} ({units.human_size(size)})")
    return path
