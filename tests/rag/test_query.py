"""rag.query: a question worked out once — its tokens, named documents, kind, topic and jurisdictions."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.followup import Rewrite
from civicrag.rag.query import Query, QueryBuilder
from civicrag.rag.references import DocumentNames, QueryRefs
from civicrag.rag.scope import Jurisdictions
from civicrag.rag.types import ChunkRecord


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9'-]+", text.lower())


def _record(n: int, doc: str, title: str, article: str, text: str) -> ChunkRecord:
    meta = {"doc_id": doc, "title": title, "article": article, "seq": n, "language": "en", "version": "v",
            "jurisdiction": "Town of Fixtureville"}
    return ChunkRecord(f"{doc}-{n}", text, meta)


RECORDS = [
    _record(0, "charter", "Fixtureville Charter", "SECTION 3-1", "The mayor serves a term of four years."),
    _record(1, "charter", "Fixtureville Charter", "SECTION 3-2", "The mayor receives a salary."),
    _record(0, "kennel", "Kennel Licensing Ordinance", "Sec. 1", "A kennel license costs $50."),
    _record(1, "kennel", "Kennel Licensing Ordinance", "Sec. 2", "Licenses are renewed each year."),
]


def _builder(read: list[str]) -> QueryBuilder:
    """Query tokens drop the words of asking; every text the query tokenizer reads is appended to ``read``."""

    def query_tokens(text: str) -> list[str]:
        read.append(text)
        return [t for t in _words(text) if t not in {"how", "is", "the", "what", "a"}]

    catalogue = Catalogue.from_records(RECORDS)
    return QueryBuilder(query_tokens, _words, DocumentNames(catalogue, _words),
                        Jurisdictions.build(["Town of Fixtureville"]))


def test_a_standalone_question_is_read_once() -> None:
    read: list[str] = []
    builder = _builder(read)
    question = "How long is the mayor's term in Fixtureville?"
    query = builder.build(question, Rewrite(question, False), builder.read(question), "en", "2025-01-01", {}, [])
    assert read == [question]  # the reading of the question serves the Query: its text is unchanged
    assert query.text == question and not query.followup
    assert query.tokens == ["long", "mayor's", "term", "in", "fixtureville"]
    assert query.kind == "period"
    # "How long" and "term" ask for the kind of fact; the rest is what the question is about.
    assert query.topic == ["mayor's", "in", "fixtureville"]
    assert query.jurisdictions == ("town of fixtureville",)
    # "Fixtureville" is one of the two words of "Fixtureville Charter" and no other document's text uses it.
    assert query.refs.docs == ["charter"] and query.named_docs == {"charter": 0.5}


def test_a_rewritten_follow_up_reads_its_standalone_text_once() -> None:
    read: list[str] = []
    builder = _builder(read)
    question = "and kennel licensing?"
    asked = builder.read(question)
    rewrite = Rewrite("kennel licensing ordinance renewal", True, ["charter"])
    query = builder.build(question, rewrite, asked, "en", "2025-01-01", {"kind": "ordinance"}, [])
    assert read == [question, rewrite.question]
    assert query.text == rewrite.question and query.followup
    assert query.kind == "other" and query.topic == query.tokens == ["kennel", "licensing", "ordinance", "renewal"]
    # The document the text names fully, then the one the conversation was about (half-named).
    assert query.refs.docs == ["kennel", "charter"]
    assert query.named_docs == {"charter": 0.5, "kennel": 1.0}
    assert query.filters == {"kind": "ordinance"} and not query.scoped


def test_each_fact_of_a_question_is_worked_out_once_per_question(service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The query tokens, the named documents and the kind of the question are each computed by one call."""
    import civicrag.rag.facts
    import civicrag.rag.query
    from civicrag.rag.retrieval import QueryTokenizer

    calls: Counter[tuple[str, str]] = Counter()
    tokenize, kind = QueryTokenizer.__call__, civicrag.rag.facts.question_kind
    names = service.load().queries.doc_names
    find = names.find

    def counted_tokens(self: QueryTokenizer, text: str) -> list[str]:
        calls["tokens", text] += 1
        return tokenize(self, text)

    def counted_find(text: str, tokens: Any) -> list[tuple[str, float]]:
        calls["find", text] += 1
        return find(text, tokens)

    def counted_kind(text: str) -> Any:
        calls["kind", text] += 1
        return kind(text)

    monkeypatch.setattr(QueryTokenizer, "__call__", counted_tokens)
    monkeypatch.setattr(names, "find", counted_find)
    monkeypatch.setattr(civicrag.rag.facts, "question_kind", counted_kind)
    monkeypatch.setattr(civicrag.rag.query, "question_kind", counted_kind)

    question = "How long is the mayor's term?"
    assert not service.ask(question).refused
    assert (calls["tokens", question], calls["find", question], calls["kind", question]) == (1, 1, 1)

    calls.clear()
    history = [
        {"role": "user", "content": "경차는 공영주차장 요금을 감면받나요?"},
        {"role": "assistant", "content": "「가상특별자치도 주차장 설치 및 관리 조례」 제7조에서 정하고 있습니다."},
    ]
    result = service.ask("그럼 전기차는?", history=history)
    standalone = result.rewritten_question
    assert standalone and standalone != "그럼 전기차는?"
    assert (calls["tokens", "그럼 전기차는?"], calls["find", "그럼 전기차는?"]) == (1, 1)
    assert (calls["tokens", standalone], calls["find", standalone], calls["kind", standalone]) == (1, 1, 1)


def _query(text: str, tokens: list[str], **kw: Any) -> Query:
    values: dict[str, Any] = {
        "question": text, "text": text, "language": "en", "as_of": "2025-01-01", "filters": {}, "history": [],
        "followup": False, "tokens": tokens, "kind": "other", "refs": QueryRefs(), **kw,
    }
    return Query(**values)


def test_scoped_by_the_question_or_by_a_jurisdiction_filter() -> None:
    assert not _query("dog license fee", ["dog", "license", "fee"]).scoped
    assert _query("fee in somerville", ["fee"], jurisdictions=("city of somerville",)).scoped
    assert _query("fee", ["fee"], filters={" Jurisdiction ": "somerville"}).scoped
    assert not _query("fee", ["fee"], filters={"doc": "town-code"}).scoped
