"""A fake Ollama server on 127.0.0.1 that lists one model, to try `devkit health` without Ollama.

python3 examples/fake_ollama.py --port 11434 --model llama3:latest --serve-for 60 &
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_handler(models):
    """A request handler whose GET /api/tags lists ``models``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/api/tags":
                self.send_error(404)
                return
            body = json.dumps({"models": [{"name": name} for name in models]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def main():
    """Serve until Ctrl-C (or for ``--serve-for`` seconds); prints the address once it listens."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--model", action="append", default=None)
    parser.add_argument(
        "--serve-for",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop by itself after this many seconds (for walk-throughs run in the background)",
    )
    args = parser.parse_args()
    try:
        server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.model or ["llama3:latest"]))
    except OSError as exc:
        sys.exit(f"fake_ollama: cannot listen on 127.0.0.1:{args.port}: {exc.strerror} (is Ollama running?)")
    if args.serve_for is not None:
        stopper = threading.Timer(args.serve_for, server.shutdown)
        stopper.daemon = True  # Ctrl-C must not wait for the timer
        stopper.start()
    print(f"fake ollama on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
