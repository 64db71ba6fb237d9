"""Seeded generators of hostile configs, ingest events and CLI argument lists for the fuzz pass."""

import json

from devkit.config.schema import MODEL_FIELDS, SECTIONS
from tests.adversarial.conftest import HOSTILE

SEED = 1515
HUGE_DIGITS = "9" * 400
NUMBERS = [0, -1, 1, 0.5, 1e10, 1e308, -1e308, 2**63, 2**64, 10**30, -(2**63) - 1, 1e-320, 3.5e9]
SPECIAL_FLOATS = ["NaN", "Infinity", "-Infinity"]
STRINGS = [
    "",
    " ",
    "x",
    HOSTILE,
    "\ud800",
    "é" * 50,
    "a" * 5000,
    "env:",
    "env:NOPE_UNSET",
    "../../etc/passwd",
    "%2F%2e%2e",
    "${HOME}",
    "null",
    "true",
    "1e400",
    HUGE_DIGITS,
]


def _value(rng, depth=0):
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(NUMBERS)
    if kind == 1:
        return rng.choice(STRINGS)
    if kind == 2:
        return rng.choice([None, True, False])
    if kind == 3 and depth < 4:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 4 and depth < 4:
        return {
            rng.choice(STRINGS + ["name", "url"]): _value(rng, depth + 1) for _ in range(rng.randrange(3))
        }
    if kind == 5:
        return rng.randrange(-(10**6), 10**6)
    if kind == 6:
        return rng.uniform(-1e6, 1e6)
    return rng.choice(["openai", "ollama", "http", "http://127.0.0.1:9", "json", "csv"])


def _field_value(rng, field):
    # Mostly valid values, so the screens of a loaded config are fuzzed as well as the validator.
    if rng.random() < 0.85:
        return field.choices[0] if field.choices else field.default
    return _value(rng)


def _model(rng):
    keys = rng.sample(sorted(MODEL_FIELDS), rng.randrange(len(MODEL_FIELDS) + 1))
    model = {key: _field_value(rng, MODEL_FIELDS[key]) for key in keys}
    if rng.random() < 0.5:
        model.update(name=f"m{rng.randrange(5)}", url="http://127.0.0.1:9")
    return model


def config_text(rng):
    """One devkit.json text: mostly schema-shaped with hostile values, sometimes broken or deep."""
    roll = rng.random()
    if roll < 0.05:
        return "[" * rng.choice([10, 1000, 100_000])
    if roll < 0.10:
        return json.dumps({"health": {"deadline_s": 1}})[: rng.randrange(1, 25)]
    doc = {}
    for section in rng.sample(sorted(SECTIONS), rng.randrange(len(SECTIONS) + 1)):
        keys = rng.sample(sorted(SECTIONS[section]), rng.randrange(len(SECTIONS[section]) + 1))
        doc[section] = {key: _field_value(rng, SECTIONS[section][key]) for key in keys}
        if rng.random() < 0.1:
            doc[section][rng.choice(STRINGS)] = 1
    if rng.random() < 0.3:
        doc["models"] = [_model(rng) for _ in range(rng.randrange(4))]
    if rng.random() < 0.05:
        doc[rng.choice(STRINGS)] = {}
    text = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
    return text.replace("1e+308", rng.choice(SPECIAL_FLOATS)) if rng.random() < 0.3 else text


EVENT_FIELDS = [
    "operation",
    "duration_ms",
    "status",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "cache_hit",
    "error",
    "detail",
    "id",
    "ts",
    "labels",
]


def event_line(rng, category):
    """One ingest line of ``category``: types, numbers, strings, timestamps, nesting or raw."""
    event = {"operation": "op", "duration_ms": 1.5, "status": "ok"}
    field = rng.choice(EVENT_FIELDS)
    if category == "types":
        event[field] = _value(rng)
    elif category == "numbers":
        event[field] = rng.choice(NUMBERS)
    elif category == "strings":
        event[field] = rng.choice(STRINGS)
    elif category == "timestamps":
        event["ts"] = rng.choice(
            [1732680000000, 1732680000000000000, -1, 0, 1e20, 946684799, 4102444800, "now"]
        )
    elif category == "nesting":
        depth = rng.choice([2, 50, 5000, 100_000])
        return json.dumps(event)[:-1] + ', "labels": ' + '{"k": ' * depth + '"v"' + "}" * depth + "}"
    else:
        return rng.choice(["", "{", "null", "[]", "{}", '{"operation":', "\x00" * 10, "x" * 200_000, "NaN"])
    text = json.dumps(event)
    return text.replace("1e+308", rng.choice(SPECIAL_FLOATS)) if rng.random() < 0.2 else text


COMMANDS = [
    ["status"],
    ["metrics"],
    ["metrics", "tokens"],
    ["metrics", "export"],
    ["health"],
    ["config", "show"],
    ["config", "validate"],
    ["config", "models"],
    ["config", "experiments"],
    ["config", "init"],
    ["metrics", "ingest", "-"],
]
DURATIONS = [
    "1h",
    "7d",
    "all",
    "0",
    "-1",
    "",
    " ",
    HUGE_DIGITS,
    "1e5",
    "3650d",
    "3651d",
    "1.5s",
    "NaN",
    HOSTILE,
    "2",
]
FORMATS = ["json", "csv", "md", "prom", "openmetrics", "table", "nagios", "", "JSON", HOSTILE]
OPTIONS = {
    "--since": DURATIONS,
    "--format": FORMATS,
    "--timeout": DURATIONS,
    "--check": ["config", "store", "process", "nope", ""],
    "--keep": ["1", "0", "-1", HUGE_DIGITS, "x"],
    "--count": ["1", "0", HUGE_DIGITS],
    "--every": ["0", "-1", "", HUGE_DIGITS, "3651d", "x"],
    "--exit-profile": ["nagios", "docker", "", "x"],
    "--config": ["devkit.json", "", "missing.json", "loop.json", "fifo.json", "huge.json"],
    "-o": ["out.json", "fifo.json", ".devkit/devkit.db", ".devkit/devkit.db-wal", "chardev", "folder", ""],
}
FLAGS = [
    "--json",
    "-q",
    "-v",
    "--no-color",
    "--operations",
    "--live",
    "--ready",
    "--force",
    "--strict",
    "--help",
]


def argv_list(rng):
    """One argument list: a command, then options with hostile values and stray flags."""
    argv = list(rng.choice(COMMANDS))
    for _ in range(rng.randrange(5)):
        roll = rng.random()
        if roll < 0.55:
            option = rng.choice(sorted(OPTIONS))
            argv += [option, rng.choice(OPTIONS[option])]
        elif roll < 0.9:
            argv.append(rng.choice(FLAGS))
        else:
            argv.append(rng.choice(STRINGS + ["--nope", "-"]))
    if rng.random() < 0.1:
        rng.shuffle(argv)
    if "--every" in argv and "--count" not in argv:
        argv += ["--count", "1"]
    return argv
