"""Attachments (별표, 별지 서식) a provision hands its detail to: the one a refused question should be sent to.

The attachments are listed in a document's front matter but their content is not in the text.
A question whose words are in "[별표 5] 공영주차장 요금" is answered there, so a refusal names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from civicrag.rag.evidence import EvidenceScorer
from civicrag.rag.types import ScoredChunk

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
