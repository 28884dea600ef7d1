"""The app's ASGI middleware: body limits, the login redirect of the UI page, and the stack ``create_app`` adds."""

from __future__ import annotations

import secrets

from civicrag.ui.auth import User
from civicrag.ui.context import AppContext
from civicrag.ui.security import OriginGuard
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "civicrag_session"


class BodyLimit:
    """Refuse request bodies over a limit with a 413 JSON error, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, api_limit: int, upload_limit: int):
        self.app, self.api_limit, self.upload_limit = app, api_limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        # The JSON API and the login form get the small limit; Gradio's own calls carry the
        # conversation and uploads, so they get the upload limit (Gradio also checks file sizes).
        limit = self.api_limit if path.startswith("/api/") or path == "/login" else self.upload_limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0
        exceeded = False
        replied = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The app may turn our signal into its own error response (FastAPI answers 400); say 413.
            nonlocal replied
            if exceeded:
                if not replied:
                    replied = True
                    await _too_large(send, limit)
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not replied:
                await _too_large(send, limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"detail":"request body too large (limit {limit // 1024} KB)"}}'.encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class LoginRedirect:
    """Send a browser without a session from the UI page to ``/login`` (Gradio alone would answer 401)."""

    def __init__(self, app: ASGIApp, ctx: AppContext):
        self.app, self.ctx = app, ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http" and scope.get("method") == "GET" and scope.get("path") == "/"
            and not isinstance(await self.ctx.authenticate(scope), User)
        ):
            response = RedirectResponse("/login", status_code=303)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def add_middleware(app: FastAPI, ctx: AppContext) -> None:
    """Outermost last: OriginGuard > CORS (allowed_origins only) > session cookie > body limit > login redirect."""
    settings = ctx.settings
    app.add_middleware(LoginRedirect, ctx=ctx)
    app.add_middleware(
        BodyLimit, api_limit=settings.server.max_body_kb * 1024,
        upload_limit=int(settings.server.upload_max_mb * 1024 * 1024) + 64 * 1024,  # room for multipart framing
    )
    secret = (
        settings.auth.session_secret.get_secret_value() if settings.auth.session_secret else secrets.token_urlsafe(32)
    )
    app.add_middleware(
        SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE,
        max_age=settings.auth.session_max_age_s, same_site="lax",
        # Off by default: the quick start serves plain HTTP on 127.0.0.1, where a Secure cookie is never sent.
        https_only=settings.auth.session_https_only,
    )
    # Credentialed CORS for the listed origins only. Its presence also makes Gradio leave CORS to the
    # parent app (Gradio's own middleware would answer any localhost origin with credentials).
    app.add_middleware(
        CORSMiddleware, allow_origins=list(settings.server.allowed_origins), allow_credentials=True,
        allow_methods=["*"], allow_headers=["*"], max_age=600,
    )
    app.add_middleware(
        OriginGuard, allowed_origins=list(settings.server.allowed_origins), cookie_name=SESSION_COOKIE,
        https_too=settings.auth.session_https_only,
    )
