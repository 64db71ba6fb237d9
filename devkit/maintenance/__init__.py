"""Safe maintenance of a project's data: backup, restore, prune, cleanup, export-data, validate.

Library functions only (no printing, no argparse); every one that changes files takes the
storage lock (``devkit.util.lock.storage_lock``) so no two of them overlap.
"""
