"""``devkit config show|validate|models|experiments``."""

from devkit import term
from devkit.commands._args import subcommands
from devkit.commands.config_show import render_show
from devkit.output import emit


def add_arguments(parser):
    """Add the config subcommands."""
    sub = subcommands(parser, "config_command")
    sub.add_parser("show", help="the effective config, redacted, with the source of each value")
    check = sub.add_parser("validate", help="report every problem in a config file (exit 2 when invalid)")
    check.add_argument("file", nargs="?", help="file to check (default: the one devkit would use)")
    sub.add_parser("models", help="the configured models as a table")
    sub.add_parser("experiments", help="the experiment records found")
    init = sub.add_parser("init", help="write an example devkit.json to start from")
    init.add_argument(
        "path", nargs="?", default="devkit.json", help="where to write it (default: devkit.json)"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(ctx, args):
    """Dispatch to one config subcommand."""
    handlers = {
        "show": _show,
        "validate": _validate,
        "models": _models,
        "experiments": _experiments,
        "init": _init,
    }
    return handlers[args.config_command](ctx, args)


def _show(ctx, args):
    cfg = ctx.config
    data = {
        "file": cfg.path,
        "root": cfg.root,
        "state_dir": cfg.state_dir,
        "config": cfg.redacted(),
        "sources": dict(cfg.sources),
    }
    emit(ctx, data, render_show)
    return 0


def _validate(ctx, args):
    from devkit.config import validate_config

    given_by = "the FILE argument" if args.file is not None else "--config"
    explicit = args.file if args.file is not None else ctx.config_path
    report = validate_config(explicit, ctx.cwd, ctx.env, given_by)
    data = {"file": report["file"], "valid": not report["problems"], "problems": report["problems"]}
    if ctx.json:
        emit(ctx, data, None)
    elif data["valid"]:
        ctx.out(term.printable(f"{data['file'] or 'defaults (no config file)'}: valid"))
    else:
        for problem in data["problems"]:
            ctx.err(term.printable(problem))
        ctx.err(f"devkit: error: {len(data['problems'])} problem(s) found")
    return 0 if data["valid"] else 2


def _models(ctx, args):
    models = ctx.config.redacted()["models"]
    emit(ctx, {"models": models}, _render_models)
    return 0


def _render_models(ctx, data):
    if not data["models"]:
        return "no models configured (add a [[models]] entry to your config)"
    headers = ["name", "provider", "url", "model", "timeout", "$/1M in", "$/1M out", "critical"]
    keys = [
        "name",
        "provider",
        "url",
        "model",
        "timeout",
        "price_input_per_1m",
        "price_output_per_1m",
        "critical",
    ]
    rows = [[m[k] for k in keys] for m in data["models"]]
    return term.table(headers, rows, ctx.width, align="llllrrrl", color=ctx.color_stdout)


def _experiments(ctx, args):
    from devkit.experiments import find_experiments, search_hint

    found = find_experiments(ctx.config)
    emit(ctx, {"experiments": found, "hint": None if found else search_hint(ctx.config)}, _render_experiments)
    return 0


def _render_experiments(ctx, data):
    if not data["experiments"]:
        return term.printable(f"no experiment records found: {data['hint']}")
    rows = [[e["id"], e["date"], e["size_bytes"], e["path"], e["error"] or ""] for e in data["experiments"]]
    return term.table(
        ["id", "date", "size", "path", "problem"], rows, ctx.width, align="llrll", color=ctx.color_stdout
    )


def _init(ctx, args):
    import os
    import pkgutil

    from devkit.errors import OperationError
    from devkit.util import atomic_write

    target = os.path.join(ctx.cwd, args.path)
    if os.path.exists(target) and not args.force:
        raise OperationError(f"{args.path}: already exists (use --force to overwrite)")
    template = pkgutil.get_data("devkit", "data/devkit.example.json")
    atomic_write(target, template)
    created = _create_named_dirs(os.path.dirname(os.path.abspath(target)), template)
    emit(ctx, {"written": args.path, "created": created}, _render_init, notice=True)
    return 0


def _create_named_dirs(root, template):
    """Create the folders the new config names (data, storage paths), so its first health check can pass."""
    import json
    import os

    from devkit.errors import OperationError

    config = json.loads(template.decode("utf-8"))
    named = config.get("project", {}).get("data_dirs", []) + config.get("storage", {}).get("paths", [])
    created = []
    for name in dict.fromkeys(named):
        path = os.path.join(root, name)
        if not os.path.isdir(path):
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as exc:
                raise OperationError(f"{path}: cannot create folder: {exc.strerror or exc}") from None
            created.append(name)
    return created


def _render_init(ctx, data):
    made = f" and created {', '.join(d + '/' for d in data['created'])}" if data["created"] else ""
    return f"wrote {data['written']}{made}; check it with 'devkit config validate', then 'devkit health'"
