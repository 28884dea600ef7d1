"""422 answers that never turn into a 500: the app's handler of request validation errors."""

from __future__ import annotations

from civicrag.ui.security import encodable
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

LONE_SURROGATE = ("text contains a lone surrogate (half of a UTF-16 pair, e.g. \\ud800), which is not a character; "
                  "send valid UTF-8")


async def unprocessable(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own handler echoes the input, which fails to encode when it holds a lone surrogate (a 500);
    here every string is made encodable first."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        if error.get("type") == "string_unicode":  # pydantic's word for a lone surrogate in a str field
            error = {**error, "msg": LONE_SURROGATE}
        errors.append(error)
    return JSONResponse({"detail": encodable(jsonable_encoder(errors))}, status_code=422)
