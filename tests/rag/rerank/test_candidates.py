"""``rag.rerank.candidates``: retrieved chunks grouped into provisions, each with its units, vectors and tokens."""

from __future__ import annotations

import numpy as np
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.rerank.candidates import UnitVectors, group
from civicrag.rag.types import ChunkRecord, ScoredChunk

WORDS = ("경차", "주차요금", "감면", "당직")


def _words(text: str) -> frozenset[str]:
    return frozenset(t for t in WORDS if t in text)


def _record(i: int, article: str, text: str, doc: str = "d1", jurisdiction: str = "제주특별자치도") -> ChunkRecord:
    meta = {"doc_id": doc, "article": article, "title": "주차장 조례", "seq": i, "version": "v1",
            "jurisdiction": jurisdiction}
    return ChunkRecord(f"{doc}-{i}", text, meta)


LEAD_IN = "① 다음 각 호의 자동차는 주차요금의 100분의 50을 감면한다."
RECORDS = [
    _record(0, "제6조", f"제6조(주차요금의 감면)\n{LEAD_IN}\n1. 경차\n2. 전기자동차"),
    _record(1, "제12조", "제12조(가산금)\n주차요금을 내지 않으면 2배의 가산금을 낸다."),
    _record(2, "제12조", "② 가산금은 한 달 안에 낸다."),  # the second chunk of a long 제12조
    _record(3, "제3조", "제3조(당직)\n당직은 밤에 선다.", doc="d2", jurisdiction="City of X (US)"),
]


def test_chunks_group_into_provisions_in_the_order_of_their_best_chunk() -> None:
    catalogue = Catalogue.from_records(RECORDS)
    chunks = [ScoredChunk(RECORDS[1], 0.9), ScoredChunk(RECORDS[0], 0.8, pinned=True), ScoredChunk(RECORDS[2], 0.7),
              ScoredChunk(RECORDS[3], 0.3)]
    candidates = group(chunks, catalogue, None, tokenize=_words)
    assert [(c.key, c.rank, [s.chunk.chunk_id for s in c.chunks]) for c in candidates] == [
        (("d1", "제12조"), 0, ["d1-1", "d1-2"]),
        (("d1", "제6조"), 1, ["d1-0"]),
        (("d2", "제3조"), 3, ["d2-3"]),
    ]
    assert [c.pinned for c in candidates] == [False, True, False]
    assert candidates[2].jurisdiction == "City of X (US)"
    # Every chunk of the article lends its units: 제12조's lead-in sentence and its ②.
    assert [u.unit.label for u in candidates[0].units] == ["", "②"]
    assert group(chunks, catalogue, None, limit=2, tokenize=_words)[-1].key == ("d1", "제6조")


def test_an_unretrieved_chunk_of_the_article_lends_its_units_at_score_zero() -> None:
    catalogue = Catalogue.from_records(RECORDS)
    candidates = group([ScoredChunk(RECORDS[1], 0.9)], catalogue, None, tokenize=_words)
    assert [(u.unit.label, u.chunk.chunk.chunk_id, u.chunk.score) for u in candidates[0].units] == [
        ("", "d1-1", 0.9), ("②", "d1-2", 0.0)
    ]


def test_units_carry_stored_vectors_and_tokens_or_fall_back() -> None:
    catalogue = Catalogue.from_records(RECORDS)
    stored = [("d1-0", 0, np.ones(2), ["감면"]), ("d1-0", 1, np.zeros(2), ["경차"]), ("d1-0", 2, np.ones(2), None),
              ("gone", 0, np.ones(2), None)]  # a chunk the catalogue does not know is left out
    vectors = UnitVectors.build(catalogue, stored, 2)
    assert vectors.counts.tolist() == [3, 0, 0, 0] and vectors.offsets.tolist() == [0, 3, 3, 3]
    assert vectors.of(0).tolist() == [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]] and vectors.of(1).shape == (0, 2)
    assert vectors.tokens_of(0) == [frozenset({"감면"}), frozenset({"경차"}), None]
    chunks = [ScoredChunk(RECORDS[0], 0.9), ScoredChunk(RECORDS[1], 0.6)]
    candidates = group(chunks, catalogue, vectors, np.full((4, 2), 0.5), tokenize=_words)
    assert [u.unit.label for u in candidates[0].units] == ["①", "1.", "2."]
    assert candidates[0].units[1].vector.tolist() == [0.0, 0.0]
    assert candidates[1].units[0].vector.tolist() == [0.5, 0.5]  # no unit vectors stored: the chunk's own
    # A lead-in reads with its items, an item with its lead-in; tokens not stored are worked out.
    assert [u.tokens for u in candidates[0].units] == [{"감면", "경차"}, {"감면", "경차"}, {"감면"}]
    assert candidates[0].units[1].text == f"{LEAD_IN}\n1. 경차"
