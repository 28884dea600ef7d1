"""Request-level guards: which origins may change state, and which text a question may carry.

Cross-site requests. A browser attaches the login cookie to any request to this server that a page
of the same *site* makes — and every port of a host is the same site, so SameSite=Lax does not stop
a page on ``http://host:8080`` from posting to ``http://host:7860``. The guard therefore looks at
the origin of every state-changing request (any method but GET, HEAD, OPTIONS, TRACE, and every
WebSocket handshake), on every route, the REST API and Gradio's own ``/gradio_api/...`` alike:

- an ``Origin`` header must be this server's own origin (scheme and Host of the request) or one
  listed in ``server.allowed_origins``; ``Origin: null`` never is;
- without ``Origin``, a ``Referer`` must come from such an origin;
- with neither, the request passes only if it carries no login cookie: API clients that send HTTP
  Basic credentials (curl, scripts) send no Origin and keep working, while a cookie is only ever
  sent by browsers, which always send ``Origin`` with these methods.

Refusals are 403 JSON ``{"detail": ...}``. CORS answers (``Access-Control-Allow-*``) are given only
to ``server.allowed_origins`` (Starlette's CORSMiddleware in ``ui.server``, inside this guard): a preflight
from any other origin gets a 400 without CORS headers here, and any CORS header a mounted app
(Gradio) adds for such an origin is stripped.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port, or None if it is no such origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def own_origins(scope: Scope, https_too: bool = False) -> set[str]:
    """The origins this request was addressed to: its scheme (behind a trusted proxy, the forwarded one)
    and Host header; also the https one when the server is configured to be reached through TLS."""
    host = Headers(scope=scope).get("host", "")
    if not host:
        return set()
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
    schemes = {scheme, "https"} if https_too else {scheme}
    return {o for s in schemes if (o := normalise_origin(f"{s}://{host}"))}


class OriginGuard:
    """Refuse state-changing requests from other origins (see the module docstring)."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str], cookie_name: str, https_too: bool = False):
        self.app, self.cookie_name, self.https_too = app, cookie_name, https_too
        self.allowed = {o for v in allowed_origins if (o := normalise_origin(v))}

    def refusal(self, scope: Scope) -> str | None:
        """Why the request must be refused, or None."""
        if scope["type"] == "http" and scope.get("method") in SAFE_METHODS:
            return None
        headers = Headers(scope=scope)
        trusted = own_origins(scope, self.https_too) | self.allowed
        origin = headers.get("origin")
        if origin is not None:
            if normalise_origin(origin) in trusted:
                return None
            return (f"cross-origin request refused: Origin {origin!r} is not this server's origin nor listed in "
                    "the allowed_origins setting")
        referer = headers.get("referer")
        if referer:
            if normalise_origin(referer) in trusted:
                return None
            return "cross-origin request refused: the Referer's origin is not this server's origin"
        if f"{self.cookie_name}=" in headers.get("cookie", ""):
            return ("a request with the login cookie must send an Origin (or Referer) header of this server's "
                    "origin; API clients may use HTTP Basic credentials without the cookie")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason = self.refusal(scope)
        if reason is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await _respond(send, 403, {"detail": reason})
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or normalise_origin(origin) in self.allowed:
            await self.app(scope, receive, send)
            return
        if scope.get("method") == "OPTIONS" and "access-control-request-method" in headers:
            # A CORS preflight from an origin that is not listed: no CORS headers at all.
            await _respond(send, 400, {"detail": f"CORS is not allowed for origin {origin!r}"})
            return

        async def without_cors(message: Message) -> None:
            # Gradio answers any localhost origin with credentialed CORS headers: not here.
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name in [k for k in headers if k.lower().startswith("access-control-")]:
                    del headers[name]
            await send(message)

        await self.app(scope, receive, without_cors)


async def _respond(send: Send, status: int, payload: dict[str, str]) -> None:
    body = json.dumps(encodable(payload)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def encodable(value: object) -> object:
    """``value`` with every string made UTF-8 encodable (lone surrogates as ``\\udXXX`` escapes)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(v) for v in value]
    return value
