"""Run the health checks and save the report to the store, both inside one deadline.

The save runs in a daemon thread joined with what is left of the deadline: a store
whose write lock another process holds makes SQLite wait up to its busy timeout,
and a health answer that comes late is a failed health check. A save that does not
finish in time is abandoned and said in ``Recorded.note``.
"""

import threading
import time


class Recorded:
    """One run: the Report, its IETF health+json dict, and why it was not saved (None when it was)."""

    def __init__(self, report, data, note):
        self.report = report
        self.data = data
        self.note = note


def run_and_save(cfg, names=None, mode="all", deadline_s=None, clock=time.time):
    """Run the checks selected by ``mode``/``names`` and save the report; all within ``deadline_s``."""
    from devkit.health import registry
    from devkit.health.render import health_json
    from devkit.health.suite import health_settings

    started = time.monotonic()
    deadline = float(deadline_s if deadline_s is not None else health_settings(cfg)["deadline_s"])
    report = registry.run(
        config=cfg, names=names, mode=mode, deadline_s=deadline, clock=clock, use_cache=False
    )
    name = cfg.project_name if cfg is not None else "devkit"
    data = health_json(report, description=f"health of {name}")
    note = None
    if cfg is not None:
        note = save_within(cfg, data, deadline - (time.monotonic() - started))
    return Recorded(report, data, note)


def save_within(cfg, data, remaining_s):
    """Save ``data`` as the latest health report if that finishes within ``remaining_s``; else why not."""
    outcome = {}

    def work():
        try:
            from devkit.store import open_store

            with open_store(cfg) as store:
                store.save_health(data)
            outcome["saved"] = True
        except Exception as exc:  # noqa: BLE001 - the health answer matters more than its record
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    if remaining_s <= 0:
        return "health report not saved: no time left before the deadline"
    thread = threading.Thread(target=work, name="devkit-health-save", daemon=True)
    thread.start()
    thread.join(remaining_s)
    if "saved" in outcome:
        return None
    if "error" in outcome:
        return f"health report not saved: {outcome['error']}"
    return f"health report not saved: the store stayed busy past the deadline ({remaining_s:.2f} s left)"
