"""A stand-in LLM app that records its work with devkit (no model server needed).

From the repository root, no install needed (see examples/README.md):
python3 examples/llm_app.py --calls 200
With ``--url`` of an OpenAI-compatible server (examples/fake_model_server.py) each call streams:
python3 examples/llm_app.py --calls 4 --url http://127.0.0.1:8000
"""

import argparse
import json
import os
import random
import socket
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
# Run from a checkout without installing: use the devkit/ package that sits beside examples/.
sys.path.insert(0, os.path.dirname(HERE))
# Record into the store of examples/devkit.json (the one the walk-through's commands read) unless told otherwise.
os.environ.setdefault("DEVKIT_CONFIG", os.path.join(HERE, "devkit.json"))

import devkit  # noqa: E402 - needs the path set above

QUESTIONS = ["summarise this", "translate that", "explain the error", "write a haiku"]


def fake_model_call(model, prompt):
    """Pretend to call a model: sleep a little, sometimes fail, return token counts."""
    time.sleep(random.lognormvariate(-6.5, 0.5))
    if random.random() < 0.03:
        raise TimeoutError(f"{model} did not answer")
    return len(prompt.split()) * 4, random.randint(20, 200)


def answer(model, prompt):
    """One tracked request: tokens, cache use, and errors are all recorded."""
    cached = random.random() < 0.2
    with devkit.track("chat", model=model, route="/ask") as op:
        op.cache(hit=cached)
        if not cached:
            prompt_tokens, completion_tokens = fake_model_call(model, prompt)
            op.tokens(prompt=prompt_tokens, completion=completion_tokens)


def streamed_answer(url, model, prompt):
    """One streamed chat completion: each SSE event marks a chunk, the final one carries the usage."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    request = urllib.request.Request(
        url.rstrip("/") + "/v1/chat/completions",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    with devkit.track("chat", model=model, route="/stream") as op:
        with urllib.request.urlopen(request, timeout=30) as response:
            events = list(op.stream(line for line in response if line.startswith(b"data:")))
        op.usage(b"\n\n".join(events))


def wait_for(url, timeout_s=10.0):
    """Wait until the server at ``url`` accepts connections (it may just have been started)."""
    parts = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection((parts.hostname, parts.port or 80), timeout=1.0).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main():
    """Make ``--calls`` requests against two models; failures are recorded, not fatal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--url", help="stream each call from this OpenAI-compatible server")
    args = parser.parse_args()
    if args.url:
        wait_for(args.url)
        for _ in range(args.calls):
            streamed_answer(args.url, "gpt-4o-mini", random.choice(QUESTIONS))
        devkit.flush()
        print(f"streamed {args.calls} calls from {args.url} with config {os.environ['DEVKIT_CONFIG']}")
        return
    requests = devkit.counter("app_requests", help="requests the app served", labels=("model",))
    for _ in range(args.calls):
        model = random.choice(["llama3", "gpt-4o-mini"])
        requests.labels(model=model).inc()
        try:
            answer(model, random.choice(QUESTIONS))
        except TimeoutError:
            pass
    devkit.metrics.api.flush()
    print(f"recorded {args.calls} operations with config {os.environ['DEVKIT_CONFIG']}")


if __name__ == "__main__":
    main()
