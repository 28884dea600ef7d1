"""One ASGI app: the REST API (FastAPI), login, original documents, and the Gradio UI at ``/``.

``create_app(settings)`` builds it without serving; ``serve(settings, host, port)`` runs it with
uvicorn. Nothing is loaded at import time; the RagService loads its indexes on the first question.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import anyio
from civicrag.ingest.store.lease import INGEST, live_holder
from civicrag.rag.request import TextError, clean_text
from civicrag.ui.admin import AdminOps, documents_table
from civicrag.ui.amendments import routes as amendment_routes
from civicrag.ui.auth import DEMO_USER, SESSION_KEY, User, Users
from civicrag.ui.feedback import FeedbackStore
from civicrag.ui.gaps import GapLog, report_csv
from civicrag.ui.originals import (
    CSP,
    RENDERED_SUFFIXES,
    attachment_file,
    document_title,
    original_file,
    render_original,
)
from civicrag.ui.security import OriginGuard, encodable
from civicrag.ui.sessions import LoginThrottle, Refusal, SessionStore
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, SecretStr, field_validator
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicrag.settings import ConfigError, Settings

FILTER_NAMES = ("jurisdiction", "kind", "doc", "doc_id", "language", "provision_kind", "article", "department")
SESSION_COOKIE = "civicrag_session"
_AUTH_SCOPE_KEY = "civicrag.auth"  # the request's resolved user (or throttle refusal), once per request


def client_address(scope: Scope) -> str:
    """The client's address: the peer, or behind a proxy that uvicorn trusts (--forwarded-allow-ips),
    the X-Forwarded-For address it puts there."""
    client = scope.get("client")
    return str(client[0]) if client else ""


@dataclass
class AppContext:
    """Everything a request handler needs, built once per server."""

    settings: Settings
    users: Users
    service: Any  # rag.service.RagService (imported lazily: it pulls numpy, the embedder, ...)
    feedback: FeedbackStore
    admin: AdminOps
    sessions: SessionStore
    throttle: LoginThrottle
    gaps: GapLog | None = None  # refused questions and 👎 (settings.gap_log)
    extra: dict[str, Any] = field(default_factory=dict)
    # bcrypt runs here, two at a time: off the event loop, and never more than the cores can take.
    password_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="bcrypt")
    )

    @classmethod
    def create(cls, settings: Settings, service: Any | None = None) -> AppContext:
        if service is None:
            from civicrag.rag.service import RagService

            service = RagService(settings)
        auth_db = settings.data_dir / "auth.sqlite3"
        return cls(
            settings=settings,
            users=Users(settings),
            service=service,
            feedback=FeedbackStore(settings.data_dir / "feedback.sqlite3"),
            admin=AdminOps(settings),
            sessions=SessionStore(auth_db, settings.session_max_age_s),
            throttle=LoginThrottle(
                auth_db, after=settings.login_throttle_after, base_s=settings.login_throttle_base_s,
                max_s=settings.login_throttle_max_s, window_s=settings.login_failure_window_s,
            ),
            gaps=GapLog.for_settings(settings) if settings.gap_log else None,
        )

    async def check_password(self, name: str, password: str, address: str) -> User | Refusal | None:
        """The user if the password is right; a Refusal while the account or address is throttled; else None.

        bcrypt runs in ``password_pool``, never on the event loop; a password verified before
        (an API client sending Basic credentials with every request) costs no bcrypt.
        """

        def before() -> User | Refusal | None:
            refusal = self.throttle.refusal(name, address)
            if refusal is not None:
                return refusal
            if (user := self.users.cached(name, password)) is not None:
                return user
            return self.throttle.attempt(name, address)  # counted as a failure until it succeeds

        first = await anyio.to_thread.run_sync(before)
        if first is not None:
            return first
        loop = asyncio.get_running_loop()
        user = await loop.run_in_executor(self.password_pool, self.users.verify, name, password)
        if user is not None:
            await anyio.to_thread.run_sync(self.throttle.succeeded, name, address)
        return user

    async def authenticate(self, scope: Scope) -> User | Refusal | None:
        """The user of a request (session cookie, then HTTP Basic), the demo user, a Refusal, or None."""
        if _AUTH_SCOPE_KEY in scope:
            return scope[_AUTH_SCOPE_KEY]  # type: ignore[no-any-return]
        result: User | Refusal | None = None
        if self.users.open_demo:
            result = self.users.user(DEMO_USER)
        else:
            token = (scope.get("session") or {}).get(SESSION_KEY)
            if token:
                result = self.users.user(await anyio.to_thread.run_sync(self.sessions.user, token))
            if result is None:
                basic = Users.parse_basic(Headers(scope=scope).get("authorization"))
                if basic is not None:
                    result = await self.check_password(*basic, client_address(scope))
        scope[_AUTH_SCOPE_KEY] = result
        return result

    def close(self) -> None:
        self.admin.wait(timeout=60)
        self.service.close()
        self.feedback.close()
        self.password_pool.shutdown(wait=False)
        self.sessions.close()
        self.throttle.close()
        if self.gaps is not None:
            self.gaps.close()  # writes what is still queued


# -- request bodies ------------------------------------------------------------------
def _clean(value: str) -> str:
    try:
        return clean_text(value)
    except TextError as exc:
        raise ValueError(str(exc)) from None


class Turn(BaseModel):
    role: str = Field("user", pattern="^(user|assistant|system)$")
    content: str = Field(..., max_length=20000)

    @field_validator("content")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean(value)


class AskRequest(BaseModel):
    question: str = Field(..., min_length=1, description="The question, in Korean or English.")
    history: list[Turn] | None = Field(None, max_length=40, description="Earlier turns, oldest first.")
    k: int | None = Field(None, ge=1, le=100, description="Chunks the answer may draw on.")
    as_of: str | None = Field(None, description="YYYY-MM-DD: answer from the versions in force that day.")
    filters: dict[str, str] | None = Field(None, description=f"Keys: {', '.join(FILTER_NAMES)}.")

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        """NFC, control characters dropped; a lone surrogate or NUL is a 422 with a clear message."""
        value = _clean(value).strip()
        if not value:
            raise ValueError("the question is empty once control characters are removed")
        return value

    @field_validator("as_of")
    @classmethod
    def _as_of(cls, value: str | None) -> str | None:
        return None if value is None else _clean(value)

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else {_clean(k): _clean(v) for k, v in value.items()}


class IngestRequest(BaseModel):
    prune: bool = Field(False, description="Also drop documents whose files are gone.")
    wait: bool = Field(True, description="Answer when the run has finished (else 202 at once; poll GET).")


class LocalIngestRequest(BaseModel):
    """``civicrag ingest`` handing its paths to the server that holds the embedded Chroma folder."""

    paths: list[str] = Field(..., min_length=1, max_length=1000)
    prune: bool = False


# -- middleware -------------------------------------------------------------------------
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


# -- dependencies -----------------------------------------------------------------------
async def require_user(request: Request) -> User:
    result = await request.app.state.ctx.authenticate(request.scope)
    if isinstance(result, Refusal):
        raise HTTPException(429, result.message, headers={"Retry-After": str(result.retry_after_s)})
    if result is None:
        raise HTTPException(401, "login required", headers={"WWW-Authenticate": 'Basic realm="civicrag"'})
    return result  # type: ignore[no-any-return]


def require_admin(user: Annotated[User, Depends(require_user)]) -> User:
    if not user.is_admin:
        raise HTTPException(403, "admin role required")
    return user


UserDep = Annotated[User, Depends(require_user)]
AdminDep = Annotated[User, Depends(require_admin)]


# -- the app ----------------------------------------------------------------------------
def create_app(
    settings: Settings,
    service: Any | None = None,
    with_ui: bool = True,
    local_token: str | None = None,
    preload: bool = False,
) -> FastAPI:
    """The app; ``local_token`` (set by ``serve`` on embedded Chroma) lets ``civicrag ingest`` on this host
    hand its paths to this server (``ui.handoff``); ``preload`` loads the indexes before the first request."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    ctx = AppContext.create(settings, service)
    app = FastAPI(
        title="civicrag API",
        version="0.1.0",
        description=(
            "Answers questions over municipal regulations with article-level citations.\n\n"
            "Authentication: HTTP Basic with a user from the settings, or the session cookie set by "
            "`/login`. Admin endpoints need the admin role. In open-demo mode no login is needed.\n\n"
            "State-changing requests (POST, PUT, PATCH, DELETE) that carry an `Origin` or `Referer` header "
            "must come from this server's own origin or one in the `allowed_origins` setting; a request "
            "with the login cookie must send one. HTTP Basic clients without the cookie need neither. "
            "Failed logins are throttled per account and client address (429 with `Retry-After`)."
        ),
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(ctx, preload),
    )
    app.state.ctx = ctx


    # -- login -------------------------------------------------------------------------
    @app.exception_handler(RequestValidationError)
    async def unprocessable(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the input, which fails to encode when it holds a lone
        # surrogate (a 500); here every string is made encodable first.
        errors = []
        for error in exc.errors():
            if error.get("type") == "string_unicode":  # pydantic's word for a lone surrogate in a str field
                error = {**error, "msg": "text contains a lone surrogate (half of a UTF-16 pair, e.g. \\ud800), "
                         "which is not a character; send valid UTF-8"}
            errors.append(error)
        return JSONResponse({"detail": encodable(jsonable_encoder(errors))}, status_code=422)

    @app.get("/login", include_in_schema=False)
    def login_page(error: str = "") -> HTMLResponse:
        return _login_page(WRONG_LOGIN if error else "")

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("username", "")), str(form.get("password", ""))
        address = client_address(request.scope)
        result = await ctx.check_password(name, password, address)
        if isinstance(result, Refusal):
            return _login_page(result.message, status=429, headers={"Retry-After": str(result.retry_after_s)})
        if result is None:
            return RedirectResponse("/login?error=1", status_code=303)
        old = request.session.get(SESSION_KEY)
        if old:
            await anyio.to_thread.run_sync(ctx.sessions.revoke, str(old))
        token = await anyio.to_thread.run_sync(
            ctx.sessions.create, result.name, address, request.headers.get("user-agent", "")
        )
        request.session.clear()  # a new session id on every login: no fixation
        request.session[SESSION_KEY] = token
        return RedirectResponse("/", status_code=303)

    @app.get("/logout", include_in_schema=False)
    def logout(request: Request) -> RedirectResponse:
        token = request.session.get(SESSION_KEY)
        if token:
            ctx.sessions.revoke(str(token))  # a copy of the cookie stops working too
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- API -----------------------------------------------------------------------------
    @app.post("/api/ask", tags=["questions"], summary="Answer a question (same JSON as `civicrag ask --json`)")
    def api_ask(body: AskRequest, user: UserDep, response: Response) -> dict[str, Any]:
        response.headers["X-Civicrag-Worker"] = str(os.getpid())  # which worker process answered
        if len(body.question) > settings.server_question_max_chars:
            raise HTTPException(422, f"question longer than {settings.server_question_max_chars} characters")
        if body.as_of:
            try:
                date.fromisoformat(body.as_of)
            except ValueError as exc:
                raise HTTPException(422, f"as_of wants YYYY-MM-DD, got {body.as_of!r}") from exc
        filters = dict(body.filters or {})
        unknown = sorted(set(filters) - set(FILTER_NAMES))
        if unknown:
            raise HTTPException(422, f"unknown filter(s) {', '.join(unknown)}; allowed: {', '.join(FILTER_NAMES)}")
        history = [t.model_dump() for t in body.history or []]
        result = ctx.service.ask(body.question, history=history or None, k=body.k, as_of=body.as_of or None,
                                 filters=filters)
        data: dict[str, Any] = result.to_dict()
        if ctx.gaps is not None:
            ctx.gaps.refused(data, user.name, "api")  # enqueued; written off the answer path
        return data

    @app.get("/api/status", tags=["index"], summary="What is indexed, failures, and the running ingest")
    def api_status(user: UserDep) -> dict[str, Any]:
        store = ctx.service.store
        info = store.status()
        info["failed"] = [{"path": p, "error": e} for p, e in store.manifest.failures()]
        info["ingest"] = ctx.admin.job.snapshot()
        # An ingest in any process (the CLI, another worker, another host) holds the lease.
        writer = live_holder(settings.manifest_path, INGEST, settings.ingest_lease_ttl_s)
        info["ingest_lease"] = None if writer is None else {"pid": writer.pid, "host": writer.host,
                                                            "since": writer.started}
        info["worker"] = os.getpid()
        info["user"] = {"name": user.name, "role": user.role}
        info["auth_mode"] = settings.auth_mode
        return info  # type: ignore[no-any-return]

    @app.get("/api/documents", tags=["index"], summary="Indexed documents with versions and chunk counts")
    def api_documents(user: UserDep) -> list[dict[str, Any]]:
        return documents_table(ctx.service.store.manifest)

    @app.post("/api/ingest", tags=["admin"], summary="Re-ingest the source folders and uploads (admin)")
    def api_ingest(admin: AdminDep, body: IngestRequest | None = None) -> JSONResponse:
        body = body or IngestRequest()
        if not ctx.admin.start_ingest(prune=body.prune):
            raise HTTPException(409, ctx.admin.refusal)
        if not body.wait:
            return JSONResponse(ctx.admin.job.snapshot(), status_code=202)
        snapshot = ctx.admin.wait()
        return JSONResponse(snapshot, status_code=500 if snapshot["error"] else 200)

    @app.get("/api/ingest", tags=["admin"], summary="Progress of the current or last ingest (admin)")
    def api_ingest_status(admin: AdminDep) -> dict[str, Any]:
        return ctx.admin.job.snapshot()

    @app.delete("/api/documents/{doc_id:path}", tags=["admin"], summary="Delete a document, all versions (admin)")
    def api_delete(doc_id: str, admin: AdminDep) -> dict[str, Any]:
        try:
            found = ctx.admin.delete_document(doc_id)
        except RuntimeError as exc:
            raise HTTPException(409, str(exc)) from exc
        if not found:
            raise HTTPException(404, f"no indexed document {doc_id!r}")
        return {"deleted": doc_id}

    @app.get("/api/feedback.csv", tags=["admin"], summary="All feedback as CSV (admin)")
    def api_feedback(admin: AdminDep) -> PlainTextResponse:
        return PlainTextResponse(
            ctx.feedback.to_csv(), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": "attachment; filename=civicrag-feedback.csv"},
        )

    @app.get("/api/gaps", tags=["admin"], summary="Content-gap report: refused and 👎 questions, grouped (admin)")
    def api_gaps(admin: AdminDep, since: str | None = None, with_users: bool = False) -> dict[str, Any]:
        return _gap_log(ctx).report(_since(since), with_users=with_users).to_dict()

    @app.get("/api/gaps.csv", tags=["admin"], summary="Content-gap report as CSV, one row per topic (admin)")
    def api_gaps_csv(admin: AdminDep, since: str | None = None, with_users: bool = False) -> PlainTextResponse:
        report = _gap_log(ctx).report(_since(since), with_users=with_users)
        return PlainTextResponse(
            report_csv(report), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": "attachment; filename=civicrag-gaps.csv"},
        )

    @app.get("/api/sessions", tags=["admin"], summary="Live login sessions (admin)")
    def api_sessions(admin: AdminDep) -> list[dict[str, Any]]:
        return ctx.sessions.list()

    @app.delete("/api/sessions/{session_id}", tags=["admin"], summary="End a login session (admin)")
    def api_revoke_session(session_id: str, admin: AdminDep) -> dict[str, Any]:
        if not ctx.sessions.revoke_id(session_id):
            raise HTTPException(404, f"no live session {session_id!r}")
        return {"revoked": session_id}
    if local_token:
        _mount_local_ingest(app, ctx, local_token)

    # -- original documents ------------------------------------------------------------------
    @app.get("/doc", tags=["index"], summary="The original file of an indexed document (or of its attachment)")
    def original(user: UserDep, id: str, version: str | None = None, part: str | None = None) -> Response:
        """``part`` names an ingested attachment (``별표 5``): its own file is served instead."""
        manifest = ctx.service.store.manifest
        path = attachment_file(manifest, id, version, part) if part else original_file(manifest, id, version)
        if path is None:
            raise HTTPException(404, "no such document or attachment, or its file is gone")
        headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
        suffix = path.suffix.lower()
        if suffix == ".pdf":
            return FileResponse(path, media_type="application/pdf", headers=headers,
                                content_disposition_type="inline", filename=path.name)
        if suffix in RENDERED_SUFFIXES:
            return HTMLResponse(render_original(path, document_title(manifest, id)), headers=headers)
        # Word and HWP files: the browser cannot show them; hand them over as a download.
        return FileResponse(path, media_type="application/octet-stream", headers=headers, filename=path.name)

    # -- amendment comparison (신구조문 대비): GET /diff and /api/diff, see ui/amendments.py ---------------
    app.include_router(amendment_routes(lambda: ctx.service.store.manifest, require_user))

    # -- API docs, served offline ---------------------------------------------------------------
    _mount_docs(app)

    if not with_ui:
        @app.get("/", include_in_schema=False)
        def no_ui() -> HTMLResponse:
            return HTMLResponse(
                "<!doctype html><meta charset='utf-8'><title>civicrag</title><p>This server serves the REST API "
                "only (<a href='/docs'>/docs</a>). The chat is served by a single-process <code>civicrag serve</code>"
                ": Gradio keeps each chat's state in one process.</p>",
                headers={"Content-Security-Policy": CSP},
            )
    else:
        import gradio as gr
        from civicrag.ui.web import build_blocks, theme

        async def gradio_user(request: Request) -> str | None:
            result = await ctx.authenticate(request.scope)
            return result.name if isinstance(result, User) else None

        blocks = build_blocks(ctx)
        gr.mount_gradio_app(
            app, blocks, path="/",
            auth_dependency=gradio_user,
            max_file_size=int(settings.upload_max_mb * 1024 * 1024),
            footer_links=[], ssr_mode=False, mcp_server=False, pwa=False, run_history=False,
            theme=theme(), css=_ui_css(), show_error=True,
        )
        # Gradio checks that a file given to an event was uploaded by a user (and not any path on the
        # server) only once the Blocks "has launched", which mount_gradio_app never marks: mark it.
        # ui.web's upload handler checks again.
        blocks.has_launched = True
    # Outermost last: OriginGuard > CORS (allowed_origins only) > session cookie > body limit > login redirect.
    app.add_middleware(LoginRedirect, ctx=ctx)
    app.add_middleware(
        BodyLimit, api_limit=settings.server_max_body_kb * 1024,
        upload_limit=int(settings.upload_max_mb * 1024 * 1024) + 64 * 1024,  # room for multipart framing
    )
    secret = settings.session_secret.get_secret_value() if settings.session_secret else secrets.token_urlsafe(32)
    app.add_middleware(
        SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_s, same_site="lax",
        # Off by default: the quick start serves plain HTTP on 127.0.0.1, where a Secure cookie is never sent.
        https_only=settings.session_https_only,
    )
    # Credentialed CORS for the listed origins only. Its presence also makes Gradio leave CORS to the
    # parent app (Gradio's own middleware would answer any localhost origin with credentials).
    app.add_middleware(
        CORSMiddleware, allow_origins=list(settings.allowed_origins), allow_credentials=True,
        allow_methods=["*"], allow_headers=["*"], max_age=600,
    )
    app.add_middleware(
        OriginGuard, allowed_origins=list(settings.allowed_origins), cookie_name=SESSION_COOKIE,
        https_too=settings.session_https_only,
    )
    return app


def _gap_log(ctx: AppContext) -> GapLog:
    if ctx.gaps is None:
        raise HTTPException(404, "the content-gap log is off (setting gap_log)")
    return ctx.gaps


def _since(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise HTTPException(422, f"since wants YYYY-MM-DD, got {value!r}") from exc


def _mount_local_ingest(app: FastAPI, ctx: AppContext, token: str) -> None:
    """``civicrag ingest`` on this host, when this server holds the embedded Chroma folder (``ui.handoff``).

    Authorised by the token this server wrote into the data folder's ``chroma`` lease: whoever can read
    the manifest can already change the index. Not in the API schema; not for browsers.
    """
    from civicrag.ui.handoff import LOCAL_INGEST_PATH, TOKEN_HEADER

    def check(request: Request) -> None:
        if not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), token):
            raise HTTPException(403, "not the token of this server's data folder")

    @app.post(LOCAL_INGEST_PATH, include_in_schema=False)
    def local_ingest(body: LocalIngestRequest, request: Request) -> JSONResponse:
        check(request)
        paths = [Path(p) for p in body.paths]
        missing = [str(p) for p in paths if not p.is_absolute() or not p.exists()]
        if missing:
            raise HTTPException(422, f"no such file or folder: {', '.join(missing)}")
        if not ctx.admin.start_ingest(prune=body.prune, paths=paths):
            raise HTTPException(409, ctx.admin.refusal)
        return JSONResponse(ctx.admin.job.snapshot(), status_code=202)

    @app.get(LOCAL_INGEST_PATH, include_in_schema=False)
    def local_ingest_status(request: Request, id: str) -> dict[str, Any]:
        check(request)
        job = ctx.admin.jobs.get(id)
        if job is None:
            raise HTTPException(404, "no such ingest")
        return job.snapshot()


def _lifespan(ctx: AppContext, preload: bool = False) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if preload:
            import anyio

            await anyio.to_thread.run_sync(ctx.service.load)
        yield
        ctx.close()  # let a running ingest finish its transaction, close SQLite and Chroma

    return lifespan


def _ui_css() -> str:
    from civicrag.ui.render import CSS

    return CSS


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the assets bundled in fastapi-offline (FastAPI's default loads a CDN)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    try:
        import fastapi_offline
    except ImportError:  # docs page unavailable; /openapi.json still is
        return
    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/api-docs-static", StaticFiles(directory=static), name="api-docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="civicrag API",
            swagger_js_url="/api-docs-static/swagger-ui-bundle.js",
            swagger_css_url="/api-docs-static/swagger-ui.css",
            swagger_favicon_url="/api-docs-static/favicon.png",
        )


WRONG_LOGIN = "사용자 이름 또는 비밀번호가 틀렸습니다. / Wrong user name or password."


def _login_page(message: str = "", status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(
        _login_html(message), status_code=status,
        headers={"Content-Security-Policy": CSP.replace("form-action 'none'", "form-action 'self'"),
                 **(headers or {})},
    )


def _login_html(message: str) -> str:
    import html

    shown = f"<p class='err' role='alert'>{html.escape(message)}</p>" if message else ""
    return (
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>civicrag — 로그인</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><style>"
        "body{font-family:system-ui,sans-serif;display:flex;justify-content:center;margin-top:10vh}"
        "form{display:flex;flex-direction:column;gap:.6rem;min-width:18rem;max-width:28rem}"
        "input,button{font-size:1rem;padding:.4rem}.err{color:#b91c1c}</style></head><body>"
        f"<form method='post' action='/login'><h1>civicrag</h1>{shown}"
        "<label>사용자 이름 / User name<input name='username' autocomplete='username' required></label>"
        "<label>비밀번호 / Password<input name='password' type='password' autocomplete='current-password' required>"
        "</label><button type='submit'>로그인 / Log in</button></form></body></html>"
    )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, workers: int = 1) -> None:
    """Run the app with uvicorn: one process, or ``workers`` processes over a ``chroma run`` server.

    Each process answers from the index generation it last loaded and reloads when the manifest's
    generation moves on (``RagService.load``), so an ingest from any process shows without a restart.
    """
    import uvicorn

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    if workers > 1:
        if not settings.chroma_host:
            raise ConfigError(
                "several workers need a Chroma server: embedded Chroma allows one process per data folder; "
                "run `chroma run --path DIR --port 8000` and set [chroma] host and port"
            )
        if settings.session_secret is None:  # every worker must accept the login cookies of the others
            settings = settings.model_copy(update={"session_secret": SecretStr(secrets.token_urlsafe(32))})
        os.environ[WORKER_SETTINGS_ENV] = settings_json(settings)
        uvicorn.run("civicrag.ui.server:worker_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", timeout_worker_healthcheck=settings.server_worker_healthcheck_s)
        return
    if settings.chroma_host:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # Embedded Chroma: this process owns the data folder's PersistentClient while it runs, and takes
    # `civicrag ingest`s of this host in through /api/ingest/local (ui.handoff).
    from civicrag.ui.handoff import chroma_lease

    token = secrets.token_urlsafe(32)
    local = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    lease = chroma_lease(settings, info={"url": f"http://{local}:{port}", "token": token})
    told = False
    while (holder := lease.try_acquire()) is not None:
        if holder.info.get("url"):
            lease.close()
            raise ConfigError(
                f"another server ({holder.info['url']}, {holder.describe()}) has this data folder's embedded "
                "Chroma open, and it allows one process; stop that one, or run `chroma run` and set "
                "[chroma] host for several"
            )
        if not told:
            print(f"waiting for the ingest ({holder.describe()}) writing {settings.data_dir} to finish ...",
                  file=sys.stderr, flush=True)
            told = True
        time.sleep(1)
    try:
        uvicorn.run(create_app(settings, local_token=token), host=host, port=port, log_level="info")
    finally:
        lease.release()


WORKER_SETTINGS_ENV = "CIVICRAG_WORKER_SETTINGS"


def settings_json(settings: Settings) -> str:
    """The settings for a worker process, secrets included (the environment of one's own children)."""
    data = settings.model_dump(mode="json")
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
    return json.dumps(data)


def worker_app() -> FastAPI:
    """The app of one of several uvicorn workers: the API without the Gradio chat, whose per-chat state
    lives in one process (gradio-app/gradio#10487).

    ``serve(workers=N)`` passes its settings down; run directly (``uvicorn --factory ui.server:worker_app``,
    or gunicorn's uvicorn worker) it reads them as ``civicrag`` does: ``CIVICRAG_CONFIG`` / ``./civicrag.toml``
    and ``CIVICRAG_*``, which must then name a Chroma server and a ``session_secret``.
    """
    from civicrag.settings import load_settings

    payload = os.environ.get(WORKER_SETTINGS_ENV)
    settings = Settings(**json.loads(payload)) if payload else load_settings()
    if not settings.chroma_host:
        raise ConfigError("several workers need a Chroma server: set [chroma] host and port (`chroma run`)")
    return create_app(settings, with_ui=False, preload=True)


__all__ = ["AppContext", "create_app", "serve", "worker_app"]
