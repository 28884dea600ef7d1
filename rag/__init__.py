"""Question answering over the indexed regulations: retrieval, answers, citations.

Use a ``RagService`` per process (it loads the models and indexes once)::

    from civicrag.settings import load_settings
    from civicrag.rag import RagService

    service = RagService(load_settings())
    result = service.ask("4·3 지방공휴일은 언제야?", as_of="2025-06-01", filters={"jurisdiction": "제주"})
    for event in service.stream("How long does the mayor serve?"): ...

What people type (the CLI, the REST API, the chat) is validated once, as an ``AskRequest``, and
answered with ``service.answer(request)`` (events) or ``service.ask_request(request)`` (the Result)::

    from civicrag.rag import AskRequest

    request = AskRequest.build("4·3 지방공휴일은 언제야?", as_of="2025-06-01")  # RequestError if invalid
    result = service.ask_request(request)

``rag.ask(question, settings=...)`` is a one-shot convenience that builds a service,
answers and closes it (no hidden global state; slow for many questions).
Nothing is imported or loaded until used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civicrag.rag.request import AskRequest, RequestError
    from civicrag.rag.service import RagService
    from civicrag.rag.types import Citation, Message, Result, Retrieved, StreamEvent

    from civicrag.settings import Settings

__all__ = ["AskRequest", "Citation", "Message", "RagService", "RequestError", "Result", "Retrieved", "StreamEvent",
           "ask"]


def ask(
    question: str,
    *,
    settings: Settings,
    history: Sequence[Message | Mapping[str, Any]] | None = None,
    k: int | None = None,
    as_of: str | date | None = None,
    filters: Mapping[str, str] | None = None,
) -> Result:
    """Answer one question with a service made for it (load cost every call: use RagService for more)."""
    from civicrag.rag.service import RagService

    service = RagService(settings)
    try:
        return service.ask(question, history=history, k=k, as_of=as_of, filters=filters)
    finally:
        service.close()


def __getattr__(name: str) -> Any:
    if name == "RagService":
        from civicrag.rag.service import RagService

        return RagService
    if name in {"AskRequest", "RequestError"}:
        import civicrag.rag.request

        return getattr(civicrag.rag.request, name)
    if name in {"Citation", "Message", "Result", "Retrieved", "StreamEvent"}:
        import civicrag.rag.types

        return getattr(civicrag.rag.types, name)
    raise AttributeError(name)
