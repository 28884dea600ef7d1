"""Does the evidence answer the question? A small logistic model over content features.

A threshold on the best similarity alone reaches about F1 0.5 on near-miss questions
(the topic is in the corpus, the detail is not). So the model also reads the content:
- ``dense``: best cosine of the top chunks (topic match);
- ``cover``: IDF-weighted share of the question's words found in the best unit (항/호);
- ``chunk_cover``: the same over the whole top chunk with its titles;
- ``fact``: the best units state the kind of fact asked (amount, period, body …);
- ``fact_missing``: the question asks a known kind of fact and the best units state none;
- ``defers``: the best unit hands the detail to a 별표/서식 or "따로 정한다";
- ``miss_key``: the question's most distinctive word missing from the top chunk
  (weight of the heaviest absent word / weight of the heaviest word): "서귀포시
  공유재산심의회" when that ordinance is not indexed;
- ``unknown``: the weight share of the question's words the corpus never uses;
- ``pinned``: the question named the provision exactly;
- ``empty``: the top chunk has (almost) no text.

Weights are fitted on ``eval/sets/calibration.jsonl`` by ``python -m eval.calibrate_rag --fit``
and pasted here (``DEFAULT_WEIGHTS``); settings can override the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rag.evidence import EvidenceScorer, UnitScore
from rag.facts import FactKind
from rag.types import Answerability, ScoredChunk

FEATURES = (
    "dense", "cover", "chunk_cover", "fact", "fact_missing", "defers", "miss_key", "unknown", "pinned", "empty",
)

# Fitted by `python -m eval.calibrate_rag --fit` on eval/sets/calibration.jsonl (80 questions, 26
# unanswerable) over ko/jeju + the Somerville code: leave-one-out refusal F1 0.69, where a
# best-similarity threshold alone, tuned on the same set, reaches 0.52.
DEFAULT_WEIGHTS: dict[str, float] = {
    "bias": -0.132,
    "dense": 0.054,
    "cover": 0.692,
    "chunk_cover": 0.707,
    "fact": 0.43,
    "fact_missing": -1.942,
    "defers": -0.952,
    "miss_key": -1.389,
    "unknown": 0.367,
    "pinned": 0.726,
    "empty": 0.0,
}


@dataclass
class RefusalModel:
    weights: Mapping[str, float]
    threshold: float = 0.5

    def features(
        self,
        kind: FactKind,
        chunks: Sequence[ScoredChunk],
        units: Sequence[UnitScore],
        query_tokens: Sequence[str],
        scorer: EvidenceScorer,
    ) -> dict[str, float]:
        if not chunks:
            return dict.fromkeys(FEATURES, 0.0) | {"empty": 1.0}
        dense = max((c.legs.get("dense", 0.0) for c in chunks[:3]), default=0.0)
        best = units[0] if units else None
        top_units = [u for u in units[:4] if best and u.score >= 0.7 * best.score]
        q = [t for t in dict.fromkeys(query_tokens)]
        total = sum(scorer.weight(t) for t in q) or 1.0
        top = chunks[0]
        article_title = top.chunk.metadata.get("article_title", "")
        chunk_tokens = scorer.tokens(f"{top.chunk.title} {article_title}\n{top.chunk.text}")
        chunk_cover = sum(scorer.weight(t) for t in q if t in chunk_tokens) / total
        # Words the corpus never uses are phrasing (끝내, 내놓) or a topic it lacks (반려견): they feed
        # ``unknown``; ``miss_key`` looks only at corpus words the top chunk lacks.
        weights = {t: scorer.weight(t) for t in q if scorer.known(t)}
        heaviest = max(weights.values(), default=1.0) or 1.0
        absent = [w for t, w in weights.items() if t not in chunk_tokens]
        unknown = sum(scorer.weight(t) for t in q if not scorer.known(t)) / total
        fact = any(u.fact for u in top_units)
        return {
            "dense": float(dense),
            "cover": float(best.overlap) if best else 0.0,
            "chunk_cover": float(chunk_cover),
            "fact": 1.0 if fact else 0.0,
            "fact_missing": 1.0 if kind != "other" and not fact else 0.0,
            "defers": 1.0 if best is not None and best.defers else 0.0,
            "miss_key": max(absent, default=0.0) / heaviest,
            "unknown": unknown,
            "pinned": 1.0 if any(c.pinned for c in chunks[:3]) else 0.0,
            "empty": 1.0 if len(top.chunk.text.strip()) < 40 else 0.0,
        }

    def decide(self, features: Mapping[str, float]) -> Answerability:
        z = self.weights.get("bias", 0.0) + sum(self.weights.get(k, 0.0) * v for k, v in features.items())
        p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
        answerable = p >= self.threshold
        if answerable:
            reason = "the best provision states the kind of fact asked" if features.get("fact") else "close match"
        elif features.get("empty"):
            reason = "the matching document has no text"
        elif features.get("defers"):
            reason = "the provision leaves the detail to an attachment or a later decision"
        elif features.get("dense", 0.0) < 0.8 and features.get("chunk_cover", 0.0) < 0.3:
            reason = "no provision on this topic"
        else:
            reason = "the provisions on this topic do not state the detail asked"
        return Answerability(answerable, round(p, 4), reason, {k: round(v, 4) for k, v in features.items()})
