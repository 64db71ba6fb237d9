"""Start, run and stop the dashboard server: ``serve`` (blocks until Ctrl-C/SIGTERM) and ``serve_in_thread``."""

import ipaddress
import threading

from devkit.errors import UsageError

DEFAULT_HOST = "127.0.0.1"
STOP_TIMEOUT_S = 1.5


def is_loopback(host):
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host, token):
    """Refuse any address but loopback without a token: anyone who reaches it could read and reset metrics."""
    if not is_loopback(host) and not token:
        raise UsageError(
            f"server: refusing to listen on {host} without a token (set server.token or give one)"
        )


def settings(cfg, host=None, port=None, token=None):
    """(host, port, token) from the arguments, else the config's ``server`` section."""
    host = host or cfg.get("server", "host") or DEFAULT_HOST
    port = cfg.get("server", "port") if port is None else port
    token = token or cfg.secret(cfg.get("server", "token")) or None
    check_bind(host, token)
    return host, int(port), token


class Running:
    """A server answering in a background thread: ``url``, ``port``, ``app``; ``stop()`` ends it."""

    def __init__(self, server, app, on_stop=()):
        self.server, self.app = server, app
        self.host, self.port = server.server_address[:2]
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}/"
        self._on_stop = list(on_stop)
        self._finished = None
        self.thread = threading.Thread(target=server.serve_until_closed, name="devkit-serve", daemon=True)
        self.thread.start()

    def stop(self, timeout_s=STOP_TIMEOUT_S):
        """Stop accepting, finish requests in flight, flush what was recorded; True when all finished.

        Calling it again only returns the first answer.
        """
        if self._finished is None:
            self._finished = self.server.close_gracefully(timeout_s)
            self.thread.join(timeout_s)
            for callback in self._on_stop:
                callback()
            flush_recorded()
        return self._finished

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def flush_recorded():
    """Write what this process recorded with track()/instruments to the store (the one flush call)."""
    from devkit.metrics.api import flush

    return flush()


def serve_in_thread(config=None, host=None, port=None, token=None, demo=False, log=None, clock=None):
    """Start the server in a daemon thread and return a :class:`Running` (port 0 picks a free one).

    With ``demo`` the config is ignored: a simulated app feeds a store in a temporary folder.
    """
    cfg = _defaults() if demo else _config(config)
    host, bind_port, token = settings(cfg, host, port, token)
    server = _bind(host, bind_port, log, any_port_fallback=demo and port is None)
    on_stop = []
    if demo:
        from devkit.server.demo import start_demo

        try:
            cfg, stop_demo = start_demo(server.server_address[:2], token)
        except BaseException:
            server.server_close()
            raise
        on_stop.append(stop_demo)
    server.app = make_app(cfg, token, log, clock)
    return Running(server, server.app, on_stop)


def _bind(host, port, log, any_port_fallback=False):
    from devkit.errors import OperationError
    from devkit.server.httpd import DevkitServer

    try:
        return DevkitServer(host, port, None, log)
    except OSError as exc:
        if any_port_fallback and port:
            return _bind(host, 0, log)
        raise OperationError(f"server: cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(config=None, host=None, port=None, token=None, demo=False, log=None, on_ready=None):
    """Serve until SIGINT or SIGTERM, then finish requests in flight, flush and return the url served."""
    from devkit.service import stop_on_signals

    with stop_on_signals() as stop:
        running = serve_in_thread(config, host, port, token, demo, log)
        try:
            if on_ready is not None:
                on_ready(running.url)
            stop.wait()
        finally:
            running.stop()
    return running.url


def make_app(config=None, token=None, log=None, clock=None):
    """The App over ``config`` (a Config, a file path, or None to search) with its token (or server.token)."""
    import time

    from devkit.server.app import App

    cfg = _config(config)
    return App(cfg, token or cfg.secret(cfg.get("server", "token")), clock or time.time, log)


def _defaults():
    import os

    from devkit.config.model import build_config

    return build_config(os.getcwd(), None, {}, {}, {}, {}, "default")


def _config(config):
    if config is not None and not isinstance(config, str):
        return config
    from devkit.config import load_config

    return load_config(explicit=config)
