"""A reader for the small YAML subset docker-compose.yml uses (block maps and lists, flow lists, scalars).

Just enough to check the file's structure in a test without a YAML package; it refuses what it does
not understand instead of guessing.
"""

import json


def load(text):
    """Parse ``text`` into dicts, lists and strings."""
    lines = [(len(raw) - len(raw.lstrip(" ")), raw.strip()) for raw in text.splitlines()]
    lines = [(indent, body) for indent, body in lines if body and not body.startswith("#")]
    value, rest = _block(lines, 0)
    if rest:
        raise ValueError(f"unexpected line: {rest[0][1]!r}")
    return value


def _block(lines, indent):
    if lines and lines[0][1].startswith("- "):
        return _list(lines, lines[0][0])
    return _map(lines, lines[0][0] if lines else indent)


def _list(lines, indent):
    out = []
    while lines and lines[0][0] == indent and lines[0][1].startswith("- "):
        out.append(_scalar(lines[0][1][2:]))
        lines = lines[1:]
    return out, lines


def _map(lines, indent):
    out = {}
    while lines and lines[0][0] == indent:
        key, _, rest = lines[0][1].partition(":")
        lines = lines[1:]
        rest = rest.strip()
        if rest:
            out[key.strip()] = _scalar(rest)
        elif lines and lines[0][0] > indent:
            out[key.strip()], lines = _block(lines, lines[0][0])
        else:
            out[key.strip()] = None
    return out, lines


def _scalar(text):
    if text.startswith("[") or text.startswith("{"):
        return json.loads(text)
    if text[:1] in "\"'":
        if text[-1:] != text[0]:
            raise ValueError(f"unterminated string: {text!r}")
        return text[1:-1]
    return text
