"""The registry of app checks, the built-in checks from the config, and one run of them all."""

import threading
import time

from devkit.health.core import CannotRun, Check
from devkit.health.runner import CachedRunner, run_checks

MODES = ("all", "live", "ready")


def health_settings(config):
    """The ``health`` section: the config's values, else the schema's defaults (their only home)."""
    if config is not None:
        return config.section("health")
    from devkit.config.schema import SECTIONS

    return {key: field.default for key, field in SECTIONS["health"].items()}


def builtin_checks(cfg, mode="all", now=None):
    """The checks devkit derives from ``cfg``: process, config, store, models, storage, budgets."""
    from devkit.health.system import process_check

    if mode == "live" or cfg is None:
        return [process_check()]
    from devkit.health.models import model_check
    from devkit.health.storage import storage_checks
    from devkit.health.system import budget_checks, config_check, store_check

    checks = [config_check(cfg), store_check(cfg)]
    checks += [model_check(cfg, model) for model in cfg.models]
    checks += storage_checks(cfg)
    checks += budget_checks(cfg, time.time() if now is None else now)
    return checks


def select(checks, mode="all", names=None):
    """Keep the checks for ``mode`` (live: live ones; ready: critical ones) and ``names``; raise CannotRun."""
    if mode not in MODES:
        raise CannotRun(f"unknown health mode {mode!r}; expected one of {', '.join(MODES)}")
    if mode == "live":
        checks = [c for c in checks if c.live]
    elif mode == "ready":
        checks = [c for c in checks if c.critical]
    if names:
        known = {c.name: c for c in checks}
        unknown = [n for n in names if n not in known]
        if unknown:
            listed = ", ".join(sorted(known)) or "none"
            raise CannotRun(f"--check: no check named {unknown[0]!r} (known: {listed})")
        checks = [known[n] for n in dict.fromkeys(names)]
    if not checks:
        raise CannotRun(f"no checks to run (mode {mode})")
    return checks


class Registry:
    """App-registered checks plus a cached, single-flight ``run`` over them and the built-ins."""

    def __init__(self):
        self._lock = threading.Lock()
        self._checks = {}
        self._runner = CachedRunner()

    def register(
        self, name, func=None, critical=True, timeout_s=None, component_type="component", live=False
    ):
        """Register ``func`` as check ``name``; without ``func`` it returns a decorator."""
        if func is None:
            return lambda f: self.register(name, f, critical, timeout_s, component_type, live)
        with self._lock:
            self._checks[name] = Check(name, func, component_type, critical, timeout_s, live=live)
        return func

    def unregister(self, name):
        """Remove check ``name`` (no error when absent)."""
        with self._lock:
            self._checks.pop(name, None)

    def checks(self):
        """The registered app checks, in registration order."""
        with self._lock:
            return list(self._checks.values())

    def run(self, config=None, names=None, mode="all", deadline_s=None, clock=time.time, use_cache=True):
        """Run the selected checks (built-ins from ``config`` too) and return a runner.Report."""
        settings = health_settings(config)
        deadline = float(deadline_s if deadline_s is not None else settings["deadline_s"])
        checks = select(builtin_checks(config, mode, clock()) + self.checks(), mode, names)
        scrub = config.scrub if config is not None else str

        def produce():
            return run_checks(checks, deadline, settings["timeout_s"], clock, scrub)

        if not use_cache:
            return produce()
        key = (id(config), mode, tuple(names or ()), deadline)
        return self._runner.run(key, produce, settings["cache_ttl_pass_s"], settings["cache_ttl_fail_s"])

    def clear_cache(self):
        """Forget cached reports (the next run probes again)."""
        self._runner.clear()
