"""The text of ``devkit config show``: one indented ``key  value  source`` line per setting.

Sections and models become headings with their keys below, so a model with ten
keys is ten short lines instead of one row as wide as its JSON.
"""

from devkit import term

INDENT = "  "
MIN_VALUE_WIDTH = 12
HEADING = object()


def render_show(ctx, data):
    """The whole screen: file and state dir, then every section and model, fitted to ``ctx.width``."""
    header = [f"# file: {data['file'] or '(none: defaults)'}", f"# state dir: {data['state_dir']}"]
    header = [term.printable(line) for line in header]
    return "\n".join(header + _aligned(ctx, _entries(data)))


def _entries(data):
    """(label, value, source) per line; a heading has the value ``HEADING``."""
    entries, sources = [], data["sources"]
    for section, body in data["config"].items():
        if section == "models":
            entries.append(("models", HEADING if body else [], sources.get("models", "default")))
            for model in body:
                entries.append((INDENT + term.printable(model.get("name", "?")), HEADING, ""))
                entries += [
                    (INDENT * 2 + term.printable(key), value, "")
                    for key, value in model.items()
                    if key != "name"
                ]
            continue
        entries.append((section, HEADING, ""))
        entries += [(INDENT + key, value, sources.get(f"{section}.{key}", "")) for key, value in body.items()]
    return entries


def _aligned(ctx, entries):
    """One line per entry in three aligned columns; values are cut with '…' to fit the width."""
    rows = [
        (label, None if value is HEADING else readable(value), source) for label, value, source in entries
    ]
    label_width = max(len(label) for label, value, _ in rows if value is not None)
    widest_value = max(len(value) for _, value, _ in rows if value is not None)
    widest_source = max(len(source) for _, _, source in rows)
    room = max(ctx.width - label_width - 2, MIN_VALUE_WIDTH)
    value_width = min(widest_value, max(room - (widest_source + 2 if widest_source else 0), MIN_VALUE_WIDTH))
    lines = []
    for label, value, source in rows:
        tail = f"  {term.style(source, 'dim', ctx.color_stdout)}" if source else ""
        if value is None:
            lines.append(f"{label}{tail}")
        elif tail:
            lines.append(f"{label.ljust(label_width)}  {_cut(value, value_width).ljust(value_width)}{tail}")
        else:
            lines.append(f"{label.ljust(label_width)}  {_cut(value, room)}")
    return lines


def _cut(text, width):
    return text if len(text) <= width else text[: width - 1] + "…"


def readable(value):
    """A config value as a person reads it: lists joined with ', ', booleans as true/false, None as '-'."""
    if value is None:
        return "-"
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(readable(item) for item in value) if value else "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k}={readable(v)}" for k, v in value.items()) or "(none)"
    return term.printable(value)
