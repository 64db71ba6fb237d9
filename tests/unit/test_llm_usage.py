"""Usage read from response bodies shaped as each server documents them (fixtures in tests/data/usage)."""

import glob
import json
import os

import pytest

from devkit.errors import UsageError, UsageShapeError
from devkit.llm import Usage, cost_of, find_usage, parse_usage

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "usage")
CASES = sorted(
    p for p in glob.glob(os.path.join(DATA, "*")) if not p.endswith(".expected.json") and os.path.isfile(p)
)
INVALID = sorted(glob.glob(os.path.join(DATA, "invalid", "*.json")))


def _expected(path):
    with open(os.path.splitext(path)[0] + ".expected.json", encoding="utf-8") as handle:
        return json.load(handle)


def _assert_usage_equal(got, want):
    timings = got.pop("timings")
    want_timings = want.pop("timings")
    assert got == want
    assert sorted(timings) == sorted(want_timings)
    for key, value in want_timings.items():
        assert timings[key] == pytest.approx(value, rel=1e-9), key


def test_every_documented_shape_has_a_fixture():
    names = {os.path.basename(p).split(".")[0] for p in CASES}
    assert {
        "ollama_chat",
        "ollama_chat_stream",
        "ollama_generate",
        "openai_chat",
        "openai_chat_cached",
        "openai_chat_stream",
        "openai_chat_stream_final_chunk",
        "openai_embeddings",
        "llamacpp_completion",
        "llamacpp_chat",
        "vllm_chat",
    } <= names


@pytest.mark.parametrize("path", CASES, ids=os.path.basename)
def test_counts_from_bytes(path):
    with open(path, "rb") as handle:
        body = handle.read()
    _assert_usage_equal(parse_usage(body).to_dict(), _expected(path))


@pytest.mark.parametrize("path", [p for p in CASES if p.endswith(".json")], ids=os.path.basename)
def test_counts_from_a_parsed_dict(path):
    with open(path, encoding="utf-8") as handle:
        body = json.load(handle)
    _assert_usage_equal(parse_usage(body).to_dict(), _expected(path))


@pytest.mark.parametrize("path", INVALID, ids=os.path.basename)
def test_unknown_or_bad_shapes_name_what_they_saw(path):
    with open(path, encoding="utf-8") as handle:
        body = handle.read()
    with open(path[: -len(".json")] + ".expected.txt", encoding="utf-8") as handle:
        message = handle.read().strip()
    with pytest.raises(UsageShapeError) as info:
        parse_usage(json.loads(body))
    assert str(info.value) == message
    assert isinstance(info.value, UsageError) and info.value.exit_code == 2


def test_a_list_of_stream_chunks_reads_the_last_with_usage():
    with open(os.path.join(DATA, "openai_chat_stream.txt"), encoding="utf-8") as handle:
        chunks = [json.loads(line[6:]) for line in handle if line.startswith("data: {")]
    assert find_usage(chunks[0]) is None
    assert parse_usage(chunks).completion_tokens == 2


def test_hostile_keys_are_escaped_and_the_message_stays_one_bounded_line():
    body = {"a\n\x1b[31m" + "x" * 500: 1, "ok": 2}
    with pytest.raises(UsageShapeError) as info:
        parse_usage(body)
    text = str(info.value)
    assert "\n" not in text and "\x1b" not in text and len(text) < 200


def test_text_that_is_neither_json_nor_a_stream_is_an_error():
    with pytest.raises(UsageShapeError, match="not JSON, NDJSON or server-sent events"):
        parse_usage(b"<html>502 Bad Gateway</html>")


def test_cost_prices_cached_prompt_tokens_separately_when_configured():
    usage = Usage(prompt_tokens=2006, completion_tokens=300, cached_prompt_tokens=1920)
    model = {"price_input_per_1m": 1.10, "price_output_per_1m": 4.40, "price_cached_input_per_1m": 0.55}
    assert cost_of(model, usage) == pytest.approx((86 * 1.10 + 1920 * 0.55 + 300 * 4.40) / 1e6)
    model["price_cached_input_per_1m"] = None
    assert cost_of(model, usage) == pytest.approx((2006 * 1.10 + 300 * 4.40) / 1e6)


def test_cost_of_a_configured_model_uses_the_schema_default(tmp_path):
    from devkit.config import load_config

    (tmp_path / "devkit.json").write_text(
        json.dumps(
            {
                "models": [
                    {
                        "name": "m",
                        "url": "http://127.0.0.1:1",
                        "price_input_per_1m": 2.0,
                        "price_output_per_1m": 8.0,
                    }
                ]
            }
        )
    )
    model = load_config(cwd=str(tmp_path), env={}).models[0]
    assert model["price_cached_input_per_1m"] is None
    assert cost_of(model, Usage(1000, 10, cached_prompt_tokens=400)) == pytest.approx(
        (1000 * 2.0 + 10 * 8.0) / 1e6
    )


def test_bodies_over_the_limit_are_refused():
    from devkit.llm.usage import MAX_BODY_BYTES

    with pytest.raises(UsageShapeError, match=f"body larger than {MAX_BODY_BYTES} bytes"):
        parse_usage(b" " * (MAX_BODY_BYTES + 1))
