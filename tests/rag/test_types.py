"""``rag.types``: what a chunk record derives from its metadata, message coercion, citations built from metadata."""

from __future__ import annotations

import json

from civicrag.rag.types import ChunkRecord, Citation, Message, Result, ScoredChunk

META = {
    "doc_id": "9100001", "article": "제7조", "title": "가상특별자치도 주차장 설치 및 관리 조례", "language": "ko",
    "seq": 3, "version": "2024-01-01", "article_title": "주차요금의 감면", "page_start": 2, "effective_date":
    "2024-01-01", "source": "ko/9100001.md", "paragraph": "①", "department": "교통정책과", "provision_kind": "article",
    "references": json.dumps([{"name": "주차장법", "kind": "statute", "article": "제9조"}], ensure_ascii=False),
    "attachments": json.dumps([{"label": "별표 1", "title": "감면 기준"}], ensure_ascii=False),
}


def test_chunk_record_reads_its_metadata() -> None:
    record = ChunkRecord("c1", "본문", META, "2024-01-01", "2025-01-01")
    assert (record.doc_id, record.article, record.title, record.language, record.seq, record.version) == (
        "9100001", "제7조", "가상특별자치도 주차장 설치 및 관리 조례", "ko", 3, "2024-01-01"
    )
    assert record.key == ("9100001", "제7조") and record.superseded
    bare = ChunkRecord("c2", "본문", {})
    assert (bare.doc_id, bare.seq, bare.superseded) == ("", 0, False)


def test_in_force_from_valid_from_inclusive_to_valid_to_exclusive() -> None:
    record = ChunkRecord("c1", "본문", META, "2024-01-01", "2025-01-01")
    assert [record.in_force(day) for day in ("2023-12-31", "2024-01-01", "2024-12-31", "2025-01-01")] == [
        False, True, True, False
    ]
    assert ChunkRecord("c2", "본문", {}).in_force("1900-01-01")


def test_message_coerce_keeps_known_roles_only() -> None:
    message = Message("assistant", "답")
    assert Message.coerce(message) is message
    assert Message.coerce({"role": "assistant", "content": "답"}) == Message("assistant", "답")
    assert Message.coerce({"role": "tool", "content": 3}) == Message("user", "3")
    assert Message.coerce({}) == Message("user", "")


def test_citation_from_chunk_takes_everything_from_metadata() -> None:
    scored = ScoredChunk(ChunkRecord("c1", "① 경차는 감면한다.", META, "2024-01-01", None), 0.12345678)
    citation = Citation.from_chunk(2, scored, quote="① 경차는 감면한다.")
    assert citation == Citation(
        n=2, doc_id="9100001", title="가상특별자치도 주차장 설치 및 관리 조례", article="제7조",
        article_title="주차요금의 감면", page=2, effective_date="2024-01-01", source="ko/9100001.md",
        text="① 경차는 감면한다.", score=0.123457, chunk_id="c1", paragraph="①", quote="① 경차는 감면한다.",
        references=[{"name": "주차장법", "kind": "statute", "article": "제9조"}],
        formal="「가상특별자치도 주차장 설치 및 관리 조례」 제7조제1항 (시행 2024. 1. 1.)", department="교통정책과",
        provision_kind="article", attachments=[{"label": "별표 1", "title": "감면 기준"}],
    )


def test_malformed_metadata_gives_empty_lists() -> None:
    meta = {**META, "references": "not json", "attachments": '{"label": "별표 1"}', "page_start": 0}
    citation = Citation.from_chunk(1, ScoredChunk(ChunkRecord("c1", "본문", meta), 1.0))
    assert (citation.references, citation.attachments, citation.page) == ([], [], None)


def test_result_dict_keeps_the_documented_key_order() -> None:
    result = Result(id="q1", question="q", answer="a", refused=False, language="ko", citations=[], retrieved=[],
                    timings_ms={"total": 1.0})
    assert list(result.to_dict())[:8] == [
        "id", "question", "answer", "refused", "language", "citations", "retrieved", "timings_ms"
    ]

