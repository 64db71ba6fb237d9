"""The command table: name -> (module, one-line help).

A command module defines ``add_arguments(parser)`` and ``run(ctx, args) -> int``.
Only the module of the command being run is imported, so ``devkit --help``
stays light. Adding a command is one line here plus its module.
"""

COMMANDS = {
    "status": ("devkit.commands.status", "one screen: requests, errors, tokens, cost, latency"),
    "metrics": ("devkit.commands.metrics", "metrics per operation and model; tokens, reset, ingest, export"),
    "health": ("devkit.commands.health", "run health checks (models, storage, store, budget)"),
    "config": ("devkit.commands.config_cmd", "show, validate and list the configuration"),
    "serve": ("devkit.commands.serve", "live dashboard, JSON API, /metrics and /health probes"),
    "backup": ("devkit.commands.backup", "create, list, verify, restore and prune backups of your data"),
    "restore": ("devkit.commands.restore", "restore a backup safely (same as 'backup restore')"),
    "cleanup": ("devkit.commands.cleanup", "plan (--apply: do) removal of old experiments, temp, logs"),
    "export-data": ("devkit.commands.export_data", "experiments CSV, metrics, config or a report, to files"),
    "validate": ("devkit.commands.validate", "check config, JSON data, SQLite, models, backups; a self-test"),
    "debug": ("devkit.commands.debug", "replay a recorded request; tokens, effective config, dependencies"),
}

# Maintenance commands also get a console script (pyproject.toml) and a bin/ launcher:
# devkit-metrics-export and bin/metrics-export run `devkit metrics export` (devkit.cli.entry_metrics_export);
# devkit-backup/bin/backup and devkit-restore/bin/restore run `devkit backup` and `devkit restore`;
# devkit-cleanup, devkit-export-data and devkit-validate (and bin/ of the same names) run their command.
