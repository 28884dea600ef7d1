"""The chunk catalogue: every live chunk with its metadata and version validity, loaded once.

Retrieval works on row numbers into this catalogue. Filters and the as-of date
become a boolean mask over rows, which every leg applies the same way, so a
chunk of a superseded version can never leak through one leg only.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from civicrag.ingest.store.manifest import Manifest
from civicrag.rag.types import ChunkRecord

from civicrag.legal.citation import department_names
from civicrag.legal.grammar import DELETED_ATTACHMENT, title_label
from civicrag.legal.types import in_force

_DOC_ALIASES = {"doc": "doc_id", "document": "doc_id", "jurisdictions": "jurisdiction"}


@dataclass
class Catalogue:
    records: list[ChunkRecord]
    row_of: dict[str, int]
    # (doc_id, version) -> rows in document order: neighbour expansion and whole-article views.
    rows_by_version: dict[tuple[str, str], list[int]]
    generation: int
    # (doc_id, version) -> titles of its attachments (별표, 서식): they are not in the text, but a
    # question whose words are in "[별표 5] 공영주차장 주차요금" is answered there, not here.
    attachments: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    _validity: list[tuple[str | None, str | None]] = field(default_factory=list)
    _version_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    _columns: dict[str, _Column] = field(default_factory=dict)
    _masks: dict[tuple[object, ...], np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # One validity pair per document version; rows point at theirs.
        slots: dict[tuple[str, str], int] = {}
        index = np.empty(len(self.records), dtype=np.int32)
        for i, r in enumerate(self.records):
            slot = slots.get((r.doc_id, r.version))
            if slot is None:
                slot = slots[(r.doc_id, r.version)] = len(self._validity)
                self._validity.append((r.valid_from, r.valid_to))
            index[i] = slot
        self._version_index = index

    @classmethod
    def load(cls, manifest: Manifest) -> Catalogue:
        versions = manifest.versions()
        validity = {(v.doc_id, v.version): (v.valid_from, v.valid_to) for v in versions}
        records: list[ChunkRecord] = []
        for chunk_id, text, meta, _tokens in manifest.live_chunks():
            key = (str(meta.get("doc_id", "")), str(meta.get("version", "")))
            valid_from, valid_to = validity.get(key, (None, None))
            records.append(ChunkRecord(chunk_id, text, meta, valid_from, valid_to))
        catalogue = cls.from_records(records, manifest.generation)
        catalogue.attachments = {(v.doc_id, v.version): _attachment_titles(v.meta_json) for v in versions}
        return catalogue

    @classmethod
    def from_records(cls, records: list[ChunkRecord], generation: int = 0) -> Catalogue:
        row_of = {r.chunk_id: i for i, r in enumerate(records)}
        by_version: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, r in enumerate(records):
            by_version[(r.doc_id, r.version)].append(i)
        for rows in by_version.values():
            rows.sort(key=lambda i: records[i].seq)
        return cls(records, row_of, dict(by_version), generation)

    def __len__(self) -> int:
        return len(self.records)

    # -- masks -----------------------------------------------------------------
    def mask(self, filters: Mapping[str, str] | None, as_of: str) -> np.ndarray:
        """Rows in force on ``as_of`` that match every filter (values compared case-insensitively).

        Vectorised over per-version and per-column arrays: it runs on every query and must stay well under
        a millisecond at 10x the corpus. Memoised on (date, filters), which most questions share (today, no
        filters): the memo serves the questions after the first, not the same question twice.
        """
        wanted = normalise_filters(filters)
        key = (as_of, tuple(sorted((k, tuple(sorted(v))) for k, v in wanted.items())))
        cached = self._masks.get(key)
        if cached is not None:
            return cached
        live = np.array([in_force(vf, vt, as_of) for vf, vt in self._validity], dtype=bool)
        out = live[self._version_index] if len(self.records) else np.zeros(0, dtype=bool)
        for name, values in wanted.items():
            column = self._column(name)
            ok = np.array([_matches(name, v, values) for v in column.values], dtype=bool)
            out = out & ok[column.codes]
        if len(self._masks) > 256:
            self._masks.clear()
        self._masks[key] = out
        return out

    def doc_mask(self, doc_ids: set[str]) -> np.ndarray:
        """Rows of these documents, whatever their version's validity (combine with ``mask``)."""
        column = self._column("doc_id")
        wanted = {d.casefold() for d in doc_ids}
        ok = np.array([v in wanted for v in column.values], dtype=bool)
        return ok[column.codes] if len(self.records) else np.zeros(0, dtype=bool)

    def _column(self, name: str) -> _Column:
        column = self._columns.get(name)
        if column is None:
            values: list[str] = []
            index: dict[str, int] = {}
            codes = np.empty(len(self.records), dtype=np.int32)
            for i, r in enumerate(self.records):
                value = str(r.metadata.get(name, "")).casefold()
                code = index.get(value)
                if code is None:
                    code = index[value] = len(values)
                    values.append(value)
                codes[i] = code
            column = self._columns[name] = _Column(values, codes)
        return column

    def neighbours(self, row: int, span: int = 1) -> list[int]:
        """Rows of the articles just before and after ``row`` in the same document version."""
        record = self.records[row]
        rows = self.rows_by_version.get((record.doc_id, record.version), [])
        try:
            pos = rows.index(row)
        except ValueError:
            return []
        lo, hi = max(0, pos - span), min(len(rows), pos + span + 1)
        return [r for r in rows[lo:hi] if r != row]

    def article_rows(self, row: int) -> list[int]:
        """All chunks of the same article (a long article is split into several chunks)."""
        record = self.records[row]
        rows = self.rows_by_version.get((record.doc_id, record.version), [])
        return [r for r in rows if self.records[r].article == record.article]


def _attachment_titles(meta_json: str) -> tuple[str, ...]:
    """Live attachment titles from a version's metadata; deleted ones ("[별표 4] 삭제<…>") say nothing, and
    neither do those whose file was ingested (their text is indexed as the document's 별표 provision)."""
    try:
        meta = json.loads(meta_json or "{}")
        titles = meta.get("attachments") or []
        indexed = {str(f.get("label")) for f in meta.get("attachment_files") or [] if isinstance(f, dict)}
    except (ValueError, AttributeError):
        return ()
    return tuple(
        str(t) for t in titles
        if not DELETED_ATTACHMENT.search(str(t)) and (title_label(str(t)) or ("",))[0] not in indexed
    )


def normalise_filters(filters: Mapping[str, str] | None) -> dict[str, set[str]]:
    """``{"doc": "2179433,2117319"}`` -> ``{"doc_id": {"2179433", "2117319"}}`` (comma = any of)."""
    out: dict[str, set[str]] = {}
    for key, value in (filters or {}).items():
        name = _DOC_ALIASES.get(key.strip().lower(), key.strip().lower())
        values = {v.strip().casefold() for v in re.split(r"[,|]", str(value)) if v.strip()}
        if values:
            out[name] = values
    return out


@dataclass
class _Column:
    values: list[str]  # distinct casefolded values
    codes: np.ndarray  # row -> index into values


def _matches(key: str, text: str, wanted: set[str]) -> bool:
    if key == "department":
        # A document may name several departments (and a phone number): any one of them matches.
        return bool(department_names(text) & wanted)
    if key in ("jurisdiction", "title"):
        # Long free-text values ("City of Somerville, Massachusetts (US)", "제주특별자치도"): a substring does.
        return any(w in text for w in wanted)
    return text in wanted
