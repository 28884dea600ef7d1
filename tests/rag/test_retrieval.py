"""``rag.retrieval``: query tokens, the dense and lexical legs over a mask, and what the hybrid retriever pins."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence

import numpy as np
import pytest
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.query import Query
from civicrag.rag.references import QueryRefs, article_refs
from civicrag.rag.retrieval import (
    QUESTION_WORDS_PATH,
    DenseRetriever,
    HybridConfig,
    HybridRetriever,
    LexicalRetriever,
    QueryTokenizer,
    question_words,
)
from civicrag.rag.types import ChunkRecord


def test_every_question_word_group_says_where_it_comes_from() -> None:
    groups = tomllib.loads(QUESTION_WORDS_PATH.read_text(encoding="utf-8"))["group"]
    assert groups and all(g.get("source", "").strip() and g.get("words") for g in groups)
    assert {"얼마", "언제", "how", "whi"} <= question_words()


def test_query_tokens_drop_question_words_and_add_each_word_alone() -> None:
    # A stand-in analyser that, like Kiwi in context, loses 수당 in the whole question.
    def analyse(text: str) -> list[str]:
        return ["당직", "서", "면"] if text == "당직 서면 수당 얼마" else text.split()

    tokenize = QueryTokenizer(analyse)
    assert tokenize("당직 서면 수당 얼마") == ["당직", "서", "면", "서면", "수당"]  # 얼마 is a question word
    # One-syllable morphemes go when two longer words remain.
    assert QueryTokenizer(analyse, drop_single=True)("당직 서면 수당 얼마") == ["당직", "서면", "수당"]
    assert QueryTokenizer(str.split, per_word=False)("how much is the fee") == ["is", "the", "fee"]


def _catalogue() -> Catalogue:
    records = [
        ChunkRecord("a#0", "경차 감면", {"doc_id": "A", "version": "1", "article": "제5조", "seq": 0}),
        ChunkRecord("a#1", "주차 요금", {"doc_id": "A", "version": "1", "article": "제7조", "seq": 1}),
        ChunkRecord("b#0", "당직 수당", {"doc_id": "B", "version": "2", "article": "제5조", "seq": 0}),
        # A version of B superseded in 2024: out of every mask on a later day.
        ChunkRecord("b#1", "당직 근무", {"doc_id": "B", "version": "1", "article": "제7조", "seq": 1},
                    "2020-01-01", "2024-01-01"),
    ]
    return Catalogue.from_records(records)


def _embed(text: str) -> np.ndarray:
    return np.array([1.0, 0.0]) if "경차" in text else np.array([0.0, 1.0])


def _q(text: str, refs: QueryRefs | None = None, tokens: list[str] | None = None) -> Query:
    """A question as the legs read it, on 2025-01-01."""
    return Query(question=text, text=text, language="ko", as_of="2025-01-01", filters={}, history=[],
                 followup=False, tokens=tokens if tokens is not None else text.split(), kind="other",
                 refs=refs or QueryRefs())


MATRIX = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, 0.6]], dtype=np.float32)


def test_dense_leg_ranks_rows_in_force_by_cosine() -> None:
    dense = DenseRetriever("dense", _catalogue(), MATRIX, _embed)
    # The query vector (0, 1): row 2 scores 1.0, row 1 0.8, row 0 0; row 3 (0.6) is not in force in 2025.
    assert dense.rank(_q("당직"), dense.catalogue.mask(None, "2025-01-01"), 3) == [
        (2, 1.0), (1, pytest.approx(0.8)), (0, 0.0)
    ]
    hits = dense.retrieve(_q("경차"), {"doc": "A"}, 5)
    assert [(h.chunk.chunk_id, h.ranks) for h in hits] == [("a#0", {"dense": 1}), ("a#1", {"dense": 2})]
    with pytest.raises(ValueError, match="3 vectors for 4 chunks"):
        DenseRetriever("dense", _catalogue(), MATRIX[:3], _embed)


class _Index:
    """A lexical index stand-in: fixed scores per position; position 2 is a chunk the catalogue lost."""

    chunk_ids: Sequence[str] = ("b#0", "a#0", "gone", "a#1")

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        return np.array([2.0, 5.0, 9.0, 0.0])


def test_lexical_leg_maps_index_positions_to_rows_and_drops_zero_scores() -> None:
    lexical = LexicalRetriever(_catalogue(), _Index())
    assert lexical.scores(["q"]).tolist() == [5.0, 0.0, 2.0, 0.0]  # rows a#0, a#1, b#0, b#1
    assert lexical.rank(_q("q"), np.ones(4, dtype=bool), 10) == [(0, 5.0), (2, 2.0)]


class _Leg:
    def __init__(self, name: str, ranking: list[tuple[int, float]]):
        self.name = name
        self.ranking = ranking

    def rank(self, query: Query, mask: np.ndarray, k: int) -> list[tuple[int, float]]:
        return [(r, s) for r, s in self.ranking if mask[r]][:k]


def test_an_article_only_one_document_has_is_pinned_on_top() -> None:
    catalogue = Catalogue.from_records([
        *_catalogue().records,
        ChunkRecord("c#0", "Dogs", {"doc_id": "C", "article": "§ 2-537", "seq": 0}),
    ])
    hybrid = HybridRetriever(catalogue, [_Leg("dense", [(0, 0.9), (2, 0.5)])], HybridConfig(rrf_k=60))
    hits = hybrid.retrieve(_q("§ 2-537", refs=QueryRefs(articles=article_refs("§ 2-537"))), None, 3)
    # Pinned: 1.0 on top of nothing fused; then the fused rows 0 (1/61) and 2 (1/62).
    assert [(h.chunk.chunk_id, h.pinned) for h in hits] == [("c#0", True), ("a#0", False), ("b#0", False)]
    assert [h.score for h in hits] == pytest.approx([1.0, 1 / 61, 1 / 62])


def test_an_article_number_several_documents_have_gets_a_vote_each() -> None:
    hybrid = HybridRetriever(_catalogue(), [_Leg("dense", [(1, 0.9)])], HybridConfig(rrf_k=60))
    hits = hybrid.retrieve(_q("제5조", refs=QueryRefs(articles=article_refs("제5조"))), None, 5)
    # Row 1 (A 제7조) has 1/61 from the leg; rows 0 and 2 (제5조 of A and of B) a full vote, 1/61, each.
    # Equal scores are ordered by chunk id.
    assert [(h.chunk.chunk_id, h.pinned) for h in hits] == [("a#0", False), ("a#1", False), ("b#0", False)]
    assert [h.score for h in hits] == pytest.approx([1 / 61] * 3)


def test_a_named_document_pins_its_article() -> None:
    hybrid = HybridRetriever(_catalogue(), [_Leg("dense", [(0, 0.9), (1, 0.8)])], HybridConfig(rrf_k=60))
    refs = QueryRefs(articles=article_refs("당직 규칙 제5조"), docs=["B"])
    hits = hybrid.retrieve(_q("당직 규칙 제5조", refs=refs), None, 3)
    # b#0 is pinned (1.0); the leg's rows keep their RRF scores, and the "@doc" leg adds B's rows it ranks (none).
    assert [(h.chunk.chunk_id, h.pinned) for h in hits] == [("b#0", True), ("a#0", False), ("a#1", False)]
    assert [h.score for h in hits] == pytest.approx([1.0, 1 / 61, 1 / 62])


def test_nothing_in_force_returns_nothing() -> None:
    hybrid = HybridRetriever(_catalogue(), [_Leg("dense", [(0, 0.9)])], HybridConfig())
    assert hybrid.retrieve(_q("경차"), {"doc": "Z"}, 5) == []
