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
- (no retrieved chunk at all, e.g. filters that exclude everything: ``no_evidence``, always refused;
  documents with no text are refused before this model, by ``rag.empty_documents``);
- ``hard_fact``: the best units give a figure of the kind asked (``states_number``: "5,000원",
  "2년"), not just a word for it ("사용료", "임기"); ``number_at_topic`` the same for the unit sharing
  most words with the question; ``amount_hard`` / ``amount_defers`` for amount questions alone;
- ``defers_any`` / ``defers_wide``: any of the best (or most topical) units hands the detail on;
- ``agree``: both legs rank the top chunk first; ``margin``: its lead over the second;
  ``doc_spread``: how many documents the top three chunks come from;
- ``annex_cover`` / ``form_cover``: share of the question's words in the title of an attachment
  (별표 / 별지 서식) of the top documents; the attachments are not in the text, so a question that
  matches "[별표 5] 공영주차장 주차요금" is usually answered there; ``annex_beats``: how far it beats
  the best unit;
- ``k_*``: the kind of fact asked (amounts, above all, are often answered only by an attachment).

Weights are fitted on the golden and calibration sets by ``python -m eval.calibrate_rag --fit``
and pasted here (``DEFAULT_WEIGHTS``); settings can override the threshold.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from rag.evidence import EvidenceScorer, UnitScore
from rag.facts import FactKind, defers, states_number
from rag.types import Answerability, ScoredChunk

FEATURES = (
    "dense", "cover", "chunk_cover", "fact", "fact_missing", "defers", "miss_key", "unknown", "pinned",
    "hard_fact", "defers_any", "agree", "margin", "doc_spread", "defers_wide", "number_at_topic",
    "amount_hard", "amount_defers", "annex_cover", "annex_beats", "form_cover",
    "k_amount", "k_period", "k_count", "k_date", "k_body", "k_rule", "k_procedure", "k_definition",
)
_KIND_FEATURES = ("amount", "period", "count", "date", "body", "rule", "procedure", "definition")

# Fitted by `python -m eval.calibrate_rag --fit` on eval/sets/ko.jsonl, en.jsonl and calibration.jsonl
# together (414 questions, 71 unanswerable) over the eval corpus (ko/jeju, ko/versions, en/somerville,
# en/dc-code), with convex fusion. 10-fold cross-validated refusal F1 0.65 at threshold 0.7 (precision
# 0.61, recall 0.69):
# expect that on questions the fit has not seen; scores on those three sets themselves are in-sample.
DEFAULT_WEIGHTS: dict[str, float] = {
    "bias": 0.761,
    "dense": 0.281,
    "cover": 2.03,
    "chunk_cover": 0.781,
    "fact": -0.423,
    "fact_missing": -0.604,
    "defers": -0.874,
    "miss_key": -0.792,
    "unknown": 0.333,
    "pinned": 0.647,
    "hard_fact": 0.857,
    "defers_any": -1.298,
    "agree": 0.044,
    "margin": 0.612,
    "doc_spread": -1.139,
    "defers_wide": -0.323,
    "number_at_topic": 0.129,
    "amount_hard": 0.113,
    "amount_defers": 0.416,
    "annex_cover": -1.274,
    "annex_beats": -0.157,
    "form_cover": 0.889,
    "k_amount": -1.874,
    "k_period": 0.277,
    "k_count": 0.227,
    "k_date": 0.676,
    "k_body": -0.201,
    "k_rule": 1.281,
    "k_procedure": -0.452,
    "k_definition": -0.961,
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
        attachments: Mapping[tuple[str, str], Sequence[str]] | None = None,
    ) -> dict[str, float]:
        if not chunks:
            return dict.fromkeys(FEATURES, 0.0) | {"no_evidence": 1.0}
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
        # The unit sharing most words with the question is where its topic is ruled: does it give a
        # figure, or hand the detail on ("주차요금은 별표 5와 같다")?
        by_overlap = sorted(units[:12], key=lambda u: -u.overlap)
        topical = [u for u in by_overlap if u.overlap >= 0.6 * by_overlap[0].overlap][:6]
        # The unit's own deferral, whether or not it also states the fact (``UnitScore.defers`` does not).
        defers_wide = any(defers(u.unit.text) for u in topical)
        number_at_topic = bool(by_overlap) and states_number(kind, by_overlap[0].text)
        hard_fact = any(states_number(kind, u.text) for u in top_units)
        annex_cover, form_cover = _attachment_cover(chunks[:3], attachments or {}, q, scorer, total)
        scores = [c.score for c in chunks[:2]]
        margin = (scores[0] - scores[1]) / scores[0] if len(scores) == 2 and scores[0] > 0 else 1.0
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
            # A number of the asked kind, not just a word for it ("사용료" is not an amount).
            "hard_fact": 1.0 if hard_fact else 0.0,
            "defers_any": 1.0 if any(u.defers for u in top_units) else 0.0,
            # Both legs put the same chunk first: the words and the meaning point at one provision.
            "agree": 1.0 if top.ranks.get("dense") == 1 and top.ranks.get("lexical") == 1 else 0.0,
            "margin": float(max(0.0, min(1.0, margin))),
            "doc_spread": len({c.chunk.doc_id for c in chunks[:3]}) / 3.0,
            # Some kinds of question (amounts, above all) are far more often answered only by an
            # attachment or a later decision; the model learns each kind's prior.
            "defers_wide": 1.0 if defers_wide else 0.0,
            "number_at_topic": 1.0 if number_at_topic else 0.0,
            "amount_hard": 1.0 if kind == "amount" and hard_fact else 0.0,
            "amount_defers": 1.0 if kind == "amount" and defers_wide else 0.0,
            "annex_cover": annex_cover,
            "annex_beats": max(0.0, annex_cover - (best.overlap if best else 0.0)),
            "form_cover": form_cover,
            **{f"k_{k}": 1.0 if kind == k else 0.0 for k in _KIND_FEATURES},
        }

    def decide(self, features: Mapping[str, float]) -> Answerability:
        z = self.weights.get("bias", 0.0) + sum(self.weights.get(k, 0.0) * v for k, v in features.items())
        p = 0.0 if features.get("no_evidence") else 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
        answerable = p >= self.threshold
        if answerable:
            reason = "the best provision states the kind of fact asked" if features.get("fact") else "close match"
        elif features.get("defers"):
            reason = "the provision leaves the detail to an attachment or a later decision"
        elif features.get("dense", 0.0) < 0.8 and features.get("chunk_cover", 0.0) < 0.3:
            reason = "no provision on this topic"
        else:
            reason = "the provisions on this topic do not state the detail asked"
        return Answerability(answerable, round(p, 4), reason, {k: round(v, 4) for k, v in features.items()})


_ATTACHMENT_LABEL = re.compile(r"^\s*\[[^\]]*\]\s*")


def best_attachment(
    chunks: Sequence[ScoredChunk],
    attachments: Mapping[tuple[str, str], Sequence[str]],
    query_tokens: Sequence[str],
    scorer: EvidenceScorer,
) -> tuple[str, str, float] | None:
    """The attachment table (별표, not a form) of the top documents whose title shares most of the
    question's words: (attachment title, document title, IDF-weighted share), or None."""
    q = list(dict.fromkeys(query_tokens))
    total = sum(scorer.weight(t) for t in q) or 1.0
    found: tuple[str, str, float] | None = None
    for chunk, title, share in _attachment_shares(chunks, attachments, q, scorer, total):
        if not _is_form(title) and (found is None or share > found[2]):
            found = (title, chunk.chunk.title, share)
    return found


def _attachment_cover(
    chunks: Sequence[ScoredChunk],
    attachments: Mapping[tuple[str, str], Sequence[str]],
    q: Sequence[str],
    scorer: EvidenceScorer,
    total: float,
) -> tuple[float, float]:
    """Best share of the question's words in an attachment title of the top documents, for tables
    (별표) and forms (별지 서식) apart: a form rarely holds the fact asked, a table often does."""
    annex = form = 0.0
    for _chunk, title, share in _attachment_shares(chunks, attachments, q, scorer, total):
        if _is_form(title):
            form = max(form, share)
        else:
            annex = max(annex, share)
    return float(annex), float(form)


def _attachment_shares(
    chunks: Sequence[ScoredChunk],
    attachments: Mapping[tuple[str, str], Sequence[str]],
    q: Sequence[str],
    scorer: EvidenceScorer,
    total: float,
) -> Iterator[tuple[ScoredChunk, str, float]]:
    seen: set[tuple[str, str]] = set()
    for chunk in chunks[:3]:
        key = (chunk.chunk.doc_id, chunk.chunk.version)
        if key in seen:
            continue
        seen.add(key)
        for title in attachments.get(key, ()):
            tokens = scorer.tokens(_ATTACHMENT_LABEL.sub("", title))
            yield chunk, title, sum(scorer.weight(t) for t in q if t in tokens) / total


def _is_form(title: str) -> bool:
    return "서식" in title[:20] or "별지" in title[:20] or "form" in title[:20].lower()
