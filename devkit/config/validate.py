"""Check configuration data against the schema; collect every problem, one line each."""

import difflib

from devkit.config.schema import MODEL_FIELDS, SECTIONS
from devkit.term import printable

SHOWN_CHARS = 60


def check_document(data, label, prefix=""):
    """Return ``(values, problems)`` for a parsed config document.

    ``values`` holds only the keys present (``models`` as a list of dicts);
    each problem is a line like ``devkit.toml: models[1].timeout: expected ...``.
    """
    values, problems = {}, []
    if not isinstance(data, dict):
        return values, [f"{label}: expected a table/object at the top, got {_type_name(data)}"]
    for section, body in data.items():
        path = f"{prefix}{section}"
        if section == "models":
            values["models"] = _check_models(body, label, path, problems)
        elif section not in SECTIONS:
            problems.append(
                f"{label}: {path}: unknown section{_suggest(section, list(SECTIONS) + ['models'])}"
            )
        elif not isinstance(body, dict):
            problems.append(f"{label}: {path}: expected a table/object, got {_type_name(body)}")
        else:
            values[section] = _check_table(body, SECTIONS[section], label, path, problems)
    return values, problems


def _check_models(body, label, path, problems):
    if not isinstance(body, list):
        problems.append(f"{label}: {path}: expected a list of models, got {_type_name(body)}")
        return []
    models, seen = [], set()
    for index, entry in enumerate(body):
        where = f"{path}[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{label}: {where}: expected a table/object, got {_type_name(entry)}")
            continue
        model = _check_table(entry, MODEL_FIELDS, label, where, problems)
        for key, field in MODEL_FIELDS.items():
            if field.required and key not in entry:
                problems.append(f"{label}: {where}.{key}: required key is missing")
        name = model.get("name")
        if name in seen:
            problems.append(f"{label}: {where}.name: duplicate model name {name!r}")
        seen.add(name)
        models.append(model)
    return models


def _check_table(body, fields, label, path, problems):
    values = {}
    for key, raw in body.items():
        if key not in fields:
            problems.append(f"{label}: {path}.{key}: unknown key{_suggest(key, fields)}")
            continue
        ok, value = coerce(fields[key], raw)
        if not ok and fields[key].kind == "list" and isinstance(raw, list):
            bad = next(i for i, v in enumerate(raw) if not isinstance(v, str))
            problems.append(f"{label}: {path}.{key}[{bad}]: expected a string, got {_show(raw[bad])}")
        elif ok:
            values[key] = value
        else:
            shown = _type_name(raw) if fields[key].kind == "secret" else _show(raw)
            problems.append(f"{label}: {path}.{key}: expected {fields[key].expectation(raw)}, got {shown}")
    return values


def coerce(field, raw):
    """Return ``(True, value)`` when ``raw`` fits ``field``, else ``(False, None)``."""
    kind = field.kind
    if raw is None and not field.required and field.default is None:
        return True, None
    if kind in ("str", "secret"):
        return (isinstance(raw, str) and (raw != "" or not field.required)), raw
    if kind == "enum":
        return raw in field.choices, raw
    if kind == "bool":
        return isinstance(raw, bool), raw
    if kind == "list":
        return isinstance(raw, list) and all(isinstance(v, str) for v in raw), raw
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return False, None
    if kind == "int" and not (isinstance(raw, int) or (isinstance(raw, float) and raw.is_integer())):
        return False, None
    value = int(raw) if kind == "int" else raw
    return _within(field, value), value


def _within(field, value):
    if value != value or value in (float("inf"), float("-inf")):
        return False
    if field.above is not None and not value > field.above:
        return False
    if field.minimum is not None and value < field.minimum:
        return False
    if field.bound is not None and value > field.bound:
        return False
    return field.maximum is None or value <= field.maximum


def _suggest(word, choices):
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(value):
    names = {dict: "a table/object", list: "a list", str: "a string", bool: "a boolean"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, (int, float)) else "null"


def clip(text):
    """``text`` cut to SHOWN_CHARS characters for an error message."""
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


def _show(raw):
    if isinstance(raw, str):
        return '"' + printable(clip(raw)).replace('"', '\\"') + '"'
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if raw is None:
        return "null"
    if isinstance(raw, (dict, list)):
        return _type_name(raw)
    return clip(repr(raw))
