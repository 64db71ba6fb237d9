"""The routes as an ASGI callable, to mount in FastAPI/Starlette or any ASGI server (pure stdlib).

Routes do blocking SQLite reads, so each request runs in the event loop's default executor.
"""

import asyncio
import urllib.parse

from devkit.server.app import MAX_BODY_BYTES, Request, error_response


def asgi_app(config=None, token=None, clock=None):
    """An ASGI 3 application answering every ``devkit serve`` route (``config``: Config, path or None;
    ``clock`` for tests)."""
    from devkit.server.serving import make_app

    app = make_app(config, token, clock=clock)

    async def application(scope, receive, send):
        if scope["type"] == "lifespan":
            return await _lifespan(receive, send)
        if scope["type"] != "http":
            return None
        response = await _response(app, scope, receive)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.all_headers()]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.payload})
        return None

    application.devkit_app = app
    return application


async def _lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive):
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _response(app, scope, receive):
    body = await _read_body(receive)
    if body is False:
        return error_response(413, f"body over {MAX_BODY_BYTES} bytes")
    raw_path = scope.get("raw_path") or urllib.parse.quote(scope.get("path", "/")).encode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    target = raw_path.decode("latin-1") + ("?" + query if query else "")
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    request = Request(scope.get("method", "GET"), target, headers, body or b"")
    return await asyncio.get_running_loop().run_in_executor(None, app.handle, request)
