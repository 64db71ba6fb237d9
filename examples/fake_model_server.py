#!/usr/bin/env python3
"""A fake model server for trying devkit without a GPU (standard library only).

OpenAI-compatible ``POST /v1/chat/completions`` (server-sent events with the
``stream_options.include_usage`` final chunk, or one JSON answer) and ``GET /v1/models``;
Ollama ``POST /api/chat`` and ``/api/generate`` (NDJSON streams, or one JSON answer with
``"stream": false``) and ``GET /api/tags``. The first token comes after ``--first-token-ms``,
then one token per chunk every ``1 / --tokens-per-s`` seconds; usage fields are shaped as
the real servers send them, and a repeated prompt reports its tokens as cached.

    python examples/fake_model_server.py --port 8000 --first-token-ms 300 --tokens-per-s 50
"""

import argparse
import hashlib
import http.server
import json
import signal
import sys
import threading
import time

WORDS = (
    "Local",
    " models",
    " answer",
    " quickly",
    " when",
    " the",
    " weights",
    " fit",
    " in",
    " memory",
    ".",
)
MAX_BODY_BYTES = 1 << 20
MAX_TOKENS = 4096
LOAD_NS = 1_250_000


class Settings:
    """Pacing and defaults: first-token delay, seconds between tokens, answer length, model names."""

    def __init__(self, first_token_s=0.3, tokens_per_s=50.0, tokens=20, models=("llama3.2", "gpt-4o-mini")):
        self.first_token_s = first_token_s
        self.interval_s = 1.0 / tokens_per_s
        self.tokens = tokens
        self.models = list(models)
        self.seen_prompts = set()
        self.lock = threading.Lock()

    def cached_tokens(self, prompt_text, prompt_tokens):
        """All prompt tokens when this prompt was seen before (a warm prefix cache), else 0."""
        digest = hashlib.sha256(prompt_text.encode("utf-8")).hexdigest()
        with self.lock:
            seen = digest in self.seen_prompts
            self.seen_prompts.add(digest)
        return prompt_tokens if seen else 0


def paced_words(settings, count, start):
    """Yield ``count`` words: the first at ``start + first_token_s``, then one every ``interval_s``."""
    for i in range(count):
        delay = start + settings.first_token_s + i * settings.interval_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield WORDS[i % len(WORDS)]


def iso_now():
    """The current UTC time as Ollama writes ``created_at``."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


class Call:
    """One generation request: model, prompt size, answer length and whether it streams."""

    def __init__(self, settings, body, prompt_text, requested_tokens, stream):
        self.model = str(body.get("model") or settings.models[0])
        self.prompt_tokens = max(1, len(prompt_text.split()))
        self.cached_tokens = settings.cached_tokens(prompt_text, self.prompt_tokens)
        limit = (
            requested_tokens
            if isinstance(requested_tokens, int) and requested_tokens > 0
            else settings.tokens
        )
        self.completion_tokens = min(limit, MAX_TOKENS)
        self.stream = stream
        self.start = time.monotonic()


def openai_call(settings, body):
    """A Call from an OpenAI chat/completions body."""
    text = " ".join(str(m.get("content") or "") for m in body.get("messages") or () if isinstance(m, dict))
    return Call(
        settings,
        body,
        text,
        body.get("max_completion_tokens") or body.get("max_tokens"),
        bool(body.get("stream")),
    )


def ollama_call(settings, body):
    """A Call from an Ollama /api/chat or /api/generate body (Ollama streams unless ``stream`` is false)."""
    messages = body.get("messages") or ()
    text = " ".join(str(m.get("content") or "") for m in messages if isinstance(m, dict))
    options = body.get("options") if isinstance(body.get("options"), dict) else {}
    return Call(
        settings,
        body,
        text or str(body.get("prompt") or ""),
        options.get("num_predict"),
        body.get("stream", True) is not False,
    )


def openai_usage(call):
    """The ``usage`` object of an OpenAI chat completion."""
    return {
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "total_tokens": call.prompt_tokens + call.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": call.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def openai_chunk(call, cid, delta, finish_reason=None, include_usage=False):
    """One ``chat.completion.chunk`` (``usage`` null on every chunk but the last when asked for)."""
    chunk = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": call.model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if include_usage:
        chunk["usage"] = None
    return chunk


def openai_events(settings, call, include_usage):
    """The SSE ``data:`` payloads of a streamed chat completion, paced, ending with ``[DONE]``."""
    cid = f"chatcmpl-fake{int(call.start * 1000) % 10**9}"
    for i, word in enumerate(paced_words(settings, call.completion_tokens, call.start)):
        delta = {"role": "assistant", "content": word} if i == 0 else {"content": word}
        yield json.dumps(openai_chunk(call, cid, delta, None, include_usage))
    yield json.dumps(openai_chunk(call, cid, {}, "stop", include_usage))
    if include_usage:
        final = openai_chunk(call, cid, {}, None, False)
        final.update(choices=[], usage=openai_usage(call))
        yield json.dumps(final)
    yield "[DONE]"


def openai_answer(settings, call):
    """The whole chat completion, after the time the paced tokens would take."""
    text = "".join(paced_words(settings, call.completion_tokens, call.start))
    return {
        "id": f"chatcmpl-fake{int(call.start * 1000) % 10**9}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": call.model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": openai_usage(call),
    }


def ollama_final(settings, call, first_token_at):
    """The ``done: true`` fields: counts and durations in nanoseconds."""
    now = time.monotonic()
    return {
        "done": True,
        "done_reason": "stop",
        "total_duration": int((now - call.start) * 1e9),
        "load_duration": LOAD_NS,
        "prompt_eval_count": call.prompt_tokens,
        "prompt_eval_duration": int(((first_token_at or now) - call.start) * 1e9),
        "eval_count": call.completion_tokens,
        "eval_duration": int(call.completion_tokens * settings.interval_s * 1e9),
    }


def ollama_chunks(settings, call, chat):
    """The NDJSON objects of an Ollama stream (or the one answer when not streaming), paced."""
    first_token_at, text = None, []
    for word in paced_words(settings, call.completion_tokens, call.start):
        first_token_at = first_token_at or time.monotonic()
        text.append(word)
        if call.stream:
            yield _ollama_piece(call, chat, word, False)
    final = _ollama_piece(call, chat, "" if call.stream else "".join(text), True)
    final.update(ollama_final(settings, call, first_token_at))
    yield final


def _ollama_piece(call, chat, text, done):
    piece = {"model": call.model, "created_at": iso_now()}
    if chat:
        piece["message"] = {"role": "assistant", "content": text}
    else:
        piece["response"] = text
    piece["done"] = done
    return piece


def model_list(settings):
    """``GET /v1/models``."""
    return {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": 1700000000, "owned_by": "fake"}
            for name in settings.models
        ],
    }


def ollama_tags(settings):
    """``GET /api/tags``."""
    models = []
    for name in settings.models:
        tag = name if ":" in name else name + ":latest"
        models.append(
            {
                "name": tag,
                "model": tag,
                "modified_at": "2025-01-01T00:00:00Z",
                "size": 2019393189,
                "digest": hashlib.sha256(tag.encode()).hexdigest(),
                "details": {
                    "format": "gguf",
                    "family": "llama",
                    "parameter_size": "3.2B",
                    "quantization_level": "Q4_K_M",
                },
            }
        )
    return {"models": models}


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes of the fake server; ``server.settings`` holds the pacing."""

    protocol_version = "HTTP/1.1"
    server_version = "fake-model-server/1"

    def do_GET(self):
        settings = self.server.settings
        routes = {"/v1/models": model_list, "/api/tags": ollama_tags}
        if self.path in routes:
            return self.send_json(200, routes[self.path](settings))
        if self.path == "/":
            return self.send_json(200, {"status": "fake model server is running"})
        return self.send_json(404, {"error": f"no route {self.path}"})

    def do_POST(self):
        body = self.read_body()
        if body is None:
            return None
        settings = self.server.settings
        if self.path == "/v1/chat/completions":
            return self.openai(settings, body)
        if self.path in ("/api/chat", "/api/generate"):
            return self.ollama(settings, body, self.path == "/api/chat")
        return self.send_json(404, {"error": f"no route {self.path}"})

    def read_body(self):
        """The JSON object of the request, or None after answering 400/413."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_json(413, {"error": "request body too large"})
            return None
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.send_json(400, {"error": "request body must be a JSON object"})
            return None
        return body

    def openai(self, settings, body):
        call = openai_call(settings, body)
        if not call.stream:
            return self.send_json(200, openai_answer(settings, call))
        options = body.get("stream_options") if isinstance(body.get("stream_options"), dict) else {}
        events = openai_events(settings, call, bool(options.get("include_usage")))
        return self.send_stream("text/event-stream", (f"data: {event}\n\n" for event in events))

    def ollama(self, settings, body, chat):
        call = ollama_call(settings, body)
        chunks = ollama_chunks(settings, call, chat)
        if not call.stream:
            return self.send_json(200, list(chunks)[-1])
        return self.send_stream("application/x-ndjson", (json.dumps(chunk) + "\n" for chunk in chunks))

    def send_json(self, status, data):
        payload = json.dumps(data).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def send_stream(self, content_type, pieces):
        """Write each piece as one HTTP/1.1 chunk as soon as it is ready."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for piece in pieces:
                data = piece.encode("utf-8")
                self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, *args):
        pass


def make_server(host, port, settings):
    """A threading HTTP server for ``settings`` bound to ``host:port`` (0 picks a free port)."""
    server = http.server.ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.settings = settings
    return server


def parse_args(argv):
    """The command-line options."""
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible and Ollama model server.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port to bind; 0 picks a free one (default 8000)"
    )
    parser.add_argument("--first-token-ms", type=float, default=300.0, help="delay before the first token")
    parser.add_argument("--tokens-per-s", type=float, default=50.0, help="tokens per second after the first")
    parser.add_argument("--tokens", type=int, default=20, help="answer length when the request sets none")
    parser.add_argument("--model", action="append", dest="models", help="model name to list (repeatable)")
    args = parser.parse_args(argv)
    if args.first_token_ms < 0 or args.tokens_per_s <= 0 or not 1 <= args.tokens <= MAX_TOKENS:
        parser.error(f"need --first-token-ms >= 0, --tokens-per-s > 0 and 1 <= --tokens <= {MAX_TOKENS}")
    return args


def main(argv=None):
    """Serve until Ctrl-C or SIGTERM; the first stdout line names the URL."""
    args = parse_args(argv)
    settings = Settings(
        args.first_token_ms / 1000.0,
        args.tokens_per_s,
        args.tokens,
        args.models or ("llama3.2", "gpt-4o-mini"),
    )
    with make_server(args.host, args.port, settings) as server:
        host, port = server.server_address[:2]
        print(f"fake model server on http://{host}:{port}", flush=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            # shutdown() waits for serve_forever() to return, so it runs off the serving thread.
            signal.signal(signum, lambda *_: threading.Thread(target=server.shutdown).start())
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
