"""The API's own pages: Swagger UI at ``/docs`` served offline, and the page at ``/`` of a server without the chat."""

from __future__ import annotations

from pathlib import Path

from civicrag.ui.originals import CSP
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

#: ``/`` of a server that serves the API only (``worker_app``).
api_only = APIRouter(include_in_schema=False)


@api_only.get("/")
def no_ui() -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><meta charset='utf-8'><title>civicrag</title><p>This server serves the REST API "
        "only (<a href='/docs'>/docs</a>). The chat is served by a single-process <code>civicrag serve</code>"
        ": Gradio keeps each chat's state in one process.</p>",
        headers={"Content-Security-Policy": CSP},
    )


def mount_docs(app: FastAPI) -> None:
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
