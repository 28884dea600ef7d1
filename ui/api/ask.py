"""``POST /api/ask``: a question in, the JSON of ``civicrag ask --json`` out.

The body is a ``civicrag.rag.request.AskRequest``, validated once with this site's question limit
(``server.question_max_chars``); the handler checks nothing again. FastAPI validates a body model without a
validation context, so ``ask_request`` reads the JSON itself and hands pydantic's errors to the app's 422
handler exactly as FastAPI would.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

from civicrag.rag.request import AskRequest
from civicrag.ui.api.deps import CtxDep, UserDep
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

router = APIRouter(tags=["questions"])


async def ask_request(request: Request, ctx: CtxDep, user: UserDep) -> AskRequest:
    """The request body as an AskRequest (after the login check: an anonymous caller learns nothing of it)."""
    raw = await request.body()
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    try:
        data = json.loads(raw)
    except ValueError as exc:  # not JSON, or not UTF-8
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": f"JSON decode error: {exc}", "input": {}}]
        ) from None
    try:
        return AskRequest.model_validate(data, context={"max_chars": ctx.settings.server.question_max_chars})
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors, body=data) from None


AskBody = Annotated[AskRequest, Depends(ask_request)]


def _body_schema() -> dict[str, Any]:
    """AskRequest's JSON schema with its ``$defs`` written in place, for the API docs' request body."""
    schema = AskRequest.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)  # type: ignore[no-any-return]


@router.post(
    "/api/ask", summary="Answer a question (same JSON as `civicrag ask --json`)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _body_schema()}}}},
)
def api_ask(ask: AskBody, user: UserDep, ctx: CtxDep, response: Response) -> dict[str, Any]:
    response.headers["X-Civicrag-Worker"] = str(os.getpid())  # which worker process answered
    history = [turn.model_dump() for turn in ask.history]
    result = ctx.service.ask(ask.question, history=history or None, k=ask.k, as_of=ask.as_of, filters=ask.filters)
    data: dict[str, Any] = result.to_dict()
    if ctx.gaps is not None:
        ctx.gaps.refused(data, user.name, "api")  # enqueued; written off the answer path
    return data
