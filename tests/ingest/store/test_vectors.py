"""The vector index against both Chroma modes: embedded PersistentClient and a real `chroma run` server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from civicrag.ingest.documents import Chunk
from civicrag.ingest.store.vectors import VectorIndex, collection_name, open_chroma_client

from civicrag.settings import ConfigError, Settings, load_settings
from tests.conftest import free_port


def _chunks(n: int) -> tuple[list[Chunk], np.ndarray]:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [
        Chunk(f"doc@v#h-{i:04d}", f"text {i}", f"embed {i}", {"doc_id": "doc", "article": f"제{i}조", "seq": i})
        for i in range(n)
    ]
    return chunks, vectors


def _exercise(index: VectorIndex) -> None:
    chunks, vectors = _chunks(30)
    index.add(chunks, vectors)
    index.add(chunks[:5], vectors[:5])  # re-adding after an interrupted run must not duplicate
    assert index.count() == 30
    hits = index.query(vectors[7], k=3)
    assert hits[0][0] == "doc@v#h-0007"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-4)
    assert index.query(vectors[7], k=3, where={"article": "제8조"})[0][0] == "doc@v#h-0008"
    index.delete([c.chunk_id for c in chunks[:10]])
    assert index.count() == 20
    assert index.all_ids() == {c.chunk_id for c in chunks[10:]}


def test_embedded_persistent_client(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    index = VectorIndex(open_chroma_client(settings), collection_name("civicrag", "test"))
    _exercise(index)
    assert (tmp_path / "chroma").is_dir()
    # A second client on the same directory sees what the first wrote (persistence).
    again = VectorIndex(open_chroma_client(settings), collection_name("civicrag", "test"))
    assert again.count() == 20


@pytest.mark.chroma_server
def test_http_client_against_real_chroma_server(chroma_server: tuple[str, int], tmp_path: Path) -> None:
    host, port = chroma_server
    settings = load_settings(data_dir=tmp_path, chroma_host=host, chroma_port=port)
    index = VectorIndex(open_chroma_client(settings), collection_name("civicrag", "http-test"))
    _exercise(index)
    assert not (tmp_path / "chroma").exists()  # nothing embedded was created


def test_unreachable_server_is_a_config_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(ConfigError, match="cannot reach the Chroma server"):
        open_chroma_client(settings)


def test_collection_names_are_valid_for_chroma() -> None:
    assert collection_name("civicrag", "st-/models/My Model@v2") == "civicrag-st-models-My-Model-v2"
