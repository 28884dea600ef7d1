"""After retrieval: which provision leads, which of its units is quoted, and whether to answer at all.

Learned, not hand-tuned: the three decisions are the models of ``rag.rerank.model`` over the
document-agnostic features of ``rag.rerank.features``, fitted on questions over the training
documents only (``civicrag train``). Two rules stay absolute, because staff rely on them:

1. a question that names an existing provision (by its document and number, or by a number only
   one document has) is answered from that provision;
2. the lead provision must share the question's topic (a word of the question other than the
   words asking for the kind of fact): no answer from an unrelated regulation because it happens
   to "state a period".

And one of scope: a question naming no jurisdiction, whose best candidates come from several,
is answered from the default jurisdiction (the site's or the user's) and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.evidence import EvidenceScorer, UnitScore
from civicrag.rag.query import Query
from civicrag.rag.references import loose_key
from civicrag.rag.rerank.candidates import Candidate, UnitVectors, group
from civicrag.rag.rerank.features import QueryView, answer_features, candidate_features, unit_features
from civicrag.rag.rerank.model import DecisionModels
from civicrag.rag.types import Answerability, ScoredChunk

#: Candidates listed as related after an answer must reach this share of the lead's probability.
RELATED_SHARE = 0.5


@dataclass
class Decision:
    candidates: list[Candidate]  # ranked: a named provision first, then by the reranker's probability
    evidence: list[ScoredChunk]  # what answerers read: the lead provision's chunks, then the others' best
    units: list[UnitScore]  # units of the lead provision, best first (chunk_rank indexes ``evidence``)
    answerability: Answerability
    jurisdiction: str = ""  # the jurisdiction the answer comes from, when the candidates spanned several
    other_jurisdiction: list[Candidate] = field(default_factory=list)  # the best provision of the others
    features: list[dict[str, float]] = field(default_factory=list)  # per candidate, for training and audit


class Decider:
    def __init__(
        self,
        catalogue: Catalogue,
        models: DecisionModels,
        scorer: EvidenceScorer,
        unit_vectors: UnitVectors | None,
        chunk_vectors: np.ndarray | None,
        default_jurisdiction: str = "",
        limit: int = 20,
    ):
        self.catalogue = catalogue
        self.models = models
        self.scorer = scorer
        self.unit_vectors = unit_vectors
        self.chunk_vectors = chunk_vectors
        self.default_jurisdiction = default_jurisdiction.casefold()
        self.limit = limit

    # -- the steps ---------------------------------------------------------------------------------
    def view(self, query: Query, vector: np.ndarray | None) -> QueryView:
        return QueryView(
            text=query.text, language=query.language, tokens=query.tokens, kind=query.kind, vector=vector,
            weight=self.scorer.weight, known=self.scorer.known, tokens_of=self.scorer.tokens,
            named_docs=query.named_docs, named_articles=[r.loose for r in query.refs.articles],
            jurisdictions=query.jurisdictions, followup=query.followup,
        )

    def candidates(self, query: Query, chunks: Sequence[ScoredChunk], vector: np.ndarray | None
                   ) -> tuple[list[Candidate], list[dict[str, float]], QueryView]:
        """Candidate provisions with their features and the reranker's probability, in retrieval order."""
        candidates = group(chunks, self.catalogue, self.unit_vectors, self.chunk_vectors, self.limit,
                           tokenize=self.scorer.tokens)
        view = self.view(query, vector)
        rows = candidate_features(view, candidates, self._chunk_cos(vector), self.catalogue.row_of.get, loose_key,
                                  self._attachments_of)
        for candidate, row, p in zip(candidates, rows, self.models.rank(rows), strict=True):
            candidate.score = float(p)
            candidate.features = row
        return candidates, rows, view

    def decide(self, query: Query, chunks: Sequence[ScoredChunk], vector: np.ndarray | None) -> Decision:
        candidates, rows, view = self.candidates(query, chunks, vector)
        if not candidates:
            return Decision([], [], [], Answerability(False, 0.0, "no provision on this topic", {"no_evidence": 1.0}))
        ranked = sorted(candidates, key=lambda c: (not c.pinned, -c.score, c.rank))
        jurisdiction, others = self._scope(query, ranked)
        if jurisdiction:
            ranked = [c for c in ranked if c.jurisdiction.casefold() == jurisdiction] + \
                     [c for c in ranked if c.jurisdiction.casefold() != jurisdiction]
        lead = ranked[0]
        evidence, units = self._evidence(view, lead, ranked)
        features = answer_features(query.kind, ranked, [c.features for c in ranked])
        answerability = self._answerability(query, lead, features)
        return Decision(ranked, evidence, units, answerability, jurisdiction if others else "", others, rows)

    # -- helpers -----------------------------------------------------------------------------------
    def _chunk_cos(self, vector: np.ndarray | None) -> Callable[[int], float]:
        if vector is None or self.chunk_vectors is None or not len(self.chunk_vectors):
            return lambda row: 0.0
        matrix = self.chunk_vectors
        return lambda row: float(matrix[row] @ vector)

    def _scope(self, query: Query, ranked: Sequence[Candidate]) -> tuple[str, list[Candidate]]:
        """When the question is unscoped and the leading candidates span jurisdictions: the one to answer
        from (the default, else the lead's) and the best candidate of each other jurisdiction."""
        if query.scoped:
            return "", []
        lead_set = ranked[:3]
        spanned = {c.jurisdiction.casefold() for c in lead_set if c.jurisdiction}
        if len(spanned) < 2:
            return "", []
        lead = ranked[0].jurisdiction.casefold()
        # The default is given as staff name it ("Somerville", "제주"): any jurisdiction containing it.
        defaults = [j for j in spanned if self.default_jurisdiction and self.default_jurisdiction in j]
        chosen = defaults[0] if defaults else lead
        others: dict[str, Candidate] = {}
        for c in ranked:
            j = c.jurisdiction.casefold()
            if j != chosen and j in spanned and j not in others:
                others[j] = c
        return chosen, list(others.values())

    def _evidence(self, view: QueryView, lead: Candidate, ranked: Sequence[Candidate]
                  ) -> tuple[list[ScoredChunk], list[UnitScore]]:
        """The lead's chunks (document order) and the other candidates' best chunks, each scored with its
        candidate's probability; the lead's units scored by the unit model."""
        evidence: list[ScoredChunk] = []
        position: dict[str, int] = {}
        for unit in lead.units:
            chunk_id = unit.chunk.chunk.chunk_id
            if chunk_id not in position:
                position[chunk_id] = len(evidence)
                evidence.append(_rescored(unit.chunk, lead.score, lead.pinned))
        for candidate in ranked[1:]:
            evidence.append(_rescored(candidate.best, candidate.score, candidate.pinned))
        rows = unit_features(view, lead.units)
        probabilities = self.models.units(rows)
        units = [
            UnitScore(
                chunk_rank=position[u.chunk.chunk.chunk_id], unit=u.unit, overlap=rows[i]["cover"],
                fact=bool(rows[i]["states_kind"]), defers=bool(rows[i]["defers"]), score=float(probabilities[i]),
                text=u.text,
            )
            for i, u in enumerate(lead.units)
        ]
        units.sort(key=lambda u: (-u.score, u.chunk_rank, u.unit.index))
        return evidence, units

    def _attachments_of(self, candidate: Candidate) -> tuple[str, ...]:
        return self.catalogue.attachments.get((candidate.doc_id, candidate.best.chunk.version), ())

    def _answerability(self, query: Query, lead: Candidate, features: Mapping[str, float]) -> Answerability:
        p = self.models.answerable(features)
        shown = {k: round(float(v), 4) for k, v in features.items()}
        if lead.pinned:
            # Rule 1: a named provision is answered from, whatever the model thinks of the wording.
            return Answerability(True, round(max(p, self.models.threshold), 4), "the question names this provision",
                                 shown)
        lead_tokens = self.tokens_of(lead)
        if query.topic and not any(t in lead_tokens for t in query.topic):
            # Rule 2: the lead must be about what the question is about.
            return Answerability(False, round(min(p, 0.0), 4), "no provision on this topic", shown)
        if p >= self.models.threshold:
            reason = "the best provision states the kind of fact asked" if features.get("states_kind") else \
                "close match"
            return Answerability(True, round(p, 4), reason, shown)
        if features.get("defers_any") or features.get("annex_beats", 0.0) > 0:
            reason = "the provision leaves the detail to an attachment or a later decision"
        elif features.get("cover_text", 0.0) < 0.3:
            reason = "no provision on this topic"
        else:
            reason = "the provisions on this topic do not state the detail asked"
        return Answerability(False, round(p, 4), reason, shown)

    def tokens_of(self, candidate: Candidate) -> frozenset[str]:
        """Every token of the provision: its units, its title, its document's title (rule 2 reads them)."""
        meta = candidate.best.chunk.metadata
        titles = (self.scorer.tokens(p) for p in (candidate.best.chunk.title, str(meta.get("article_title", ""))))
        return frozenset().union(*titles, *(u.tokens for u in candidate.units))


def _rescored(chunk: ScoredChunk, probability: float, pinned: bool) -> ScoredChunk:
    return ScoredChunk(chunk.chunk, probability, dict(chunk.legs), dict(chunk.ranks), pinned)

