"""The two absolute rules and the scope rule of ``rag.decision``, with stand-in models of known output."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.decision import Decider
from civicrag.rag.evidence import EvidenceScorer
from civicrag.rag.query import Query
from civicrag.rag.references import QueryRefs
from civicrag.rag.types import ChunkRecord, ScoredChunk


class Models:
    """Scores the candidates, in retrieval order, from a fixed list; answerability is a constant."""

    def __init__(self, scores: Sequence[float], p: float, threshold: float = 0.5):
        self.scores, self.p, self.threshold, self.query_adapter = list(scores), p, threshold, None

    def rank(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.asarray([self.scores[i] if i < len(self.scores) else 0.1 for i in range(len(rows))])

    def units(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.asarray([r["cover"] for r in rows])

    def answerable(self, features: Mapping[str, float]) -> float:
        return self.p


def _record(i: int, doc: str, article: str, text: str, jurisdiction: str) -> ChunkRecord:
    meta = {"doc_id": doc, "article": article, "article_title": "", "title": doc, "seq": i, "language": "en",
            "jurisdiction": jurisdiction, "version": "v"}
    return ChunkRecord(f"{doc}-{i}", text, meta)


RECORDS = [
    _record(0, "somerville", "Sec. 2-1", "Sec. 2-1. Dog licenses.\nA dog license costs $15.", "City of Somerville"),
    _record(10, "somerville", "Sec. 3-1", "Sec. 3-1. Quiet hours.\nQuiet hours run from 10 pm.", "City of Somerville"),
    _record(5, "dc", "§ 2-1", "§ 2-1. Dog licenses.\nA dog license costs $20.", "District of Columbia"),
]


def _decider(models: Models, default: str = "") -> Decider:
    catalogue = Catalogue.from_records(RECORDS)
    scorer = EvidenceScorer(lambda s: [w.strip(".,?$").lower() for w in s.split()], {})
    return Decider(catalogue, models, scorer, None, None, default_jurisdiction=default)


def _query(text: str, tokens: list[str], refs: QueryRefs | None = None, jurisdictions: tuple[str, ...] = ()) -> Query:
    # Every content token is a topic word here (none of them asks for the kind of fact).
    return Query(text, text, "en", "2025-01-01", {}, [], False, tokens, "amount", refs or QueryRefs(),
                 jurisdictions=jurisdictions, topic=tokens)


def _chunks(order: Sequence[int], pinned: int | None = None) -> list[ScoredChunk]:
    return [ScoredChunk(RECORDS[i], 1.0 - n * 0.1, pinned=(i == pinned)) for n, i in enumerate(order)]


def test_a_named_provision_leads_and_is_answered_whatever_the_model_says() -> None:
    decider = _decider(Models([0.9, 0.2], p=0.01))
    decision = decider.decide(_query("what does Sec. 3-1 say", ["says"]), _chunks([0, 1], pinned=1), None)
    assert decision.candidates[0].article == "Sec. 3-1"
    assert decision.answerability.answerable
    assert decision.answerability.reason == "the question names this provision"


def test_a_lead_without_the_questions_topic_is_refused_even_when_the_model_is_sure() -> None:
    decider = _decider(Models([], p=0.99))
    decision = decider.decide(_query("how much is a parking permit", ["park", "permit"]), _chunks([1]), None)
    assert not decision.answerability.answerable
    assert decision.answerability.reason == "no provision on this topic"


def test_the_model_decides_when_no_rule_applies() -> None:
    sure, unsure = _decider(Models([], p=0.8)), _decider(Models([], p=0.2))
    query = _query("how much is a dog license", ["dog", "license"])
    assert sure.decide(query, _chunks([0]), None).answerability.answerable
    assert not unsure.decide(query, _chunks([0]), None).answerability.answerable


def test_unscoped_candidates_from_two_jurisdictions_answer_from_the_default_and_list_the_other() -> None:
    query = _query("how much is a dog license", ["dog", "license"])
    # The model prefers the D.C. section (retrieved first); the site's default is Somerville.
    decision = _decider(Models([0.9, 0.6], p=0.9), default="somerville").decide(query, _chunks([2, 0]), None)
    assert decision.candidates[0].doc_id == "somerville"
    assert decision.jurisdiction == "city of somerville"
    assert [c.doc_id for c in decision.other_jurisdiction] == ["dc"]
    # Without a default, the model's lead stands, and the answer still says whose rule it is.
    decision = _decider(Models([0.9, 0.6], p=0.9)).decide(query, _chunks([2, 0]), None)
    assert decision.candidates[0].doc_id == "dc" and decision.jurisdiction == "district of columbia"


def test_a_question_naming_its_jurisdiction_is_not_rescoped() -> None:
    query = _query("how much is a dog license in D.C.", ["dog", "license"], jurisdictions=("district of columbia",))
    decision = _decider(Models([0.9, 0.6], p=0.9), default="somerville").decide(query, _chunks([2, 0]), None)
    assert decision.candidates[0].doc_id == "dc" and decision.jurisdiction == "" and not decision.other_jurisdiction
