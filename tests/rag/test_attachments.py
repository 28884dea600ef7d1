"""Attachments (별표, 서식) are not in the text: their titles feed the refusal model and name the place to look."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from civicrag.rag.attachments import best_attachment
from civicrag.rag.catalogue import _attachment_titles
from civicrag.rag.evidence import EvidenceScorer
from civicrag.rag.facts import states_number
from civicrag.rag.types import ChunkRecord, ScoredChunk

from civicrag.settings import load_settings

RENTAL_RULE = """---
자치법규ID: '9100077'
자치법규명: '가상특별자치도 체육관 관리 규칙'
자치법규종류: '규칙'
지자체기관명: '가상특별자치도'
시행일자: '2024-01-01'
본문출처: 'api-text'
첨부파일:
  - 제목: '[별표 1] 체육관 시설 사용료'
  - 제목: '[별표 2] 삭제<2023.1.1.>'
  - 제목: '[별지 제1호서식] 체육관 사용허가 신청서'
---

# 가상특별자치도 체육관 관리 규칙

##### 제1조 (목적)

이 규칙은 가상특별자치도 체육관의 관리에 필요한 사항을 규정함을 목적으로 한다.

##### 제4조 (사용료)

① 체육관을 사용하려는 자는 별표 1에 따른 사용료를 내야 한다.
② 사용료는 사용허가를 받은 날부터 3일 이내에 납부하여야 한다.

##### 제5조 (사용허가)

체육관을 사용하려는 자는 사용일 7일 전까지 별지 제1호서식의 신청서를 도지사에게 제출하여야 한다.
"""


def test_deleted_attachments_are_dropped_and_bad_metadata_is_harmless() -> None:
    meta = json.dumps({"attachments": ["[별표 1] 시설 사용료", "[별표 2] 삭제<2023.1.1.>", "[별지 제1호서식] 신청서"]})
    assert _attachment_titles(meta) == ("[별표 1] 시설 사용료", "[별지 제1호서식] 신청서")
    assert _attachment_titles("") == ()
    assert _attachment_titles("[1, 2]") == ()


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("amount", "사용료는 별표 1과 같다.", False),  # names the fee, states no figure
        ("amount", "1일 5,000원으로 한다.", True),
        ("amount", "사용료의 100분의 50을 감면한다.", True),
        ("amount", "사용료를 감면할 수 있다.", False),  # states_fact counts 감면; a figure it is not
        ("period", "임기는 위원회가 정한다.", False),
        ("period", "임기는 2년으로 한다.", True),
        ("count", "위원은 15명 이내로 구성한다.", True),
        ("body", "위원장은 부지사가 된다.", True),  # kinds without figures fall back to states_fact
    ],
)
def test_states_number_wants_a_figure_of_the_kind_asked(kind: Any, text: str, expected: bool) -> None:
    assert states_number(kind, text) is expected


def _scored(doc_id: str, title: str, article: str = "제4조", **meta: Any) -> ScoredChunk:
    record = ChunkRecord(
        f"{doc_id}#{article}", "본문", {"doc_id": doc_id, "title": title, "article": article, "version": "v1", **meta}
    )
    return ScoredChunk(record, 1.0)


def test_best_attachment_is_the_table_sharing_most_of_the_question() -> None:
    scorer = EvidenceScorer(str.split, {"체육관": 2.0, "사용료": 3.0, "신청서": 3.0, "얼마": 0.5})
    chunks = [_scored("R", "체육관 규칙")]
    attachments = {("R", "v1"): ("[별표 1] 체육관 사용료", "[별지 제1호서식] 체육관 사용허가 신청서")}
    title, document, share = best_attachment(chunks, attachments, ["체육관", "사용료", "얼마"], scorer)
    assert (title, document) == ("[별표 1] 체육관 사용료", "체육관 규칙")
    assert share == pytest.approx(5.0 / 5.5)
    # A form is never named as the place where a fact is stated.
    only_forms = {("R", "v1"): ("[별지 제1호서식] 체육관 사용허가 신청서",)}
    assert best_attachment(chunks, only_forms, ["신청서"], scorer) is None
    # Attachments of documents that were not retrieved do not count.
    assert best_attachment(chunks, {("X", "v1"): ("[별표] 체육관 사용료",)}, ["사용료"], scorer) is None


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A one-rule index; threshold 1.0 refuses every question, so the refusal's wording is what is tested."""
    from civicrag.ingest.pipeline import ingest_paths
    from civicrag.rag.service import RagService

    root = tmp_path_factory.mktemp("attachments")
    docs = root / "docs"
    docs.mkdir()
    (docs / "9100077.md").write_text(RENTAL_RULE, encoding="utf-8")
    settings = load_settings(None, data_dir=root / "data", answer_threshold=1.0)
    assert not ingest_paths(settings, [Path(docs)]).failed
    svc = RagService(settings)
    yield svc
    svc.close()


def test_catalogue_carries_the_live_attachment_titles(service: Any) -> None:
    attachments = service.load().catalogue.attachments
    assert list(attachments.values()) == [("[별표 1] 체육관 시설 사용료", "[별지 제1호서식] 체육관 사용허가 신청서")]


def test_a_refusal_names_the_attachment_that_holds_the_detail(service: Any) -> None:
    result = service.ask("체육관 시설 사용료는 얼마예요?")
    assert result.refused and result.citations == []
    assert "[별표 1] 체육관 시설 사용료" in result.answer
    assert "가상특별자치도 체육관 관리 규칙" in result.answer
    assert result.answerability is not None and result.answerability.features["annex_cover"] > 0.5


def test_a_refusal_unrelated_to_any_attachment_names_none(service: Any) -> None:
    result = service.ask("체육관 관리 규칙의 목적은?")
    assert result.refused
    assert "별표 1" not in result.answer and "체육관 시설 사용료" not in result.answer
