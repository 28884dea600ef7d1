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
from civicrag.rag.answer.extractive import ExtractiveAnswerer
from civicrag.rag.attachments import best_attachment
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.decision import Decider, Decision
from civicrag.rag.empty_documents import EmptyDocuments
from civicrag.rag.evidence import EvidenceScorer, idf_table
from civicrag.rag.facts import question_kind
from civicrag.rag.followup import FollowupRewriter, Rewrite
from civicrag.rag.language import detect_language, phrase
from civicrag.rag.query import Query
from civicrag.rag.references import DocumentNames, QueryRefs, article_refs
from civicrag.rag.rerank.candidates import UnitVectors
from civicrag.rag.rerank.model import DEFAULT_ARTEFACT, ArtefactError, DecisionModels, UntrainedModels
from civicrag.rag.retrieval import (
    ChromaDenseRetriever,
    DenseRetriever,
    HybridConfig,
    HybridRetriever,
    Leg,
    LexicalRetriever,
    QueryTokenizer,
)
from civicrag.rag.scope import Jurisdictions
from civicrag.rag.structured import StructuredAnswerer
from civicrag.rag.structured import build as build_structured
from civicrag.rag.types import Answer, Answerability, Message, Result, Retrieved, ScoredChunk, StreamEvent

from civicrag.settings import ConfigError, Settings

#: Share of the question's (IDF-weighted) words an attachment title must hold to be named in a refusal.
ATTACHMENT_HINT_MIN = 0.4
#: Fused chunks retrieval hands to the reranker (grouped into at most ``rerank_candidates`` provisions).
CHUNK_POOL = 60
#: Loads started over when another process's ingest deleted vectors of the generation being read.
_BUILD_ATTEMPTS = 5


@dataclass
class _Loaded:
    generation: int
    catalogue: Catalogue
    hybrid: HybridRetriever
    legs: dict[str, Leg]
    doc_names: DocumentNames
    scorer: EvidenceScorer
    followups: FollowupRewriter
    decider: Decider
    jurisdictions: Jurisdictions
    structured: list[StructuredAnswerer]
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
        self._models: DecisionModels | None = None

    @property
    def models(self) -> DecisionModels:
        """The learned decisions (the shipped artefact unless ``rerank_artefact`` names another)."""
        if self._models is None:
            path = self.settings.rerank_artefact or DEFAULT_ARTEFACT
            try:
                models = DecisionModels.load(path)
            except ArtefactError as exc:
                raise ConfigError(str(exc)) from exc
            if self.settings.answer_threshold is not None:
                models.threshold = self.settings.answer_threshold
            self._models = models
        return self._models

    def use_models(self, models: DecisionModels | UntrainedModels) -> None:
        """Decide with these models (training and tests), from the next load on."""
        if self._models is None or getattr(self._models, "query_adapter", None) != models.query_adapter:
            self._embedder = None  # another query encoder goes with these models
        self._models = models  # type: ignore[assignment]
        self._loaded = None

    # -- lazy parts --------------------------------------------------------------
    @property
    def store(self) -> Any:
        if self._store is None:
            from civicrag.ingest.store import IndexStore

            self._store = IndexStore(self.settings)
        return self._store

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from civicrag.ingest.embedding import create_embedder

            settings = self.settings
            if settings.embedder_threads == 0:
                # One short query does not parallelise; measured on the 2-core box while an ingest ran,
                # two OpenMP threads took 1.3 s per query against 60 ms for one. Ingest keeps all cores.
                settings = settings.model_copy(update={"embedder_threads": 1})
            self._embedder = create_embedder(settings, query_adapter=self.models.query_adapter)
        return self._embedder

    @property
    def llm(self) -> Any | None:
        if self._llm is None and self.settings.llm_base_url:
            from civicrag.rag.answer.llm import LlmClient

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
        """Every part from one generation, whatever other processes commit meanwhile: the manifest is read in
        one snapshot; when an ingest deleted some of its chunks' vectors before they were read, start over."""
        for attempt in range(_BUILD_ATTEMPTS):
            with self.store.manifest.snapshot() as manifest:
                generation = manifest.generation
                catalogue = Catalogue.load(manifest)
                tokens = [toks for _, _, _, toks in manifest.live_chunks()]
                units = UnitVectors.build(catalogue, list(manifest.live_units()), self._dim())
                empty_documents = manifest.empty_documents()
                lexical = self.store.lexical(manifest)
            if self.settings.retrieval_dense_backend == "chroma":
                dense, missing = None, 0
            else:
                dense, missing = self._read_vectors(catalogue)
            if not missing or self.store.manifest.generation == generation or attempt == _BUILD_ATTEMPTS - 1:
                break
        if missing:
            # A chunk without a vector would silently never rank by meaning; say so and go on lexically.
            import warnings

            warnings.warn(f"{missing} live chunks have no vector in Chroma", stacklevel=2)
        return self.assemble(
            generation, catalogue, tokens, dense, lexical, empty_documents=empty_documents, unit_vectors=units,
        )

    def _dim(self) -> int:
        return int(getattr(self.embedder, "dim", 0) or 0)

    def assemble(
        self,
        generation: int,
        catalogue: Catalogue,
        token_lists: Sequence[Sequence[str]],
        dense_matrix: np.ndarray | None,
        lexical_index: Any,
        empty_documents: Sequence[tuple[str, str, str]] = (),
        unit_vectors: UnitVectors | None = None,
    ) -> _Loaded:
        """Wire the retrieval parts over given data (the benchmark feeds synthetic copies through here)."""
        s = self.settings
        tokenizer = self.store.tokenizer
        query_tokens = QueryTokenizer(tokenizer)
        lexical = LexicalRetriever(catalogue, lexical_index, query_tokens)
        legs: dict[str, Leg] = {}
        if dense_matrix is None:
            legs["dense"] = ChromaDenseRetriever(catalogue, self.store.vectors, self.embedder.embed_query)  # type: ignore[assignment]
        else:
            legs["dense"] = DenseRetriever("dense", catalogue, dense_matrix, self.embedder.embed_query)  # type: ignore[assignment]
        legs["lexical"] = lexical  # type: ignore[assignment]
        weights = {"dense": s.retrieval_dense_weight, "lexical": s.retrieval_lexical_weight}
        if s.retrieval_second_dense == "use-m3":
            from civicrag.rag.extras import use_leg

            legs["use"] = use_leg(s, catalogue)  # type: ignore[assignment]
            weights["use"] = s.retrieval_second_dense_weight
        reranker = None
        if s.retrieval_reranker:
            from civicrag.rag.extras import CrossEncoderReranker

            reranker = CrossEncoderReranker(s.retrieval_reranker, s.retrieval_rerank_top)
        doc_names = DocumentNames(catalogue, tokenizer)
        hybrid = HybridRetriever(
            catalogue,
            list(legs.values()),
            HybridConfig(
                fusion=s.retrieval_fusion, rrf_k=s.retrieval_rrf_k, weights=weights,
                candidates=s.retrieval_candidates, doc_boost=s.retrieval_doc_boost,
                neighbours=s.retrieval_neighbours,
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
        decider = Decider(
            catalogue, self.models, scorer, unit_vectors, dense_matrix, tokenizer,
            default_jurisdiction=s.scope_jurisdiction, limit=s.rerank_candidates,
        )
        jurisdictions = Jurisdictions.build(str(r.metadata.get("jurisdiction", "")) for r in catalogue.records)
        structured = build_structured(catalogue, self.store, tokenizer)
        return _Loaded(generation, catalogue, hybrid, legs, doc_names, scorer, followups, decider, jurisdictions,
                       structured, empty_docs)

    def _read_vectors(self, catalogue: Catalogue) -> tuple[np.ndarray, int]:
        """The ingest-time vectors of every live chunk, in catalogue order (one read from Chroma), and how many
        chunks had none."""
        from civicrag.ingest.store.vectors import collection_name, open_chroma_client

        dim = self._dim()
        matrix = np.zeros((len(catalogue), dim), dtype=np.float32)
        if not len(catalogue):
            return matrix, 0
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
        return matrix, len(ids) - found

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

    def query(
        self,
        question: str,
        history: Sequence[Message | Mapping[str, Any]] | None = None,
        as_of: str | date | None = None,
        filters: Mapping[str, str] | None = None,
    ) -> Query:
        """The question worked out once: rewritten, tokenized, classified, its references resolved."""
        loaded = self.load()
        language = detect_language(question)
        turns = [Message.coerce(m) for m in (history or [])]
        rewrite = self._rewrite(question, turns, language, loaded)
        tokens = loaded.hybrid.tokenize(rewrite.question) if loaded.hybrid.tokenize else []
        named = loaded.doc_names.find(rewrite.question, tokens)[:2]
        refs = QueryRefs(articles=article_refs(rewrite.question), docs=[d for d, _ in named])
        refs.docs = list(dict.fromkeys([*refs.docs, *rewrite.docs]))
        return Query(
            question=question, text=rewrite.question, language=language, as_of=_as_of(as_of),
            filters=dict(filters or {}), history=turns, followup=rewrite.is_followup, tokens=list(tokens),
            kind=question_kind(rewrite.question), refs=refs,
            named_docs={**dict.fromkeys(rewrite.docs, 0.5), **dict(named)},
            jurisdictions=loaded.jurisdictions.named(rewrite.question),
        )

    def retrieve_for(self, query: Query) -> tuple[list[ScoredChunk], np.ndarray | None]:
        """The fused chunk pool the reranker reads, and the query vector the dense leg used."""
        loaded = self.load()
        chunks = loaded.hybrid.retrieve(
            query.text, _scoped_filters(query, loaded.jurisdictions), query.as_of, CHUNK_POOL, refs=query.refs
        )
        vector = loaded.legs["dense"].vector(query.text) if chunks else None  # type: ignore[attr-defined]
        return chunks, vector

    def decide(self, query: Query) -> tuple[list[ScoredChunk], Decision]:
        """Retrieval, then the learned decisions: the candidates ranked, the lead's units, answerability."""
        chunks, vector = self.retrieve_for(query)
        return chunks, self.load().decider.decide(query, chunks, vector)

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
        query = self.query(question, history, as_of, filters)
        if len(loaded.catalogue) and not _askable(query, loaded.scorer, loaded.empty_docs):
            # Whitespace, emoji, keyboard mash: nothing to search with, so no provision may be "found".
            text = phrase("rephrase", query.language)
            yield StreamEvent("delta", text=text)
            yield StreamEvent("done", result=Result(
                id=id, question=question, answer=text, refused=True, language=query.language, citations=[],
                retrieved=[], timings_ms={"total": round((time.perf_counter() - started) * 1000, 2)},
                as_of=query.as_of, filters=query.filters, mode="none",
                answerability=Answerability(False, 0.0, "nothing in the question to search with"),
            ))
            return
        for structured in loaded.structured:  # "what changed?", "which statute?": answered from structure
            answer = structured(query)
            if answer is not None:
                yield StreamEvent("delta", text=answer.text)
                yield StreamEvent("done", result=Result(
                    id=id, question=question, answer=answer.text, refused=answer.refused, language=query.language,
                    citations=answer.citations, retrieved=[],
                    timings_ms={"total": round((time.perf_counter() - started) * 1000, 2)},
                    rewritten_question=query.text if query.followup else None, as_of=query.as_of,
                    filters=query.filters, related=answer.related, mode="structured",
                ))
                return
        _chunks, decision = self.decide(query)
        retrieved = _retrieved(decision)
        t_retrieve = time.perf_counter()
        yield StreamEvent("retrieved", retrieved=retrieved)
        answer: Answer | None = None
        mode = "none"
        for piece in self._answer(query, decision, loaded):
            if isinstance(piece, tuple):
                answer, mode = piece
            else:
                yield StreamEvent("delta", text=piece)
        assert answer is not None
        done = time.perf_counter()
        yield StreamEvent("done", result=Result(
            id=id, question=question, answer=answer.text, refused=answer.refused, language=query.language,
            citations=answer.citations, retrieved=retrieved,
            timings_ms={"retrieve": round((t_retrieve - started) * 1000, 2),
                        "answer": round((done - t_retrieve) * 1000, 2), "total": round((done - started) * 1000, 2)},
            rewritten_question=query.text if query.followup else None, as_of=query.as_of, filters=query.filters,
            related=answer.related, superseded=any(c.superseded for c in answer.citations),
            answerability=decision.answerability, mode=mode, dropped=answer.dropped,
            jurisdiction=decision.jurisdiction,
        ))

    def _answer(self, query: Query, decision: Decision, loaded: _Loaded) -> Iterator[str | tuple[Answer, str]]:
        """Answer text pieces, then ``(Answer, mode)``: a refusal with its reason, the LLM's answer, or the
        extractive one."""
        language, answerability = query.language, decision.answerability
        lead = decision.candidates[0] if decision.candidates else None
        empty = loaded.empty_docs.named(
            query.text, query.tokens,
            f"{lead.best.chunk.title}\n{lead.best.chunk.text}" if lead is not None and answerability.answerable
            else None,
        )
        if empty is not None or not len(loaded.catalogue):
            # A registered ordinance whose text could not be read must not be answered from whichever
            # indexed ordinance shares its words: say what is wrong instead.
            text = phrase("empty_document", language, title=empty.title) if empty else phrase("empty_index", language)
            decision.answerability = Answerability(False, 0.0, text, answerability.features)
            yield text
            yield Answer(text=text, refused=True, citations=[], reason=text), "none"
            return
        if not answerability.answerable:
            # Staff asking for a fee that sits in "[별표 5] 공영주차장 주차요금" should be sent there.
            hint = best_attachment(decision.evidence[:3], loaded.catalogue.attachments, query.tokens, loaded.scorer)
            if hint is not None and hint[2] >= ATTACHMENT_HINT_MIN:
                reason = phrase("in_attachment", language, attachment=hint[0], title=hint[1])
                decision.answerability = answerability = dataclasses.replace(answerability, reason=reason)
        evidence = decision.evidence
        if self.llm is not None:
            from civicrag.rag.answer.llm import LlmAnswerer, LlmError

            llm_answerer = LlmAnswerer(self.llm, loaded.scorer, self.settings.llm_max_chunks,
                                       self.settings.answer_related)
            try:
                answer: Answer | None = None
                for piece in llm_answerer.stream(query.question, language, evidence, decision.units, answerability,
                                                 query.as_of):
                    if isinstance(piece, Answer):
                        answer = piece
                    else:
                        yield piece
                if answer is not None:
                    yield answer, "llm"
                    return
            except LlmError as exc:
                # The endpoint failed before answering: fall back to the offline answer, and say so.
                yield f"[LLM unavailable: {exc}; extractive answer follows]\n"
        answerer = ExtractiveAnswerer(related=self.settings.answer_related)
        for piece in answerer.stream(query.question, language, evidence, decision.units, answerability,
                                     query.as_of, jurisdiction=decision.jurisdiction,
                                     elsewhere=[c.best for c in decision.other_jurisdiction]):
            if isinstance(piece, Answer):
                yield piece, "extractive"
            else:
                yield piece

    def _rewrite(self, question: str, turns: list[Message], language: str, loaded: _Loaded) -> Rewrite:
        rewrite = loaded.followups.rewrite(question, turns)
        if rewrite.is_followup and self.llm is not None:
            from civicrag.rag.answer.llm import LlmError

            with contextlib.suppress(LlmError):  # on failure the deterministic rewrite stands
                rewrite.question = self.llm.rewrite(question, turns, language)
        return rewrite

    # -- what the index holds, for the app (status, document listing, originals, versions): the web app and
    # the API ask the service, so nothing outside the ingest and rag packages reads the manifest -----------
    def index_status(self) -> dict[str, Any]:
        """What ``civicrag status`` shows: counts, embedder, Chroma, last ingest, and the files that failed."""
        return {**self.store.status(), "failed": self.failed_files()}

    def failed_files(self) -> list[dict[str, str]]:
        """The files ingests could not take, each ``{"path", "error"}``."""
        return [{"path": path, "error": error} for path, error in self.store.manifest.failures()]

    def index_generation(self) -> int:
        """Moves on with every ingest or delete, in any process: what caches of the index's contents key on."""
        return int(self.store.manifest.generation)

    def document_versions(self, doc_id: str | None = None) -> list[Any]:
        """The live versions (``VersionRow``) of one document or of all, ordered by validity within each."""
        return list(self.store.manifest.versions(doc_id))

    def source_files(self, doc_id: str) -> list[Any]:
        """The files (``FileRow``) the index took ``doc_id``'s versions from."""
        return [row for row in self.store.manifest.files() if row.doc_id == doc_id]

    def current_catalogue(self) -> Catalogue:
        """Every live chunk of the current generation, read without loading the search indexes or the embedder
        (the amendment comparison needs the texts only)."""
        return Catalogue.load(self.store.manifest)


def _askable(query: Query, scorer: EvidenceScorer, empty_docs: EmptyDocuments) -> bool:
    """A question can be searched when it has a letter or digit and a word (or provision number) the indexed
    regulations use, or names a registered document; "   ", "🙂🙂" and "asdfjkl" have neither."""
    if not any(ch.isalnum() for ch in query.text):
        return False
    if query.refs.articles or query.refs.docs or any(scorer.known(t) for t in query.tokens):
        return True
    return empty_docs.named(query.text, query.tokens) is not None


def _retrieved(decision: Decision) -> list[Retrieved]:
    """The ranked provisions as the result lists them (the reranker's probability as the score)."""
    return [
        Retrieved(c.doc_id, c.article, round(c.score, 6), c.best.chunk.chunk_id, c.best.chunk.title)
        for c in decision.candidates
    ]


def _scoped_filters(query: Query, jurisdictions: Jurisdictions) -> dict[str, str]:
    """The caller's filters, narrowed to the jurisdictions the question names (when the caller set none)."""
    filters = dict(query.filters)
    if query.jurisdictions and not any(k.strip().lower().startswith("jurisdiction") for k in filters):
        # A jurisdiction value may hold commas ("City of Somerville, Massachusetts (US)"); its first part
        # matches it as a substring, which is how jurisdiction filters compare.
        filters["jurisdiction"] = "|".join(j.split(",")[0] for j in query.jurisdictions)
    return filters


def _as_of(value: str | date | None) -> str:
    if value is None or value == "":
        return date.today().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(str(value)).isoformat()  # raises ValueError on a bad date
