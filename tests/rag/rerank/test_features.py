"""Candidate, unit and answer features on hand-made provisions: each value is knowable from the inputs."""

from __future__ import annotations

import numpy as np
import pytest
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.rerank.candidates import CandidateUnit, group
from civicrag.rag.rerank.features import (
    ANSWER_FEATURES,
    CANDIDATE_FEATURES,
    UNIT_FEATURES,
    QueryView,
    answer_features,
    candidate_features,
    unit_features,
)
from civicrag.rag.types import ChunkRecord, ScoredChunk

from civicrag.legal.units import split_units, unit_context

WEIGHTS = {"경차": 2.0, "주차요금": 1.0, "감면": 1.0, "당직": 1.0}


def _record(i: int, article: str, title: str, text: str, doc: str = "d1", jurisdiction: str = "제주특별자치도"
            ) -> ChunkRecord:
    meta = {"doc_id": doc, "article": article, "article_title": title, "title": "주차장 조례", "seq": i,
            "language": "ko", "jurisdiction": jurisdiction, "version": "2024-01-01"}
    return ChunkRecord(f"{doc}-{i}", text, meta)


def _words(text: str) -> frozenset[str]:
    return frozenset(t for t in WEIGHTS if t in text)


def _view(vector: np.ndarray | None = None, **kw: object) -> QueryView:
    return QueryView(
        text="경차 주차요금 감면 얼마?", language="ko", tokens=["경차", "주차요금", "감면"], kind="amount",
        vector=vector, weight=lambda t: WEIGHTS.get(t, 3.0), known=lambda t: t in WEIGHTS,
        tokens_of=_words, **kw,  # type: ignore[arg-type]
    )


@pytest.fixture()
def setting() -> tuple[Catalogue, list[ScoredChunk]]:
    records = [
        _record(0, "제6조", "주차요금의 감면", "제6조(주차요금의 감면)\n① 다음 각 호의 자동차는 주차요금의 "
                "100분의 50을 감면한다.\n1. 경차\n2. 전기자동차"),
        _record(1, "제12조", "가산금", "제12조(가산금)\n주차요금을 내지 않으면 2배의 가산금을 낸다."),
        _record(2, "제3조", "당직", "제3조(당직)\n당직은 밤에 선다.", doc="d2", jurisdiction="City of X (US)"),
    ]
    catalogue = Catalogue.from_records(records)
    chunks = [ScoredChunk(records[0], 0.9, legs={"lexical": 4.0}), ScoredChunk(records[1], 0.6, legs={"lexical": 2.0}),
              ScoredChunk(records[2], 0.3, legs={"lexical": 1.0})]
    return catalogue, chunks


def test_candidate_features_have_knowable_values(setting: tuple[Catalogue, list[ScoredChunk]]) -> None:
    catalogue, chunks = setting
    candidates = group(chunks, catalogue, None, np.eye(3)[:, :2].astype(np.float32), tokenize=_words)
    rows = candidate_features(_view(np.array([1.0, 0.0])), candidates, lambda row: 1.0 - row * 0.5,
                              catalogue.row_of.get, lambda a: f"ko:{a}")
    first, second, third = rows
    assert set(first) == set(CANDIDATE_FEATURES)
    assert first["fused"] == 1.0 and second["fused"] == pytest.approx(0.6 / 0.9)
    assert first["dense"] == 1.0 and second["dense_gap"] == pytest.approx(-0.5)
    assert first["lex"] == 1.0 and third["lex"] == pytest.approx(0.25)
    # 경차 (2) + 주차요금 (1) + 감면 (1) of 4: the title holds 주차요금 and 감면.
    assert first["cover_title"] == pytest.approx(0.5) and first["cover_text"] == pytest.approx(1.0)
    assert second["cover_text"] == pytest.approx(0.25)
    assert second["miss_key"] == pytest.approx(1.0)  # 경차, the heaviest known word, is missing
    assert first["states_kind"] == 1.0 and first["number_kind"] == 1.0  # "100분의 50" is an amount
    assert third["states_kind"] == 0.0
    assert first["k_amount"] == 1.0 and first["k_period"] == 0.0
    assert first["doc_share"] == pytest.approx(2 / 3) and third["doc_lead"] == 0.0


def test_named_document_and_jurisdiction_features(setting: tuple[Catalogue, list[ScoredChunk]]) -> None:
    catalogue, chunks = setting
    candidates = group(chunks, catalogue, None, tokenize=_words)
    view = _view(None, named_docs={"d2": 0.8}, jurisdictions=("city of x (us)",))
    rows = candidate_features(view, candidates, lambda row: 0.0, catalogue.row_of.get, lambda a: a)
    assert [r["named_doc"] for r in rows] == [0.0, 0.0, 0.8]
    assert [r["named_other"] for r in rows] == [1.0, 1.0, 0.0]
    assert [r["juris_match"] for r in rows] == [0.0, 0.0, 1.0]
    assert [r["juris_mismatch"] for r in rows] == [1.0, 1.0, 0.0]


def test_unit_features_point_at_the_unit_that_states_the_amount() -> None:
    text = "제6조(감면)\n① 다음 각 호의 자동차는 주차요금의 100분의 50을 감면한다.\n1. 경차\n② 감면은 신청해야 한다."
    units = split_units(text)
    record = _record(0, "제6조", "감면", text)
    cunits = [CandidateUnit(ScoredChunk(record, 1.0), u, unit_context(units, u), None, _words(unit_context(units, u)))
              for u in units]
    rows = unit_features(_view(), cunits)
    assert set(rows[0]) == set(UNIT_FEATURES)
    assert [r["number_kind"] for r in rows] == [1.0, 1.0, 0.0]  # the 호 reads with its lead-in's figure
    assert [r["is_item"] for r in rows] == [0.0, 1.0, 0.0]
    assert rows[0]["is_lead_in"] == 1.0 and rows[0]["first"] == 1.0


def test_attachment_titles_are_covered_per_candidate_and_read_by_answerability(
    setting: tuple[Catalogue, list[ScoredChunk]],
) -> None:
    catalogue, chunks = setting
    candidates = group(chunks, catalogue, None, tokenize=_words)
    titles = {"d1": ["[별표 5] 경차 주차요금 감면 기준", "[별지 제1호서식] 감면 신청서"], "d2": []}
    rows = candidate_features(_view(), candidates, lambda row: 0.0, catalogue.row_of.get, lambda a: a,
                              lambda c: titles[c.doc_id])
    assert rows[0]["annex_cover"] == pytest.approx(1.0) and rows[0]["form_cover"] == pytest.approx(0.25)
    assert rows[2]["annex_cover"] == 0.0
    candidates[0].score, candidates[1].score = 0.8, 0.2
    features = answer_features("amount", candidates[:2], rows[:2])
    assert set(features) == set(ANSWER_FEATURES)
    assert features["p1"] == 0.8 and features["margin"] == pytest.approx(0.6)
    assert features["annex_cover"] == pytest.approx(1.0) and features["form_cover"] == pytest.approx(0.25)
    assert features["annex_beats"] == pytest.approx(1.0 - rows[0]["cover_unit"]) and features["same_doc_2"] == 1.0
