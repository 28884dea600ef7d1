"""A question as a caller sends it, validated once: the CLI, the REST API and the web chat all build an
``AskRequest`` and hand it to ``RagService``; none of them checks dates, lengths or filter keys itself.

Validation errors are ``pydantic.ValidationError`` (the REST API turns them into a 422 as they are);
``RequestError.of`` makes one message a person can read from them, for the CLI and the chat.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

#: Filter keys a caller may use; each is matched against chunk metadata (``doc`` is an alias of ``doc_id``).
FILTER_KEYS = ("jurisdiction", "kind", "doc", "doc_id", "language", "provision_kind", "article", "department")
#: The longest question when the caller gives no limit (the server's ``server.question_max_chars`` default).
DEFAULT_MAX_CHARS = 2000
MAX_TURNS = 40
MAX_TURN_CHARS = 20000

_SURROGATE = re.compile("[\ud800-\udfff]")
# C0/C1 controls but tab and newline, and the bidirectional embedding/override/isolate controls
# (they can make displayed text read differently from what it is).
_STRIPPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class TextError(ValueError):
    """Text that cannot be accepted, with a message fit for the user."""


def clean_text(value: str) -> str:
    """NFC-normalised text without control characters; TextError for a lone surrogate or a NUL.

    A lone surrogate (half of a UTF-16 pair, e.g. JSON ``"\\ud800"``) cannot be encoded as UTF-8,
    and a NUL is never part of a question: both are refused rather than silently dropped.
    """
    if (found := _SURROGATE.search(value)) is not None:
        raise TextError(f"text contains a lone surrogate (U+{ord(found.group()):04X}), which is not a character; "
                        "send valid UTF-8")
    if "\x00" in value:
        raise TextError("text contains a NUL character (U+0000)")
    return _STRIPPED.sub("", unicodedata.normalize("NFC", value))


class Turn(BaseModel):
    """One earlier message of the conversation."""

    role: Literal["user", "assistant", "system"] = "user"
    content: str = Field(..., max_length=MAX_TURN_CHARS)

    @field_validator("content")
    @classmethod
    def _text(cls, value: str) -> str:
        return clean_text(value)


class AskRequest(BaseModel):
    """The question, the conversation so far, and what narrows the answer.

    ``max_chars`` comes from the validation context (``AskRequest.model_validate(data,
    context={"max_chars": n})``, or ``AskRequest.build(..., max_chars=n)``) so each entry point applies the
    site's limit without a subclass.
    """

    model_config = ConfigDict(frozen=True)

    question: str = Field(..., min_length=1, description="The question, in Korean or English.")
    history: list[Turn] = Field(default_factory=list, max_length=MAX_TURNS, description="Earlier turns, oldest first.")
    k: int | None = Field(None, ge=1, le=100, description="Chunks the answer may draw on.")
    as_of: str | None = Field(None, description="YYYY-MM-DD: answer from the versions in force that day.")
    filters: dict[str, str] = Field(default_factory=dict, description=f"Keys: {', '.join(FILTER_KEYS)}.")

    @field_validator("question")
    @classmethod
    def _question(cls, value: str, info: ValidationInfo) -> str:
        """NFC, control characters dropped; empty afterwards, or longer than the limit, is an error."""
        value = clean_text(value).strip()
        if not value:
            raise ValueError("the question is empty once control characters are removed")
        limit = (info.context or {}).get("max_chars", DEFAULT_MAX_CHARS)
        if len(value) > limit:
            raise ValueError(f"question longer than {limit} characters")
        return value

    @field_validator("history", mode="before")
    @classmethod
    def _history(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if isinstance(value, date):
            return value.isoformat()
        text = clean_text(str(value)).strip()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"as_of wants YYYY-MM-DD, got {text!r}") from None

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("filters must be an object of key: value")
        cleaned = {clean_text(str(k)).strip(): clean_text(str(v)).strip() for k, v in value.items()}
        unknown = sorted(set(cleaned) - set(FILTER_KEYS))
        if unknown:
            raise ValueError(f"unknown filter(s) {', '.join(unknown)}; allowed: {', '.join(FILTER_KEYS)}")
        return {k: v for k, v in cleaned.items() if v}

    @classmethod
    def build(cls, question: str, max_chars: int = DEFAULT_MAX_CHARS, **fields: Any) -> AskRequest:
        """Validate keyword fields; ``RequestError`` (one readable message) when they do not hold."""
        try:
            return cls.model_validate({"question": question, **fields}, context={"max_chars": max_chars})
        except ValidationError as exc:
            raise RequestError.of(exc) from None

    @classmethod
    def unchecked(cls, question: str, **fields: Any) -> AskRequest:
        """The fields as a Python caller gives them, not validated (``None`` means the default).

        For ``RagService.ask``/``stream``, whose callers (the evaluation, training, tests, notebooks) are code,
        not people: they keep being answered exactly as they ask. A blank question is answered "please ask
        again" rather than refused as invalid, a question reaches retrieval byte for byte (not stripped or
        normalised), ``history`` may hold ``Message`` objects or mappings and ``as_of`` a ``date``. Entry points
        where people type (the CLI, the REST API, the chat) use ``build`` or ``model_validate``.
        """
        return cls.model_construct(question=question, **{k: v for k, v in fields.items() if v is not None})


class RequestError(ValueError):
    """A request that does not validate, as one message for a person (the CLI, the chat)."""

    @classmethod
    def of(cls, exc: ValidationError) -> RequestError:
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()))
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            parts.append(f"{where}: {message}" if where else message)
        return cls("; ".join(parts))
