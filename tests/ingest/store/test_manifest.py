from pathlib import Path

import pytest
from civicrag.ingest.documents import Chunk, Document
from civicrag.ingest.store.manifest import FileRow, Manifest


def _doc(effective: str | None, text: str = "본문") -> Document:
    return Document(doc_id="2117284", title="규칙", text=text, source="r.md", format="markdown",
                    effective_date=effective)


def _chunks(version: str, content_hash: str, n: int = 2) -> list[Chunk]:
    return [Chunk(f"2117284@{version}#{content_hash}-{i}", f"t{i}", f"e{i}", {"seq": i}) for i in range(n)]


def _add(m: Manifest, effective: str | None, content_hash: str) -> None:
    version = effective or "undated"
    chunks = _chunks(version, content_hash)
    m.begin_version(_doc(effective), version, content_hash, chunks, [["t"]] * len(chunks))
    m.activate_version("2117284", version, content_hash, FileRow("/r.md", "fh" + content_hash, "2117284",
                                                                  version, content_hash))


@pytest.fixture
def manifest(tmp_path: Path) -> Manifest:
    m = Manifest(tmp_path / "manifest.sqlite3")
    yield m
    m.close()


def test_pending_version_is_invisible_until_activated(manifest: Manifest) -> None:
    chunks = _chunks("2019-03-20", "h1")
    manifest.begin_version(_doc("2019-03-20"), "2019-03-20", "h1", chunks, [["a"], ["b"]])
    assert manifest.versions() == []
    assert list(manifest.live_chunks()) == []
    assert [r.status for r in manifest.unfinished()] == ["pending"]
    generation = manifest.generation
    manifest.activate_version("2117284", "2019-03-20", "h1", FileRow("/r.md", "x", "2117284", "2019-03-20", "h1"))
    assert [r.version for r in manifest.versions()] == ["2019-03-20"]
    assert len(list(manifest.live_chunks())) == 2
    assert manifest.generation == generation + 1


def test_later_effective_date_supersedes_and_keeps_old_version(manifest: Manifest) -> None:
    _add(manifest, "2019-03-20", "h1")
    _add(manifest, "2025-06-13", "h2")
    old, new = manifest.versions("2117284")
    assert (old.valid_from, old.valid_to) == ("2019-03-20", "2025-06-13")
    assert (new.valid_from, new.valid_to) == ("2025-06-13", None)
    assert old.superseded and not new.superseded
    assert old.in_force("2020-01-01") and not new.in_force("2020-01-01")
    assert new.in_force("2025-06-13") and not old.in_force("2025-06-13")
    assert manifest.counts() == {"documents": 1, "versions": 2, "superseded_versions": 1, "chunks": 4, "files": 1}


def test_older_version_arriving_later_is_slotted_in_before(manifest: Manifest) -> None:
    _add(manifest, "2025-06-13", "h2")
    _add(manifest, "2019-03-20", "h1")
    assert [(v.version, v.valid_to) for v in manifest.versions("2117284")] == [
        ("2019-03-20", "2025-06-13"),
        ("2025-06-13", None),
    ]


def test_same_version_new_content_retires_the_old_rows(manifest: Manifest) -> None:
    _add(manifest, "2025-06-13", "h1")
    _add(manifest, "2025-06-13", "h2")
    assert [v.content_hash for v in manifest.versions()] == ["h2"]
    retired = manifest.unfinished()
    assert [(r.content_hash, r.status) for r in retired] == [("h1", "retired")]
    manifest.purge(retired[0])
    assert manifest.unfinished() == []
    assert manifest.all_chunk_ids() == {c.chunk_id for c in _chunks("2025-06-13", "h2")}


def test_retire_document_hides_all_versions(manifest: Manifest) -> None:
    _add(manifest, "2019-03-20", "h1")
    _add(manifest, "2025-06-13", "h2")
    manifest.retire_document("2117284")
    assert manifest.versions() == [] and manifest.files() == []
    assert len(manifest.unfinished()) == 2


def test_failed_transaction_leaves_nothing(manifest: Manifest) -> None:
    with pytest.raises(RuntimeError), manifest.transaction() as db:
        db.execute("INSERT INTO state VALUES ('x', '1')")
        raise RuntimeError("crash inside the transaction")
    assert manifest.get_state("x") is None


def test_failures_are_replaced_per_scanned_path(manifest: Manifest) -> None:
    manifest.update_failures(["a.pdf", "b.pdf"], [("a.pdf", "encrypted PDF"), ("b.pdf", "empty file")])
    manifest.update_failures(["a.pdf"], [])
    assert manifest.failures() == [("b.pdf", "empty file")]
