"""``rag.structured``: the answerers tried before retrieval, built in order from the loaded catalogue."""

from __future__ import annotations

from typing import Any

import pytest
from civicrag.rag import structured
from civicrag.rag.amendment_questions import amendment_answerer
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.query import Query
from civicrag.rag.references import QueryRefs
from civicrag.rag.statutes import statute_answerer
from civicrag.rag.types import ChunkRecord


def test_amendments_are_tried_before_statutes() -> None:
    assert [amendment_answerer, statute_answerer] == structured.FACTORIES


def test_build_gives_each_factory_the_catalogue_store_and_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Any, Any, Any]] = []

    def factory(name: str) -> Any:
        def make(catalogue: Any, store: Any, tokenize: Any) -> Any:
            calls.append((name, catalogue, store, tokenize))
            return name

        return make

    monkeypatch.setattr(structured, "FACTORIES", [factory("first"), factory("second")])
    assert structured.build("catalogue", "store", str.split) == ["first", "second"]
    assert calls == [("first", "catalogue", "store", str.split), ("second", "catalogue", "store", str.split)]


def test_an_ordinary_question_is_left_to_retrieval() -> None:
    meta = {"doc_id": "P", "title": "주차장 조례", "article": "제7조", "version": "v1"}
    record = ChunkRecord("p#0", "제7조(감면) 경차는 감면한다.", meta)
    answerers = structured.build(Catalogue.from_records([record]), None, str.split)
    question = "경차는 감면되나요?"
    query = Query(question=question, text=question, language="ko", as_of="2025-01-01", filters={}, history=[],
                  followup=False, tokens=["경차", "감면"], kind="rule", refs=QueryRefs(docs=["P"]))
    assert [answer(query) for answer in answerers] == [None, None]
