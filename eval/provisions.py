"""The corpus as the question writers and the set checker see it: every provision of every document version.

Parsed with ingest's own loaders and parsers (no embedding, no index), so a gold label
means exactly what the index will call it. Documents without a body (``본문출처:
parsing-failed``) are listed by id and title so questions about them can be checked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from civicrag.eval.labels import normalise_article
from civicrag.ingest.documents import IngestError
from civicrag.ingest.loaders import LoadLimits, iter_candidate_files, load_file
from civicrag.ingest.loaders.ocr import OcrOptions
from civicrag.ingest.parsing import parse_document

# The whole Somerville code is one 2.2 MB file; nothing in the corpus comes near this.
_LIMITS = LoadLimits(max_file_bytes=100 * 2**20, max_pdf_pages=5000)


@dataclass(frozen=True)
class Provision:
    doc_id: str
    version: str  # effective date, "" when the document has none
    title: str
    article: str  # canonical label
    article_title: str
    heading_path: tuple[str, ...]
    text: str

    @property
    def body(self) -> str:
        """The text without its own header line (``제4조(수수료)``, ``Sec. 9-121. Fees.``): facts must
        be stated by the provision, not merely named by its title."""
        first, _, rest = self.text.partition("\n")
        return rest if rest.strip() else first


@dataclass
class Corpus:
    provisions: list[Provision] = field(default_factory=list)
    empty: dict[str, str] = field(default_factory=dict)  # doc_id -> title of documents with no body
    versions: dict[str, list[str]] = field(default_factory=dict)  # doc_id -> effective dates, ascending

    def version_on(self, doc_id: str, as_of: str | None) -> str | None:
        """The version in force on ``as_of`` (the latest one when None)."""
        dates = self.versions.get(doc_id)
        if not dates:
            return None
        if as_of is None:
            return dates[-1]
        valid = [d for d in dates if d <= as_of]
        return valid[-1] if valid else None

    def find(self, doc_id: str, article: str, as_of: str | None = None) -> list[Provision]:
        """Provisions of that label in the version in force on ``as_of`` (several for split labels)."""
        version = self.version_on(doc_id, as_of)
        label = normalise_article(article)
        return [
            p for p in self.provisions
            if p.doc_id == doc_id and p.version == version and normalise_article(p.article) == label
        ]

    def documents(self) -> dict[str, str]:
        """doc_id -> title, body-less documents included."""
        out = {p.doc_id: p.title for p in self.provisions}
        out.update(self.empty)
        return out

    def of(self, doc_id: str, version: str | None = None) -> list[Provision]:
        version = version if version is not None else self.version_on(doc_id, None)
        return [p for p in self.provisions if p.doc_id == doc_id and p.version == version]


def load_corpus(paths: Sequence[Path]) -> Corpus:
    corpus = Corpus()
    for file, root in iter_candidate_files([Path(p) for p in paths]):
        try:
            doc = load_file(file, root, _LIMITS, OcrOptions(enabled=False))
        except IngestError as exc:
            if exc.doc_id:
                corpus.empty[exc.doc_id] = exc.title or ""
            continue
        version = doc.effective_date or ""
        dates = corpus.versions.setdefault(doc.doc_id, [])
        if version not in dates:
            dates.append(version)
            dates.sort()
        for p in parse_document(doc):
            corpus.provisions.append(
                Provision(doc.doc_id, version, doc.title, p.article, p.article_title, tuple(p.heading_path), p.text)
            )
    return corpus


def compact(text: str, casefold: bool) -> str:
    """Text with whitespace removed (and case folded for English): how facts are matched."""
    out = re.sub(r"\s+", "", text)
    return out.casefold() if casefold else out


def contains_fact(texts: Iterable[str], fact: str, casefold: bool) -> bool:
    needle = compact(fact, casefold)
    return any(needle in compact(t, casefold) for t in texts)
