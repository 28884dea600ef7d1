"""What users told the system (admin): the 👍/👎 feedback and the content-gap report of refused and 👎 questions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from civicrag.ui.api.deps import AdminDep, CtxDep
from civicrag.ui.gaps import GapLog, report_csv
from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import PlainTextResponse

router = APIRouter(tags=["admin"])


def gap_log(ctx: CtxDep) -> GapLog:
    """The content-gap log; 404 when the setting ``gaps.log`` turned it off."""
    if ctx.gaps is None:
        raise HTTPException(404, "the content-gap log is off (setting gap_log)")
    return ctx.gaps


def since_day(since: str | None = None) -> str | None:
    """The ``since`` query parameter as YYYY-MM-DD (None: from the start); 422 when it is no date."""
    if not since:
        return None
    try:
        return date.fromisoformat(since).isoformat()
    except ValueError as exc:
        raise HTTPException(422, f"since wants YYYY-MM-DD, got {since!r}") from exc


GapLogDep = Annotated[GapLog, Depends(gap_log)]
SinceDep = Annotated[str | None, Depends(since_day)]


@router.get("/api/feedback.csv", summary="All feedback as CSV (admin)")
def api_feedback(admin: AdminDep, ctx: CtxDep) -> PlainTextResponse:
    return PlainTextResponse(
        ctx.feedback.to_csv(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=civicrag-feedback.csv"},
    )


@router.get("/api/gaps", summary="Content-gap report: refused and 👎 questions, grouped (admin)")
def api_gaps(admin: AdminDep, gaps: GapLogDep, since: SinceDep, with_users: bool = False) -> dict[str, Any]:
    return gaps.report(since, with_users=with_users).to_dict()


@router.get("/api/gaps.csv", summary="Content-gap report as CSV, one row per topic (admin)")
def api_gaps_csv(admin: AdminDep, gaps: GapLogDep, since: SinceDep, with_users: bool = False) -> PlainTextResponse:
    return PlainTextResponse(
        report_csv(gaps.report(since, with_users=with_users)), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=civicrag-gaps.csv"},
    )
