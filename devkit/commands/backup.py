"""``devkit backup``: create, list, verify, restore and prune backups of the project's data.

Exit codes: 0 ok; 1 warning (a file changed while read, or was skipped); 2 error;
3 the storage lock is busy; 4 verify failed or the archive was refused.
"""

import argparse
import datetime
import os

from devkit import units
from devkit.commands._args import subcommands
from devkit.errors import DevkitError, UsageError
from devkit.output import emit

EXIT_WARNING = 1
EXIT_ERROR = 2
EXIT_VERIFY_FAILED = 4
EPILOG = (
    "exit codes: 0 ok, 1 warning (a file changed while read or was skipped), 2 error, "
    "3 storage lock busy, 4 verify failed or archive refused"
)


def add_arguments(parser):
    """Subcommands create, list, verify, restore and prune."""
    parser.epilog = EPILOG
    sub = subcommands(parser, "action")
    create = sub.add_parser("create", help="write a new backup archive", epilog=EPILOG)
    create.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="PATH",
        help="file or folder to back up (repeatable; default: backup.include)",
    )
    create.add_argument("--dest", metavar="DIR", help="folder for the archive (default: backup.dir)")
    create.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip matching paths")
    create.add_argument("--label", metavar="L", help="added to the archive name (letters, digits, _ .)")
    create.add_argument(
        "--level", type=int, choices=range(1, 10), metavar="1-9", help="gzip level (default: backup.level, 4)"
    )
    listing = sub.add_parser("list", help="backups, newest first", epilog=EPILOG)
    listing.add_argument("--dest", metavar="DIR", help="backup folder (default: backup.dir)")
    verify = sub.add_parser("verify", help="check a backup completely (default: the newest)", epilog=EPILOG)
    verify.add_argument("name", nargs="?", metavar="NAME", help="backup name or path")
    verify.add_argument("--all", action="store_true", help="verify every backup")
    verify.add_argument("--dest", metavar="DIR", help="backup folder (default: backup.dir)")
    add_restore_arguments(sub.add_parser("restore", help="restore a backup safely", epilog=EPILOG))
    prune = sub.add_parser("prune", help="delete old backups by a keep policy", epilog=EPILOG)
    for period in ("last", "daily", "weekly", "monthly"):
        prune.add_argument(
            f"--keep-{period}",
            type=_count,
            default=0,
            metavar="N",
            help=f"keep {period} N"
            + (" (default: backup.keep when set in the config)" if period == "last" else ""),
        )
    prune.add_argument("--apply", action="store_true", help="really delete (default: only show)")
    prune.add_argument("--dest", metavar="DIR", help="backup folder (default: backup.dir)")


def add_restore_arguments(parser):
    """Options of ``backup restore`` (also ``devkit restore``)."""
    parser.add_argument("name", metavar="NAME", help="backup name (in backup.dir) or path")
    parser.add_argument("--target", metavar="DIR", help="where to restore (default: ./<backup name>)")
    parser.add_argument("--dry-run", action="store_true", help="check and show the plan; write nothing")
    parser.add_argument("--only", action="append", default=[], metavar="GLOB", help="restore matching paths")
    parser.add_argument("--force", action="store_true", help="restore into a non-empty target")
    parser.add_argument("--dest", metavar="DIR", help="backup folder (default: backup.dir)")


def _count(text):
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def run(ctx, args):
    """Run one backup action; errors follow the exit-code table above."""
    actions = {"create": _create, "list": _list, "verify": _verify, "restore": run_restore, "prune": _prune}
    try:
        return actions[args.action](ctx, args)
    except DevkitError as exc:
        if exc.exit_code == 1:
            exc.exit_code = EXIT_ERROR
        raise


def _backup_dir(ctx, args):
    if args.dest:
        return os.path.abspath(os.path.join(ctx.cwd, args.dest))
    return ctx.config.resolve_path(ctx.config.get("backup", "dir"))


def _create(ctx, args):
    from devkit.maintenance.backup import create_backup
    from devkit.maintenance.safety import shown
    from devkit.maintenance.sources import default_sources

    cfg = ctx.config
    sources = [os.path.abspath(os.path.join(ctx.cwd, s)) for s in args.source] or default_sources(cfg)
    if not sources:
        raise UsageError("backup create: nothing to back up (backup.include is empty); give --source PATH")
    bar = _ProgressAdapter(ctx)
    try:
        result = create_backup(
            sources,
            _backup_dir(ctx, args),
            cfg.root,
            cfg.project_name,
            ctx.clock(),
            cfg.state_dir,
            excludes=args.exclude,
            label=args.label,
            level=args.level or cfg.get("backup", "level"),
            progress=bar,
        )
    finally:
        bar.close()
    for name in result["removed_leftovers"]:
        ctx.info(f"devkit: removed {shown(name)}, left by an interrupted backup")
    for warning in result["warnings"]:
        ctx.err(f"devkit: warning: {shown(warning)}")
    emit(ctx, result, _render_created)
    return EXIT_WARNING if result["warnings"] else 0


class _ProgressAdapter:
    """Feeds the terminal progress bar at most ~200 times, whatever the number of files."""

    def __init__(self, ctx):
        self.ctx, self.bar = ctx, None

    def __call__(self, done, total):
        if self.bar is None:
            from devkit.term import Progress

            self.bar = Progress(self.ctx, total, "backup")
        # Called once per file: one comparison decides, the bar redraws at most ~200 times.
        if done >= total or done - self.bar.done >= total / 200:
            self.bar.advance(done - self.bar.done)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _render_created(ctx, data):
    ratio = f"{data['ratio'] * 100:.0f} %" if data["ratio"] is not None else "-"
    return (
        f"created {data['path']}\n{data['files']} files, {units.human_size(data['bytes'])} -> "
        f"{units.human_size(data['compressed_bytes'])} ({ratio}) in {data['seconds']:.2f} s"
    )


def _list(ctx, args):
    from devkit.maintenance.backup import list_backups

    directory = _backup_dir(ctx, args)
    emit(ctx, {"backup_dir": directory, "backups": list_backups(directory)}, _render_list)
    return 0


def _stamp(ts):
    return datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _render_list(ctx, data):
    from devkit import term
    from devkit.maintenance.safety import shown

    if not data["backups"]:
        return f"no backups in {data['backup_dir']}"
    verified = {True: "yes", False: "FAILED", None: "never"}
    rows = [
        [
            shown(b["name"]),
            _stamp(b["created_ts"]),
            b["files"],
            units.human_size(b["size_bytes"]),
            verified[b["verified"]],
        ]
        for b in data["backups"]
    ]
    return term.table(
        ["NAME", "CREATED (UTC)", "FILES", "SIZE", "VERIFIED"], rows, width=ctx.width, align="llrrl"
    )


def _verify(ctx, args):
    from devkit.maintenance.backup import list_backups, verify_backups

    directory = _backup_dir(ctx, args)
    if args.all and args.name:
        raise UsageError("backup verify: give a NAME or --all, not both")
    names = (
        None if args.all else [args.name] if args.name else [r["name"] for r in list_backups(directory)[:1]]
    )
    if names == []:
        raise UsageError(f"backup verify: no backups in {directory}")
    results = verify_backups(directory, names, ctx.config.state_dir, ctx.clock())
    emit(
        ctx,
        {"backup_dir": directory, "results": results, "ok": all(r["ok"] for r in results)},
        _render_verify,
    )
    return 0 if all(r["ok"] for r in results) else EXIT_VERIFY_FAILED


def _render_verify(ctx, data):
    from devkit.maintenance.safety import shown

    lines = []
    for result in data["results"]:
        state = (
            f"ok      {shown(result['name'])} ({result['files']} files)"
            if result["ok"]
            else (f"FAILED  {shown(result['name'])}")
        )
        lines.append(state)
        lines += [f"        {shown(problem)}" for problem in result["problems"]]
    return "\n".join(lines)


def run_restore(ctx, args):
    """``backup restore`` and ``devkit restore``: one implementation."""
    from devkit.maintenance.backup import find_backup
    from devkit.maintenance.restore import TargetNotEmpty, restore_backup
    from devkit.maintenance.safety import ArchiveRefused, shown

    cfg = ctx.config
    path = find_backup(_backup_dir(ctx, args), args.name)
    base = os.path.basename(path)
    default = base[: -len(".tar.gz")] if base.endswith(".tar.gz") else base + ".restored"
    target = os.path.join(ctx.cwd, args.target or default)
    try:
        result = restore_backup(
            path,
            target,
            cfg.state_dir,
            only=args.only,
            dry_run=args.dry_run,
            force=args.force,
            max_members=cfg.get("backup", "max_members"),
            max_bytes=cfg.get("backup", "max_bytes"),
        )
    except TargetNotEmpty as exc:
        ctx.err(
            "\n".join(
                f"  would {c['action']}: {shown(c['path'])}"
                for c in exc.changes
                if c["action"] != "unchanged"
            )
        )
        raise UsageError(
            f"{exc.message}; rerun with --force to restore over them, or --dry-run to see the plan"
        )
    except ArchiveRefused as exc:
        for problem in exc.problems[1:]:
            ctx.err(f"  {shown(problem)}")
        raise
    emit(ctx, result, _render_restored)
    return 0


def _render_restored(ctx, data):
    from devkit.maintenance.safety import shown

    counts = {}
    for change in data["changes"]:
        counts[change["action"]] = counts.get(change["action"], 0) + 1
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "nothing to change"
    shown_actions = ("create", "replace") if data["dry_run"] else ("replace",)
    lines = [f"  {c['action']}: {shown(c['path'])}" for c in data["changes"] if c["action"] in shown_actions]
    if data["dry_run"]:
        return "\n".join(
            lines
            + [
                f"dry run: {data['files']} files would be restored into {data['target']} "
                f"({summary}); nothing written"
            ]
        )
    return "\n".join(
        lines
        + [
            f"restored {data['written']} files from {shown(data['name'])} into {data['target']} "
            f"({summary})"
        ]
    )


def _prune(ctx, args):
    from devkit.maintenance.prune import prune_backups

    cfg = ctx.config
    policy = {f"keep_{p}": getattr(args, f"keep_{p}") for p in ("last", "daily", "weekly", "monthly")}
    if not any(policy.values()) and cfg.sources.get("backup.keep") != "default":
        # A keep count the user wrote into the config is a policy; the built-in default is not.
        policy["keep_last"] = cfg.get("backup", "keep")
    result = prune_backups(_backup_dir(ctx, args), cfg.state_dir, apply=args.apply, **policy)
    emit(ctx, result, _render_prune)
    return 0


def _render_prune(ctx, data):
    from devkit.maintenance.safety import shown

    lines = []
    for item in data["plan"]:
        verb = "keep  " if item["keep"] else ("delete" if data["applied"] else "would delete")
        why = f" ({'; '.join(item['reasons'])})" if item["keep"] else ""
        lines.append(f"{verb} {shown(item['name'])}{why}")
    doomed = sum(1 for item in data["plan"] if not item["keep"])
    lines.append(
        f"deleted {len(data['deleted'])} backup(s)"
        if data["applied"]
        else f"{doomed} backup(s) would be deleted; rerun with --apply to delete them"
    )
    return "\n".join(lines)
