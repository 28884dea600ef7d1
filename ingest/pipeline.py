"""Incremental ingestion: files → documents → provisions → chunks → vectors + manifest.

For every file: skip it when its bytes are unchanged; otherwise load, parse and
chunk it, embed what the cache does not already hold, write the vectors, then
flip the manifest to the new version in one transaction. A bad file is reported
with its reason and the batch goes on; a crash at any point leaves each
document wholly old or wholly new (see ``ingest.store.manifest``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from civicrag.legal.units import split_units, unit_embed_text
from civicrag.settings import Settings
from ingest.attachments import (
    Entry,
    appendix_provision,
    attachment_files,
    chunk_attachments,
    file_label,
    parent_document,
    title_label,
)
from ingest.chunking import chunk_document
from ingest.documents import Chunk, Document, IngestError, Provision, sha256_text
from ingest.embedding import Embedder, EmbeddingCache, create_embedder
from ingest.loaders import (
    SUPPORTED_SUFFIXES,
    LoadLimits,
    extract_file,
    iter_candidate_files,
    load_file,
    sidecar_paths,
)
from ingest.loaders.ocr import OcrOptions
from ingest.parsing import parse_document
from ingest.store import IndexStore
from ingest.store.manifest import UNDATED, FileRow, now_iso

# Bump when parsing or chunking changes what a file becomes, so unchanged files are redone once.
# 2: noun+suffix compounds (경형) in the lexical tokens; 3: prefixed nouns kept whole (재활용), multi-word
# dictionary names also indexed word by word.
# 4: each quotable unit (항/호, (a), sentence) embedded on its own for the reranker.
# 5: attachment files beside a document (doc.별표5.hwp) become its 별표 provisions; chunks name the
# attachments they refer to.
PIPELINE_VERSION = "5"

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    chunks: int = 0  # chunks written by this run
    embedded: int = 0  # chunks that needed a new embedding (the rest came from the cache)
    recovered: int = 0  # leftovers of an interrupted run cleaned up
    seconds: float = 0.0
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


@dataclass
class _Prepared:
    doc: Document
    version: str
    content_hash: str
    chunks: list[Chunk]


@dataclass
class _Attached:
    """An attachment file read as a provision of its document."""

    label: str
    path: Path
    provision: Provision
    text_hash: str


class Ingestor:
    """Holds the store and (lazily) the embedder for one or more ingest runs in a process."""

    def __init__(self, settings: Settings, store: IndexStore | None = None, embedder: Embedder | None = None):
        self.settings = settings
        self.store = store or IndexStore(settings)
        self._embedder = embedder
        self.limits = LoadLimits.from_settings(settings)
        self.ocr = OcrOptions.from_settings(settings)
        self._attachment_paths: list[str] = []
        self._attachment_failures: list[dict[str, str]] = []

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = create_embedder(self.settings)
        return self._embedder

    def run(
        self,
        paths: Sequence[Path],
        prune: bool = False,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport(dry_run=dry_run)
        manifest = self.store.manifest
        if not dry_run:
            report.recovered = self.store.recover()
            manifest.set_state("embedder", self.settings.embedder_key)
        self._seen: dict[tuple[str, str], tuple[str, str]] = {}
        candidates = list(iter_candidate_files(list(paths)))
        scanned: list[str] = []
        for done, (file, root) in enumerate(candidates):
            display = str(file)
            scanned.append(display)
            if progress:
                progress(done, len(candidates), display)
            # Attachment files read with this document: their own failures are reported under their names.
            self._attachment_paths = []
            self._attachment_failures = []
            try:
                try:
                    outcome = self._ingest_file(file, root, dry_run)
                finally:
                    scanned.extend(self._attachment_paths)
                    report.failed.extend(self._attachment_failures)
            except IngestError as exc:
                failure = {"path": display, "error": str(exc)}
                # The document a bodiless file names, so questions about it can be told why not.
                if exc.doc_id is not None:
                    failure["doc_id"] = exc.doc_id
                if exc.title is not None:
                    failure["title"] = exc.title
                report.failed.append(failure)
                continue
            if outcome == "unchanged":
                report.unchanged += 1
            else:
                kind, n_chunks, n_embedded = outcome
                setattr(report, kind, getattr(report, kind) + 1)
                report.chunks += n_chunks
                report.embedded += n_embedded
        if progress:
            progress(len(candidates), len(candidates), "")
        if prune:
            report.removed = self._prune(dry_run)
        if not dry_run:
            # Failures of files that are gone (deleted after a failed run) are no longer news.
            vanished = [path for path, _ in manifest.failures() if not Path(path).exists()]
            manifest.update_failures(
                [*scanned, *vanished],
                [(f["path"], f["error"], f.get("doc_id"), f.get("title")) for f in report.failed],
            )
            self.store.lexical()  # rebuilds and persists the BM25 index when anything changed
            manifest.set_state("last_ingest", now_iso())
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    # -- one file ------------------------------------------------------------
    def _ingest_file(self, file: Path, root: Path, dry_run: bool) -> str | tuple[str, int, int]:
        if file.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise IngestError(f"unsupported file type '{file.suffix.lower() or file.name}'")
        attachment = file_label(file)
        if attachment is not None and parent_document(file) is None:
            stem, label = attachment
            raise IngestError(
                f"attachment file ({label}) but no document '{stem}.<md|pdf|hwp|…>' beside it; "
                "name an attachment <document file stem>.<별표N|별지N>.<ext>"
            )
        manifest = self.store.manifest
        key = str(file.resolve())
        file_hash = self._file_hash(file)
        known = manifest.file(key)
        if known and known.file_hash == file_hash and manifest.has_document(known.doc_id):
            # The bytes (and how we process them) are as when this file was last taken.
            return "unchanged"

        prepared = self._prepare(file, root)
        doc = prepared.doc
        seen_key = (doc.doc_id, prepared.version)
        first = self._seen.setdefault(seen_key, (prepared.content_hash, str(file)))
        if first[0] != prepared.content_hash:
            raise IngestError(
                f"same document ({doc.doc_id}) and effective date ({prepared.version}) as {first[1]}, "
                "but different text; not ingested"
            )
        file_row = FileRow(key, file_hash, doc.doc_id, prepared.version, prepared.content_hash)
        live = manifest.live_version(doc.doc_id, prepared.version)
        if live and live.content_hash == prepared.content_hash:
            # Same content reached through another path or touched bytes: just remember the file.
            if not dry_run:
                manifest.record_file(file_row)
            return "unchanged"
        kind = "updated" if manifest.has_document(doc.doc_id) else "added"
        if dry_run:
            return kind, len(prepared.chunks), 0
        embedded = self._write(prepared, file_row)
        return kind, len(prepared.chunks), embedded

    def _file_hash(self, file: Path) -> str:
        """Hash of the bytes and of everything that decides what the bytes become."""
        try:
            size = file.stat().st_size
            if size > self.limits.max_file_bytes:
                return ""  # the loader refuses it with the size in the message
            digest = hashlib.sha256(_pipeline_fingerprint(self.settings).encode())
            digest.update(file.read_bytes())
            for sidecar in sidecar_paths(file):  # metadata edits must redo the file too
                if sidecar.is_file():
                    digest.update(sidecar.read_bytes())
            for label, attached in attachment_files(file):  # so must an added, changed or removed 별표 file
                digest.update(f"\0{label}\0{attached.name}\0".encode())
                digest.update(attached.read_bytes())
        except OSError as exc:
            raise IngestError(f"cannot read file: {exc.strerror or exc}") from exc
        return digest.hexdigest()

    def _prepare(self, file: Path, root: Path) -> _Prepared:
        doc = load_file(file, root, self.limits, ocr=self.ocr)
        provisions = parse_document(doc)
        attached = self._read_attachments(file, doc)
        if attached:
            # A file wins over a 별표 of the same label typed into the body.
            labels = {a.label for a in attached}
            provisions = [p for p in provisions if not (p.kind == "appendix" and p.article in labels)]
            provisions += [a.provision for a in attached]
            doc.extra["attachment_files"] = [
                {"label": a.label, "path": str(a.path), "format": a.path.suffix.lower().lstrip("."),
                 "sha256": a.text_hash}
                for a in attached
            ]
        version = doc.effective_date or UNDATED
        content_hash = _document_hash(doc, self.settings)
        chunks = chunk_document(
            doc,
            provisions,
            self.embedder.count_tokens,
            min(self.settings.chunk_max_tokens, self.embedder.max_tokens),
            version,
            content_hash,
        )
        _annotate_attachments(chunks, doc, attached)
        chunks = [c for c in chunks if c.text.strip()]
        if not chunks:
            # A named document with nothing to index is as unanswerable as one without a body.
            raise IngestError("no text to index after parsing", doc_id=doc.doc_id, title=doc.title)
        return _Prepared(doc, version, content_hash, chunks)

    def _read_attachments(self, file: Path, doc: Document) -> list[_Attached]:
        """The attachment files beside ``file`` as provisions; one that cannot be read is reported under its
        own name and the document goes on without it."""
        entries = {e["label"]: e for e in doc.extra.get("attachment_entries") or []}
        out: list[_Attached] = []
        offset = len(doc.text)
        for label, path in attachment_files(file):
            self._attachment_paths.append(str(path))
            try:
                text = extract_file(path, self.limits, self.ocr).text
            except IngestError as exc:
                self._attachment_failures.append({"path": str(path), "error": f"attachment of {file.name}: {exc}"})
                continue
            if not text.strip():
                self._attachment_failures.append({"path": str(path), "error": f"attachment of {file.name}: no text"})
                continue
            listed = title_label(str(entries.get(label, {}).get("title", "")))
            first = next((line for line in text.splitlines() if line.strip()), "")
            own = title_label(first.lstrip("# ").strip())
            title = listed[1] if listed else own[1] if own and own[0] == label else ""
            out.append(_Attached(label, path, appendix_provision(label, title, text, offset), sha256_text(text)))
        return out

    def _write(self, prepared: _Prepared, file_row: FileRow) -> int:
        store, manifest = self.store, self.store.manifest
        doc = prepared.doc
        texts = [c.embed_text for c in prepared.chunks]
        tokens = store.tokenizer.tokenize_many(texts)
        unit_texts = [unit_texts_of(c) for c in prepared.chunks] if self.settings.ingest_unit_vectors else None
        cache = EmbeddingCache(self.settings.embedding_cache_path)
        try:
            vectors, embedded = cache.embed_passages(self.embedder, texts)
            unit_vectors = None
            if unit_texts is not None:
                flat = [t for texts_of_chunk in unit_texts for t in texts_of_chunk if t is not None]
                computed, unit_embedded = cache.embed_passages(self.embedder, flat)
                embedded += unit_embedded
                unit_vectors = _regroup(unit_texts, computed, vectors)
        finally:
            cache.close()
        # 1. pending rows (invisible)  2. vectors  3. one transaction flips visibility  4. old vectors go.
        manifest.begin_version(doc, prepared.version, prepared.content_hash, prepared.chunks, tokens, unit_vectors)
        store.vectors.add(prepared.chunks, vectors)
        manifest.activate_version(doc.doc_id, prepared.version, prepared.content_hash, file_row)
        store.purge(doc_id=doc.doc_id)
        return embedded

    def _prune(self, dry_run: bool) -> int:
        """Remove documents none of whose recorded files exist any more."""
        manifest = self.store.manifest
        existing: dict[str, bool] = {}
        for row in manifest.files():
            existing[row.doc_id] = existing.get(row.doc_id, False) or Path(row.path).exists()
        gone = sorted(doc_id for doc_id, present in existing.items() if not present)
        gone = [d for d in gone if manifest.has_document(d)]
        if dry_run:
            return len(gone)
        for doc_id in gone:
            manifest.retire_document(doc_id)
        self.store.purge()
        return len(gone)


def unit_texts_of(chunk: Chunk) -> list[str | None]:
    """What each unit of a chunk is embedded as; None for the sole unit of a one-unit chunk, whose vector is
    the chunk's own (it says the same thing, and embedding is most of the cost of an ingest)."""
    units = split_units(chunk.text)
    if len(units) <= 1:
        return [None] * len(units)
    meta = chunk.metadata
    title = str(meta.get("article_title", "") or "")
    header = f"{meta.get('title', '')} {meta.get('article', '')}{f'({title})' if title else ''}".strip()
    return [unit_embed_text(header, units, u) for u in units]


def _regroup(
    unit_texts: list[list[str | None]], computed: np.ndarray, chunk_vectors: np.ndarray
) -> list[np.ndarray]:
    """Per-chunk matrices of unit vectors from the flat list embedded, with chunk vectors filling the Nones."""
    out: list[np.ndarray] = []
    k = 0
    for i, texts in enumerate(unit_texts):
        rows = []
        for text in texts:
            if text is None:
                rows.append(chunk_vectors[i])
            else:
                rows.append(computed[k])
                k += 1
        out.append(np.asarray(rows, dtype=np.float32).reshape(len(rows), chunk_vectors.shape[1]))
    return out


def _annotate_attachments(chunks: list[Chunk], doc: Document, attached: list[_Attached]) -> None:
    """Each chunk names the attachments its text refers to (``attachments``, JSON); a chunk of an attachment
    file names itself and points at that file (``source``, ``format``; no page of the document)."""
    entries: dict[str, dict[str, object]] = {}
    for item in doc.extra.get("attachment_entries") or []:
        entries[str(item["label"])] = {**item, "indexed": False}
    for a in attached:
        fmt = a.path.suffix.lower().lstrip(".")
        listed = entries.get(a.label) or Entry(a.label, f"[{a.label}] {a.provision.article_title}".strip()).to_json()
        entries[a.label] = {**listed, "format": fmt, "indexed": True}
    files = {a.label: a for a in attached}
    for chunk in chunks:
        meta = chunk.metadata
        own = files.get(str(meta.get("article", ""))) if meta.get("provision_kind") == "appendix" else None
        if own is not None:
            meta.update(source=str(own.path), format=own.path.suffix.lower().lstrip("."), page_start=0, page_end=0)
            meta["attachments"] = json.dumps([entries[own.label]], ensure_ascii=False)
        else:
            meta["attachments"] = chunk_attachments(chunk.text, entries)


def _document_hash(doc: Document, settings: Settings) -> str:
    """What decides whether a document must be redone: its text, metadata and how it is chunked."""
    fields = {
        "text": sha256_text(doc.text),
        "attachments": [(a["label"], a["sha256"]) for a in doc.extra.get("attachment_files") or []],
        "attachment_entries": doc.extra.get("attachment_entries") or [],
        "title": doc.title,
        "kind": doc.kind,
        "jurisdiction": doc.jurisdiction,
        "effective_date": doc.effective_date,
        "promulgated": doc.promulgated,
        "department": doc.department,
        "source_url": doc.source_url,
        "pipeline": _pipeline_fingerprint(settings),
    }
    return sha256_text(json.dumps(fields, sort_keys=True, ensure_ascii=False))


def _pipeline_fingerprint(settings: Settings) -> str:
    ocr = f"{settings.ocr_enabled}|{settings.ocr_languages}|{settings.ocr_dpi}"
    units = "units" if settings.ingest_unit_vectors else "no-units"
    return f"{PIPELINE_VERSION}|{settings.chunk_max_tokens}|{settings.embedder_key}|{ocr}|{units}"


def ingest_paths(
    settings: Settings,
    paths: Sequence[Path],
    prune: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """One-shot ingest for callers that do not keep an Ingestor around."""
    ingestor = Ingestor(settings)
    try:
        return ingestor.run(paths, prune=prune, dry_run=dry_run, progress=progress)
    finally:
        ingestor.store.close()
