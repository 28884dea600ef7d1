"""Document-agnostic features of a question against its candidate provisions and their units.

Nothing here names a document, an article or a topic: every feature is a similarity, a
coverage, a rank, a match between what is asked and what a text states, or a reference the
question makes. That is what lets a model fitted on some documents rank provisions of
documents it has never seen. Three feature sets, one per learned decision:

- ``CANDIDATE_FEATURES``: does this provision answer the question? (the reranker)
- ``UNIT_FEATURES``: which 항/호 of the lead provision states what was asked? (what is quoted)
- ``ANSWER_FEATURES``: does the lead provision answer at all? (answerability)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from civicrag.rag.facts import FactKind, defers, states_fact, states_number
from civicrag.rag.rerank.candidates import Candidate, CandidateUnit

from civicrag.legal.grammar import NUMBERED_TOKEN

KINDS: tuple[FactKind, ...] = ("amount", "period", "date", "body", "count", "rule", "procedure", "definition")
_KIND_FEATURES = tuple(f"k_{k}" for k in KINDS)

CANDIDATE_FEATURES: tuple[str, ...] = (
    "fused", "rank", "dense", "dense_gap", "lex", "lex_gap", "unit_max", "unit_gap", "unit_2nd",
    "cover_title", "cover_doc", "cover_text", "cover_unit", "cover_unit_gap", "miss_key", "annex_cover", "form_cover",
    "states_kind", "states_kind_best", "number_kind", "defers_any", "defers_best",
    "named_doc", "named_other", "pinned", "article_named", "juris_match", "juris_mismatch",
    "supplementary", "position", "length", "n_units", "lang_match", "n_chunks",
    "doc_share", "doc_lead", "q_tokens", "unknown", "followup", *_KIND_FEATURES,
)
UNIT_FEATURES: tuple[str, ...] = (
    "cos", "cos_gap", "cover", "cover_gap", "states_kind", "number_kind", "defers", "is_item", "is_lead_in",
    "position", "length", "first", *_KIND_FEATURES,
)
ANSWER_FEATURES: tuple[str, ...] = (
    "p1", "logit1", "margin", "p_sum", "unit_max", "cover_unit", "cover_text", "miss_key", "states_kind",
    "number_kind", "defers_any", "pinned", "named_doc", "unknown", "annex_cover", "form_cover",
    "annex_beats", "same_doc_2", "q_tokens", *_KIND_FEATURES,
)



@dataclass
class QueryView:
    """What the features need of a question, worked out once."""

    text: str
    language: str
    tokens: Sequence[str]  # content tokens (question words dropped), as the lexical leg uses them
    kind: FactKind
    vector: np.ndarray | None  # the query embedding the dense leg used
    weight: Callable[[str], float]  # IDF-like weight of a token
    known: Callable[[str], bool]  # the corpus uses the token
    tokens_of: Callable[[str], frozenset[str]]  # cached tokenizer for candidate texts
    named_docs: Mapping[str, float] = field(default_factory=dict)  # doc_id -> how fully the question names it
    named_articles: Sequence[str] = ()  # loose keys ("ko:7-2", "en:2-537") the question names
    jurisdictions: Sequence[str] = ()  # jurisdictions the question names (casefolded metadata values)
    followup: bool = False

    def content(self) -> list[str]:
        """Tokens that carry the topic: provision numbers are matched as references, not words."""
        return [t for t in dict.fromkeys(self.tokens) if not (NUMBERED_TOKEN.match(t) and len(t) >= 3)]


def _share(tokens: frozenset[str], query: Sequence[str], weight: Callable[[str], float], total: float) -> float:
    return sum(weight(t) for t in query if t in tokens) / total if total else 0.0


def _kinds(kind: FactKind) -> dict[str, float]:
    return {f"k_{k}": 1.0 if kind == k else 0.0 for k in KINDS}


def candidate_features(
    query: QueryView,
    candidates: Sequence[Candidate],
    chunk_cos: Callable[[int], float],
    row_of: Callable[[str], int | None],
    loose_key: Callable[[str], str],
    attachments: Callable[[Candidate], Sequence[str]] = lambda c: (),
) -> list[dict[str, float]]:
    """One feature row per candidate (in the given order). ``chunk_cos(row)`` is the query's cosine with a
    chunk's own vector; ``loose_key`` maps an article label to its language+number key; ``attachments`` gives
    the titles of the 별표/서식 of a candidate's document version (listed, but not in the text)."""
    content = query.content()
    weights = {t: query.weight(t) for t in content}
    total = sum(weights.values()) or 1.0
    known = {t: w for t, w in weights.items() if query.known(t)}
    heaviest = max(known.values(), default=1.0) or 1.0
    unknown = sum(w for t, w in weights.items() if not query.known(t)) / total
    kinds = _kinds(query.kind)

    raw: list[dict[str, float]] = []
    for cand in candidates:
        meta = cand.best.chunk.metadata
        rows = [r for r in (row_of(c.chunk.chunk_id) for c in cand.chunks) if r is not None]
        dense = max((chunk_cos(r) for r in rows), default=0.0)
        fused = max(c.score - (1.0 if c.pinned else 0.0) for c in cand.chunks)
        lex = max((c.legs.get("lexical", 0.0) for c in cand.chunks), default=0.0)
        lex_doc = max((c.legs.get("lexical@doc", 0.0) for c in cand.chunks), default=0.0)
        cos = [float(u.vector @ query.vector) if u.vector is not None and query.vector is not None else 0.0
               for u in cand.units]
        ordered = sorted(cos, reverse=True)
        title_tokens = query.tokens_of(str(meta.get("article_title", "")))
        doc_tokens = query.tokens_of(cand.best.chunk.title)
        text = "\n".join(dict.fromkeys(u.chunk.chunk.text for u in cand.units)) or cand.best.chunk.text
        text_tokens = frozenset().union(title_tokens, doc_tokens, *(u.tokens for u in cand.units))
        unit_covers = [_share(u.tokens, content, query.weight, total) for u in cand.units]
        best_unit = int(np.argmax(cos)) if cos else -1
        states = [states_fact(query.kind, u.text) if query.kind != "other" else False for u in cand.units]
        absent = [w for t, w in known.items() if t not in text_tokens]
        named = query.named_docs.get(cand.doc_id, 0.0)
        annex, form = _attachment_cover(query, attachments(cand), content, total)
        juris = cand.jurisdiction.casefold()
        seq_rows = len(cand.units)
        raw.append({
            "fused": fused,
            "rank": math.log1p(cand.rank),
            "dense": dense,
            "lex": max(lex, lex_doc),
            "unit_max": ordered[0] if ordered else dense,
            "unit_2nd": ordered[1] if len(ordered) > 1 else (ordered[0] if ordered else dense),
            "cover_title": _share(title_tokens, content, query.weight, total),
            "cover_doc": _share(doc_tokens, content, query.weight, total),
            "cover_text": _share(text_tokens, content, query.weight, total),
            "cover_unit": max(unit_covers, default=0.0),
            "miss_key": max(absent, default=0.0) / heaviest if known else 0.0,
            "annex_cover": annex,
            "form_cover": form,
            "states_kind": 1.0 if any(states) else 0.0,
            "states_kind_best": 1.0 if best_unit >= 0 and states[best_unit] else 0.0,
            "number_kind": 1.0 if query.kind != "other" and any(states_number(query.kind, u.text)
                                                                 for u in cand.units) else 0.0,
            "defers_any": 1.0 if any(defers(u.unit.text) for u in cand.units) else 0.0,
            "defers_best": 1.0 if best_unit >= 0 and defers(cand.units[best_unit].unit.text) else 0.0,
            "named_doc": named,
            "named_other": 1.0 if query.named_docs and named == 0.0 else 0.0,
            "pinned": 1.0 if cand.pinned else 0.0,
            "article_named": 1.0 if cand.article and loose_key(cand.article) in query.named_articles else 0.0,
            "juris_match": 1.0 if query.jurisdictions and any(j in juris for j in query.jurisdictions) else 0.0,
            "juris_mismatch": 1.0 if query.jurisdictions and not any(j in juris for j in query.jurisdictions)
            else 0.0,
            "supplementary": 1.0 if meta.get("provision_kind") == "supplementary" else 0.0,
            "position": float(meta.get("seq", 0) or 0),
            "length": math.log1p(len(text)),
            "n_units": math.log1p(seq_rows),
            "lang_match": 1.0 if str(meta.get("language", "")) == query.language else 0.0,
            "n_chunks": float(len(cand.chunks)),
            "q_tokens": math.log1p(len(content)),
            "unknown": unknown,
            "followup": 1.0 if query.followup else 0.0,
            **kinds,
        })
    if not raw:
        return []
    top_fused = max(r["fused"] for r in raw) or 1.0
    top_dense = max(r["dense"] for r in raw)
    top_lex = max(r["lex"] for r in raw) or 1.0
    top_unit = max(r["unit_max"] for r in raw)
    top_cover = max(r["cover_unit"] for r in raw)
    lead_doc = candidates[0].doc_id
    top10 = [c.doc_id for c in candidates[:10]]
    max_seq = {}
    for cand, r in zip(candidates, raw, strict=True):
        max_seq[cand.doc_id] = max(max_seq.get(cand.doc_id, 0.0), r["position"])
    for cand, r in zip(candidates, raw, strict=True):
        r["fused"] = r["fused"] / top_fused
        r["dense_gap"] = r["dense"] - top_dense
        r["lex_gap"] = r["lex"] / top_lex - 1.0
        r["lex"] = r["lex"] / top_lex
        r["unit_gap"] = r["unit_max"] - top_unit
        r["cover_unit_gap"] = r["cover_unit"] - top_cover
        r["doc_share"] = top10.count(cand.doc_id) / len(top10)
        r["doc_lead"] = 1.0 if cand.doc_id == lead_doc else 0.0
        # Position among the retrieved parts of its own document: 제1조 (목적) and the last 부칙 sit at the ends.
        r["position"] = r["position"] / max_seq[cand.doc_id] if max_seq[cand.doc_id] else 0.0
    return raw


def unit_features(query: QueryView, units: Sequence[CandidateUnit]) -> list[dict[str, float]]:
    """One row per unit of the lead provision: which one states what was asked."""
    content = query.content()
    total = sum(query.weight(t) for t in content) or 1.0
    cos = [float(u.vector @ query.vector) if u.vector is not None and query.vector is not None else 0.0
           for u in units]
    covers = [_share(u.tokens, content, query.weight, total) for u in units]
    best_cos, best_cover = max(cos, default=0.0), max(covers, default=0.0)
    kinds = _kinds(query.kind)
    n = max(1, len(units) - 1)
    out = []
    for i, (u, c, cov) in enumerate(zip(units, cos, covers, strict=True)):
        out.append({
            "cos": c,
            "cos_gap": c - best_cos,
            "cover": cov,
            "cover_gap": cov - best_cover,
            "states_kind": 1.0 if query.kind != "other" and states_fact(query.kind, u.text) else 0.0,
            "number_kind": 1.0 if query.kind != "other" and states_number(query.kind, u.text) else 0.0,
            "defers": 1.0 if defers(u.unit.text) else 0.0,
            "is_item": 1.0 if u.unit.is_item else 0.0,
            "is_lead_in": 1.0 if u.unit.children else 0.0,
            "position": i / n,
            "length": math.log1p(len(u.unit.text)),
            "first": 1.0 if i == 0 else 0.0,
            **kinds,
        })
    return out


def _attachment_cover(query: QueryView, titles: Sequence[str], content: Sequence[str], total: float
                      ) -> tuple[float, float]:
    """Best share of the question's words in a title of the document's attachment tables (별표) and forms
    (별지 서식), apart: a form rarely holds the fact asked, a table often does."""
    annex = form = 0.0
    for title in titles:
        share = _share(query.tokens_of(re.sub(r"^\s*\[[^\]]*\]\s*", "", title)), content, query.weight, total)
        if "서식" in title[:20] or "별지" in title[:20] or "form" in title[:20].lower():
            form = max(form, share)
        else:
            annex = max(annex, share)
    return annex, form


def answer_features(kind: FactKind, candidates: Sequence[Candidate], rows: Sequence[Mapping[str, float]]
                    ) -> dict[str, float]:
    """Question-level features of candidates ranked by the reranker (``rows`` in the same order): the lead's
    probability and content, and attachment titles of the leading documents that match the question better
    (the attachments are not in the text, so a question matching "[별표 5] 공영주차장 요금" is answered there)."""
    if not candidates:
        return dict.fromkeys(ANSWER_FEATURES, 0.0)
    p = [c.score for c in candidates]
    p1 = p[0]
    lead = rows[0]
    annex = max(r["annex_cover"] for r in rows[:3])
    form = max(r["form_cover"] for r in rows[:3])
    eps = 1e-4
    return {
        "p1": p1,
        "logit1": math.log(max(p1, eps) / max(1 - p1, eps)),
        "margin": p1 - (p[1] if len(p) > 1 else 0.0),
        "p_sum": float(sum(p[:5])),
        "unit_max": lead["unit_max"],
        "cover_unit": lead["cover_unit"],
        "cover_text": lead["cover_text"],
        "miss_key": lead["miss_key"],
        "states_kind": lead["states_kind"],
        "number_kind": lead["number_kind"],
        "defers_any": lead["defers_any"],
        "pinned": lead["pinned"],
        "named_doc": lead["named_doc"],
        "unknown": lead["unknown"],
        "annex_cover": annex,
        "form_cover": form,
        "annex_beats": max(0.0, annex - lead["cover_unit"]),
        "same_doc_2": 1.0 if len(candidates) > 1 and candidates[1].doc_id == candidates[0].doc_id else 0.0,
        "q_tokens": lead["q_tokens"],
        **_kinds(kind),
    }


def matrix(rows: Sequence[Mapping[str, float]], names: Sequence[str]) -> np.ndarray:
    return np.array([[float(r.get(n, 0.0)) for n in names] for r in rows], dtype=np.float64).reshape(len(rows),
                                                                                                    len(names))
