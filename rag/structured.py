"""Questions answered from the index's structure rather than from one provision's text.

"주차장 조례 최근에 뭐가 바뀌었어?" is answered by comparing two versions; "이 조례의 근거 법령은?" by the
statutes the ordinance cites. Each such answerer is a factory here: given the loaded catalogue (and the
store, for what the catalogue does not hold), it returns a callable that answers a ``Query`` — or returns
None when the question is not of its kind, and the usual retrieval and decision answer it. The service
tries them in order, after the question is worked out and before retrieval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from civicrag.rag.amendment_questions import amendment_answerer
from civicrag.rag.query import Query
from civicrag.rag.statutes import statute_answerer
from civicrag.rag.types import Answer


class StructuredAnswerer(Protocol):
    def __call__(self, query: Query) -> Answer | None: ...


#: Factories ``(catalogue, store, tokenize) -> StructuredAnswerer``, tried in this order.
FACTORIES: list[Callable[[Any, Any, Callable[[str], list[str]]], StructuredAnswerer]] = [
    amendment_answerer,  # "what changed?", "when was 제10조 amended?": rag.amendment_questions
    statute_answerer,  # "이 조례의 근거 법령은?": the statutes its provisions cite
]


def build(catalogue: Any, store: Any, tokenize: Callable[[str], list[str]]) -> list[StructuredAnswerer]:
    return [factory(catalogue, store, tokenize) for factory in FACTORIES]
