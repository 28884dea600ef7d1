"""``RagService.load`` while another writer ingests: each load is one whole generation, never a mix."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from civicrag.ingest.pipeline import ingest_paths
from civicrag.ingest.store import IndexStore
from civicrag.ingest.store.lexical import LexicalIndex
from civicrag.rag.service import RagService

from civicrag.settings import Settings, load_settings
from tests.ingest.test_pipeline import PARKING, WASTE


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Settings, Path]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.md").write_text(PARKING, encoding="utf-8")
    (docs / "waste.md").write_text(WASTE, encoding="utf-8")
    settings = load_settings(data_dir=tmp_path / "data")
    assert not ingest_paths(settings, [docs]).failed
    return settings, docs


def fees(service: RagService) -> set[str]:
    texts = [r.text for r in service.load().catalogue.records if r.chunk_id.startswith("T-1@")]
    return {fee for fee in ("600원", "700원", "800원") if any(fee in t for t in texts)}


def test_load_starts_over_when_an_ingest_deletes_the_vectors_it_is_reading(
    indexed: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, docs = indexed
    service = RagService(settings)
    assert fees(service) == {"600원"}
    (docs / "parking.md").write_text(PARKING.replace("600원", "700원"), encoding="utf-8")
    ingest_paths(settings, [docs])
    read_at: list[int] = []
    real = RagService._read_vectors

    def read_after_another_ingest(self: RagService, catalogue):  # type: ignore[no-untyped-def]
        read_at.append(catalogue.generation)
        if len(read_at) == 1:  # the 700원 version is retired and its vectors deleted before they are read
            (docs / "parking.md").write_text(PARKING.replace("600원", "800원"), encoding="utf-8")
            ingest_paths(settings, [docs])
        return real(self, catalogue)

    monkeypatch.setattr(RagService, "_read_vectors", read_after_another_ingest)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "live chunks have no vector" would fail the test
        assert fees(service) == {"800원"}
    loaded = service.load()
    assert read_at == [read_at[0], loaded.generation] and loaded.generation == service.store.manifest.generation
    assert loaded.generation == read_at[0] + 1  # the one ingest in between
    service.close()


def test_a_reader_builds_bm25_of_its_snapshot_and_leaves_the_saved_one(indexed: tuple[Settings, Path]) -> None:
    settings, _docs = indexed
    store = IndexStore(settings)
    saved = LexicalIndex.load(settings.lexical_dir)
    assert saved is not None and saved.generation == store.manifest.generation
    store.manifest.retire_document("T-2")  # a writer's commit the reader sees before the BM25 is saved
    with store.manifest.snapshot() as snapshot:
        index = store.lexical(snapshot)
    assert index.generation == store.manifest.generation == saved.generation + 1
    assert not any(c.startswith("T-2@") for c in index.chunk_ids)
    assert sorted(index.chunk_ids) == sorted(c for c in saved.chunk_ids if not c.startswith("T-2@"))
    assert LexicalIndex.load(settings.lexical_dir).generation == saved.generation  # type: ignore[union-attr]
    store.close()
