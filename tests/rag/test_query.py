"""``rag.query.Query``: whether a question is confined to a jurisdiction, and its topic tokens."""

from __future__ import annotations

from typing import Any

from civicrag.rag.query import Query
from civicrag.rag.references import QueryRefs


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


def test_topic_tokens_leave_out_the_words_that_ask_the_kind() -> None:
    text = "How long is the mayor's term?"
    query = _query(text, ["long", "mayor's", "term"], kind="period")
    # "How long" and "term" ask for a period; "mayor's" is the topic.
    assert query.topic_tokens(lambda t: t.lower().rstrip("?").split()) == ["mayor's"]
    assert query.topic_tokens(None) == []  # nothing to tokenize with
