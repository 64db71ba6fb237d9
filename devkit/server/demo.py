"""``devkit serve --demo``: a stand-in LLM app in a process of its own, feeding a store in a temporary folder.

The child (``python -m devkit.server.demo_app DIR URL``) serves fake model endpoints (one goes down
for 30 s every 2 minutes), writes ``DIR/devkit.json`` naming them, then records simulated calls
through ``devkit.track`` and posts embedding events to ``URL/api/events`` — the two ways a real
app feeds devkit. It never touches the user's own store.
"""

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile

# name, median latency ms, spread (lognormal sigma), prompt and completion tokens, price in/out per 1M, weight
MODELS = [
    ("llama3-8b", 380, 0.45, 420, 190, 0.0, 0.0, 5),
    ("gpt-4o-mini", 850, 0.5, 760, 310, 0.15, 0.6, 3),
    ("claude-haiku", 640, 0.4, 900, 260, 0.25, 1.25, 2),
    ("mistral-7b", 470, 0.6, 520, 220, 0.0, 0.0, 2),
]
OPERATIONS = ("chat", "summarize", "rag.answer", "classify")
FLAKY_MODEL, DOWN_PERIOD_S, DOWN_FOR_S = "mistral-7b", 120, 30
EMBED_MODEL = "nomic-embed"
WORKERS = 4
BACKFILL_S, BACKFILL_EVENTS = 1800, 900
READY_TIMEOUT_S = 10.0
TOKEN_ENV = "DEVKIT_DEMO_TOKEN"


def is_down(name, now):
    """True while the flaky model is down (30 s of every 2 minutes)."""
    return name == FLAKY_MODEL and now % DOWN_PERIOD_S >= DOWN_PERIOD_S - DOWN_FOR_S


def start_demo(server_address, token=None, python=None):
    """Start the demo app for the server at ``server_address`` (posting with ``token``); return (Config, stop)."""
    from devkit.config import load_config
    from devkit.errors import OperationError

    directory = tempfile.mkdtemp(prefix="devkit-demo-")
    host, port = server_address[:2]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVKIT_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    if token:
        env[TOKEN_ENV] = token
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    proc = subprocess.Popen(
        [python or sys.executable, "-m", "devkit.server.demo_app", directory, url],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
    )

    def stop():
        _end(proc)
        shutil.rmtree(directory, ignore_errors=True)

    if not _ready(proc):
        stop()
        raise OperationError("demo: the simulated app did not start")
    return load_config(explicit=os.path.join(directory, "devkit.json"), env={}), stop


def _ready(proc):
    readable, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT_S)
    return bool(readable) and proc.stdout.readline().strip() == b"ready"


def _end(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(1.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()


def demo_config(models_port):
    """The demo app's config: its own state folder, the fake models with prices, quick health checks."""
    models = [
        {
            "name": name,
            "provider": "http",
            "url": f"http://127.0.0.1:{models_port}/m/{name}",
            "timeout": 2,
            "critical": name != FLAKY_MODEL,
            "price_input_per_1m": p_in,
            "price_output_per_1m": p_out,
        }
        for name, _ms, _s, _pt, _ct, p_in, p_out, _w in MODELS
    ]
    return {
        "project": {"name": "devkit-demo", "state_dir": "state"},
        "models": models,
        "storage": {"paths": ["."], "min_free_mb": 1},
        "metrics": {"flush_interval_s": 1.0},
        "health": {"timeout_s": 2, "deadline_s": 3},
    }


def fake_event(rng, ts):
    """One plausible JSON event (as an app would post it) for time ``ts``."""
    name, median, sigma, prompt, completion, _pi, _po, _w = rng.choices(MODELS, [m[7] for m in MODELS])[0]
    event = {
        "operation": rng.choice(OPERATIONS),
        "model": name,
        "ts": ts,
        "status": "ok",
        "duration_ms": round(rng.lognormvariate(0, sigma) * median, 1),
        "prompt_tokens": max(1, int(rng.gauss(prompt, prompt / 4))),
        "completion_tokens": max(1, int(rng.gauss(completion, completion / 3))),
        "cache_hit": False,
    }
    roll = rng.random()
    if is_down(name, ts) or roll < 0.02:
        event.update(
            status="error",
            error="ConnectionRefusedError" if is_down(name, ts) else "RateLimitError",
            completion_tokens=0,
            duration_ms=round(rng.uniform(3, 40), 1),
        )
    elif roll < 0.17:
        event.update(cache_hit=True, completion_tokens=0, duration_ms=round(rng.uniform(1, 8), 2))
    return event


def post_events(url, events):
    """POST ``events`` to the server's ``/api/events``; the number accepted (0 when it is unreachable)."""
    import urllib.request

    body = json.dumps(events).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if os.environ.get(TOKEN_ENV):
        headers["Authorization"] = f"Bearer {os.environ[TOKEN_ENV]}"
    request = urllib.request.Request(url + "/api/events", body, headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read()).get("accepted", 0)
    except OSError:
        return 0
