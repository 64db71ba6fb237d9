"""Configuration: find, read, validate and layer devkit's settings.

Public: ``load_config`` (raises ConfigError on the first problem) and
``validate_config`` (returns every problem).
"""

import os

from devkit.config.loader import env_overrides, find_config, read_document
from devkit.config.model import Config, build_config, redact
from devkit.config.validate import check_document
from devkit.errors import ConfigError
from devkit.term import printable

__all__ = ["Config", "load_config", "validate_config", "redact"]


def load_config(explicit=None, cwd=None, env=None):
    """Load the effective configuration; raise ConfigError naming the file and key at fault."""
    report = validate_config(explicit, cwd, env)
    problems = report["problems"]
    if problems:
        more = f" (and {len(problems) - 1} more; run 'devkit config validate')" if len(problems) > 1 else ""
        raise ConfigError(printable(problems[0]) + more)
    return report["config"]


def validate_config(explicit=None, cwd=None, env=None, given_by="--config"):
    """Return ``{"file", "problems", "config"}``; a file that cannot be read raises ConfigError."""
    cwd = os.path.abspath(cwd or os.getcwd())
    env = dict(os.environ if env is None else env)
    path = find_config(cwd, env, explicit, given_by)
    label = display_path(path, cwd) if path else None
    file_values, problems = {}, []
    if path:
        prefix = "tool.devkit." if os.path.basename(path) == "pyproject.toml" else ""
        file_values, problems = check_document(read_document(path, label), label, prefix)
    env_values, env_sources, env_problems = env_overrides(env)
    root = os.path.dirname(os.path.abspath(path)) if path else cwd
    config = build_config(root, path, file_values, env_values, env_sources, env, label or "default")
    return {"file": label, "problems": problems + env_problems, "config": config}


def display_path(path, cwd):
    """``path`` relative to ``cwd`` when it lies below it, else absolute."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, cwd)
    return absolute if relative.startswith("..") else relative
