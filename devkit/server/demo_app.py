"""The demo app's own process: fake model endpoints, simulated calls through ``track()``, posted events."""

import json
import os
import random
import sys
import threading
import time

from devkit.server.app import json_response
from devkit.server.demo import (
    BACKFILL_EVENTS,
    BACKFILL_S,
    EMBED_MODEL,
    MODELS,
    OPERATIONS,
    WORKERS,
    demo_config,
    fake_event,
    is_down,
    post_events,
)
from devkit.server.httpd import DevkitServer


class FakeModels:
    """The fake model endpoints (``GET /m/NAME``: 200, or 503 while the model is down), served by devkit's server."""

    def handle(self, request):
        """The answer for one probe."""
        name = request.path.rsplit("/", 1)[-1]
        down = is_down(name, time.time())
        return json_response(503 if down else 200, {"model": name, "up": not down})


def _call(rng, stop):
    """One simulated model call, recorded with devkit.track like any app would."""
    import devkit

    name, median, sigma, prompt, completion, _pi, _po, _w = rng.choices(MODELS, [m[7] for m in MODELS])[0]
    roll = rng.random()
    try:
        with devkit.track(rng.choice(OPERATIONS), model=name) as op:
            if is_down(name, time.time()):
                stop.wait(0.01)
                raise ConnectionRefusedError(f"{name} is down")
            if roll < 0.15:
                op.cache(True)
                stop.wait(rng.uniform(0.001, 0.008))
                return
            op.cache(False)
            if roll > 0.99:
                stop.wait(2.0)
                raise TimeoutError(f"{name}: no answer within 2 s")
            stop.wait(min(rng.lognormvariate(0, sigma) * median / 1000.0, 4.0))
            if roll > 0.97:
                raise RuntimeError("RateLimitError")
            op.tokens(
                prompt=max(1, int(rng.gauss(prompt, prompt / 4))),
                completion=max(1, int(rng.gauss(completion, completion / 3))),
            )
    except (ConnectionRefusedError, TimeoutError, RuntimeError):
        pass


def _worker(seed, stop):
    rng = random.Random(seed)
    while not stop.is_set():
        _call(rng, stop)
        stop.wait(rng.uniform(0.05, 0.4))


def _embedder(url, stop):
    """Posts a few embedding events every 2 s over HTTP, as an app in another language would."""
    rng = random.Random(7)
    while not stop.wait(2.0):
        now = time.time()
        events = [
            {
                "operation": "embed",
                "model": EMBED_MODEL,
                "status": "ok",
                "ts": now - rng.uniform(0, 2),
                "duration_ms": round(rng.lognormvariate(0, 0.3) * 40, 1),
                "prompt_tokens": rng.randint(50, 400),
            }
            for _ in range(rng.randint(1, 6))
        ]
        post_events(url, events)


def _backfill(url):
    """Half an hour of history at once, so the charts have a shape from the first second."""
    rng = random.Random(42)
    now = time.time()
    events = sorted(
        (fake_event(rng, now - rng.uniform(5, BACKFILL_S)) for _ in range(BACKFILL_EVENTS)),
        key=lambda e: e["ts"],
    )
    post_events(url, events)


def _create_store(path):
    # Before "ready": the server then never reads a store that is still being created.
    from devkit.config import load_config
    from devkit.store import open_store

    open_store(load_config(explicit=path, env={})).close()


def main(argv):
    """``DIR URL``: write DIR/devkit.json, say ``ready``, run until SIGINT/SIGTERM; exit 0."""
    from devkit.service import stop_on_signals
    from devkit.util import atomic_write

    directory, url = argv
    models = DevkitServer("127.0.0.1", 0, FakeModels())
    threading.Thread(target=models.serve_until_closed, daemon=True).start()
    path = os.path.join(directory, "devkit.json")
    atomic_write(path, json.dumps(demo_config(models.server_address[1]), indent=2).encode("utf-8"))
    os.environ["DEVKIT_CONFIG"] = path
    _create_store(path)
    with stop_on_signals() as stop:
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        _backfill(url)
        threads = [
            threading.Thread(target=_worker, args=(seed, stop), daemon=True) for seed in range(WORKERS)
        ]
        threads.append(threading.Thread(target=_embedder, args=(url, stop), daemon=True))
        for thread in threads:
            thread.start()
        stop.wait()
        for thread in threads:
            thread.join(3.0)
    models.close_gracefully()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
