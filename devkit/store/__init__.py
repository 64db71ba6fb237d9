"""The metrics store: SQLite (WAL) in the state directory, written by many processes at once.

``open_store(cfg)`` is the door for writers, ``read_store(cfg)`` for readers (read-only, never
creating anything); ``Store(path)`` works without a config.
"""

import os
import time

from devkit.store.core import Store

DB_NAME = "devkit.db"
__all__ = ["Store", "open_store", "read_store", "store_path", "DB_NAME"]


def store_path(cfg):
    """Where the store of ``cfg`` lives: ``<state_dir>/devkit.db``."""
    return os.path.join(cfg.state_dir, DB_NAME)


def open_store(cfg, clock=time.time, busy_timeout_s=None):
    """Open (creating when needed) the store of ``cfg`` with its prices and retention.

    ``busy_timeout_s`` bounds the wait for another process's lock (default: the store's own).
    """
    extra = {} if busy_timeout_s is None else {"busy_timeout_s": busy_timeout_s}
    return Store(store_path(cfg), prices=cfg.cost, retention_days=cfg.get("metrics", "retention_days"),
                 clock=clock, max_series=cfg.get("metrics", "max_series"), **extra)  # fmt: skip


def read_store(cfg, clock=time.time):
    """Open the existing store of ``cfg`` read-only, validated (StoreError when missing or unusable)."""
    return Store(store_path(cfg), clock=clock, readonly=True)
