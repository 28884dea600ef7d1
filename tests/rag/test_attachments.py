"""Attachments (별표, 서식) are not in the text: their titles feed the refusal model and name the place to look."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from civicrag.rag.attachments import best_attachment
from civicrag.rag.evidence import EvidenceScorer
from civicrag.rag.language import phrase
from civicrag.rag.types import ChunkRecord, ScoredChunk

from civicrag.settings import load_settings

TITLE = "가상특별자치도 체육관 관리 규칙"
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
    """A one-rule index answered with the shipped models and their own threshold: whether a question is
    refused is the answerability model's decision, and the refusal's wording follows from it."""
    from civicrag.ingest.pipeline import ingest_paths
    from civicrag.rag.service import RagService

    root = tmp_path_factory.mktemp("attachments")
    docs = root / "docs"
    docs.mkdir()
    (docs / "9100077.md").write_text(RENTAL_RULE, encoding="utf-8")
    settings = load_settings(None, data_dir=root / "data")
    assert not ingest_paths(settings, [Path(docs)]).failed
    svc = RagService(settings)
    yield svc
    svc.close()


def test_catalogue_carries_the_live_attachment_titles(service: Any) -> None:
    attachments = service.load().catalogue.attachments
    assert list(attachments.values()) == [("[별표 1] 체육관 시설 사용료", "[별지 제1호서식] 체육관 사용허가 신청서")]


def test_a_refusal_names_the_attachment_that_holds_the_detail(service: Any) -> None:
    result = service.ask("체육관 시설 사용료는 얼마예요?")
    # 제4조 hands the fee to 별표 1 and states no figure: the model refuses (0.28 measured, threshold 0.33).
    assert result.refused and result.citations == [] and not result.answerability.answerable
    # Every word of the question is in the title "[별표 1] 체육관 시설 사용료".
    assert result.answerability.features["annex_cover"] == 1.0
    reason = phrase("in_attachment", "ko", attachment="[별표 1] 체육관 시설 사용료", title=TITLE)
    assert result.answerability.reason == reason
    assert result.answer.splitlines() == [
        "규정에서 찾을 수 없습니다.", reason, "", "관련이 있을 수 있는 조문:", f"- 「{TITLE}」 제4조(사용료)",
    ]


def test_a_refusal_unrelated_to_any_attachment_names_none(service: Any) -> None:
    result = service.ask("체육관 주차장 요금은 얼마예요?")
    # Refused for the same deferral, but 주차장 and 요금 are in no attachment title: the generic reason stands.
    assert result.refused and result.citations == []
    assert result.answerability.reason == "the provision leaves the detail to an attachment or a later decision"
    assert result.answer.splitlines() == [
        "규정에서 찾을 수 없습니다.",
        "관련 조문은 있으나, 질문하신 세부 내용은 별표·서식 등 첨부나 별도 결정에 맡겨져 있어 본문에 없습니다.",
        "",
        "관련이 있을 수 있는 조문:",
        f"- 「{TITLE}」 제4조(사용료)",
    ]


def test_an_answered_question_is_not_sent_to_an_attachment(service: Any) -> None:
    result = service.ask("체육관 관리 규칙의 목적은?")
    assert not result.refused and [c.article for c in result.citations] == ["제1조"]
    assert "별표" not in result.answer
