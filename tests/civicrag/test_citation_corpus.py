"""Formal citations of real provisions of ../shared/corpus, built as the answerer builds them: the document
is loaded, parsed and chunked by ingest, the quoted unit's labels come from its chunk, and the citation from
the chunk's metadata (no embedder, no index)."""

from __future__ import annotations

from pathlib import Path

import pytest
from civicrag.ingest.chunking import chunk_document
from civicrag.ingest.documents import Chunk
from civicrag.ingest.loaders import LoadLimits, load_file
from civicrag.ingest.parsing import parse_document
from civicrag.rag.types import ChunkRecord, Citation, ScoredChunk

from civicrag.legal.units import split_units

pytestmark = pytest.mark.corpus

LIMITS = LoadLimits(max_file_bytes=50 * 1024 * 1024, max_pdf_pages=2000)
JEJU_PARKING = "ko/jeju/2117853.md"  # 제주특별자치도 주차장 설치 및 관리 조례, 시행 2025-11-19
SOMERVILLE = "en/somerville/somerville-law-non-zoning.md"
DC = "en/dc-code/title-02/2-537.md"
_CHUNKS: dict[Path, list[Chunk]] = {}


def _chunks(path: Path) -> list[Chunk]:
    if path not in _CHUNKS:
        doc = load_file(path, path.parent, LIMITS)
        # A character-based token count: long articles split at their 항 as with the real embedder.
        _CHUNKS[path] = chunk_document(
            doc, parse_document(doc), lambda s: len(s) // 2, 480, doc.effective_date or "undated", "0" * 12
        )
    return _CHUNKS[path]


def formal(corpus: Path, rel: str, article: str, unit_prefix: str) -> str:
    """The formal citation of the unit of ``article`` that starts with ``unit_prefix``, quoted as the answer."""
    from civicrag.legal.citation import label_path

    for chunk in _chunks(corpus / rel):
        if chunk.metadata["article"] != article:
            continue
        units = split_units(chunk.text)
        for unit in units:
            if unit.text.startswith(unit_prefix):
                labels = label_path(units, unit.index, str(chunk.metadata["paragraph"]))
                scored = ScoredChunk(ChunkRecord(chunk.chunk_id, chunk.text, chunk.metadata), 1.0)
                return Citation.from_chunk(1, scored, quote=unit.text, labels=labels).formal
    raise AssertionError(f"no unit {unit_prefix!r} in {article} of {rel}")


def test_jeju_articles_hang_ho_mok_and_jo_ui_n(shared_corpus: Path) -> None:
    title = "「제주특별자치도 주차장 설치 및 관리 조례」"
    date = "(시행 2025. 11. 19.)"
    assert formal(shared_corpus, JEJU_PARKING, "제6조", "② 제1항에도") == f"{title} 제6조제2항 {date}"
    assert formal(shared_corpus, JEJU_PARKING, "제7조", "1. 행정기관이") == f"{title} 제7조제1항제1호 {date}"
    assert formal(shared_corpus, JEJU_PARKING, "제7조", "가. 위탁재산의") == f"{title} 제7조제4항제2호가목 {date}"
    # ⑥ sits in the second chunk of 제7조 (the article is split at its 항).
    assert formal(shared_corpus, JEJU_PARKING, "제7조", "⑥ 제1항제1호") == f"{title} 제7조제6항 {date}"
    assert formal(shared_corpus, JEJU_PARKING, "제18조의2", "①") == f"{title} 제18조의2제1항 {date}"
    assert formal(shared_corpus, JEJU_PARKING, "제22조의2", "법 제19조") == f"{title} 제22조의2 {date}"


def test_jeju_supplementary_provision(shared_corpus: Path) -> None:
    assert formal(shared_corpus, JEJU_PARKING, "부칙", "제1조(시행일)") == (
        "「제주특별자치도 주차장 설치 및 관리 조례」 부칙 (시행 2025. 11. 19.)"
    )


def test_dc_code_subsection_and_paragraph(shared_corpus: Path) -> None:
    assert formal(shared_corpus, DC, "§ 2-537", "(1) If the Mayor") == "D.C. Code § 2-537(a)(1)"
    assert formal(shared_corpus, DC, "§ 2-537", "(a-1)") == "D.C. Code § 2-537(a-1)"


def test_somerville_ordinance_sec_and_charter_section(shared_corpus: Path) -> None:
    assert formal(shared_corpus, SOMERVILLE, "Sec. 9-121", "(a) Established") == (
        "Somerville Code of Ordinances, Sec. 9-121(a)"
    )
    assert formal(shared_corpus, SOMERVILLE, "SECTION 3-1", "(b) Term of Office") == (
        "Somerville City Charter, Section 3-1(b)"
    )
