"""A question, worked out once: its standalone text, language, tokens, kind, references and scope.

Everything downstream (retrieval, the learned decisions, the answerers) reads this object
instead of re-deriving the same facts from the question text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from civicrag.rag.facts import FactKind, kind_spans
from civicrag.rag.references import QueryRefs
from civicrag.rag.types import Language, Message


@dataclass
class Query:
    question: str  # as asked
    text: str  # standalone: a follow-up rewritten with its conversation
    language: Language
    as_of: str  # ISO date whose versions answer
    filters: dict[str, str]
    history: list[Message]
    followup: bool
    tokens: list[str]  # content tokens (question words dropped)
    kind: FactKind
    refs: QueryRefs  # provisions and documents named (conversation documents included)
    named_docs: dict[str, float] = field(default_factory=dict)  # doc_id -> how fully the question names it
    jurisdictions: tuple[str, ...] = ()  # jurisdictions the question names (casefolded metadata values)

    @property
    def scoped(self) -> bool:
        """The caller or the question confined the answer to a jurisdiction."""
        return bool(self.jurisdictions) or "jurisdiction" in {k.strip().lower() for k in self.filters}

    def topic_tokens(self, tokenize: object) -> list[str]:
        """Content tokens minus the words that only say what kind of fact is asked ("기간", "how long", "얼마"):
        a provision shares the question's topic only through the rest."""
        text = self.text
        for start, end in sorted(kind_spans(text), reverse=True):
            text = text[:start] + " " + text[end:]
        kept = set(tokenize(text)) if callable(tokenize) else set()
        return [t for t in self.tokens if t in kept]
