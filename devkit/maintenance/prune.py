"""Prune backups by a keep policy (last N, newest per day/week/month), with a reason for each kept one.

Nothing is deleted unless ``apply`` is true; an empty policy is refused; the newest
verified backup is always kept. Pruning twice with one policy removes nothing more.
"""

import datetime
import os

from devkit.errors import OperationError, UsageError
from devkit.maintenance.backup import list_backups
from devkit.maintenance.manifest import update_index
from devkit.util.lock import storage_lock

_PERIODS = (
    ("daily", "day", lambda d: d.strftime("%Y-%m-%d")),
    ("weekly", "week", lambda d: "%04d-W%02d" % d.isocalendar()[:2]),
    ("monthly", "month", lambda d: d.strftime("%Y-%m")),
)


def plan_prune(rows, keep_last=0, keep_daily=0, keep_weekly=0, keep_monthly=0):
    """``[{name, path, created_ts, keep, reasons}]`` for ``rows`` (newest first); raise on an empty policy."""
    counts = {"daily": keep_daily or 0, "weekly": keep_weekly or 0, "monthly": keep_monthly or 0}
    if not (keep_last or any(counts.values())):
        raise UsageError("prune: empty policy: give at least one keep count (last, daily, weekly or monthly)")
    reasons = {row["name"]: [] for row in rows}
    for row in rows[: keep_last or 0]:
        reasons[row["name"]].append(f"one of the last {keep_last}")
    for period, unit, key_of in _PERIODS:
        seen = []
        for row in rows:
            key = key_of(datetime.datetime.fromtimestamp(row["created_ts"], tz=datetime.timezone.utc))
            if key not in seen and len(seen) < counts[period]:
                seen.append(key)
                reasons[row["name"]].append(f"newest of {unit} {key}")
    verified = next((row for row in rows if row["verified"] is True), None)
    if verified is not None:
        reasons[verified["name"]].append("newest verified backup")
    return [
        {
            "name": row["name"],
            "path": row["path"],
            "created_ts": row["created_ts"],
            "keep": bool(reasons[row["name"]]),
            "reasons": reasons[row["name"]],
        }
        for row in rows
    ]


def prune_backups(backup_dir, state_dir, apply=False, **policy):
    """Plan (and with ``apply``, delete) by ``policy``; return ``{plan, deleted, applied}``. Holds the storage lock."""
    with storage_lock(state_dir, "prune"):
        plan = plan_prune(list_backups(backup_dir), **policy)
        deleted = []
        if apply:
            for item in plan:
                if not item["keep"]:
                    _delete(item["path"])
                    update_index(backup_dir, item["name"], remove=True)
                    deleted.append(item["name"])
    return {
        "backup_dir": os.path.abspath(backup_dir),
        "plan": plan,
        "deleted": deleted,
        "applied": bool(apply),
    }


def _delete(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OperationError(f"cannot delete {path}: {exc.strerror or exc}") from None
