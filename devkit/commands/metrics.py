"""``devkit metrics``: per operation/model table, token breakdown, reset, ingest, push (and export when present)."""

import argparse
import contextlib
import os
import stat

from devkit import term, units
from devkit.commands import metrics_export, metrics_push
from devkit.commands._args import since_arg, subcommands
from devkit.errors import EXIT_FAILED, EXIT_USAGE, UsageError
from devkit.output import emit

PROGRESS_MIN_BYTES = 1 << 20


def add_arguments(parser):
    """Subcommands tokens, reset, ingest (and export); no subcommand shows the table."""
    parser.add_argument("--since", default="all", metavar="SPAN", help="1h, 24h, 7d or all (default: all)")
    sub = subcommands(parser, "metrics_command", required=False)
    tokens = sub.add_parser("tokens", help="tokens and cost by model and by operation")
    tokens.add_argument("--since", default=argparse.SUPPRESS, metavar="SPAN", help="1h, 24h, 7d or all")
    reset = sub.add_parser("reset", help="zero what readers see (asks first on a terminal)")
    reset.add_argument("--yes", action="store_true", help="do not ask")
    ingest = sub.add_parser(
        "ingest",
        help="import JSON-lines events from FILE or - (stdin)",
        description="Import JSON-lines events (FILE may be a FIFO or /dev/fd/N; lines up to 1 MiB). Bad lines are "
        "reported as FILE:LINE: field: problem and skipped (exit 1); with --strict nothing is "
        "written (exit 2). A missing FILE or a directory is a usage error (exit 2). A regular FILE is read "
        "from where the last ingest of it stopped (its rotated-away rest first); events with an "
        '"id" are counted once however often they are ingested.',
    )
    ingest.add_argument("file", metavar="FILE", help="JSON-lines file, or - for stdin")
    ingest.add_argument("--strict", action="store_true", help="reject the whole input when any line is bad")
    ingest.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="keep reading FILE as it grows, across rotation and truncation, until Ctrl-C",
    )
    metrics_export.add_arguments(sub.add_parser("export", help="export metrics"))
    metrics_push.add_arguments(
        sub.add_parser("push", help="push metrics to an OpenTelemetry collector (OTLP/HTTP JSON)")
    )


def run(ctx, args):
    """Dispatch to the chosen subcommand."""
    command = getattr(args, "metrics_command", None)
    if command == "export":
        return metrics_export.run(ctx, args)
    if command == "push":
        return metrics_push.run(ctx, args)
    handlers = {None: _table, "tokens": _tokens, "reset": _reset, "ingest": _ingest}
    return handlers[command](ctx, args)


def _snapshot(ctx, args):
    from devkit.snapshot import take

    return take(ctx.config, since_arg(args), ctx.clock())


def _table(ctx, args):
    snapshot = _snapshot(ctx, args)
    emit(
        ctx,
        {"since": args.since, "since_ts": snapshot.since_ts, "rows": snapshot.operation_rows()},
        _render_table,
    )
    return 0


def _render_table(ctx, data):
    if not data["rows"]:
        return f"no operations recorded (since {data['since']})"
    headers = ("operation", "model", "count", "errors", "p50 ms", "p95 ms", "p99 ms", "tokens", "cost")
    rows = [
        (
            r["operation"],
            r["model"],
            units.count(r["count"]),
            units.count(r["errors"]),
            units.ms(r["p50_ms"]),
            units.ms(r["p95_ms"]),
            units.ms(r["p99_ms"]),
            units.count(r["total_tokens"]),
            units.usd(r["cost"]),
        )
        for r in data["rows"]
    ]
    colors = {3: lambda n: "red" if n != "0" else None}
    table = term.table(headers, rows, ctx.width, "llrrrrrrr", colors, ctx.color_stdout)
    stream = streaming_block(ctx, data["rows"], ("operation", "model"))
    return table + (
        "\n\n" + term.style("streaming", "bold", ctx.color_stdout) + "\n" + stream if stream else ""
    )


def streaming_block(ctx, rows, keys):
    """A table of TTFT p50/p95, ms per chunk and output tokens/s of the ``rows`` that streamed ("" if none)."""
    streamed = [r for r in rows if r.get("ttft_p50_ms") is not None]
    if not streamed:
        return ""
    cells = [
        tuple(r[k] for k in keys)
        + (
            units.ms(r["ttft_p50_ms"]),
            units.ms(r["ttft_p95_ms"]),
            units.ms(r["time_per_chunk_p50_ms"]),
            units.rate(r["tokens_per_s_p50"]),
            units.rate(r["tokens_per_s_p95"]),
        )
        for r in streamed
    ]
    headers = keys + ("ttft p50 ms", "ttft p95 ms", "ms/chunk", "tok/s p50", "tok/s p95")
    return term.table(headers, cells, ctx.width, "l" * len(keys) + "rrrrr", None, ctx.color_stdout)


def _tokens(ctx, args):
    snapshot = _snapshot(ctx, args)
    data = {"since": args.since, "since_ts": snapshot.since_ts}
    data.update(snapshot.token_rows())
    emit(ctx, data, _render_tokens)
    return 0


def _render_tokens(ctx, data):
    blocks = []
    for field in ("model", "operation"):
        rows = [
            (
                r[field],
                units.count(r["requests"]),
                units.count(r["prompt_tokens"]),
                units.count(r["cached_prompt_tokens"]),
                units.count(r["completion_tokens"]),
                units.count(r["reasoning_tokens"]),
                units.count(r["total_tokens"]),
                units.usd(r["cost"]),
            )
            for r in data[f"by_{field}"]
        ]
        headers = (field, "requests", "prompt", "cached", "completion", "reasoning", "total", "cost")
        body = term.table(headers, rows, ctx.width, "lrrrrrrr", None, ctx.color_stdout) if rows else "(none)"
        blocks.append(term.style(f"by {field}", "bold", ctx.color_stdout) + "\n" + body)
    return "\n\n".join(blocks)


def _reset(ctx, args):
    from devkit.store import open_store, store_path

    path = store_path(ctx.config)
    if not args.yes and not _confirm(ctx, f"Reset all metrics in {path}? [y/N] "):
        return EXIT_FAILED
    if not os.path.exists(path):
        emit(
            ctx,
            {"reset": False, "path": path, "reset_ts": None},
            lambda c, d: "nothing to reset (no store yet)",
        )
        return 0
    with open_store(ctx.config, clock=ctx.clock) as store:
        store.reset()
        data = {"reset": True, "path": path, "reset_ts": store.reset_ts}
    emit(ctx, data, lambda c, d: f"metrics reset: readers now count from {_clock(d['reset_ts'])}")
    return 0


def _confirm(ctx, question):
    if not term.isatty(ctx.stdin):
        raise UsageError("metrics reset: refusing without a terminal to ask on; pass --yes to confirm")
    ctx.stderr.write(question)
    ctx.stderr.flush()
    answer = ctx.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        ctx.err("metrics reset: cancelled")
        return False
    return True


def _clock(ts):
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _ingest(ctx, args):
    from devkit.store import open_store

    label = "<stdin>" if args.file == "-" else args.file
    regular = args.file != "-" and _check_source(os.path.join(ctx.cwd, args.file), args.file)
    if args.follow and not regular:
        raise UsageError(f"{label}: --follow needs a regular file")

    def on_error(lineno, problem):
        ctx.err(f"{label}:{lineno}: {problem}")

    with open_store(ctx.config) as store:
        result = _ingest_into(ctx, args, store, regular, on_error)
    if args.strict and result["rejected"]:
        result["ingested"] = 0
    for entry in result["files"]:
        ctx.detail(
            f"{entry['path']}: lines {entry['from_line']}-{entry['to_line']}, {entry['ingested']} ingested"
        )
    if result["duplicates"]:
        ctx.info(f"{label}: {result['duplicates']} event(s) with an id already counted were skipped")
    emit(ctx, result, lambda c, d: _ingest_summary(d, label, args.strict), notice=not result["rejected"])
    if result["rejected"]:
        return EXIT_USAGE if args.strict else EXIT_FAILED
    return 0


def _ingest_into(ctx, args, store, regular, on_error):
    from devkit.store import ingest

    full = os.path.join(ctx.cwd, args.file)
    if args.follow:
        from devkit.service import stop_on_signals

        ctx.info(f"{args.file}: following (Ctrl-C to stop)")
        with stop_on_signals() as stop:
            return ingest.follow(
                store, full, stop, ctx.clock, on_error, lambda what, path: ctx.info(f"{args.file}: {what}")
            )
    if not regular:
        with _stdin_or_pipe(ctx, full, args.file) as handle:
            return ingest.ingest(
                store,
                lambda: ingest.bounded_lines(handle),
                args.strict,
                ctx.clock(),
                on_error,
                replayable=False,
            )
    with _progress(ctx, args.file) as progress:
        return ingest.ingest_file(
            store,
            full,
            args.strict,
            ctx.clock(),
            on_error,
            lambda offset: progress.advance(offset - progress.done),
        )


def _stdin_or_pipe(ctx, full, path):
    if path == "-":
        # Bytes, so a line that is not UTF-8 is reported like any other bad line; stdin stays open.
        return contextlib.nullcontext(getattr(ctx.stdin, "buffer", ctx.stdin))
    try:
        return open(full, "rb")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None


def _ingest_summary(data, label, strict):
    if strict and data["rejected"]:
        return f"{label}: rejected all input: {data['rejected']} bad line(s) (--strict); nothing ingested"
    return f"{label}: ingested {data['ingested']}, rejected {data['rejected']}"


def _check_source(full, path):
    """True for a regular file (readable twice); FIFOs and /dev/fd/N pipes are read once."""
    try:
        mode = os.stat(full).st_mode
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file (use - to read stdin)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{path}: is a directory, not a JSON-lines file")
    return stat.S_ISREG(mode)


def _progress(ctx, path):
    size = 0
    if path != "-":
        try:
            size = os.path.getsize(os.path.join(ctx.cwd, path))
        except OSError:
            size = 0
    bar = term.Progress(ctx, size, "ingest")
    bar.enabled = bar.enabled and size >= PROGRESS_MIN_BYTES
    return bar
