"""The metrics store: SQLite (WAL) in the state directory, written by many processes at once.

``open_store(cfg)`` is the usual door; ``Store(path)`` works without a config.
"""

import os

from devkit.store.core import DEFAULT_RETENTION_DAYS, Store

DB_NAME = "devkit.db"
__all__ = ["Store", "open_store", "store_path", "DB_NAME"]


def store_path(cfg):
    """Where the store of ``cfg`` lives: ``<state_dir>/devkit.db``."""
    return os.path.join(cfg.state_dir, DB_NAME)


def open_store(cfg, busy_timeout_s=None):
    """Open (creating when needed) the store of ``cfg`` with its prices and retention.

    ``busy_timeout_s`` bounds the wait for another process's lock (default: the store's own).
    """
    retention = cfg.get("metrics", "retention_days")
    extra = {} if busy_timeout_s is None else {"busy_timeout_s": busy_timeout_s}
    return Store(store_path(cfg), prices=cfg.cost,
                 retention_days=DEFAULT_RETENTION_DAYS if retention is None else retention, **extra)  # fmt: skip
