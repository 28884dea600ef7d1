"""``RagService``: question in, cited answer out. Loads everything once; each question is cheap.

Loaded lazily on the first question and reused: the manifest's live chunks (the
catalogue), the dense vectors (read from Chroma into memory), the BM25 index, the
query embedder, optional extra legs (USE, cross-encoder) and the LLM client. When
an ingest run changes the manifest's generation, the next question reloads them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from civicrag.settings import Settings
from rag.answer import Answerer
from rag.answer.extractive import ExtractiveAnswerer
from rag.catalogue import Catalogue
from rag.empty_documents import EmptyDocuments
from rag.evidence import EvidenceScorer, UnitScore, idf_table
from rag.facts import question_kind
from rag.followup import FollowupRewriter, Rewrite
from rag.language import detect_language, phrase
from rag.references import DocumentNames, QueryRefs
from rag.refusal import DEFAULT_WEIGHTS, RefusalModel, best_attachment
from rag.retrieval import (
    ChromaDenseRetriever,
    DenseRetriever,
    HybridConfig,
    HybridRetriever,
    Leg,
    LexicalRetriever,
    QueryTokenizer,
)
from rag.types import Answer, Answerability, Message, Result, Retrieved, ScoredChunk, StreamEvent

#: Share of the question's (IDF-weighted) words an attachment title must hold to be named in a refusal.
ATTACHMENT_HINT_MIN = 0.4
RETRIEVED_LISTED = 10  # the result's ``retrieved`` lists at least this many, in rank order


@dataclass
class _Loaded:
    generation: int
    catalogue: Catalogue
    hybrid: HybridRetriever
    legs: dict[str, Leg]
    doc_names: DocumentNames
    scorer: EvidenceScorer
    followups: FollowupRewriter
    # Registered documents without readable text (manifest failures with a title).
    empty_docs: EmptyDocuments = field(default_factory=EmptyDocuments)


class RagService:
    """One per process (CLI run, server, eval). Thread-safe loading; queries share read-only state."""

    def __init__(self, settings: Settings, store: Any | None = None, embedder: Any | None = None):
        self.settings = settings
        self._owns_store = store is None  # close only what this service opened
        self._store = store
        self._embedder = embedder
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self._llm: Any | None = None
        self.refusal = RefusalModel(DEFAULT_WEIGHTS, settings.answer_refusal_threshold)

    # -- lazy parts --------------------------------------------------------------
    @property
    def store(self) -> Any:
        if self._store is None:
            from ingest.store import IndexStore

            self._store = IndexStore(self.settings)
        return self._store

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from ingest.embedding import create_embedder

            settings = self.settings
            if settings.embedder_threads == 0:
                # One short query does not parallelise; measured on the 2-core box while an ingest ran,
                # two OpenMP threads took 1.3 s per query against 60 ms for one. Ingest keeps all cores.
                settings = settings.model_copy(update={"embedder_threads": 1})
            self._embedder = create_embedder(settings)
        return self._embedder

    @property
    def llm(self) -> Any | None:
        if self._llm is None and self.settings.llm_base_url:
            from rag.answer.llm import LlmClient

            key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else None
            self._llm = LlmClient(
                self.settings.llm_base_url, self.settings.llm_model, key, self.settings.llm_timeout_s,
                self.settings.llm_temperature,
            )
        return self._llm

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
        if self._store is not None and self._owns_store:
            self._store.close()

    def install(self, loaded: _Loaded) -> None:
        """Use prepared parts (benchmarks); replaced by a fresh load when the manifest changes."""
        self._loaded = loaded

    def load(self) -> _Loaded:
        """Load (or reload after an ingest) the catalogue and the indexes."""
        generation = self.store.manifest.generation
        loaded = self._loaded
        if loaded is not None and loaded.generation == generation:
            return loaded
        with self._lock:
            if self._loaded is None or self._loaded.generation != generation:
                self._loaded = self._build(generation)
            return self._loaded

    def _build(self, generation: int) -> _Loaded:
        catalogue = Catalogue.load(self.store.manifest)
        tokens = [toks for _, _, _, toks in self.store.manifest.live_chunks()]
        dense = None if self.settings.retrieval_dense_backend == "chroma" else self._read_vectors(catalogue)
        return self.assemble(
            generation, catalogue, tokens, dense, self.store.lexical(),
            empty_documents=self.store.manifest.empty_documents(),
        )

    def assemble(
        self,
        generation: int,
        catalogue: Catalogue,
        token_lists: Sequence[Sequence[str]],
        dense_matrix: np.ndarray | None,
        lexical_index: Any,
        empty_documents: Sequence[tuple[str, str, str]] = (),
    ) -> _Loaded:
        """Wire the retrieval parts over given data (the benchmark feeds synthetic copies through here)."""
        s = self.settings
        tokenizer = self.store.tokenizer
        query_tokens = QueryTokenizer(tokenizer)
        lexical = LexicalRetriever(catalogue, lexical_index, query_tokens.expanded)
        legs: dict[str, Leg] = {}
        if dense_matrix is None:
            legs["dense"] = ChromaDenseRetriever(catalogue, self.store.vectors, self.embedder.embed_query)  # type: ignore[assignment]
        else:
            legs["dense"] = DenseRetriever("dense", catalogue, dense_matrix, self.embedder.embed_query)  # type: ignore[assignment]
        legs["lexical"] = lexical  # type: ignore[assignment]
        weights = {"dense": s.retrieval_dense_weight, "lexical": s.retrieval_lexical_weight}
        if s.retrieval_second_dense == "use-m3":
            from rag.extras import use_leg

            legs["use"] = use_leg(s, catalogue)  # type: ignore[assignment]
            weights["use"] = s.retrieval_second_dense_weight
        reranker = None
        if s.retrieval_reranker:
            from rag.extras import CrossEncoderReranker

            reranker = CrossEncoderReranker(s.retrieval_reranker, s.retrieval_rerank_top)
        doc_names = DocumentNames(catalogue, tokenizer)
        hybrid = HybridRetriever(
            catalogue,
            list(legs.values()),
            HybridConfig(
                fusion=s.retrieval_fusion, rrf_k=s.retrieval_rrf_k, weights=weights,
                candidates=s.retrieval_candidates, doc_boost=s.retrieval_doc_boost,
                neighbours=s.retrieval_neighbours, fact_boost=s.retrieval_fact_boost,
            ),
            doc_names=doc_names,
            tokenize=query_tokens,
            reranker=reranker,
        )
        scorer = EvidenceScorer(tokenizer, idf_table(token_lists))
        followups = FollowupRewriter(
            query_tokens, lambda q: [d for d, _ in doc_names.find(q, query_tokens(q))[:1]], doc_names.titles
        )
        if len(catalogue):
            tokenizer("워밍업 warm-up")  # Kiwi loads on first Korean text (≈1 s): pay it here, not per question
        empty_docs = EmptyDocuments.build(empty_documents, doc_names, tokenizer)
        return _Loaded(generation, catalogue, hybrid, legs, doc_names, scorer, followups, empty_docs)

    def _read_vectors(self, catalogue: Catalogue) -> np.ndarray:
        """The ingest-time vectors of every live chunk, in catalogue order (one read from Chroma)."""
        from ingest.store.vectors import collection_name, open_chroma_client

        dim = int(getattr(self.embedder, "dim", 0) or 0)
        matrix = np.zeros((len(catalogue), dim), dtype=np.float32)
        if not len(catalogue):
            return matrix
        client = open_chroma_client(self.settings)
        collection = client.get_or_create_collection(
            name=collection_name(self.settings.chroma_collection, self.settings.embedder_key),
            embedding_function=None, metadata={"hnsw:space": "cosine"},
        )
        ids = [r.chunk_id for r in catalogue.records]
        found = 0
        for i in range(0, len(ids), 2000):
            got = collection.get(ids=ids[i : i + 2000], include=["embeddings"])
            for chunk_id, vector in zip(got["ids"], got["embeddings"], strict=True):
                matrix[catalogue.row_of[chunk_id]] = np.asarray(vector, dtype=np.float32)
                found += 1
        if found < len(ids):
            # A chunk without a vector would silently never rank by meaning; say so and go on lexically.
            import warnings

            warnings.warn(f"{len(ids) - found} live chunks have no vector in Chroma", stacklevel=2)
        return matrix

    # -- questions ---------------------------------------------------------------
    def retrieve(
        self,
        question: str,
        k: int | None = None,
        as_of: str | date | None = None,
        filters: Mapping[str, str] | None = None,
        leg: str = "hybrid",
        docs: Sequence[str] = (),
    ) -> list[ScoredChunk]:
        """Ranked chunks for a standalone question; ``leg`` selects one leg alone (evaluation)."""
        loaded = self.load()
        day = _as_of(as_of)
        k = k or self.settings.retrieval_k
        if leg == "hybrid":
            refs = loaded.hybrid.references(question)
            refs.docs = list(dict.fromkeys([*refs.docs, *docs]))
            return loaded.hybrid.retrieve(question, filters, day, k, refs=refs)
        return loaded.legs[leg].retrieve(question, filters, day, k)  # type: ignore[attr-defined]

    def ask(
        self,
        question: str,
        history: Sequence[Message | Mapping[str, Any]] | None = None,
        k: int | None = None,
        as_of: str | date | None = None,
        filters: Mapping[str, str] | None = None,
        id: str | None = None,
    ) -> Result:
        result: Result | None = None
        for event in self.stream(question, history, k, as_of, filters, id):
            if event.type == "done":
                result = event.result
        assert result is not None
        return result

    def stream(
        self,
        question: str,
        history: Sequence[Message | Mapping[str, Any]] | None = None,
        k: int | None = None,
        as_of: str | date | None = None,
        filters: Mapping[str, str] | None = None,
        id: str | None = None,
    ) -> Iterator[StreamEvent]:
        """``retrieved`` once, ``delta`` pieces of the answer, then ``done`` with the Result."""
        started = time.perf_counter()
        loaded = self.load()
        language = detect_language(question)
        day = _as_of(as_of)
        k = k or self.settings.retrieval_k
        turns = [Message.coerce(m) for m in (history or [])]

        rewrite = self._rewrite(question, turns, language, loaded)
        refs: QueryRefs = loaded.hybrid.references(rewrite.question)
        refs.docs = list(dict.fromkeys([*refs.docs, *rewrite.docs]))
        chunks = loaded.hybrid.retrieve(rewrite.question, filters, day, max(k, RETRIEVED_LISTED), refs=refs)
        retrieved = [
            Retrieved(c.chunk.doc_id, c.chunk.article, round(c.score, 6), c.chunk.chunk_id, c.chunk.title)
            for c in chunks
        ]
        t_retrieve = time.perf_counter()
        yield StreamEvent("retrieved", retrieved=retrieved)

        evidence = chunks[:k]
        kind = question_kind(rewrite.question)
        query_tokens = loaded.hybrid.tokenize(rewrite.question) if loaded.hybrid.tokenize else []
        # A question that names a provision is answered from that provision, not a neighbour that
        # happens to share more words with it.
        quoted = evidence[:1] if evidence and evidence[0].pinned else evidence
        units = loaded.scorer.score(query_tokens, kind, quoted)
        answerability = self.refusal.decide(
            self.refusal.features(kind, evidence, units, query_tokens, loaded.scorer, loaded.catalogue.attachments)
        )
        # A question about a registered ordinance whose text could not be read must not be answered
        # from whichever indexed ordinance shares its words: say what is wrong instead.
        empty = loaded.empty_docs.named(
            rewrite.question, query_tokens, _lead_provision(quoted, units) if answerability.answerable else None
        )
        if empty is None and not answerability.answerable:
            # Staff asking for a fee that sits in "[별표 5] 공영주차장 주차요금" should be sent there.
            hint = best_attachment(evidence, loaded.catalogue.attachments, query_tokens, loaded.scorer)
            if hint is not None and hint[2] >= ATTACHMENT_HINT_MIN:
                reason = phrase("in_attachment", language, attachment=hint[0], title=hint[1])
                answerability = dataclasses.replace(answerability, reason=reason)
        if empty is not None:
            text = phrase("empty_document", language, title=empty.title)
            answerability = Answerability(False, 0.0, text, answerability.features)
            yield StreamEvent("delta", text=text)
            answer: Answer | None = Answer(text=text, refused=True, citations=[], reason=text)
            mode = "none"
        elif not len(loaded.catalogue):
            text = phrase("empty_index", language)
            yield StreamEvent("delta", text=text)
            answer = Answer(text=text, refused=True, citations=[])
            mode = "none"
        else:
            answer, mode = None, "extractive"
            answerer: Answerer = ExtractiveAnswerer(related=self.settings.answer_related)
            if self.llm is not None:
                from rag.answer.llm import LlmAnswerer, LlmError

                llm_answerer = LlmAnswerer(self.llm, loaded.scorer, self.settings.llm_max_chunks,
                                           self.settings.answer_related)
                try:
                    for piece in llm_answerer.stream(question, language, evidence, units, answerability, day):
                        if isinstance(piece, Answer):
                            answer = piece
                        else:
                            yield StreamEvent("delta", text=piece)
                    mode = "llm"
                except LlmError as exc:
                    # The endpoint failed before answering: fall back to the offline answer, and say so.
                    yield StreamEvent("delta", text=f"[LLM unavailable: {exc}; extractive answer follows]\n")
                    answer = None
            if answer is None:
                for piece in answerer.stream(question, language, evidence, units, answerability, day):
                    if isinstance(piece, Answer):
                        answer = piece
                    else:
                        yield StreamEvent("delta", text=piece)
        assert answer is not None
        done = time.perf_counter()
        result = Result(
            id=id,
            question=question,
            answer=answer.text,
            refused=answer.refused,
            language=language,
            citations=answer.citations,
            retrieved=retrieved,
            timings_ms={
                "retrieve": round((t_retrieve - started) * 1000, 2),
                "answer": round((done - t_retrieve) * 1000, 2),
                "total": round((done - started) * 1000, 2),
            },
            rewritten_question=rewrite.question if rewrite.is_followup else None,
            as_of=day,
            filters=dict(filters or {}),
            related=answer.related,
            superseded=any(c.superseded for c in answer.citations),
            answerability=answerability,
            mode=mode,
            dropped=answer.dropped,
        )
        yield StreamEvent("done", result=result)

    def _rewrite(self, question: str, turns: list[Message], language: str, loaded: _Loaded) -> Rewrite:
        rewrite = loaded.followups.rewrite(question, turns)
        if rewrite.is_followup and self.llm is not None:
            from rag.answer.llm import LlmError

            with contextlib.suppress(LlmError):  # on failure the deterministic rewrite stands
                rewrite.question = self.llm.rewrite(question, turns, language)
        return rewrite


def _lead_provision(quoted: Sequence[ScoredChunk], units: Sequence[UnitScore]) -> str | None:
    """Title and text of the chunk an answer would quote first (the one holding the best unit)."""
    rank = units[0].chunk_rank if units else 0
    if not 0 <= rank < len(quoted):
        return None
    chunk = quoted[rank].chunk
    return f"{chunk.title}\n{chunk.text}"


def _as_of(value: str | date | None) -> str:
    if value is None or value == "":
        return date.today().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(str(value)).isoformat()  # raises ValueError on a bad date
