"""Answerers: turn a question and ranked evidence into an Answer with citations from chunk metadata."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from civicrag.rag.evidence import UnitScore
from civicrag.rag.types import Answer, Answerability, Language, ScoredChunk


class Answerer(Protocol):
    name: str

    def stream(
        self,
        question: str,
        language: Language,
        chunks: Sequence[ScoredChunk],
        units: Sequence[UnitScore],
        answerability: Answerability,
        as_of: str,
    ) -> Iterator[str | Answer]:
        """Yield answer text pieces, then the finished Answer as the last item."""
        ...
