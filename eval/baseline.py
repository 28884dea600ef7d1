"""The naive baseline: llama-index defaults over the same documents, to show what structure buys.

Documents are read with our own loaders (so doc ids match the gold sets and PDFs get the
same text), then everything else is llama-index's defaults: ``SentenceSplitter()``
(1024 tokens, 200 overlap), one in-memory ``VectorStoreIndex``, dense top-k retrieval, no
versions, no lexical leg, no article structure. The embedder is ours, wrapped as a
llama-index ``BaseEmbedding``, so the comparison isolates chunking and search, not the model.

Without an LLM the baseline "answers" with the text of the nodes a default query engine
would hand to the model (``similarity_top_k=2``) and cites those nodes; it never refuses.
Its citations carry no article, so the runner scores them generously: a node counts as a
hit on a gold article when its text contains that article's header (``eval.labels``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civicrag.settings import Settings

DEFAULT_QUERY_TOP_K = 2  # llama-index's VectorIndexRetriever default: what a default query engine cites
EMBED_BATCH = 128


@dataclass
class NaiveHit:
    doc_id: str
    text: str
    score: float


@dataclass
class NaiveResult:
    retrieved: list[NaiveHit]
    cited: list[NaiveHit]
    answer: str
    timings_ms: dict[str, float] = field(default_factory=dict)


def _embedding_class() -> type:
    """A llama-index ``BaseEmbedding`` over our embedder (built lazily: llama-index imports slowly)."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class CivicEmbedding(BaseEmbedding):  # type: ignore[misc]
        _embedder: Any = PrivateAttr()

        def __init__(self, embedder: Any, **kwargs: Any):
            super().__init__(model_name=str(getattr(embedder, "key", "civicrag")), **kwargs)
            self._embedder = embedder

        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(x) for x in self._embedder.embed_query(query)]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return [float(x) for x in self._embedder.embed_passages([text])[0]]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [[float(x) for x in v] for v in self._embedder.embed_passages(texts)]

    return CivicEmbedding


class NaiveBaseline:
    """Build once over ``corpus``; then ``ask`` per question."""

    def __init__(self, settings: Settings, corpus: Sequence[Path], embedder: Any | None = None, top_k: int = 10):
        self.settings = settings
        self.corpus = [Path(p) for p in corpus]
        self._embedder = embedder
        self.top_k = top_k
        self._retriever: Any | None = None
        self.stats: dict[str, Any] = {}

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from civicrag.ingest.embedding import create_embedder

            self._embedder = create_embedder(self.settings)
        return self._embedder

    def load_documents(self) -> list[Any]:
        """llama-index Documents of every file our loaders accept (failures skipped, as a reader would)."""
        from civicrag.ingest.documents import IngestError
        from civicrag.ingest.loaders import LoadLimits, iter_candidate_files, load_file
        from llama_index.core import Document as LlamaDocument

        limits = LoadLimits.from_settings(self.settings)
        docs: list[Any] = []
        for file, root in iter_candidate_files(self.corpus):
            try:
                doc = load_file(file, root, limits)
            except IngestError:
                continue
            if doc.text.strip():
                docs.append(LlamaDocument(text=doc.text, metadata={"doc_id": doc.doc_id}, id_=f"{doc.doc_id}|{file}"))
        return docs

    def build(self) -> dict[str, Any]:
        from civicrag.ingest.embedding import EmbeddingCache
        from llama_index.core import VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        started = time.perf_counter()
        docs = self.load_documents()
        nodes = SentenceSplitter().get_nodes_from_documents(docs)
        # Embed through our cache (keyed by embedder and text) so repeated runs cost nothing, in batches
        # so an interrupted first build keeps what it embedded.
        cache = EmbeddingCache(self.settings.embedding_cache_path)
        embedded = 0
        try:
            for start in range(0, len(nodes), EMBED_BATCH):
                batch = nodes[start : start + EMBED_BATCH]
                vectors, fresh = cache.embed_passages(self.embedder, [n.get_content() for n in batch])
                embedded += fresh
                for node, vector in zip(batch, vectors, strict=True):
                    node.embedding = [float(x) for x in vector]
        finally:
            cache.close()
        embed_model = _embedding_class()(self.embedder)
        index = VectorStoreIndex(nodes, embed_model=embed_model, show_progress=False)
        self._retriever = index.as_retriever(similarity_top_k=self.top_k)
        self.stats = {
            "documents": len(docs), "nodes": len(nodes), "embedded": int(embedded),
            "seconds": round(time.perf_counter() - started, 2),
        }
        return self.stats

    def ask(self, question: str) -> NaiveResult:
        if self._retriever is None:
            self.build()
        assert self._retriever is not None
        started = time.perf_counter()
        found = self._retriever.retrieve(question)
        t_retrieve = time.perf_counter()
        hits = [
            NaiveHit(str(n.node.metadata.get("doc_id", "")), n.node.get_content(), float(n.score or 0.0))
            for n in found
        ]
        cited = hits[:DEFAULT_QUERY_TOP_K]
        answer = "\n\n".join(h.text for h in cited)
        done = time.perf_counter()
        return NaiveResult(
            retrieved=hits, cited=cited, answer=answer,
            timings_ms={
                "retrieve": round((t_retrieve - started) * 1000, 2),
                "answer": round((done - t_retrieve) * 1000, 2),
                "total": round((done - started) * 1000, 2),
            },
        )
