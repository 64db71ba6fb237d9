"""The routes as a WSGI callable, to mount in Flask, Django or any WSGI server (pure stdlib)."""

import urllib.parse

from devkit.server.app import MAX_BODY_BYTES, Request, error_response


def wsgi_app(config=None, token=None, clock=None):
    """A WSGI application answering every ``devkit serve`` route (``config``: Config, path or None;
    ``clock`` for tests)."""
    from devkit.server.serving import make_app

    app = make_app(config, token, clock=clock)

    def application(environ, start_response):
        response = _response(app, environ)
        start_response(f"{response.status} {response.reason}", response.all_headers())
        return [response.payload]

    application.devkit_app = app
    return application


def _response(app, environ):
    text = (environ.get("CONTENT_LENGTH") or "0").strip()
    if not text.isdigit():
        return error_response(400, "bad Content-Length")
    if int(text) > MAX_BODY_BYTES:
        return error_response(413, f"body over {MAX_BODY_BYTES} bytes")
    body = environ["wsgi.input"].read(int(text)) if int(text) else b""
    raw_path = environ.get("PATH_INFO", "/").encode("latin-1")
    query = environ.get("QUERY_STRING", "")
    target = urllib.parse.quote(raw_path) + ("?" + query if query else "")
    return app.handle(Request(environ.get("REQUEST_METHOD", "GET"), target, _headers(environ), body))


def _headers(environ):
    headers = [
        (key[5:].replace("_", "-"), value) for key, value in environ.items() if key.startswith("HTTP_")
    ]
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers.append((key.replace("_", "-"), environ[key]))
    return headers
