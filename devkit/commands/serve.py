"""``devkit serve``: the live dashboard, JSON API, ``/metrics`` and ``/health/*`` on 127.0.0.1 by default."""

import argparse

from devkit.output import emit


def add_arguments(parser):
    """--host, --port, --token, --open, --demo."""
    parser.description = (
        "Serve the live dashboard, the JSON API, /metrics (Prometheus) and /health/* probes "
        "until Ctrl-C or SIGTERM. Any address but loopback needs a token."
    )
    parser.add_argument("--host", metavar="ADDR", help="address to bind (default: server.host, 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, metavar="N", help="port (default: server.port, 8765; 0 = any free)"
    )
    parser.add_argument(
        "--token",
        metavar="T",
        help="bearer token every route but /health and /health/live needs " "(default: server.token)",
    )
    parser.add_argument("--open", action="store_true", help="open the dashboard in a web browser")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="feed a simulated LLM workload into a store of its own in a temporary folder",
    )


def _port(text):
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return int(text)


def run(ctx, args):
    """Serve until Ctrl-C/SIGTERM; print where, then (with --json) what was served."""
    from devkit.server import serve

    log = ctx.err if ctx.verbose else None
    config = None if args.demo else ctx.config

    def ready(url):
        ctx.info(f"devkit serve: dashboard at {url} (Ctrl-C to stop)")
        if args.open:
            import webbrowser

            webbrowser.open(url)

    url = serve(config, args.host, args.port, args.token, demo=args.demo, log=log, on_ready=ready)
    ctx.info("devkit serve: stopped")
    emit(ctx, {"url": url, "stopped": True}, lambda c, d: "")
    return 0
