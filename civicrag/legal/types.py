"""The values ingest produces and rag reads, defined once: pure dataclasses and one validity rule, no I/O.

ingest: a file is loaded into a ``Document``, parsed into ``Provision`` values (each with its ``UnitSpan``
units), and cut into ``Chunk`` values that are embedded and stored. rag: each stored chunk comes back as a
``ChunkRecord`` (with the validity of its version), and an answer cites it as a ``Citation``, built from
chunk metadata only, never from model text.

``in_force`` is the one rule for "this version applies on that date"; the manifest's version rows, the
chunk records, the catalogue's row mask and the amendment history all ask it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from civicrag.legal.citation import formal_citation, labels_of
from civicrag.legal.language import Language as Language
from civicrag.legal.references import from_json


def in_force(valid_from: str | None, valid_to: str | None, as_of: str) -> bool:
    """Whether a version valid from ``valid_from`` (inclusive) to ``valid_to`` (exclusive) applies on ``as_of``.

    All three are ISO dates (``YYYY-MM-DD``), compared as strings; ``None`` is an open end: a version with
    no start date applies since always, the current version (no ``valid_to``) until further notice. The
    day a new version takes effect belongs to the new version only.
    """
    return (valid_from is None or valid_from <= as_of) and (valid_to is None or as_of < valid_to)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- ingest: files → Document → Provision → Chunk ---------------------------------------------------


@dataclass
class Document:
    """One loaded file: its text and the metadata its front matter (or name) gives.

    ``text`` is what the parser reads. For paged sources (PDF) ``page_starts[i]``
    is the character offset in ``text`` where page ``i + 1`` begins, so any span
    of the text maps back to the pages it came from.
    """

    doc_id: str
    title: str
    text: str
    source: str  # path of the file as given to ingest
    format: str  # markdown | text | pdf | html | ...
    language: Language = "ko"
    kind: str = ""  # 조례, 규칙, code, ordinance, charter, zoning, resolution, manual ...
    jurisdiction: str = ""
    effective_date: str | None = None  # ISO date, YYYY-MM-DD
    promulgated: str | None = None  # ISO date
    department: str | None = None
    source_url: str | None = None
    page_starts: list[int] = field(default_factory=list)
    ocr: bool = False  # text came from OCR: citations tell staff to check the original
    extra: dict[str, Any] = field(default_factory=dict)

    def page_at(self, offset: int) -> int | None:
        """1-based page holding character ``offset``; None for unpaged sources."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))


@dataclass
class UnitSpan:
    """Where a splittable piece of a provision lies in its text: a 항 (①), a top-level 호 (1.), or a
    subsection ((a)). (``civicrag.legal.units.Unit`` is the quotable unit with its text, read at answer time.)"""

    label: str  # "①", "1.", "(a)"; "" for the lead-in text before the first unit
    start: int  # offsets into the provision's ``text``
    end: int


@dataclass
class Provision:
    """One citable unit of a regulation: an article, section, 부칙, 별표, or (for manuals) a passage.

    ``start``/``end`` are offsets into ``Document.text`` (used for page mapping);
    ``text`` is the provision's own text, cleaned for reading and embedding.
    """

    article: str  # canonical label: "제7조의6", "§ 2-537", "SECTION 3-1", "Sec. 2-1", "부칙", "별표 1"; "" for manuals
    article_title: str
    text: str
    start: int
    end: int
    kind: str = "article"  # article | supplementary | appendix | section | preamble | passage
    heading_path: list[str] = field(default_factory=list)  # enclosing 편/장/절/관 or chapter/article headings
    units: list[UnitSpan] = field(default_factory=list)


@dataclass
class Chunk:
    """What gets embedded and indexed. ``metadata`` holds only str/int/float/bool values (Chroma's rule)."""

    chunk_id: str
    text: str  # text shown and quoted
    embed_text: str  # text embedded and indexed lexically (title + heading + text)
    metadata: dict[str, str | int | float | bool]

    @property
    def content_hash(self) -> str:
        return str(self.metadata["content_hash"])


# -- rag: a stored chunk and its citation ---------------------------------------------------------


@dataclass(frozen=True)
class ChunkRecord:
    """One live chunk as the service knows it: text, metadata and the validity of its version."""

    chunk_id: str
    text: str
    metadata: Mapping[str, Any]
    valid_from: str | None = None
    valid_to: str | None = None

    @property
    def doc_id(self) -> str:
        return str(self.metadata.get("doc_id", ""))

    @property
    def article(self) -> str:
        return str(self.metadata.get("article", ""))

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", ""))

    @property
    def language(self) -> str:
        return str(self.metadata.get("language", ""))

    @property
    def seq(self) -> int:
        return int(self.metadata.get("seq", 0) or 0)

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", ""))

    @property
    def superseded(self) -> bool:
        return self.valid_to is not None

    def in_force(self, as_of: str) -> bool:
        """Whether this chunk's version applies on ``as_of`` (see ``in_force``)."""
        return in_force(self.valid_from, self.valid_to, as_of)

    @property
    def key(self) -> tuple[str, str]:
        """(doc_id, article): what a citation names."""
        return (self.doc_id, self.article)


class Scored(Protocol):
    """A ranked chunk as ``Citation.from_chunk`` reads it (``civicrag.rag.types.ScoredChunk`` is one)."""

    chunk: ChunkRecord
    score: float


@dataclass
class Citation:
    n: int
    doc_id: str
    title: str
    article: str
    article_title: str
    page: int | None
    effective_date: str
    source: str
    text: str
    score: float
    chunk_id: str = ""
    paragraph: str = ""  # the 항/호 or (a) label quoted, when the quote is narrower than the chunk
    quote: str = ""  # the decisive sentence(s) quoted from ``text``
    superseded: bool = False
    valid_to: str | None = None
    ocr: bool = False
    source_url: str = ""
    # The statutes and regulations the provision cites ({name, kind, article}; from ingest's chunk metadata).
    references: list[dict[str, str]] = field(default_factory=list)
    # Copy-ready form for official documents: 「…」 제6조제2항제1호 (시행 2024. 1. 1.) / D.C. Code § 2-537(a)(1).
    formal: str = ""
    department: str = ""  # 담당부서: whom staff ask about the provision
    provision_kind: str = ""  # article | supplementary | appendix | section | preamble | passage
    # The 별표/서식 the provision refers to (or, for an attachment, itself): label, title, format, url, indexed.
    attachments: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_chunk(
        cls, n: int, scored: Scored, quote: str = "", paragraph: str = "", labels: Sequence[str] | None = None
    ) -> Citation:
        """``labels`` is the quoted unit's label path (``("②", "1.")``) for the formal citation; without it
        the ``paragraph`` label (one, not a range) is used."""
        meta = scored.chunk.metadata
        page = int(meta.get("page_start", 0) or 0)
        paragraph = paragraph or str(meta.get("paragraph", ""))
        return cls(
            n=n,
            doc_id=scored.chunk.doc_id,
            title=str(meta.get("title", "")),
            article=scored.chunk.article,
            article_title=str(meta.get("article_title", "")),
            page=page or None,
            effective_date=str(meta.get("effective_date", "")),
            source=str(meta.get("source", "")),
            text=scored.chunk.text,
            score=round(float(scored.score), 6),
            chunk_id=scored.chunk.chunk_id,
            paragraph=paragraph,
            quote=quote,
            superseded=scored.chunk.superseded,
            valid_to=scored.chunk.valid_to,
            ocr=bool(meta.get("ocr", False)),
            source_url=str(meta.get("source_url", "")),
            references=[r.to_dict() for r in from_json(meta.get("references"))],
            formal=formal_citation(meta, labels_of(paragraph) if labels is None else labels),
            department=str(meta.get("department", "")),
            provision_kind=str(meta.get("provision_kind", "")),
            attachments=_attachments(meta.get("attachments")),
        )


def _attachments(value: Any) -> list[dict[str, Any]]:
    """Chunk metadata keeps the attachments as a JSON string (Chroma metadata holds scalars only)."""
    if not value:
        return []
    try:
        items = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return [dict(i) for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
