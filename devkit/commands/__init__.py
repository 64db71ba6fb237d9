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
}

# Maintenance commands also get a console script (pyproject.toml) and a bin/ launcher:
# devkit-export and bin/export run `devkit metrics export` through devkit.cli.entry_export.
