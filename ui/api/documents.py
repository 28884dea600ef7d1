"""What is indexed: status, the document list, and a document's original file, for any logged-in user.

Everything is asked of ``RagService``; nothing here opens the index itself.
"""

from __future__ import annotations

import os
from typing import Any

from civicrag.ingest.store.lease import INGEST, live_holder
from civicrag.ui.admin import documents_table
from civicrag.ui.api.deps import CtxDep, ServiceDep, UserDep
from civicrag.ui.originals import (
    CSP,
    RENDERED_SUFFIXES,
    attachment_file,
    document_title,
    original_file,
    render_original,
)
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(tags=["index"])


@router.get("/api/status", summary="What is indexed, failures, and the running ingest")
def api_status(user: UserDep, ctx: CtxDep) -> dict[str, Any]:
    settings = ctx.settings
    info: dict[str, Any] = ctx.service.index_status()
    info["ingest"] = ctx.admin.job.snapshot()
    # An ingest in any process (the CLI, another worker, another host) holds the lease.
    writer = live_holder(settings.manifest_path, INGEST, settings.ingest.lease_ttl_s)
    info["ingest_lease"] = None if writer is None else {"pid": writer.pid, "host": writer.host, "since": writer.started}
    info["worker"] = os.getpid()
    info["user"] = {"name": user.name, "role": user.role}
    info["auth_mode"] = settings.auth.mode
    return info


@router.get("/api/documents", summary="Indexed documents with versions and chunk counts")
def api_documents(user: UserDep, service: ServiceDep) -> list[dict[str, Any]]:
    return documents_table(service.document_versions())


@router.get("/doc", summary="The original file of an indexed document (or of its attachment)")
def original(user: UserDep, service: ServiceDep, id: str, version: str | None = None, part: str | None = None
             ) -> Response:
    """``part`` names an ingested attachment (``별표 5``): its own file is served instead."""
    files = service.source_files(id)
    versions = service.document_versions(id) if part else []
    path = attachment_file(versions, files, version, part) if part else original_file(files, version)
    if path is None:
        raise HTTPException(404, "no such document or attachment, or its file is gone")
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return FileResponse(path, media_type="application/pdf", headers=headers,
                            content_disposition_type="inline", filename=path.name)
    if suffix in RENDERED_SUFFIXES:
        title = document_title(service.document_versions(id), id)
        return HTMLResponse(render_original(path, title), headers=headers)
    # Word and HWP files: the browser cannot show them; hand them over as a download.
    return FileResponse(path, media_type="application/octet-stream", headers=headers, filename=path.name)
