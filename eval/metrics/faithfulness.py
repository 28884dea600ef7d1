"""LLM-judged faithfulness: advisory only, computed only when an LLM endpoint is configured.

Generic judges are unreliable on Korean (field notes: a correct answer scored 0.48), so
this number never gates anything; it is reported beside the deterministic metrics. The
judge sees the cited passages and the answer and returns the share of the answer's claims
those passages support, as one number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

PROMPT = (
    "You check an answer against its sources. Count the factual claims in the ANSWER and how many of them "
    "the SOURCES state or directly imply. Reply with one line: SUPPORTED/TOTAL, for example 3/4. "
    "Reply 0/0 if the answer makes no claim."
)


class ChatClient(Protocol):
    def complete(self, messages: list[dict[str, str]]) -> str: ...


def judge_messages(question: str, answer: str, sources: Sequence[str]) -> list[dict[str, str]]:
    joined = "\n\n".join(f"[{i}] {s[:2000]}" for i, s in enumerate(sources, start=1))
    return [
        {"role": "system", "content": PROMPT},
        {"role": "user", "content": f"QUESTION: {question}\n\nSOURCES:\n{joined}\n\nANSWER:\n{answer}"},
    ]


def parse_verdict(text: str) -> float | None:
    """``"3/4"`` → 0.75; ``"0/0"`` or anything unreadable → None."""
    m = re.search(r"(\d+)\s*/\s*(\d+)", text or "")
    if not m:
        return None
    supported, total = int(m.group(1)), int(m.group(2))
    if total == 0:
        return None
    return max(0.0, min(1.0, supported / total))


def faithfulness(client: ChatClient, question: str, answer: str, sources: Sequence[str]) -> float | None:
    """The judge's share of supported claims, or None (no claims, no sources, or the judge failed)."""
    if not answer.strip() or not sources:
        return None
    try:
        return parse_verdict(client.complete(judge_messages(question, answer, sources)))
    except Exception:  # an advisory score must never fail the run
        return None
