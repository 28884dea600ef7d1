"""``civicrag.rag``: the package's lazy exports and the one-shot ``ask``."""

from __future__ import annotations

import pytest


def test_lazy_exports_are_the_real_classes() -> None:
    import civicrag.rag
    from civicrag.rag import request, service, types

    assert civicrag.rag.RagService is service.RagService
    assert [getattr(civicrag.rag, n) for n in ("Citation", "Message", "Result", "Retrieved", "StreamEvent")] == [
        types.Citation, types.Message, types.Result, types.Retrieved, types.StreamEvent
    ]
    assert (civicrag.rag.AskRequest, civicrag.rag.RequestError) == (request.AskRequest, request.RequestError)
    with pytest.raises(AttributeError, match="Nothing"):
        civicrag.rag.Nothing  # noqa: B018
    assert sorted(civicrag.rag.__all__) == ["AskRequest", "Citation", "Message", "RagService", "RequestError",
                                            "Result", "Retrieved", "StreamEvent", "ask"]


def test_ask_answers_once_with_a_service_of_its_own(rag_settings: object, service: object) -> None:
    from civicrag.rag import ask

    result = ask("What does SECTION 3-1 say?", settings=rag_settings)  # type: ignore[arg-type]
    expected = service.ask("What does SECTION 3-1 say?")  # type: ignore[attr-defined]
    assert (result.answer, [c.chunk_id for c in result.citations]) == (
        expected.answer, [c.chunk_id for c in expected.citations]
    )
