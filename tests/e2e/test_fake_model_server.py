"""examples/fake_model_server.py: paced streams (first-token delay, token rate) and usage shaped like the real servers."""

import json
import time
import urllib.request

import pytest

from devkit.llm import parse_usage
from tests.e2e._fake_server import fake_model_server

FIRST_TOKEN_S = 0.25
TOKENS_PER_S = 40.0
TOKENS = 12


@pytest.fixture(scope="module")
def server():
    with fake_model_server(FIRST_TOKEN_S * 1000, TOKENS_PER_S, TOKENS) as url:
        yield url


def _post(url, body):
    data = json.dumps(body).encode()
    return urllib.request.urlopen(
        urllib.request.Request(url, data, {"Content-Type": "application/json"}), timeout=30
    )


def _timed_lines(response):
    """(arrival time, line) of every non-empty line, as the client reads them."""
    out = []
    for raw in iter(response.readline, b""):
        if raw.strip():
            out.append((time.monotonic(), raw.decode().strip()))
    return out


def _check_pacing(start, token_times):
    assert len(token_times) == TOKENS
    first = token_times[0] - start
    # Wide margins: a busy machine delays chunks, but the server never sends one early.
    assert FIRST_TOKEN_S * 0.9 <= first <= FIRST_TOKEN_S + 1.0, first
    per_token = (token_times[-1] - token_times[0]) / (TOKENS - 1)
    assert 0.9 / TOKENS_PER_S <= per_token <= 3.0 / TOKENS_PER_S, per_token


def test_openai_sse_stream_is_paced_and_ends_with_a_usage_chunk(server):
    start = time.monotonic()
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "why is the sky blue"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with _post(server + "/v1/chat/completions", body) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        lines = _timed_lines(response)
    assert lines[-1][1] == "data: [DONE]"
    chunks = [(t, json.loads(line[6:])) for t, line in lines[:-1]]
    tokens = [t for t, c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    _check_pacing(start, tokens)
    assert chunks[0][1]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["usage"] is None for _, c in chunks[:-1])
    usage = parse_usage("".join(line + "\n\n" for _, line in lines))
    assert (usage.prompt_tokens, usage.completion_tokens, usage.shape) == (5, TOKENS, "openai")


def test_ollama_ndjson_stream_is_paced_and_the_done_chunk_has_counts(server):
    start = time.monotonic()
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": "hello there"}]}
    with _post(server + "/api/chat", body) as response:
        assert response.headers["Content-Type"] == "application/x-ndjson"
        lines = _timed_lines(response)
    chunks = [(t, json.loads(line)) for t, line in lines]
    _check_pacing(start, [t for t, c in chunks if not c["done"]])
    usage = parse_usage(chunks[-1][1])
    assert (usage.prompt_tokens, usage.completion_tokens, usage.shape) == (2, TOKENS, "ollama")
    assert usage.timings["output_tokens_per_s"] == pytest.approx(TOKENS_PER_S)
    assert usage.timings["prompt_s"] >= FIRST_TOKEN_S * 0.9


def test_non_streamed_answers_wait_and_carry_usage(server):
    start = time.monotonic()
    with _post(
        server + "/api/generate",
        {"model": "llama3.2", "prompt": "one two three", "stream": False, "options": {"num_predict": 4}},
    ) as response:
        answer = json.loads(response.read())
    assert time.monotonic() - start >= FIRST_TOKEN_S + 3 * 0.9 / TOKENS_PER_S
    assert answer["response"] and parse_usage(answer).completion_tokens == 4
    chat = {"messages": [{"role": "user", "content": "same prompt twice"}], "max_tokens": 3}
    first = parse_usage(_post(server + "/v1/chat/completions", chat).read())
    again = parse_usage(_post(server + "/v1/chat/completions", chat).read())
    assert (first.cached_prompt_tokens, again.cached_prompt_tokens) == (0, 3)
    assert again.completion_tokens == 3


def test_model_lists(server):
    models = json.loads(urllib.request.urlopen(server + "/v1/models", timeout=10).read())
    tags = json.loads(urllib.request.urlopen(server + "/api/tags", timeout=10).read())
    assert [m["id"] for m in models["data"]] == ["llama3.2", "gpt-4o-mini"]
    assert [m["name"] for m in tags["models"]] == ["llama3.2:latest", "gpt-4o-mini:latest"]
