"""Schema checks as pure functions: coerce, expectation words, check_document problem lines."""

import pytest

from devkit.config.schema import MODEL_FIELDS, SECTIONS, Field, is_secret_key
from devkit.config.validate import check_document, coerce


@pytest.mark.parametrize(
    "field, raw, ok, value",
    [
        (Field("str"), "x", True, "x"),
        (Field("str"), 5, False, None),
        (Field("str", required=True), "", False, None),
        (Field("int", minimum=1), 3, True, 3),
        (Field("int", minimum=1), 3.0, True, 3),
        (Field("int", minimum=1), 3.5, False, None),
        (Field("int", minimum=1), 0, False, None),
        (Field("int"), True, False, None),
        (Field("int"), "3", False, None),
        (Field("number", above=0), 0.001, True, 0.001),
        (Field("number", above=0), 0, False, None),
        (Field("number", minimum=0), 0, True, 0),
        (Field("number"), float("nan"), False, None),
        (Field("number"), float("inf"), False, None),
        (Field("int", minimum=0, maximum=65535), 65535, True, 65535),
        (Field("int", minimum=0, maximum=65535), 65536, False, None),
        (Field("bool"), False, True, False),
        (Field("bool"), 0, False, None),
        (Field("list"), ["a", "b"], True, ["a", "b"]),
        (Field("list"), ["a", 1], False, None),
        (Field("list"), "a", False, None),
        (Field("enum", choices=("a", "b")), "b", True, "b"),
        (Field("enum", choices=("a", "b")), "c", False, None),
        (Field("secret"), "env:K", True, "env:K"),
        (Field("secret"), 12, False, None),
        (Field("int", None, minimum=0), None, True, None),
    ],
)
def test_coerce(field, raw, ok, value):
    got_ok, got_value = coerce(field, raw)
    assert got_ok is ok
    if ok:
        assert got_value == value and type(got_value) is type(value)


def test_expectation_words():
    assert Field("number", above=0).expectation() == "a number > 0"
    assert Field("int", minimum=0, maximum=65535).expectation() == "an integer >= 0 and <= 65535"
    assert Field("enum", choices=("x", "y")).expectation() == 'one of "x", "y"'
    assert Field("secret").expectation() == "a string (or env:VAR)"
    assert Field("list").expectation() == "a list of strings"


def test_every_default_passes_its_own_check():
    for section, fields in SECTIONS.items():
        for key, field in fields.items():
            assert coerce(field, field.default)[0], f"{section}.{key} default {field.default!r}"
    for key, field in MODEL_FIELDS.items():
        if not field.required:
            assert coerce(field, field.default)[0], f"models.{key}"


def test_valid_document_has_no_problems():
    values, problems = check_document(
        {"server": {"port": 1}, "models": [{"name": "a", "url": "u"}, {"name": "b", "url": "v"}]}, "f.json"
    )
    assert problems == []
    assert values["server"] == {"port": 1}
    assert [m["name"] for m in values["models"]] == ["a", "b"]


def test_every_problem_is_listed_in_document_order():
    data = {
        "server": {"port": "x", "hots": "h"},
        "modles": [],
        "models": [{"url": "u"}, 5, {"name": "a", "url": "u", "timeout": -1}],
    }
    _values, problems = check_document(data, "devkit.json")
    assert problems == [
        'devkit.json: server.port: expected an integer >= 0 and <= 65535, got "x"',
        "devkit.json: server.hots: unknown key (did you mean 'host'?)",
        "devkit.json: modles: unknown section (did you mean 'models'?)",
        "devkit.json: models[0].name: required key is missing",
        "devkit.json: models[1]: expected a table/object, got a number",
        "devkit.json: models[2].timeout: expected a number > 0, got -1",
    ]


def test_prefix_names_the_pyproject_table():
    _values, problems = check_document({"health": {"slow_ms": 0}}, "pyproject.toml", "tool.devkit.")
    assert problems == ["pyproject.toml: tool.devkit.health.slow_ms: expected a number > 0, got 0"]


def test_secret_values_are_not_echoed():
    _values, problems = check_document({"server": {"token": ["hunter2-secret"]}}, "f.json")
    assert problems == ["f.json: server.token: expected a string (or env:VAR), got a list"]


def test_string_with_quotes_is_escaped():
    _values, problems = check_document({"project": {"data_dirs": 'a"b'}}, "f.json")
    assert problems == ['f.json: project.data_dirs: expected a list of strings, got "a\\"b"']


@pytest.mark.parametrize("name", ["api_key", "token", "password", "client_secret", "API_KEY"])
def test_secret_key_names(name):
    assert is_secret_key(name)


@pytest.mark.parametrize("name", ["name", "url", "port", "keep"])
def test_plain_key_names(name):
    assert not is_secret_key(name)
