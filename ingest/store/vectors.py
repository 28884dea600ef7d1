"""Chroma, through llama-index's ChromaVectorStore: embedded by default, a `chroma run` server when configured.

We always pass our own embeddings and create collections with
``embedding_function=None``: Chroma's default embedder would download a model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from civicrag.ingest.documents import Chunk

from civicrag.settings import ConfigError, Settings


def open_chroma_client(settings: Settings) -> Any:
    """A PersistentClient under the data directory, or an HttpClient for ``chroma.host``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma.host:
        try:
            client = chromadb.HttpClient(
                host=settings.chroma.host,
                port=settings.chroma.port,
                ssl=settings.chroma.ssl,
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise ConfigError(
                f"cannot reach the Chroma server at {settings.chroma.host}:{settings.chroma.port}: {exc}"
            ) from exc
        return client
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def collection_name(prefix: str, embedder_key: str) -> str:
    """One collection per embedding space; Chroma allows [a-zA-Z0-9._-], 3-512 chars."""
    name = re.sub(r"[^a-zA-Z0-9._-]+", "-", f"{prefix}-{embedder_key}")
    name = re.sub(r"-{2,}", "-", name).strip("-._")
    return name[:500] or "civicrag"


class VectorIndex:
    """The dense index of chunks. Visibility (which versions count) is the manifest's business."""

    def __init__(self, client: Any, name: str):
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.name = name
        self._collection = client.get_or_create_collection(
            name=name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        self._store = ChromaVectorStore(chroma_collection=self._collection)

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Add chunks; ids already present are replaced (re-running after a crash is safe)."""
        from llama_index.core.schema import TextNode

        if not chunks:
            return
        self.delete([c.chunk_id for c in chunks])
        nodes = [
            TextNode(
                id_=chunk.chunk_id,
                text=chunk.embed_text,
                metadata=dict(chunk.metadata),
                embedding=vectors[i].tolist(),
                # Keep llama-index's serialised node small: it must not repeat the metadata in text form.
                excluded_embed_metadata_keys=list(chunk.metadata),
                excluded_llm_metadata_keys=list(chunk.metadata),
            )
            for i, chunk in enumerate(chunks)
        ]
        self._store.add(nodes)

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for i in range(0, len(chunk_ids), 1000):
            batch = list(chunk_ids[i : i + 1000])
            if batch:
                self._store.delete_nodes(node_ids=batch)

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset, page = 0, 5000
        while True:
            got = self._collection.get(include=[], limit=page, offset=offset)["ids"]
            ids.update(got)
            if len(got) < page:
                return ids
            offset += page

    def count(self) -> int:
        return int(self._collection.count())

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Top-k chunk ids with cosine similarity."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        if self.count() == 0:
            return []
        result = self._store.query(
            VectorStoreQuery(query_embedding=vector.tolist(), similarity_top_k=k),
            **({"where": where} if where else {}),
        )
        # ChromaVectorStore reports exp(-distance); with cosine space distance = 1 - cos.
        return [
            (node_id, 1.0 + math.log(max(sim, 1e-12)))
            for node_id, sim in zip(result.ids or [], result.similarities or [], strict=False)
        ]

