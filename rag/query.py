"""A question, worked out once: its standalone text, language, tokens, kind, topic, references and scope.

Everything downstream (retrieval, the learned decisions, the answerers) reads this object
instead of re-deriving the same facts from the question text. ``QueryBuilder`` is the one place
that derives them: each is computed once per question, so nothing downstream needs a cache keyed
on the question's text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from civicrag.rag.facts import FactKind, kind_spans, question_kind
from civicrag.rag.followup import Rewrite
from civicrag.rag.references import DocumentNames, QueryRefs, article_refs
from civicrag.rag.scope import Jurisdictions
from civicrag.rag.types import Language, Message

#: Documents a question names that retrieval votes for (the best two).
NAMED_DOCS = 2
#: How fully a document the conversation was about counts as named by a follow-up.
CONVERSATION_DOC = 0.5


@dataclass
class Query:
    question: str  # as asked
    text: str  # standalone: a follow-up rewritten with its conversation
    language: Language
    as_of: str  # ISO date whose versions answer
    filters: dict[str, str]
    history: list[Message]
    followup: bool
    tokens: list[str]  # content tokens (question words dropped), as the lexical leg searches with them
    kind: FactKind
    refs: QueryRefs  # provisions and documents named (conversation documents included)
    named_docs: dict[str, float] = field(default_factory=dict)  # doc_id -> how fully the question names it
    jurisdictions: tuple[str, ...] = ()  # jurisdictions the question names (casefolded metadata values)
    # Content tokens minus the words that only say what kind of fact is asked ("기간", "how long", "얼마"):
    # a provision shares the question's topic only through these (the decision's rule 2).
    topic: list[str] = field(default_factory=list)

    @property
    def scoped(self) -> bool:
        """The caller or the question confined the answer to a jurisdiction."""
        return bool(self.jurisdictions) or "jurisdiction" in {k.strip().lower() for k in self.filters}


@dataclass(frozen=True)
class Reading:
    """A text as the index reads it: its content tokens and the documents it names (best first)."""

    tokens: list[str]
    named: list[tuple[str, float]]  # (doc_id, coverage 0..1)


class QueryBuilder:
    """Works out a question's tokens, named documents, kind, topic, references and jurisdictions, once each.

    ``query_tokens`` is the query-side tokenizer (``rag.retrieval.QueryTokenizer``: question words dropped,
    each Hangul word also analysed alone); ``index_tokens`` the index's own tokenizer, which tells the topic
    words apart from the words asking for the kind of fact.
    """

    def __init__(
        self,
        query_tokens: Callable[[str], list[str]],
        index_tokens: Callable[[str], list[str]],
        doc_names: DocumentNames,
        jurisdictions: Jurisdictions,
    ):
        self.query_tokens = query_tokens
        self.index_tokens = index_tokens
        self.doc_names = doc_names
        self.jurisdictions = jurisdictions

    def read(self, text: str) -> Reading:
        tokens = self.query_tokens(text)
        return Reading(tokens, self.doc_names.find(text, tokens))

    def build(
        self,
        question: str,
        rewrite: Rewrite,
        asked: Reading,
        language: Language,
        as_of: str,
        filters: dict[str, str],
        history: list[Message],
    ) -> Query:
        """The Query of ``question`` (read as ``asked``) once follow-up rewriting made it ``rewrite``."""
        text = rewrite.question
        reading = asked if text == question else self.read(text)
        named = reading.named[:NAMED_DOCS]
        kind = question_kind(text)
        docs = list(dict.fromkeys([*(doc for doc, _ in named), *rewrite.docs]))
        return Query(
            question=question, text=text, language=language, as_of=as_of, filters=filters, history=history,
            followup=rewrite.is_followup, tokens=list(reading.tokens), kind=kind,
            refs=QueryRefs(articles=article_refs(text), docs=docs),
            named_docs={**dict.fromkeys(rewrite.docs, CONVERSATION_DOC), **dict(named)},
            jurisdictions=self.jurisdictions.named(text), topic=self.topic(text, kind, reading.tokens),
        )

    def topic(self, text: str, kind: FactKind, tokens: Sequence[str]) -> list[str]:
        """``tokens`` without those that appear only in the words asking for ``kind``."""
        for start, end in sorted(kind_spans(text, kind), reverse=True):
            text = text[:start] + " " + text[end:]
        kept = set(self.index_tokens(text))
        return [t for t in tokens if t in kept]
