"""``GET /diff`` (the 신구조문 대비 page) and ``GET /api/diff`` (the same comparison as ``civicrag diff --json``),
for any logged-in user; the page itself is built in ``ui.amendments``."""

from __future__ import annotations

from typing import Annotated, Any

from civicrag.rag.amendments import VersionError, compare, versions
from civicrag.ui.amendments import PAGE_CSP, STRINGS, comparison_page, error_page
from civicrag.ui.api.deps import CtxDep, current_user
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["index"], dependencies=[Depends(current_user)])
FromQuery = Annotated[str | None, Query(alias="from")]


@router.get("/diff", summary="Amendment comparison page (신구조문 대비)", response_class=HTMLResponse)
def diff_page(
    ctx: CtxDep, id: str, lang: str = "ko", all: bool = False, from_: FromQuery = None, to: str | None = None,
) -> HTMLResponse:
    lang = lang if lang in STRINGS else "ko"
    headers = {"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff"}
    cat = ctx.catalogue.get()
    try:
        comparison = compare(cat, id, from_ or None, to or None)
    except VersionError as exc:
        status = 404 if not versions(cat, id) else 422
        return HTMLResponse(error_page(id, str(exc), lang), status_code=status, headers=headers)
    return HTMLResponse(comparison_page(comparison, lang, show_all=all), headers=headers)


@router.get("/api/diff", summary="Amendment comparison as JSON (same as `civicrag diff --json`)")
def diff_json(
    ctx: CtxDep, id: str, all: bool = False, from_: FromQuery = None, to: str | None = None,
) -> dict[str, Any]:
    cat = ctx.catalogue.get()
    try:
        comparison = compare(cat, id, from_ or None, to or None)
    except VersionError as exc:
        raise HTTPException(404 if not versions(cat, id) else 422, str(exc)) from exc
    return comparison.to_dict(all_articles=all)
