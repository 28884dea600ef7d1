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
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
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
from civicrag.rag.followup import FollowupRewriter, Rewrite
from civicrag.rag.language import detect_language, phrase
from civicrag.rag.query import Query, QueryBuilder, Reading
from civicrag.rag.references import DocumentNames
from civicrag.rag.request import AskRequest, Turn
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
#: Fused chunks retrieval hands to the reranker (grouped into at most ``rerank.candidates`` provisions).
CHUNK_POOL = 60
#: Loads started over when another process's ingest deleted vectors of the generation being read.
_BUILD_ATTEMPTS = 5


@dataclass
class _Loaded:
    generation: int
    catalogue: Catalogue
    hybrid: HybridRetriever
    legs: dict[str, Leg]
    queries: QueryBuilder
    scorer: EvidenceScorer
    followups: FollowupRewriter
    decider: Decider
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
        """The learned decisions (the shipped artefact unless ``rerank.artefact`` names another)."""
        if self._models is None:
            path = self.settings.rerank.artefact or DEFAULT_ARTEFACT
            try:
                models = DecisionModels.load(path)
            except ArtefactError as exc:
                raise ConfigError(str(exc)) from exc
            if self.settings.answer.threshold is not None:
                models.threshold = self.settings.answer.threshold
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
            if settings.embedder.threads == 0:
                # One short query does not parallelise; measured on the 2-core box while an ingest ran,
                # two OpenMP threads took 1.3 s per query against 60 ms for one. Ingest keeps all cores.
                settings = settings.with_overrides(embedder={"threads": 1})
            self._embedder = create_embedder(settings, query_adapter=self.models.query_adapter)
        return self._embedder

    @property
    def llm(self) -> Any | None:
        if self._llm is None and self.settings.llm.base_url:
            from civicrag.rag.answer.llm import LlmClient

            key = self.settings.llm.api_key.get_secret_value() if self.settings.llm.api_key else None
            self._llm = LlmClient(
                self.settings.llm.base_url, self.settings.llm.model, key, self.settings.llm.timeout_s,
                self.settings.llm.temperature,
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
            if self.settings.retrieval.dense_backend == "chroma":
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
        legs, weights = self._legs(catalogue, dense_matrix, lexical_index)
        hybrid = self._hybrid(catalogue, legs, weights)
        doc_names = DocumentNames(catalogue, tokenizer)
        scorer = EvidenceScorer(tokenizer, idf_table(token_lists))
        followups = FollowupRewriter(
            query_tokens, lambda q: [d for d, _ in doc_names.find(q, query_tokens(q))[:1]], doc_names.titles
        )
        if len(catalogue):
            tokenizer("워밍업 warm-up")  # Kiwi loads on first Korean text (≈1 s): pay it here, not per question
        empty_docs = EmptyDocuments.build(empty_documents, doc_names, tokenizer)
        decider = Decider(
            catalogue, self.models, scorer, unit_vectors, dense_matrix,
            default_jurisdiction=s.answer.scope_jurisdiction, limit=s.rerank.candidates,
        )
        jurisdictions = Jurisdictions.build(str(r.metadata.get("jurisdiction", "")) for r in catalogue.records)
        queries = QueryBuilder(query_tokens, tokenizer, doc_names, jurisdictions)
        structured = build_structured(catalogue, self.store, tokenizer)
        return _Loaded(generation, catalogue, hybrid, legs, queries, scorer, followups, decider, structured, empty_docs)

    def _legs(
        self, catalogue: Catalogue, dense_matrix: np.ndarray | None, lexical_index: Any
    ) -> tuple[dict[str, Leg], dict[str, float]]:
        """The retrieval legs by name, and their weights in fusion: dense (in memory, or Chroma's index when no
        matrix is given), lexical, and a second dense model when one is configured."""
        s = self.settings
        legs: dict[str, Leg] = {}
        if dense_matrix is None:
            legs["dense"] = ChromaDenseRetriever(catalogue, self.store.vectors, self.embedder.embed_query)  # type: ignore[assignment]
        else:
            legs["dense"] = DenseRetriever("dense", catalogue, dense_matrix, self.embedder.embed_query)  # type: ignore[assignment]
        legs["lexical"] = LexicalRetriever(catalogue, lexical_index)  # type: ignore[assignment]
        weights = {"dense": s.retrieval.dense_weight, "lexical": s.retrieval.lexical_weight}
        if s.retrieval.second_dense == "use-m3":
            from civicrag.rag.extras import use_leg

            legs["use"] = use_leg(s, catalogue)  # type: ignore[assignment]
            weights["use"] = s.retrieval.second_dense_weight
        return legs, weights

    def _hybrid(self, catalogue: Catalogue, legs: Mapping[str, Leg], weights: dict[str, float]) -> HybridRetriever:
        """The legs fused, with the optional cross-encoder over the top of the fused list."""
        s = self.settings
        reranker = None
        if s.retrieval.reranker:
            from civicrag.rag.extras import CrossEncoderReranker

            reranker = CrossEncoderReranker(s.retrieval.reranker, s.retrieval.rerank_top)
        config = HybridConfig(
            fusion=s.retrieval.fusion, rrf_k=s.retrieval.rrf_k, weights=weights, candidates=s.retrieval.candidates,
            doc_boost=s.retrieval.doc_boost, neighbours=s.retrieval.neighbours,
        )
        return HybridRetriever(catalogue, list(legs.values()), config, reranker=reranker)

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
            name=collection_name(self.settings.chroma.collection, self.settings.embedder.key),
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
    def ask(
        self,
        question: str,
        history: Sequence[Message | Mapping[str, Any]] | None = None,
        k: int | None = None,
        as_of: str | date | None = None,
        filters: Mapping[str, str] | None = None,
        id: str | None = None,
    ) -> Result:
        """The Result of ``stream``."""
        return _final(self.stream(question, history, k, as_of, filters, id))

    def stream(
        self,
        question: str,
        history: Sequence[Message | Mapping[str, Any]] | None = None,
        k: int | None = None,
        as_of: str | date | None = None,
        filters: Mapping[str, str] | None = None,
        id: str | None = None,
    ) -> Iterator[StreamEvent]:
        """``answer`` for callers in Python, their arguments taken as given (``AskRequest.unchecked``)."""
        return self.answer(AskRequest.unchecked(question, history=history, k=k, as_of=as_of, filters=filters), id)

    def ask_request(self, request: AskRequest, id: str | None = None) -> Result:
        """The Result of ``answer``."""
        return _final(self.answer(request, id))

    def answer(self, request: AskRequest, id: str | None = None) -> Iterator[StreamEvent]:
        """``retrieved`` once, ``delta`` pieces of the answer, then ``done`` with the Result.

        The steps: work the question out; answer at once what needs no retrieval (nothing to search with, a
        question about the index's structure); retrieve and decide; write the answer. (``request.k`` is not
        read: the learned decisions choose the provisions an answer draws on, up to ``rerank.candidates``.)
        """
        clock = _Stopwatch()
        loaded = self.load()
        query = self.query(request.question, request.history, request.as_of, request.filters)
        at_once = self._unaskable(query, loaded, id, clock) or self._structured(query, loaded, id, clock)
        if at_once is not None:
            yield StreamEvent("delta", text=at_once.answer)
            yield StreamEvent("done", result=at_once)
            return
        _chunks, decision = self.decide(query)
        retrieved = _retrieved(decision)
        clock.lap("retrieve")
        yield StreamEvent("retrieved", retrieved=retrieved)
        answer, mode = yield from self._write_answer(query, decision, loaded)
        clock.lap("answer")
        yield StreamEvent("done", result=_answered(query, answer, mode, decision, retrieved, id, clock.timings()))

    def query(
        self,
        question: str,
        history: Sequence[Message | Mapping[str, Any] | Turn] | None = None,
        as_of: str | date | None = None,
        filters: Mapping[str, str] | None = None,
    ) -> Query:
        """The question worked out once (``QueryBuilder``): rewritten, tokenized, classified, its references
        resolved."""
        loaded = self.load()
        language = detect_language(question)
        turns = [Message.coerce(m.model_dump() if isinstance(m, Turn) else m) for m in history or []]
        asked = loaded.queries.read(question)
        rewrite = self._rewrite(question, turns, language, asked, loaded)
        return loaded.queries.build(question, rewrite, asked, language, _as_of(as_of), dict(filters or {}), turns)

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
        query = self.query(question, as_of=as_of, filters=filters)
        k = k or self.settings.retrieval.k
        if leg == "hybrid":
            query.refs.docs = list(dict.fromkeys([*query.refs.docs, *docs]))
            return loaded.hybrid.retrieve(query, filters, k)
        return loaded.legs[leg].retrieve(query, filters, k)  # type: ignore[attr-defined]

    def retrieve_for(self, query: Query) -> tuple[list[ScoredChunk], np.ndarray | None]:
        """The fused chunk pool the reranker reads, and the query vector the dense leg used."""
        loaded = self.load()
        chunks = loaded.hybrid.retrieve(query, _scoped_filters(query), CHUNK_POOL)
        vector = loaded.legs["dense"].vector(query.text) if chunks else None  # type: ignore[attr-defined]
        return chunks, vector

    def decide(self, query: Query) -> tuple[list[ScoredChunk], Decision]:
        """Retrieval, then the learned decisions: the candidates ranked, the lead's units, answerability."""
        chunks, vector = self.retrieve_for(query)
        return chunks, self.load().decider.decide(query, chunks, vector)

    # -- the steps of ``answer`` -----------------------------------------------------
    def _rewrite(self, question: str, turns: list[Message], language: str, asked: Reading, loaded: _Loaded) -> Rewrite:
        """A follow-up made standalone: by the LLM when one is configured, else (or when it fails) by rule."""
        rewrite = loaded.followups.rewrite(question, turns, asked.tokens, [doc for doc, _ in asked.named])
        if rewrite.is_followup and self.llm is not None:
            from civicrag.rag.answer.llm import LlmError

            with contextlib.suppress(LlmError):  # on failure the deterministic rewrite stands
                rewrite.question = self.llm.rewrite(question, turns, language)
        return rewrite

    def _unaskable(self, query: Query, loaded: _Loaded, id: str | None, clock: _Stopwatch) -> Result | None:
        """Whitespace, emoji, keyboard mash: nothing to search with, so no provision may be "found" and the
        question is to be asked again. (On an empty index every question goes on, to be told how to fill it.)"""
        if not len(loaded.catalogue) or _askable(query, loaded.scorer, loaded.empty_docs):
            return None
        refusal = Answer(text=phrase("rephrase", query.language), refused=True, citations=[])
        return _result(query, refusal, id, clock.timings(), retrieved=[], mode="none",
                       answerability=Answerability(False, 0.0, "nothing in the question to search with"))

    def _structured(self, query: Query, loaded: _Loaded, id: str | None, clock: _Stopwatch) -> Result | None:
        """"What changed?", "which statute?": answered from the index's structure, without retrieval."""
        for answerer in loaded.structured:
            answer = answerer(query)
            if answer is not None:
                return _result(query, answer, id, clock.timings(), retrieved=[], rewritten_question=_rewritten(query),
                               mode="structured")
        return None

    def _write_answer(self, query: Query, decision: Decision, loaded: _Loaded
                      ) -> Generator[StreamEvent, None, tuple[Answer, str]]:
        """The answer's text as ``delta`` events; returns the Answer and its mode: a refusal saying what is
        missing ("none"), the LLM's answer ("llm"), or the extractive one ("extractive")."""
        missing = _missing_text(query, decision, loaded)
        if missing is not None:
            yield StreamEvent("delta", text=missing.text)
            return missing, "none"
        _point_to_attachment(query, decision, loaded)
        if self.llm is not None:
            answer = yield from self._llm_answer(query, decision, loaded)
            if answer is not None:
                return answer, "llm"
        answer = yield from self._extractive_answer(query, decision)
        return answer, "extractive"

    def _llm_answer(self, query: Query, decision: Decision, loaded: _Loaded
                    ) -> Generator[StreamEvent, None, Answer | None]:
        """The LLM's answer from the decided evidence; None when the endpoint fails (the pieces then say so)."""
        from civicrag.rag.answer.llm import LlmAnswerer, LlmError

        answerer = LlmAnswerer(self.llm, loaded.scorer, self.settings.llm.max_chunks, self.settings.answer.related)
        try:
            return (yield from _pieces(answerer.stream(
                query.question, query.language, decision.evidence, decision.units, decision.answerability,
                query.as_of,
            )))
        except LlmError as exc:
            # The endpoint failed: the offline answer follows, and says why.
            yield StreamEvent("delta", text=f"[LLM unavailable: {exc}; extractive answer follows]\n")
            return None

    def _extractive_answer(self, query: Query, decision: Decision) -> Generator[StreamEvent, None, Answer]:
        """The answer quoted from the decided evidence (or a refusal listing the nearest provisions)."""
        answerer = ExtractiveAnswerer(related=self.settings.answer.related)
        answer = yield from _pieces(answerer.stream(
            query.question, query.language, decision.evidence, decision.units, decision.answerability, query.as_of,
            jurisdiction=decision.jurisdiction, elsewhere=[c.best for c in decision.other_jurisdiction],
        ))
        assert answer is not None, "the extractive answerer always ends with its Answer"
        return answer


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


class _Stopwatch:
    """Milliseconds spent in the steps of one question, and in all."""

    def __init__(self) -> None:
        self._start = self._last = time.perf_counter()
        self._laps: dict[str, float] = {}

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self._laps[step] = round((now - self._last) * 1000, 2)
        self._last = now

    def timings(self) -> dict[str, float]:
        return {**self._laps, "total": round((time.perf_counter() - self._start) * 1000, 2)}


def _final(events: Iterator[StreamEvent]) -> Result:
    """The Result of the ``done`` event that ends ``events``."""
    result: Result | None = None
    for event in events:
        if event.type == "done":
            result = event.result
    assert result is not None, "every answer ends with a done event"
    return result


def _pieces(stream: Iterable[str | Answer]) -> Generator[StreamEvent, None, Answer | None]:
    """An answerer's text pieces as ``delta`` events; returns the Answer it ends with (None if it gave none)."""
    answer: Answer | None = None
    for piece in stream:
        if isinstance(piece, Answer):
            answer = piece
        else:
            yield StreamEvent("delta", text=piece)
    return answer


def _askable(query: Query, scorer: EvidenceScorer, empty_docs: EmptyDocuments) -> bool:
    """A question can be searched when it has a letter or digit and a word (or provision number) the indexed
    regulations use, or names a registered document; "   ", "🙂🙂" and "asdfjkl" have neither."""
    if not any(ch.isalnum() for ch in query.text):
        return False
    if query.refs.articles or query.refs.docs or any(scorer.known(t) for t in query.tokens):
        return True
    return empty_docs.named(query.text, query.tokens) is not None


def _missing_text(query: Query, decision: Decision, loaded: _Loaded) -> Answer | None:
    """The refusal when what is asked about has no text: a registered ordinance that could not be read must
    not be answered from whichever indexed ordinance shares its words, and an empty index answers nothing."""
    answerability = decision.answerability
    lead = decision.candidates[0] if decision.candidates else None
    answered_from = f"{lead.best.chunk.title}\n{lead.best.chunk.text}" if lead is not None and \
        answerability.answerable else None
    empty = loaded.empty_docs.named(query.text, query.tokens, answered_from)
    if empty is None and len(loaded.catalogue):
        return None
    language = query.language
    text = phrase("empty_document", language, title=empty.title) if empty else phrase("empty_index", language)
    decision.answerability = Answerability(False, 0.0, text, answerability.features)
    return Answer(text=text, refused=True, citations=[], reason=text)


def _point_to_attachment(query: Query, decision: Decision, loaded: _Loaded) -> None:
    """A refusal's reason names the attachment whose title holds the question's words: staff asking for a fee
    that sits in "[별표 5] 공영주차장 주차요금" should be sent there."""
    if decision.answerability.answerable:
        return
    hint = best_attachment(decision.evidence[:3], loaded.catalogue.attachments, query.tokens, loaded.scorer)
    if hint is not None and hint[2] >= ATTACHMENT_HINT_MIN:
        reason = phrase("in_attachment", query.language, attachment=hint[0], title=hint[1])
        decision.answerability = dataclasses.replace(decision.answerability, reason=reason)


def _result(query: Query, answer: Answer, id: str | None, timings: dict[str, float], **fields: Any) -> Result:
    """``answer`` to ``query`` as a Result; ``fields`` are what the step that answered adds."""
    return Result(
        id=id, question=query.question, answer=answer.text, refused=answer.refused, language=query.language,
        citations=answer.citations, timings_ms=timings, as_of=query.as_of, filters=query.filters,
        related=answer.related, **fields,
    )


def _answered(query: Query, answer: Answer, mode: str, decision: Decision, retrieved: list[Retrieved],
              id: str | None, timings: dict[str, float]) -> Result:
    """The Result of an answer written from retrieval and the decisions."""
    return _result(
        query, answer, id, timings, retrieved=retrieved, rewritten_question=_rewritten(query),
        superseded=any(c.superseded for c in answer.citations), answerability=decision.answerability, mode=mode,
        dropped=answer.dropped, jurisdiction=decision.jurisdiction,
    )


def _rewritten(query: Query) -> str | None:
    """The standalone question retrieval used, when the question was a follow-up."""
    return query.text if query.followup else None


def _retrieved(decision: Decision) -> list[Retrieved]:
    """The ranked provisions as the result lists them (the reranker's probability as the score)."""
    return [
        Retrieved(c.doc_id, c.article, round(c.score, 6), c.best.chunk.chunk_id, c.best.chunk.title)
        for c in decision.candidates
    ]


def _scoped_filters(query: Query) -> dict[str, str]:
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
