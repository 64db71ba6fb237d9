"""One place that decides between JSON and human output for every command."""

import json


def to_json(data):
    """Serialise ``data`` as the one JSON document a ``--json`` command prints."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=_default)


def emit(ctx, data, render, notice=False):
    """Print ``data`` as JSON when ``--json`` was given, else the text ``render(ctx, data)``.

    Both paths get the same dict, so ``--json`` shows exactly what the renderer saw.
    A ``notice`` (a confirmation such as "wrote FILE", not data a script asked for)
    is dropped under ``-q``; JSON is always printed.
    """
    if ctx.json:
        ctx.out(to_json(data))
    elif not (notice and ctx.quiet):
        text = render(ctx, data)
        if text:
            ctx.out(text)


def _default(value):
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)
