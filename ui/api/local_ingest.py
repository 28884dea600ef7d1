"""``civicrag ingest`` on this host, when this server holds the embedded Chroma folder (``ui.handoff``).

Authorised by the token this server wrote into the data folder's ``chroma`` lease (``AppContext.local_token``):
whoever can read the manifest can already change the index. Not in the API schema; not for browsers. Included
by ``create_app`` only when ``serve`` set a token.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from civicrag.ui.api.deps import CtxDep
from civicrag.ui.handoff import LOCAL_INGEST_PATH, TOKEN_HEADER
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


def local_token(request: Request, ctx: CtxDep) -> None:
    """403 unless the request carries this server's token."""
    if not ctx.local_token or not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), ctx.local_token):
        raise HTTPException(403, "not the token of this server's data folder")


router = APIRouter(include_in_schema=False, dependencies=[Depends(local_token)])


class LocalIngestRequest(BaseModel):
    """``civicrag ingest`` handing its paths to the server that holds the embedded Chroma folder."""

    paths: list[str] = Field(..., min_length=1, max_length=1000)
    prune: bool = False


@router.post(LOCAL_INGEST_PATH)
def local_ingest(body: LocalIngestRequest, ctx: CtxDep) -> JSONResponse:
    paths = [Path(p) for p in body.paths]
    missing = [str(p) for p in paths if not p.is_absolute() or not p.exists()]
    if missing:
        raise HTTPException(422, f"no such file or folder: {', '.join(missing)}")
    if not ctx.admin.start_ingest(prune=body.prune, paths=paths):
        raise HTTPException(409, ctx.admin.refusal)
    return JSONResponse(ctx.admin.job.snapshot(), status_code=202)


@router.get(LOCAL_INGEST_PATH)
def local_ingest_status(ctx: CtxDep, id: str) -> dict[str, Any]:
    job = ctx.admin.jobs.get(id)
    if job is None:
        raise HTTPException(404, "no such ingest")
    return job.snapshot()
