"""``devkit serve`` under load, against prometheus_client's own ``start_http_server`` in the same run.

1. 64 concurrent keep-alive clients (4 processes x 16 threads) on /metrics, /api/metrics and
   /health/ready for 20 s: every answer must be a complete 200 (zero errors).
2. 64 clients on /metrics alone for 10 s, first against devkit, then against prometheus_client
   serving a registry of the same size (the very families devkit exposes, parsed back).
Prints requests/s and the ratio (goal >= 1.5). Loopback only; prometheus_client goes into a
throwaway venv in a temporary folder that is removed at the end, with everything else.
"""

import json
import multiprocessing
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PROCESSES, THREADS = 4, 16
MIXED_S, METRICS_S = 20.0, 10.0
GOAL = 1.5
OPERATIONS, MODELS = 12, 6
PEER = """
import sys, time
from prometheus_client import start_http_server
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
class Fixed:
    def collect(self):
        return families
registry = CollectorRegistry()
registry.register(Fixed())
server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
print(server.server_address[1], flush=True)
time.sleep(3600)
"""


def seed_store(directory):
    """A config and a store with OPERATIONS x MODELS x 2 statuses series; return the config path."""
    from devkit.config import load_config
    from devkit.core.records import Batch, OperationRecord
    from devkit.store import open_store

    path = os.path.join(directory, "devkit.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"project": {"name": "bench"}}, handle)
    now, records = time.time(), []
    for i in range(OPERATIONS * MODELS * 20):
        op, model = f"op{i % OPERATIONS}", f"model-{i % MODELS}"
        records.append(
            OperationRecord(
                f"b{i}",
                now - i,
                op,
                model,
                "error" if i % 11 == 0 else "ok",
                5.0 + i % 900,
                10 + i % 50,
                20 + i % 70,
                i % 3 == 0,
                0.0,
                None,
                None,
                None,
            )
        )
    with open_store(load_config(explicit=path, env={})) as store:
        store.write_batch(Batch(records))
    return path


def start_devkit(config, directory):
    """``python -m devkit serve --port 0`` on the seeded store; return (process, port)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "devkit", "serve", "--port", "0", "--config", config],
        cwd=directory,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, _port_from(proc, proc.stderr, r"dashboard at http://127\.0\.0\.1:(\d+)/")


def start_peer(directory, exposition):
    """prometheus_client's start_http_server, in a throwaway venv, serving ``exposition``'s families."""
    venv = os.path.join(directory, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "prometheus_client"], check=True)
    path = os.path.join(directory, "exposition.txt")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(exposition)
    proc = subprocess.Popen([python, "-c", PEER, path], stdout=subprocess.PIPE, text=True)
    return proc, _port_from(proc, proc.stdout, r"(\d+)")


def _port_from(proc, stream, pattern):
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if selector.select(30):
            match = re.search(pattern, stream.readline())
            if match:
                return int(match.group(1))
    proc.kill()
    raise SystemExit("a server did not start")


def _one(sock, reader, path):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode("ascii"))
    status_line = reader.readline()
    status = int(status_line.split()[1])
    length, close = None, status_line.startswith(b"HTTP/1.0")
    while True:
        line = reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and value.strip().lower() == "close":
            close = True
    body = reader.read(length) if length is not None else reader.read()
    return status == 200 and (length is None or len(body) == length), close or length is None


def _client(port, paths, until, totals, lock):
    ok = errors = i = 0
    sock = reader = None
    while time.monotonic() < until:
        i += 1
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                reader = sock.makefile("rb")
            good, close = _one(sock, reader, paths[i % len(paths)])
            ok, errors = ok + good, errors + (not good)
        except (OSError, ValueError, IndexError):
            errors, close = errors + 1, True
        if close and sock is not None:
            reader.close()
            sock.close()
            sock = None
    with lock:
        totals[0], totals[1] = totals[0] + ok, totals[1] + errors


def _worker(port, paths, until, queue):
    totals, lock = [0, 0], threading.Lock()
    threads = [
        threading.Thread(target=_client, args=(port, paths, until, totals, lock)) for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(totals)


def load(port, paths, seconds):
    """(requests per second, errors) of PROCESSES x THREADS keep-alive clients for ``seconds``."""
    context = multiprocessing.get_context("fork")
    queue, started = context.Queue(), time.monotonic()
    until = started + seconds
    workers = [context.Process(target=_worker, args=(port, paths, until, queue)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=seconds + 60) for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    return sum(r[0] for r in results) / elapsed, sum(r[1] for r in results)


def _fetch(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock, sock.makefile("rb") as reader:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("ascii"))
        return reader.read().partition(b"\r\n\r\n")[2].decode("utf-8")


def main():
    """Run both phases and print the numbers; exit 1 when a goal is missed."""
    directory = tempfile.mkdtemp(prefix="devkit-server-bench-")
    procs = []
    try:
        devkit_proc, devkit_port = start_devkit(seed_store(directory), directory)
        procs.append(devkit_proc)
        exposition = _fetch(devkit_port, "/metrics")
        peer_proc, peer_port = start_peer(directory, exposition)
        procs.append(peer_proc)
        samples = sum(1 for line in exposition.splitlines() if line and not line.startswith("#"))
        print(
            f"registry: {samples} samples ({len(exposition)} bytes) on both servers; {PROCESSES * THREADS} clients"
        )
        mixed_rps, mixed_errors = load(devkit_port, ["/metrics", "/api/metrics", "/health/ready"], MIXED_S)
        print(
            f"devkit mixed /metrics,/api/metrics,/health/ready {MIXED_S:.0f} s: {mixed_rps:,.0f} req/s, "
            f"{mixed_errors} errors"
        )
        ours, our_errors = load(devkit_port, ["/metrics"], METRICS_S)
        theirs, their_errors = load(peer_port, ["/metrics"], METRICS_S)
        print(
            f"/metrics {METRICS_S:.0f} s: devkit {ours:,.0f} req/s ({our_errors} errors), "
            f"prometheus_client start_http_server {theirs:,.0f} req/s ({their_errors} errors)"
        )
        ratio = ours / theirs if theirs else float("inf")
        print(f"ratio devkit / prometheus_client: {ratio:.2f} (goal >= {GOAL})")
        return 0 if mixed_errors == 0 and our_errors == 0 and ratio >= GOAL else 1
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
