"""Citations on hand-made chunks: the formal form, the department and the attachments, from metadata only."""

from __future__ import annotations

import json

from civicrag.rag.answer.extractive import ExtractiveAnswerer
from civicrag.rag.evidence import UnitScore
from civicrag.rag.types import Answer, Answerability, ChunkRecord, Citation, ScoredChunk

from civicrag.legal.units import split_units

TEXT = """제7조(주차요금의 감면)
① 도지사는 다음 각 호의 자동차에 대하여 주차요금의 100분의 50을 감면한다.
1. 경차
2. 전기자동차
② 정기주차권의 요금은 별표 1과 같다."""

ATTACHMENT = {"label": "별표 1", "title": "[별표 1] 정기주차권 요금", "format": "docx", "url": "", "indexed": True}
META = {
    "doc_id": "9100001", "title": "가상특별자치도 주차장 설치 및 관리 조례", "language": "ko", "kind": "조례",
    "article": "제7조", "article_title": "주차요금의 감면", "provision_kind": "article", "paragraph": "",
    "effective_date": "2024-01-01", "department": "교통정책과", "version": "2024-01-01",
    "attachments": json.dumps([ATTACHMENT], ensure_ascii=False),
}


def _scored(meta: dict[str, object] = META, text: str = TEXT) -> ScoredChunk:
    return ScoredChunk(ChunkRecord("9100001@2024-01-01#0-0003", text, meta), 0.9)


def test_citation_from_chunk_carries_formal_department_and_attachments() -> None:
    citation = Citation.from_chunk(1, _scored(), paragraph="②")
    assert citation.formal == "「가상특별자치도 주차장 설치 및 관리 조례」 제7조제2항 (시행 2024. 1. 1.)"
    assert citation.department == "교통정책과"
    assert citation.provision_kind == "article"
    assert citation.attachments == [ATTACHMENT]
    # A related provision (no quote): the article alone, a range of 항 names none of them.
    related = Citation.from_chunk(2, _scored({**META, "paragraph": "①–②", "attachments": ""}))
    assert related.formal == "「가상특별자치도 주차장 설치 및 관리 조례」 제7조 (시행 2024. 1. 1.)"
    assert related.attachments == []
    assert "formal" in Citation.from_chunk(1, _scored()).__dict__  # part of the API result (asdict)


def test_extractive_answer_cites_the_quoted_ho_formally() -> None:
    chunk = _scored()
    units = split_units(chunk.chunk.text)
    item = next(u for u in units if u.text.startswith("1. 경차"))
    best = UnitScore(0, item, overlap=0.8, fact=True, defers=False, score=0.9, text=item.text)
    events = list(ExtractiveAnswerer().stream(
        "경차는 감면되나요?", "ko", [chunk], [best], Answerability(True, 0.9, ""), "2025-01-01"
    ))
    answer = events[-1]
    assert isinstance(answer, Answer)
    lead = answer.citations[0]
    assert lead.paragraph == "①"  # the 항 that introduces the quoted 호, as before
    assert lead.formal == "「가상특별자치도 주차장 설치 및 관리 조례」 제7조제1항제1호 (시행 2024. 1. 1.)"
    assert lead.department == "교통정책과"


def test_english_citation_formal() -> None:
    meta = {"doc_id": "dc-code-2-537", "title": "Administrative appeals.", "language": "en", "kind": "code",
            "jurisdiction": "District of Columbia (US)", "article": "§ 2-537", "paragraph": "(a)",
            "department": "Office of the Secretary"}
    citation = Citation.from_chunk(1, _scored(meta, "§ 2-537. Administrative appeals.\n(a) Any person ..."))
    assert citation.formal == "D.C. Code § 2-537(a)"
    assert citation.department == "Office of the Secretary"
