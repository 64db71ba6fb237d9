"""The metrics store: SQLite (WAL) in the state directory, written by many processes at once.

``open_store(cfg)`` is the door for writers, ``read_store(cfg)`` for readers (read-only, never
creating anything); ``Store(path)`` works without a config. Importing this package never imports
sqlite3: on a Python built without it the doors raise StoreError saying so, and recording spills.
"""

import os
import time

from devkit.errors import StoreError

DB_NAME = "devkit.db"
NO_SQLITE = (
    "sqlite3 unavailable: this Python was built without the sqlite3 module; run devkit with a Python"
    " that has it (recorded operations wait in spill files beside the store until then)"
)
__all__ = [
    "Store",
    "open_store",
    "read_store",
    "store_path",
    "sqlite_available",
    "require_sqlite",
    "DB_NAME",
    "NO_SQLITE",
]


_SQLITE = {}


def sqlite_available():
    """Whether this Python can import sqlite3 (False on builds without libsqlite3); asked once."""
    if "ok" not in _SQLITE:
        try:
            import sqlite3  # noqa: F401
        except ImportError:
            _SQLITE["ok"] = False
        else:
            _SQLITE["ok"] = True
    return _SQLITE["ok"]


def store_path(cfg):
    """Where the store of ``cfg`` lives: ``<state_dir>/devkit.db``."""
    return os.path.join(cfg.state_dir, DB_NAME)


def open_store(cfg, clock=time.time, busy_timeout_s=None):
    """Open (creating when needed) the store of ``cfg`` with its prices and retention.

    ``busy_timeout_s`` bounds the wait for another process's lock (default: the store's own).
    """
    extra = {} if busy_timeout_s is None else {"busy_timeout_s": busy_timeout_s}
    return _store_class()(
        store_path(cfg),
        prices=cfg.cost,
        retention_days=cfg.get("metrics", "retention_days"),
        clock=clock,
        max_series=cfg.get("metrics", "max_series"),
        **extra,
    )


def read_store(cfg, clock=time.time):
    """Open the existing store of ``cfg`` read-only, validated (StoreError when missing or unusable)."""
    return _store_class()(store_path(cfg), clock=clock, readonly=True)


def require_sqlite():
    """Raise StoreError saying why when this Python has no sqlite3 (readers call it even with no store)."""
    if not sqlite_available():
        raise StoreError(NO_SQLITE)


def _store_class():
    require_sqlite()
    from devkit.store.core import Store

    return Store


def __getattr__(name):
    # ``from devkit.store import Store`` keeps working; it is what needs sqlite3.
    if name == "Store":
        return _store_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
