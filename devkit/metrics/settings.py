"""The configuration seen by in-process metrics: loaded once, defaults (and one warning) on failure."""

import os
import threading
import warnings

from devkit.config import load_config, validate_config
from devkit.config.model import build_config
from devkit.errors import DevkitError

_LOCK = threading.Lock()
_CACHE = {}


def current_config():
    """The process's devkit config (DEVKIT_CONFIG or found from the cwd), loaded once.

    A config that cannot be used never breaks the app: its valid parts (or the
    defaults) are used instead and one RuntimeWarning says why.
    """
    config = _CACHE.get("config")
    if config is None:
        with _LOCK:
            config = _CACHE.get("config")
            if config is None:
                config = _CACHE["config"] = _load()
    return config


def metrics_setting(key, default):
    """One ``metrics`` section value, or ``default`` when the config lacks it."""
    try:
        return current_config().get("metrics", key)
    except (KeyError, AttributeError):
        return default


def forget():
    """Drop the cached config so the next use loads it again (tests, after a chdir)."""
    with _LOCK:
        _CACHE.clear()


def _after_fork_in_child():
    # Another thread may have held the lock while loading when the process forked.
    global _LOCK
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _load():
    try:
        return load_config()
    except DevkitError as exc:
        warnings.warn(f"devkit: metrics use default settings: {exc}", RuntimeWarning, stacklevel=4)
    try:
        return validate_config()["config"]
    except DevkitError:
        return build_config(os.getcwd(), None, {}, {}, {}, dict(os.environ), "default")
