"""One ASGI app: the REST API (FastAPI), login, original documents, and the Gradio UI at ``/``.

``create_app(settings)`` builds it without serving; ``serve(settings, host, port)`` runs it with
uvicorn. Nothing is loaded at import time; the RagService loads its indexes on the first question.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, SecretStr
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicrag.settings import ConfigError, Settings
from ingest.store.lease import INGEST, live_holder
from ui.admin import AdminOps, documents_table
from ui.auth import DEMO_USER, SESSION_KEY, User, Users
from ui.feedback import FeedbackStore
from ui.originals import CSP, RENDERED_SUFFIXES, document_title, original_file, render_original

FILTER_NAMES = ("jurisdiction", "kind", "doc", "doc_id", "language", "provision_kind", "article")


@dataclass
class AppContext:
    """Everything a request handler needs, built once per server."""

    settings: Settings
    users: Users
    service: Any  # rag.service.RagService (imported lazily: it pulls numpy, the embedder, ...)
    feedback: FeedbackStore
    admin: AdminOps
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings, service: Any | None = None) -> AppContext:
        if service is None:
            from rag.service import RagService

            service = RagService(settings)
        return cls(
            settings=settings,
            users=Users(settings),
            service=service,
            feedback=FeedbackStore(settings.data_dir / "feedback.sqlite3"),
            admin=AdminOps(settings),
        )

    def user_of(self, request: Any) -> User | None:
        """The user of an HTTP request (session cookie, then HTTP Basic), or the demo user."""
        if self.users.open_demo:
            return self.users.user(DEMO_USER)
        session = request.scope.get("session") if hasattr(request, "scope") else None
        name = (session or {}).get(SESSION_KEY)
        if name:
            user = self.users.user(name)
            if user:
                return user
        headers = getattr(request, "headers", None) or {}
        return self.users.from_basic(headers.get("authorization"))

    def close(self) -> None:
        self.admin.wait(timeout=60)
        self.service.close()
        self.feedback.close()


# -- request bodies ------------------------------------------------------------------
class Turn(BaseModel):
    role: str = Field("user", pattern="^(user|assistant|system)$")
    content: str = Field(..., max_length=20000)


class AskRequest(BaseModel):
    question: str = Field(..., min_length=1, description="The question, in Korean or English.")
    history: list[Turn] | None = Field(None, max_length=40, description="Earlier turns, oldest first.")
    k: int | None = Field(None, ge=1, le=100, description="Chunks the answer may draw on.")
    as_of: str | None = Field(None, description="YYYY-MM-DD: answer from the versions in force that day.")
    filters: dict[str, str] | None = Field(None, description=f"Keys: {', '.join(FILTER_NAMES)}.")


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
            and not self.ctx.users.open_demo
            and not (scope.get("session") or {}).get(SESSION_KEY)
        ):
            response = RedirectResponse("/login", status_code=303)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


# -- dependencies -----------------------------------------------------------------------
def require_user(request: Request) -> User:
    user = request.app.state.ctx.user_of(request)
    if user is None:
        raise HTTPException(401, "login required", headers={"WWW-Authenticate": 'Basic realm="civicrag"'})
    return user  # type: ignore[no-any-return]


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
            "`/login`. Admin endpoints need the admin role. In open-demo mode no login is needed."
        ),
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(ctx, preload),
    )
    app.state.ctx = ctx


    # -- login -------------------------------------------------------------------------
    @app.get("/login", include_in_schema=False)
    def login_page(error: str = "") -> HTMLResponse:
        return HTMLResponse(
            _login_html(error),
            headers={"Content-Security-Policy": CSP.replace("form-action 'none'", "form-action 'self'")},
        )

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("username", "")), str(form.get("password", ""))
        user = ctx.users.verify(name, password)
        if user is None:
            return RedirectResponse("/login?error=1", status_code=303)
        request.session.clear()
        request.session[SESSION_KEY] = user.name
        return RedirectResponse("/", status_code=303)

    @app.get("/logout", include_in_schema=False)
    def logout(request: Request) -> RedirectResponse:
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
        return result.to_dict()  # type: ignore[no-any-return]

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

    if local_token:
        _mount_local_ingest(app, ctx, local_token)

    # -- original documents ------------------------------------------------------------------
    @app.get("/doc", tags=["index"], summary="The original file of an indexed document")
    def original(user: UserDep, id: str, version: str | None = None) -> Response:
        manifest = ctx.service.store.manifest
        path = original_file(manifest, id, version)
        if path is None:
            raise HTTPException(404, "no such document, or its file is gone")
        headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
        suffix = path.suffix.lower()
        if suffix == ".pdf":
            return FileResponse(path, media_type="application/pdf", headers=headers,
                                content_disposition_type="inline", filename=path.name)
        if suffix in RENDERED_SUFFIXES:
            return HTMLResponse(render_original(path, document_title(manifest, id)), headers=headers)
        # Word and HWP files: the browser cannot show them; hand them over as a download.
        return FileResponse(path, media_type="application/octet-stream", headers=headers, filename=path.name)

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

        from ui.web import build_blocks, theme

        blocks = build_blocks(ctx)
        gr.mount_gradio_app(
            app, blocks, path="/",
            auth_dependency=lambda request: (u.name if (u := ctx.user_of(request)) else None),
            max_file_size=int(settings.upload_max_mb * 1024 * 1024),
            footer_links=[], ssr_mode=False, mcp_server=False, pwa=False, run_history=False,
            theme=theme(), css=_ui_css(), show_error=True,
        )
    app.add_middleware(LoginRedirect, ctx=ctx)
    app.add_middleware(
        BodyLimit, api_limit=settings.server_max_body_kb * 1024,
        upload_limit=int(settings.upload_max_mb * 1024 * 1024) + 64 * 1024,  # room for multipart framing
    )
    secret = settings.session_secret.get_secret_value() if settings.session_secret else secrets.token_urlsafe(32)
    app.add_middleware(
        SessionMiddleware, secret_key=secret, session_cookie="civicrag_session",
        max_age=settings.session_max_age_s, same_site="lax",
        # Off by default: the quick start serves plain HTTP on 127.0.0.1, where a Secure cookie is never sent.
        https_only=settings.session_https_only,
    )
    return app


def _mount_local_ingest(app: FastAPI, ctx: AppContext, token: str) -> None:
    """``civicrag ingest`` on this host, when this server holds the embedded Chroma folder (``ui.handoff``).

    Authorised by the token this server wrote into the data folder's ``chroma`` lease: whoever can read
    the manifest can already change the index. Not in the API schema; not for browsers.
    """
    from ui.handoff import LOCAL_INGEST_PATH, TOKEN_HEADER

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
    from ui.render import CSS

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


def _login_html(error: str) -> str:
    wrong = "<p class='err'>사용자 이름 또는 비밀번호가 틀렸습니다. / Wrong user name or password.</p>"
    message = wrong if error else ""
    return (
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>civicrag — 로그인</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><style>"
        "body{font-family:system-ui,sans-serif;display:flex;justify-content:center;margin-top:10vh}"
        "form{display:flex;flex-direction:column;gap:.6rem;min-width:18rem}input,button{font-size:1rem;padding:.4rem}"
        ".err{color:#b91c1c}</style></head><body><form method='post' action='/login'>"
        f"<h1>civicrag</h1>{message}"
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
        uvicorn.run("ui.server:worker_app", factory=True, host=host, port=port, workers=workers, log_level="info",
                    timeout_worker_healthcheck=settings.server_worker_healthcheck_s)
        return
    if settings.chroma_host:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # Embedded Chroma: this process owns the data folder's PersistentClient while it runs, and takes
    # `civicrag ingest`s of this host in through /api/ingest/local (ui.handoff).
    from ui.handoff import chroma_lease

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
