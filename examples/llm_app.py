"""A stand-in LLM app that records its work with devkit (no model server needed).

From the repository root, no install needed (see examples/README.md):
python3 examples/llm_app.py --calls 200
"""

import argparse
import os
import random
import sys
import time

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


def main():
    """Make ``--calls`` requests against two models; failures are recorded, not fatal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
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
