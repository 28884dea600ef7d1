"""The steps of ``RagService.answer``, each alone where it can be, and the request it takes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from civicrag.rag.catalogue import Catalogue
from civicrag.rag.decision import Decision
from civicrag.rag.empty_documents import EmptyDocuments
from civicrag.rag.evidence import EvidenceScorer
from civicrag.rag.language import phrase
from civicrag.rag.query import Query
from civicrag.rag.references import QueryRefs
from civicrag.rag.request import AskRequest
from civicrag.rag.service import _final, _missing_text, _pieces, _point_to_attachment
from civicrag.rag.types import Answer, Answerability, ChunkRecord, Result, ScoredChunk, StreamEvent

RECORD = ChunkRecord("d1-5", "제5조(주차요금) 주차요금은 별표 5와 같다.",
                     {"doc_id": "d1", "version": "v1", "title": "주차장 조례", "article": "제5조"})


def _query(tokens: list[str], language: str = "ko") -> Query:
    text = " ".join(tokens)
    return Query(text, text, language, "2025-01-01", {}, [], False, tokens, "amount", QueryRefs(),  # type: ignore[arg-type]
                 topic=tokens)


def _decision(answerable: bool) -> Decision:
    return Decision([], [ScoredChunk(RECORD, 0.4)], [], Answerability(answerable, 0.4, "close match", {"p1": 0.4}))


def test_a_refusal_names_the_attachment_that_holds_what_is_asked() -> None:
    loaded = SimpleNamespace(catalogue=SimpleNamespace(attachments={("d1", "v1"): ("[별표 5] 공영주차장 주차요금",)}),
                             scorer=EvidenceScorer(str.split, {"공영주차장": 2.0, "주차요금": 2.0}))
    refused = _decision(answerable=False)
    _point_to_attachment(_query(["공영주차장", "주차요금"]), refused, loaded)  # type: ignore[arg-type]
    assert refused.answerability == Answerability(
        False, 0.4, phrase("in_attachment", "ko", attachment="[별표 5] 공영주차장 주차요금", title="주차장 조례"),
        {"p1": 0.4},
    )
    answered = _decision(answerable=True)
    _point_to_attachment(_query(["공영주차장", "주차요금"]), answered, loaded)  # type: ignore[arg-type]
    assert answered.answerability.reason == "close match"  # an answer is not sent elsewhere


def test_an_empty_index_answers_with_how_to_fill_it() -> None:
    loaded = SimpleNamespace(catalogue=Catalogue.from_records([]), empty_docs=EmptyDocuments())
    decision = Decision([], [], [], Answerability(False, 0.0, "no provision on this topic", {"no_evidence": 1.0}))
    text = phrase("empty_index", "en")
    answer = _missing_text(_query(["fee"], "en"), decision, loaded)  # type: ignore[arg-type]
    assert answer == Answer(text=text, refused=True, citations=[], reason=text)
    assert decision.answerability == Answerability(False, 0.0, text, {"no_evidence": 1.0})
    indexed = SimpleNamespace(catalogue=Catalogue.from_records([RECORD]), empty_docs=EmptyDocuments())
    assert _missing_text(_query(["주차요금"]), _decision(True), indexed) is None  # type: ignore[arg-type]


def test_an_answerers_pieces_become_delta_events_and_its_answer_the_return_value() -> None:
    answer = Answer(text="ab", refused=False, citations=[])
    pieces = _pieces(["a", "b", answer])
    events = []
    try:
        while True:
            events.append(next(pieces))
    except StopIteration as stop:
        returned = stop.value
    assert [(e.type, e.text) for e in events] == [("delta", "a"), ("delta", "b")]
    assert returned is answer
    result = Result("q1", "q", "ab", False, "en", [], [], {"total": 1.0})
    assert _final(iter([StreamEvent("delta", text="ab"), StreamEvent("done", result=result)])) is result


def test_a_validated_request_is_answered_as_the_same_keyword_call(service: Any) -> None:
    request = AskRequest.build("  How long is the mayor's term?\u200e ", as_of="2025-01-01")
    assert request.question == "How long is the mayor's term?\u200e"  # stripped; U+200E is not a control
    events = list(service.answer(request, id="r1"))
    assert [e.type for e in events][:2] == ["retrieved", "delta"] and events[-1].type == "done"
    by_request = service.ask_request(request, id="r1").to_dict()
    by_keywords = service.ask(request.question, as_of="2025-01-01", id="r1").to_dict()
    streamed = events[-1].result.to_dict()
    for data in (by_request, by_keywords, streamed):
        data.pop("timings_ms")
    assert by_request == by_keywords == streamed
    assert by_request["citations"][0]["article"] == "SECTION 3-1"


def test_keyword_callers_are_answered_as_they_ask(service: Any) -> None:
    """``ask``/``stream`` take their arguments unvalidated: a blank question is asked again, not refused as
    invalid, and it comes back as it was sent."""
    result = service.ask("   ")
    assert result.refused and result.question == "   " and result.mode == "none"
    assert result.answerability.reason == "nothing in the question to search with"
