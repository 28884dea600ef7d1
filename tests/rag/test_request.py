"""rag.request: the one validation of a question, shared by the CLI, the REST API and the web chat."""

from __future__ import annotations

from datetime import date

import pytest
from civicrag.rag.request import AskRequest, RequestError, TextError, clean_text
from pydantic import ValidationError


def test_question_is_normalised_and_stripped() -> None:
    decomposed = "\u1100\u1161\u11a8 요금은?"  # 각 as jamo
    request = AskRequest.build(f"  {decomposed}\u202e\x07 ")
    assert request.question == "각 요금은?"
    assert request.history == [] and request.filters == {} and request.as_of is None and request.k is None


@pytest.mark.parametrize(("fields", "message"), [
    ({"question": "   \x01 "}, "question: the question is empty once control characters are removed"),
    ({"question": "x" * 11}, "question: question longer than 10 characters"),
    ({"question": "q", "as_of": "2024-13-01"}, "as_of: as_of wants YYYY-MM-DD, got '2024-13-01'"),
    ({"question": "q", "filters": {"colour": "red"}},
     "filters: unknown filter(s) colour; allowed: jurisdiction, kind, doc, doc_id, language, provision_kind, "
     "article, department"),
    ({"question": "q", "k": 0}, "k: Input should be greater than or equal to 1"),
])
def test_invalid_fields_give_one_readable_message(fields: dict, message: str) -> None:
    with pytest.raises(RequestError) as caught:
        AskRequest.build(max_chars=10, **fields)
    assert str(caught.value) == message


def test_as_of_and_filters_are_normalised() -> None:
    request = AskRequest.build("q", as_of=date(2024, 3, 1), filters={" doc ": " 2117289 ", "department": ""},
                               history=[{"role": "assistant", "content": "이전 답"}])
    assert request.as_of == "2024-03-01"
    assert request.filters == {"doc": "2117289"}
    assert [(t.role, t.content) for t in request.history] == [("assistant", "이전 답")]


def test_the_limit_comes_from_the_validation_context() -> None:
    data = {"question": "열한 글자짜리 질문입니다"}
    assert AskRequest.model_validate(data, context={"max_chars": 20}).question == data["question"]
    with pytest.raises(ValidationError):
        AskRequest.model_validate(data, context={"max_chars": 5})


def test_clean_text_refuses_what_is_not_text() -> None:
    with pytest.raises(TextError, match="lone surrogate \\(U\\+D800\\)"):
        clean_text("a\ud800")
    with pytest.raises(TextError, match="NUL"):
        clean_text("a\x00b")
    assert clean_text("a\tb\nc\x1b") == "a\tb\nc"
