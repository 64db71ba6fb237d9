"""Generate docs/API.md from the public API's docstrings: ``python -m devkit._apidocs > docs/API.md``.

The public API is ``devkit.__all__`` (the verbs an app imports) plus the classes those verbs
hand back (``API_CLASSES``). Of a class, only the methods listed in ``METHODS`` are public: the
rest (``take``, ``series``, ``after_fork``, ``row`` ...) serve devkit's own machinery and may change.
"""

import importlib
import inspect
import sys

import devkit

# What the verbs return: an app calls methods on these, so they are public too.
API_CLASSES = (
    "devkit.metrics.track.Operation",
    "devkit.metrics.instruments.Counter",
    "devkit.metrics.instruments.Gauge",
    "devkit.metrics.instruments.Histogram",
)

# The methods an app calls, per documented class; a class missing here cannot be documented.
METHODS = {
    "Operation": ("tokens", "first_token", "chunk", "stream", "usage", "cache", "detail"),
    "Counter": ("inc", "labels"),
    "Gauge": ("set", "inc", "dec", "labels"),
    "Histogram": ("observe", "time", "labels"),
    "Registry": ("register", "unregister", "run", "checks", "clear_cache"),
    "Check": (),
    "CheckResult": (),
    "Outcome": (),
    "CannotRun": (),
}


def _resolve(dotted):
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def _signature(obj):
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _doc(obj):
    return inspect.cleandoc(obj.__doc__ or "").strip() or "(no description)"


def _function(title, obj):
    return [f"### `{title}{_signature(obj)}`", "", _doc(obj), ""]


def _public_members(obj):
    names = getattr(obj, "__all__", None) or [n for n in dir(obj) if not n.startswith("_")]
    for name in names:
        member = getattr(obj, name)
        if callable(member) and not isinstance(member, type) or inspect.isclass(member):
            yield name, member


def _class(title, cls):
    lines = [f"### class `{title}`", "", _doc(cls), ""]
    for name in METHODS[cls.__name__]:
        member = getattr(cls, name)
        lines += [f"#### `{cls.__name__}.{name}{_signature(member)}`", "", _doc(member), ""]
    return lines


def _entry(name, obj):
    if inspect.ismodule(obj):
        lines = [f"## `devkit.{name}`", "", _doc(obj).split("\n\n")[0], ""]
        for member_name, member in _public_members(obj):
            if inspect.isclass(member):
                lines += _class(f"devkit.{name}.{member_name}", member)
            else:
                lines += _function(f"devkit.{name}.{member_name}", member)
        return lines
    if inspect.isclass(obj):
        return _class(f"devkit.{name}", obj)
    return _function(f"devkit.{name}", obj)


def generate():
    """Return the Markdown text of the API reference."""
    # No Python version in the header: every supported Python writes the same text, so every one checks it.
    lines = [
        "# devkit Python API",
        "",
        "Generated from the docstrings by `make docs`; do not edit by hand.",
        "",
        _doc(devkit),
        "",
        "## Verbs",
        "",
    ]
    modules = []
    for name in devkit.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(devkit, name)
        if inspect.ismodule(obj):
            modules.append((name, obj))
        else:
            lines += _entry(name, obj)
    lines += ["## What the verbs return", ""]
    for dotted in API_CLASSES:
        lines += _class(dotted.rsplit(".", 1)[1], _resolve(dotted))
    for name, module in modules:
        lines += _entry(name, module)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(generate())
