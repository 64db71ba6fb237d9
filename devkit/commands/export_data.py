"""``devkit export-data KIND``: experiments (CSV), metrics (JSON or CSV), config (redacted), report (Markdown), all.

The data goes to stdout or atomically to ``-o FILE``; ``all`` writes a timestamped folder
under ``-o DIR`` (default export.dir). ``--json`` prints a summary of what was written.
"""

import os

from devkit.commands._maint_render import printable, size_text
from devkit.errors import UsageError
from devkit.output import emit

KINDS = ("experiments", "metrics", "config", "report", "all")


def add_arguments(parser):
    """KIND, -o, --format."""
    parser.add_argument("kind", choices=KINDS, help="what to export")
    parser.add_argument("-o", "--output", metavar="PATH", help="file to write (a parent folder for all)")
    parser.add_argument("--format", choices=("json", "csv"), default="json", help="metrics: json or csv")


def run(ctx, args):
    """Produce the export; write it to -o (atomically) or stdout; print a summary with --json."""
    from devkit.maintenance import export_data

    cfg = ctx.config
    now = ctx.clock()
    output = os.path.join(ctx.cwd, args.output) if args.output else None
    if args.kind == "all":
        result = export_data.export_all(cfg, output or cfg.resolve_path(cfg.get("export", "dir")), now)
        result["kind"] = "all"
        emit(ctx, result, _render_all)
        _problems(ctx, result)
        return 0
    if ctx.json and not output:
        raise UsageError("--json: give -o FILE (the data goes there, the summary to stdout)")
    chunks, info = export_data.produce(cfg, args.kind, args.format, now)
    if not output:
        for chunk in chunks:
            ctx.stdout.write(chunk)
        _problems(ctx, info)
        return 0
    info.update(kind=args.kind, path=output, bytes=export_data.write(output, chunks))
    emit(ctx, info, _render_one)
    _problems(ctx, info)
    return 0


def _problems(ctx, info):
    for problem in info.get("problems", []) if not ctx.json else []:
        ctx.err(f"devkit: warning: skipped {printable(problem)}")


def _render_one(ctx, info):
    return f"wrote {printable(info['path'])} ({size_text(info['bytes'])})"


def _render_all(ctx, result):
    lines = [f"wrote {printable(result['path'])}/"]
    lines += [f"  {f['name']}  {size_text(f['bytes'])}" for f in result["files"]]
    return "\n".join(lines)
