"""Admin endpoints that change the index or the logins: re-ingest, delete a document, end a session.

The index changes through ``AdminOps`` (``Ingestor.run`` and ``Ingestor.delete`` under the ingest lease).
"""

from __future__ import annotations

from typing import Any

from civicrag.ui.api.deps import AdminDep, CtxDep
from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

router = APIRouter(tags=["admin"])


class IngestRequest(BaseModel):
    prune: bool = Field(False, description="Also drop documents whose files are gone.")
    wait: bool = Field(True, description="Answer when the run has finished (else 202 at once; poll GET).")


@router.post("/api/ingest", summary="Re-ingest the source folders and uploads (admin)")
def api_ingest(admin: AdminDep, ctx: CtxDep, body: IngestRequest | None = None) -> JSONResponse:
    body = body or IngestRequest()
    if not ctx.admin.start_ingest(prune=body.prune):
        raise HTTPException(409, ctx.admin.refusal)
    if not body.wait:
        return JSONResponse(ctx.admin.job.snapshot(), status_code=202)
    snapshot = ctx.admin.wait()
    return JSONResponse(snapshot, status_code=500 if snapshot["error"] else 200)


@router.get("/api/ingest", summary="Progress of the current or last ingest (admin)")
def api_ingest_status(admin: AdminDep, ctx: CtxDep) -> dict[str, Any]:
    return ctx.admin.job.snapshot()


@router.delete("/api/documents/{doc_id:path}", summary="Delete a document, all versions (admin)")
def api_delete(doc_id: str, admin: AdminDep, ctx: CtxDep) -> dict[str, Any]:
    try:
        found = ctx.admin.delete_document(doc_id)
    except RuntimeError as exc:
        raise HTTPException(409, str(exc)) from exc
    if not found:
        raise HTTPException(404, f"no indexed document {doc_id!r}")
    return {"deleted": doc_id}


@router.get("/api/sessions", summary="Live login sessions (admin)")
def api_sessions(admin: AdminDep, ctx: CtxDep) -> list[dict[str, Any]]:
    return ctx.sessions.list()


@router.delete("/api/sessions/{session_id}", summary="End a login session (admin)")
def api_revoke_session(session_id: str, admin: AdminDep, ctx: CtxDep) -> dict[str, Any]:
    if not ctx.sessions.revoke_id(session_id):
        raise HTTPException(404, f"no live session {session_id!r}")
    return {"revoked": session_id}
