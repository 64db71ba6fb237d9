"""``devkit cleanup``: print the plan (paths, sizes, ages, reasons, total); ``--apply`` carries it out.

Exit codes: 0 done (or plan shown), 1 some paths could not be removed or archived, 2 bad
arguments or config, 3 another maintenance run holds the storage lock.
"""

from devkit import term
from devkit.commands._maint_render import age_text, printable, size_text
from devkit.output import emit
from devkit.util import parse_duration


def add_arguments(parser):
    """--older-than, --age-by, --apply."""
    parser.add_argument(
        "--older-than",
        metavar="AGE",
        help="experiments unchanged for this long are removed, e.g. 30d (default cleanup.older_than_days)",
    )
    parser.add_argument(
        "--age-by",
        choices=("mtime", "ctime", "newest"),
        help="timestamp that ages a file (default cleanup.age_by = newest of mtime and ctime)",
    )
    parser.add_argument(
        "--apply", action="store_true", help="carry the plan out (without it nothing changes)"
    )


def run(ctx, args):
    """Plan (and with --apply carry out) the cleanup of the configured roots."""
    from devkit.maintenance.cleanup import cleanup

    older_than_s = None if args.older_than is None else parse_duration(args.older_than, "--older-than")
    data = cleanup(
        ctx.config, older_than_s=older_than_s, age_by=args.age_by, apply=args.apply, now=ctx.clock()
    )
    emit(ctx, data, render)
    return 1 if data["applied"] and data["result"]["failed"] else 0


def render(ctx, data):
    """The plan as a table and a total; after --apply, what was done and what failed."""
    lines = []
    if data["entries"]:
        rows = [
            (e["action"], printable(e["path"]), size_text(e["size_bytes"]), age_text(e["age_s"]), e["reason"])
            for e in data["entries"]
        ]
        lines.append(
            term.table(("action", "path", "size", "age", "reason"), rows, width=ctx.width, align="llrrl")
        )
    else:
        lines.append("nothing to clean up")
    lines += [f"skipped {printable(s['path'])}: {printable(s['reason'])}" for s in data["skipped"]]
    lines += [f"note: {printable(n)}" for n in data["notes"]]
    count = len(data["entries"])
    lines.append(f"{count} item{'s' if count != 1 else ''}, {size_text(data['total_bytes'])} to reclaim")
    if data["applied"]:
        lines += _result_lines(data["result"])
    else:
        lines.append("dry run: nothing was changed; rerun with --apply to do it")
    return "\n".join(lines)


def _result_lines(result):
    lines = [f"removed {printable(p)}" for p in result["removed"]]
    lines += [f"archived {printable(a['path'])} -> {printable(a['archive'])}" for a in result["archived"]]
    lines += [f"left {printable(c['path'])}: {printable(c['reason'])}" for c in result["changed"]]
    lines += [f"could not remove {printable(f['path'])}: {printable(f['error'])}" for f in result["failed"]]
    lines.append(
        f"done: {len(result['removed'])} removed, {len(result['archived'])} archived, "
        f"{len(result['failed'])} failed, {size_text(result['reclaimed_bytes'])} reclaimed"
    )
    return lines
