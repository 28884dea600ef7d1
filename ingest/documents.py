"""The data that flows through ingestion: files → Document → Provision → Chunk.

Plain dataclasses, no behaviour beyond small derived helpers, so every stage
(loaders, parsing, chunking, store) can be tested alone with hand-made values.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

Language = Literal["ko", "en"]


class IngestError(Exception):
    """A file that cannot be ingested. The message is one line for the maintainer.

    ``doc_id`` and ``title`` are set when the file names a document even though it cannot be
    indexed (front matter without a body): the manifest keeps them so a question about that
    document is told why it cannot be answered instead of being answered from another one.

    ``transient`` marks a failure that is not the file's own (it could not be read, Tesseract timed
    out or could not run): the file is tried again next time even when its bytes are unchanged.
    """

    def __init__(
        self, message: str, *, doc_id: str | None = None, title: str | None = None, transient: bool = False
    ):
        super().__init__(message)
        self.doc_id = doc_id
        self.title = title
        self.transient = transient


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
class Unit:
    """A splittable piece of a provision: a 항 (①), a top-level 호 (1.), or a subsection ((a))."""

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
    units: list[Unit] = field(default_factory=list)


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


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
