"""One ASGI app: the REST API (FastAPI), login, original documents, and the Gradio UI at ``/``.

``create_app(settings)`` assembles it without serving: the context (``ui.context``), the routers
(``ui.api``), the middleware (``ui.middleware``) and the Gradio chat (``ui.web``); ``serve(settings, host,
port)`` runs it with uvicorn. Nothing is loaded at import time; the RagService loads its indexes on the
first question.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from civicrag.ui.api import admin, amendments, ask, documents, feedback, local_ingest, login
from civicrag.ui.api.docs import api_only, mount_docs
from civicrag.ui.api.errors import unprocessable
from civicrag.ui.auth import User
from civicrag.ui.context import AppContext
from civicrag.ui.middleware import add_middleware
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import SecretStr

from civicrag.settings import ConfigError, Settings

#: The API's routers, in the order their routes appear in the API docs.
ROUTERS = (login.router, ask.router, documents.router, admin.router, feedback.router, amendments.router)
API_DESCRIPTION = (
    "Answers questions over municipal regulations with article-level citations.\n\n"
    "Authentication: HTTP Basic with a user from the settings, or the session cookie set by "
    "`/login`. Admin endpoints need the admin role. In open-demo mode no login is needed.\n\n"
    "State-changing requests (POST, PUT, PATCH, DELETE) that carry an `Origin` or `Referer` header "
    "must come from this server's own origin or one in the `server.allowed_origins` setting; a request "
    "with the login cookie must send one. HTTP Basic clients without the cookie need neither. "
    "Failed logins are throttled per account and client address (429 with `Retry-After`)."
)


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
    ctx = AppContext.create(settings, service, local_token=local_token)
    app = FastAPI(
        title="civicrag API", version="0.1.0", description=API_DESCRIPTION, docs_url=None, redoc_url=None,
        lifespan=_lifespan(ctx, preload),
    )
    app.state.ctx = ctx
    app.add_exception_handler(RequestValidationError, unprocessable)
    for router in ROUTERS:
        app.include_router(router)
    if local_token:
        app.include_router(local_ingest.router)
    mount_docs(app)
    if with_ui:
        _mount_ui(app, ctx)  # last: Gradio is mounted at "/" and would shadow any route added after it
    else:
        app.include_router(api_only)
    add_middleware(app, ctx)
    return app


def _mount_ui(app: FastAPI, ctx: AppContext) -> None:
    """The Gradio chat and admin console at ``/``, logged in through the app's own session or HTTP Basic."""
    import gradio as gr
    from civicrag.ui.render import CSS
    from civicrag.ui.web import build_blocks, theme

    async def gradio_user(request: Request) -> str | None:
        result = await ctx.authenticate(request.scope)
        return result.name if isinstance(result, User) else None

    blocks = build_blocks(ctx)
    gr.mount_gradio_app(
        app, blocks, path="/",
        auth_dependency=gradio_user,
        max_file_size=int(ctx.settings.server.upload_max_mb * 1024 * 1024),
        footer_links=[], ssr_mode=False, mcp_server=False, pwa=False, run_history=False,
        theme=theme(), css=CSS, show_error=True,
    )
    # Gradio checks that a file given to an event was uploaded by a user (and not any path on the
    # server) only once the Blocks "has launched", which mount_gradio_app never marks: mark it.
    # ui.console's upload handler checks again.
    blocks.has_launched = True


def _lifespan(ctx: AppContext, preload: bool = False) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if preload:
            await anyio.to_thread.run_sync(ctx.service.load)
        yield
        ctx.close()  # let a running ingest finish its transaction, close SQLite and Chroma

    return lifespan


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, workers: int = 1) -> None:
    """Run the app with uvicorn: one process, or ``workers`` processes over a ``chroma run`` server.

    Each process answers from the index generation it last loaded and reloads when the manifest's
    generation moves on (``RagService.load``), so an ingest from any process shows without a restart.
    """
    import uvicorn

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    if workers > 1:
        if not settings.chroma.host:
            raise ConfigError(
                "several workers need a Chroma server: embedded Chroma allows one process per data folder; "
                "run `chroma run --path DIR --port 8000` and set [chroma] host and port"
            )
        if settings.auth.session_secret is None:  # every worker must accept the login cookies of the others
            settings = settings.with_overrides(auth={"session_secret": SecretStr(secrets.token_urlsafe(32))})
        os.environ[WORKER_SETTINGS_ENV] = settings_json(settings)
        uvicorn.run("civicrag.ui.server:worker_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", timeout_worker_healthcheck=settings.server.worker_healthcheck_s)
        return
    if settings.chroma.host:
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
    return settings.dump_json(reveal_secrets=True)


def worker_app() -> FastAPI:
    """The app of one of several uvicorn workers: the API without the Gradio chat, whose per-chat state
    lives in one process (gradio-app/gradio#10487).

    ``serve(workers=N)`` passes its settings down; run directly (``uvicorn --factory ui.server:worker_app``,
    or gunicorn's uvicorn worker) it reads them as ``civicrag`` does: ``CIVICRAG_CONFIG`` / ``./civicrag.toml``
    and ``CIVICRAG_*``, which must then name a Chroma server and an ``auth.session_secret``.
    """
    from civicrag.settings import load_settings

    payload = os.environ.get(WORKER_SETTINGS_ENV)
    settings = Settings(**json.loads(payload)) if payload else load_settings()
    if not settings.chroma.host:
        raise ConfigError("several workers need a Chroma server: set [chroma] host and port (`chroma run`)")
    return create_app(settings, with_ui=False, preload=True)


__all__ = ["AppContext", "create_app", "serve", "worker_app"]
