"""Documents the manifest knows by name but could not index (front matter without a body).

Left out of the index, such an ordinance is invisible: a question about it was answered from
whichever indexed ordinance shared the most words, or refused with a generic reason. Knowing
its title lets the service say what is actually wrong: the regulation is registered, but its
text could not be read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from civicrag.rag.references import DocumentNames

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class EmptyDocument:
    doc_id: str
    title: str
    path: str
    title_tokens: frozenset[str] = field(default=frozenset(), compare=False)


class EmptyDocuments:
    """Finds the known-but-empty document a question names, with the same title matching as indexed ones."""

    def __init__(self, documents: Sequence[EmptyDocument] = (), names: DocumentNames | None = None):
        self.documents = {d.doc_id: d for d in documents}
        self._names = names

    @classmethod
    def build(
        cls,
        rows: Iterable[tuple[str, str, str]],
        indexed: DocumentNames,
        tokenize: Callable[[str], list[str]],
    ) -> EmptyDocuments:
        """From the manifest's ``(doc_id, title, path)`` rows, next to the indexed documents' names."""
        documents: dict[str, EmptyDocument] = {}
        for doc_id, title, path in rows:
            key = doc_id or path  # the manifest may lack a doc_id; the path still tells documents apart
            # A document indexed from another file (or another version) is readable: nothing to refuse.
            if key in indexed.titles or key in documents:
                continue
            documents[key] = EmptyDocument(key, title, path, frozenset(tokenize(title)))
        if not documents:
            return cls()  # the usual case: no second set of names to build or search
        names = indexed.extended({d.doc_id: d.title for d in documents.values()}, tokenize)
        return cls(list(documents.values()), names)

    def __len__(self) -> int:
        return len(self.documents)

    def named(
        self, question: str, query_tokens: Iterable[str], answered_from: str | None = None
    ) -> EmptyDocument | None:
        """The empty document the question names, unless an indexed document is named more strongly.

        ``answered_from`` is the title and text of the provision the indexed evidence would answer
        with (None when it would refuse). A refusal anyway is better told its real reason on any
        naming. An answer stands when the question only shares some of the empty title's words
        and that provision uses them all: "의료급여 수급자 지원" is about the 간병비 ordinance that
        speaks of 의료급여 수급자, not about "서귀포시 의료급여기금특별회계 설치 및 운영조례".
        """
        if self._names is None or not self.documents:
            return None
        query_tokens = list(query_tokens)
        best_empty: tuple[str, float] | None = None
        best_indexed = 0.0
        for doc_id, coverage in self._names.find(question, query_tokens):
            if doc_id in self.documents:
                if best_empty is None:
                    best_empty = (doc_id, coverage)  # ``find`` lists the best first
            else:
                best_indexed = max(best_indexed, coverage)
        if best_empty is None or best_indexed > best_empty[1]:
            return None
        doc = self.documents[best_empty[0]]
        if answered_from is None or best_empty[1] >= 1.0:  # refused anyway, or the whole name is used
            return doc
        shared = {t for t in doc.title_tokens & set(query_tokens) if len(t) >= 2}
        provision = _SPACES.sub("", answered_from)
        if shared and all(t in provision for t in shared):
            return None
        return doc
