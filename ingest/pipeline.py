"""Incremental ingestion: files → documents → provisions → chunks → vectors + manifest.

1. Read: every file says which document version it gives (id, effective date, text hash): from the
   manifest when its bytes are unchanged since it was taken, or since it failed (a failed file is
   reported again without being read), else by loading, parsing and chunking it within the limits.
   Attachment files beside a document (``doc.별표5.hwpx``, see ``ingest.attachments``) are read with it
   as its 별표 provisions: their bytes are part of the document file's hash, the same limits apply to
   each, and one that cannot be read is reported under its own name while the document goes on without it.
2. Settle: files that give one document version different texts are a conflict; all of them are
   reported and none is taken, counting the files earlier runs took, so the outcome does not depend
   on order or history.
3. Write, one version at a time: embed what the cache does not already hold, write the vectors, then
   flip the manifest to the new version in one transaction.

A bad file is reported with its reason and the batch goes on; a crash at any point leaves each
document wholly old or wholly new (see ``ingest.store.manifest``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from civicrag.ingest.attachments import (
    Entry,
    appendix_provision,
    attachment_files,
    chunk_attachments,
    file_label,
    title_label,
)
from civicrag.ingest.chunking import chunk_document
from civicrag.ingest.documents import Chunk, Document, IngestError, Provision, sha256_text
from civicrag.ingest.embedding import Embedder, EmbeddingCache, create_embedder
from civicrag.ingest.loaders import (
    SUPPORTED_SUFFIXES,
    LoadLimits,
    extract_file,
    iter_candidate_files,
    load_file,
    parent_document,
    sidecar_paths,
)
from civicrag.ingest.loaders.ocr import OcrOptions, installed_languages
from civicrag.ingest.parsing import parse_document
from civicrag.ingest.store import IndexStore
from civicrag.ingest.store.lease import Holder, Lease, ingest_lease
from civicrag.ingest.store.manifest import CONFLICT, ERROR, UNDATED, FailureRow, FileRow, now_iso

from civicrag.legal.units import split_units, unit_embed_text
from civicrag.settings import Settings

# Bump when parsing or chunking changes what a file becomes, so unchanged files are redone once.
# 2: noun+suffix compounds (경형) in the lexical tokens; 3: prefixed nouns kept whole (재활용), multi-word
# dictionary names also indexed word by word.
# 4: each quotable unit (항/호, (a), sentence) embedded on its own for the reranker.
# 5: chunks carry the statutes and regulations they cite (metadata "references", civicrag.legal.references),
# attachment files beside a document (doc.별표5.hwp) become its 별표 provisions, and chunks name the
# attachments they refer to: documents indexed before are chunked again (their vectors come from the cache).
PIPELINE_VERSION = "5"

# Bump when loaders change which files they can read (without changing what readable files become), so
# files that failed are tried again once; unlike PIPELINE_VERSION it leaves indexed documents as they are.
# 2: legacy encodings through charset-normalizer; limits on characters, chunks and unpacked parts.
LOADER_VERSION = "2"

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    # {"path", "error"} (+ "doc_id", "title" when the file names a document, "unchanged": True when the
    # failure is the one recorded for the same bytes before and the file was not read again).
    failed: list[dict[str, Any]] = field(default_factory=list)
    conflicts: int = 0  # document versions two or more files give different texts (their files are in failed)
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


@dataclass
class _Claim:
    """What one file says: this text (``content_hash``) is document ``doc_id`` in force from ``version``.

    ``prepared`` holds the chunks when the file was read in this run; None when the claim is known from
    the manifest (the file is unchanged since it was indexed, or since it was found in conflict).
    """

    file: Path
    root: Path
    display: str
    key: str  # resolved path
    file_hash: str
    doc_id: str
    version: str
    content_hash: str
    title: str
    prepared: _Prepared | None = None
    indexed: bool = False  # the manifest already has this file giving this live version
    outside: bool = False  # not among the files of this run (an earlier run took it or found it in conflict)

    @property
    def version_key(self) -> tuple[str, str]:
        return self.doc_id, self.version


class Ingestor:
    """Holds the store and (lazily) the embedder for one or more ingest runs in a process."""

    def __init__(self, settings: Settings, store: IndexStore | None = None, embedder: Embedder | None = None):
        self.settings = settings
        self.store = store or IndexStore(settings)
        self._embedder = embedder
        self.limits = LoadLimits.from_settings(settings)
        self.ocr = OcrOptions.from_settings(settings)
        self._ocr_env: str | None = None
        # Failures of the attachment files read with each document in this run, by the document's resolved
        # path (the last reading wins); a document not read in this run reports the recorded ones again.
        self._attachment_failures: dict[str, list[FailureRow]] = {}

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
        lease: Lease | None = None,
        wait: float = 0.0,
        on_wait: Callable[[Holder], None] | None = None,
    ) -> IngestReport:
        """Ingest under the data directory's ingest lease: the caller's ``lease`` if it holds one, else one
        taken here (waiting up to ``wait`` seconds, telling ``on_wait`` once; LeaseBusy names the holder)."""
        if dry_run:
            return self._run(paths, prune, dry_run, progress)
        held = lease if lease is not None else ingest_lease(self.settings).acquire(wait, on_wait=on_wait)
        self.store.manifest.writer = held.token
        try:
            return self._run(paths, prune, dry_run, progress)
        finally:
            self.store.manifest.writer = None
            if lease is None:
                held.release()

    def _run(
        self, paths: Sequence[Path], prune: bool, dry_run: bool, progress: ProgressCallback | None
    ) -> IngestReport:
        """Ingest ``paths``: every file is read (or known unchanged) first, then conflicts are settled, then
        the documents that changed are embedded and written, one at a time."""
        started = time.perf_counter()
        report = IngestReport(dry_run=dry_run)
        manifest = self.store.manifest
        if not dry_run:
            report.recovered = self.store.recover()
            manifest.set_state("embedder", self.settings.embedder.key)
        candidates = list(iter_candidate_files(list(paths)))
        scanned: list[str] = []
        failures: list[FailureRow] = []
        claims: list[_Claim] = []
        self._attachment_failures = {}
        # Progress counts each file read, then each document written (known once reading is done).
        for done, (file, root) in enumerate(candidates):
            display = str(file)
            scanned += [display, _resolved(file)]
            # Its attachment files' old failures are replaced by this run's (or by none).
            scanned += [p for _, a in _attachments_of(file) for p in (str(a), _resolved(a))]
            if progress:
                progress(done, len(candidates), display)
            outcome = self._claim(file, root, display)
            if isinstance(outcome, FailureRow):
                failures.append(outcome)
            else:
                claims.append(outcome)

        accepted, conflicted = self._settle_conflicts(claims, {_resolved(f) for f, _ in candidates})
        failures += conflicted
        # A file outside the run that agrees now: its conflict (if it was in one) is over.
        scanned += [c.key for group in accepted for c in group if c.outside]
        report.conflicts = len({(f.doc_id, f.version) for f in conflicted})
        if not dry_run:
            for doc_id, version in sorted({(f.doc_id or "", f.version or "") for f in conflicted}):
                # Neither text is the document's: whatever an earlier run took from one of the files goes.
                manifest.withdraw_version(doc_id, version)
            self.store.purge()

        steps = len(candidates) + len(accepted)
        for i, group in enumerate(accepted):
            if progress:
                progress(len(candidates) + i, steps, group[0].display)
            try:
                kind, n_chunks, n_embedded = self._take(group, dry_run)
            except _Failed as failed:
                failures.append(failed.row)
                continue
            n_files = sum(1 for c in group if not c.outside)
            if kind == "unchanged":
                report.unchanged += n_files
                continue
            setattr(report, kind, getattr(report, kind) + 1)
            report.unchanged += n_files - 1  # the other files of the same text
            report.chunks += n_chunks
            report.embedded += n_embedded
        if progress:
            progress(steps, steps, "")
        for file, _ in candidates:
            fresh = self._attachment_failures.get(_resolved(file))
            failures += fresh if fresh is not None else self._recorded_attachment_failures(file)
        report.failed = [_failure_dict(f) for f in failures]
        if prune:
            report.removed = self._prune(dry_run)
        if not dry_run:
            # Failures of files that are gone (deleted after a failed run) are no longer news.
            vanished = [path for path, _ in manifest.failures() if not Path(path).exists()]
            manifest.update_failures([*scanned, *vanished], failures)
            self.store.lexical()  # rebuilds and persists the BM25 index when anything changed
            manifest.set_state("last_ingest", now_iso())
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    # -- reading: what each file claims ------------------------------------------
    def _claim(self, file: Path, root: Path, display: str) -> _Claim | FailureRow:
        """The file's claim, from the manifest when its bytes are unchanged, else by reading it."""
        key = _resolved(file)
        if file.suffix.lower() not in SUPPORTED_SUFFIXES:
            return FailureRow(display, f"unsupported file type '{file.suffix.lower() or file.name}'", file_key=key)
        attachment = file_label(file)
        if attachment is not None and parent_document(file) is None:
            # Not cached: it is taken with its document once that is put beside it.
            stem, label = attachment
            return FailureRow(
                display,
                f"attachment file ({label}) but no document '{stem}.<md|pdf|hwp|…>' beside it; "
                "name an attachment <document file stem>.<별표N|별지N>.<ext>",
                file_key=key,
            )
        manifest = self.store.manifest
        try:
            file_hash = self._file_hash(file)
        except IngestError as exc:
            return _failure_row(display, key, None, exc)
        known = manifest.file(key)
        if known and known.file_hash == file_hash:
            live = manifest.live_version(known.doc_id, known.version)
            if live and live.content_hash == known.content_hash:
                # The bytes (and how we process them) are as when this file was last taken.
                return _Claim(
                    file, root, display, key, file_hash, known.doc_id, known.version, known.content_hash,
                    live.title, indexed=True,
                )
        failure_hash = self._failure_hash(file_hash) if file_hash else None
        cached = manifest.failure(key) if failure_hash else None
        if cached is not None and cached.file_hash == failure_hash:
            if cached.kind == CONFLICT and cached.doc_id and cached.version and cached.content_hash:
                # Read when it was found in conflict; read again only if the conflict is over.
                return _Claim(
                    file, root, display, key, file_hash, cached.doc_id, cached.version, cached.content_hash,
                    cached.title or cached.doc_id,
                )
            if cached.kind == ERROR:
                # The same bytes failed the same way last time: report it again without reading it again.
                return FailureRow(
                    display, cached.error, cached.doc_id, cached.title, key, failure_hash, ERROR, unchanged=True
                )
        try:
            prepared = self._prepare(file, root)
        except IngestError as exc:
            return _failure_row(display, key, failure_hash, exc)
        doc = prepared.doc
        return _Claim(
            file, root, display, key, file_hash, doc.doc_id, prepared.version, prepared.content_hash, doc.title,
            prepared=prepared,
        )

    def _settle_conflicts(
        self, claims: list[_Claim], in_run: set[str]
    ) -> tuple[list[list[_Claim]], list[FailureRow]]:
        """Files grouped by the document version they give, or failed when files disagree on its text.

        Files outside this run count too while they exist unchanged: the files an earlier ingest took and
        those it found in conflict. So the outcome is the same whatever order or runs the files came in:
        two texts for one document and effective date are both refused, and any version an earlier run
        took from one of them is withdrawn; once only one text is left, it is taken.
        """
        by_version: dict[tuple[str, str], list[_Claim]] = {}
        for claim in claims:
            by_version.setdefault(claim.version_key, []).append(claim)
        accepted: list[list[_Claim]] = []
        failed: list[FailureRow] = []
        for (doc_id, version), group in by_version.items():
            everyone = group + self._claims_outside(doc_id, version, in_run)
            if len({c.content_hash for c in everyone}) == 1:
                # One text: a file read in this run first (no second reading), files outside the run last.
                accepted.append(sorted(everyone, key=lambda c: (c.outside, c.prepared is None)))
                continue
            paths = [c.display for c in everyone]
            for claim in everyone:
                failed.append(
                    FailureRow(
                        claim.display, _conflict_message(doc_id, version, claim.display, paths), doc_id,
                        claim.title, claim.key, self._failure_hash(claim.file_hash), CONFLICT, version,
                        claim.content_hash,
                    )
                )
        # Keep the run's order (the order files were found) for writing.
        order = {c.key: i for i, c in enumerate(claims)}
        accepted.sort(key=lambda g: min(order.get(c.key, len(order)) for c in g))
        return accepted, failed

    def _claims_outside(self, doc_id: str, version: str, in_run: set[str]) -> list[_Claim]:
        """Files outside this run that still exist, unchanged, and give ``doc_id`` at ``version``: taken by
        an earlier ingest, or found in conflict by one."""
        manifest = self.store.manifest
        live = manifest.live_version(doc_id, version)
        recorded = [
            (row.path, row.file_hash, False, row.content_hash, live.title if live else doc_id)
            for row in manifest.files_of(doc_id, version)
        ]
        recorded += [
            (row.file_key or row.path, row.file_hash, True, row.content_hash, row.title or doc_id)
            for row in manifest.conflicts(doc_id, version)
        ]
        out: dict[str, _Claim] = {}
        for path, recorded_hash, in_conflict, content_hash, title in recorded:
            if path in in_run or path in out or not recorded_hash or not content_hash:
                continue
            file = Path(path)
            try:
                current = self._file_hash(file)
            except IngestError:
                continue  # gone or unreadable: it claims nothing now
            if current and (self._failure_hash(current) if in_conflict else current) == recorded_hash:
                out[path] = _Claim(
                    file, file.parent, path, path, current, doc_id, version, content_hash, title,
                    indexed=not in_conflict, outside=True,
                )
        return [out[k] for k in sorted(out)]

    # -- writing --------------------------------------------------------------
    def _take(self, group: list[_Claim], dry_run: bool) -> tuple[str, int, int]:
        """Make one document version live from the files that agree on its text; ``("unchanged", 0, 0)``
        when it already is."""
        manifest = self.store.manifest
        first = group[0]
        live = manifest.live_version(first.doc_id, first.version)
        if live and live.content_hash == first.content_hash:
            # Same content reached through another path, touched bytes or a settled conflict: remember the files.
            if not dry_run:
                for claim in group:
                    if not claim.indexed:
                        manifest.record_file(_file_row(claim))
            return "unchanged", 0, 0
        prepared = first.prepared
        if prepared is None:
            # Known from the manifest only (a conflict now settled): read it to write it.
            try:
                prepared = self._prepare(first.file, first.root)
            except IngestError as exc:
                failure_hash = self._failure_hash(first.file_hash)
                raise _Failed(_failure_row(first.display, first.key, failure_hash, exc)) from None
        kind = "updated" if manifest.has_document(first.doc_id) else "added"
        if dry_run:
            return kind, len(prepared.chunks), 0
        embedded = self._write(prepared, _file_row(first))
        for claim in group[1:]:
            manifest.record_file(_file_row(claim))
        return kind, len(prepared.chunks), embedded

    def _file_hash(self, file: Path) -> str:
        """Hash of the bytes and of everything that decides what the bytes become (or whether they fail)."""
        try:
            size = file.stat().st_size
            if size > self.limits.max_file_bytes:
                return ""  # the loader refuses it with the size in the message
            digest = hashlib.sha256(_file_fingerprint(self.settings).encode())
            digest.update(file.read_bytes())
            for sidecar in sidecar_paths(file):  # metadata edits must redo the file too
                if sidecar.is_file():
                    digest.update(sidecar.read_bytes())
            for label, attached in attachment_files(file):  # so must an added, changed or removed 별표 file
                digest.update(f"\0{label}\0{attached.name}\0{self._attachment_hash(attached)}".encode())
        except FileNotFoundError:
            raise IngestError("file not found", transient=True) from None
        except OSError as exc:
            raise IngestError(f"cannot read file: {exc.strerror or exc}", transient=True) from exc
        return digest.hexdigest()

    def _attachment_hash(self, path: Path) -> str:
        """An attachment file's part of its document's hash, and what its recorded failure is valid for.

        Over the size limit only its size counts (the loader refuses it by size, whatever the bytes); one that
        cannot be read gives a hash never seen before, so its document is read again (and the attachment
        reported again) on every run until it can be.
        """
        digest = hashlib.sha256(_file_fingerprint(self.settings).encode())
        try:
            size = path.stat().st_size
            if size > self.limits.max_file_bytes:
                digest.update(f"over the size limit: {size}".encode())
            else:
                digest.update(path.read_bytes())
        except OSError:
            digest.update(os.urandom(16))
        return digest.hexdigest()

    def _recorded_attachment_failures(self, file: Path) -> list[FailureRow]:
        """The failures recorded for ``file``'s attachments when they were last read, if still of the same
        bytes: a document not read in this run (unchanged, or its own failure cached) reports them again."""
        manifest = self.store.manifest
        out = []
        for _, attached in _attachments_of(file):
            cached = manifest.failure(_resolved(attached))
            if cached is None or cached.kind != ERROR or not cached.file_hash:
                continue
            if cached.file_hash == self._failure_hash(self._attachment_hash(attached)):
                out.append(
                    FailureRow(str(attached), cached.error, file_key=cached.file_key, file_hash=cached.file_hash,
                               unchanged=True)
                )
        return out

    def _failure_hash(self, file_hash: str) -> str:
        """What a recorded failure is valid for: the file hash, and the OCR tools this machine has
        (installing Tesseract or a language must retry scanned PDFs that needed it)."""
        if self._ocr_env is None:
            binary = self.ocr.binary()
            langs = "+".join(sorted(installed_languages(binary))) if binary and self.ocr.enabled else ""
            self._ocr_env = f"{binary}|{langs}"
        return sha256_text(f"{file_hash}|{self._ocr_env}")

    def _prepare(self, file: Path, root: Path) -> _Prepared:
        self._attachment_failures[_resolved(file)] = []
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
            min(self.settings.ingest.chunk_max_tokens, self.embedder.max_tokens),
            version,
            content_hash,
        )
        _annotate_attachments(chunks, doc, attached)
        chunks = [c for c in chunks if c.text.strip()]
        if not chunks:
            # A named document with nothing to index is as unanswerable as one without a body.
            raise IngestError("no text to index after parsing", doc_id=doc.doc_id, title=doc.title)
        if len(chunks) > self.settings.limits.chunks:
            # Embedding them would hold the ingest lock for hours: a generated or runaway file, not a regulation.
            raise IngestError(
                f"{len(chunks):,} chunks, over the {self.settings.limits.chunks:,}-chunk limit (setting limit_chunks)",
                doc_id=doc.doc_id,
                title=doc.title,
            )
        return _Prepared(doc, version, content_hash, chunks)

    def _read_attachments(self, file: Path, doc: Document) -> list[_Attached]:
        """The attachment files beside ``file`` as provisions, each within the same limits as a document; one
        that cannot be read is reported under its own name and the document goes on without it."""
        entries = {e["label"]: e for e in doc.extra.get("attachment_entries") or []}
        failed = self._attachment_failures.setdefault(_resolved(file), [])
        out: list[_Attached] = []
        offset = len(doc.text)
        for label, path in attachment_files(file):
            try:
                text = extract_file(path, self.limits, self.ocr).text
                self.limits.check_chars(len(text))
                if not text.strip():
                    raise IngestError("no text")
            except IngestError as exc:
                failure_hash = None if exc.transient else self._failure_hash(self._attachment_hash(path))
                failed.append(
                    FailureRow(str(path), f"attachment of {file.name}: {exc}", file_key=_resolved(path),
                               file_hash=failure_hash)
                )
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
        unit_texts = [unit_texts_of(c) for c in prepared.chunks] if self.settings.ingest.unit_vectors else None
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
        unit_tokens = (
            [store.tokenizer.tokenize_many([u.text for u in split_units(c.text)]) for c in prepared.chunks]
            if unit_vectors is not None else None
        )
        manifest.begin_version(doc, prepared.version, prepared.content_hash, prepared.chunks, tokens, unit_vectors,
                               unit_tokens)
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
        self._retire(gone)
        return len(gone)

    def _retire(self, doc_ids: Sequence[str]) -> None:
        """Take documents out of the index: retired in the manifest first (readers stop seeing them at once),
        then their vectors deleted and their rows purged; a crash in between leaves rows the next purge finishes.
        The caller rebuilds BM25 (``store.lexical()``) once it has changed all it will."""
        for doc_id in doc_ids:
            self.store.manifest.retire_document(doc_id)
        self.store.purge()

    # -- deleting one document (the admin console and API) ------------------------------------
    def delete(self, doc_id: str, lease: Lease | None = None) -> list[Path] | None:
        """Remove every version of ``doc_id`` from the index, by the sequence a prune uses, and rebuild BM25.

        Returns the source files the index had recorded for it (the caller decides whether any of them go too;
        a later ingest of their folder brings the document back), or None when it is not indexed. Runs under the
        caller's ``lease`` if it holds one, else under one taken here (LeaseBusy names the holder).
        """
        held = lease if lease is not None else ingest_lease(self.settings).acquire()
        manifest = self.store.manifest
        manifest.writer = held.token
        try:
            if not manifest.has_document(doc_id):
                return None
            files = [Path(row.path) for row in manifest.files() if row.doc_id == doc_id]
            self._retire([doc_id])
            self.store.lexical()
            return files
        finally:
            manifest.writer = None
            if lease is None:
                held.release()


class _Failed(Exception):
    def __init__(self, row: FailureRow):
        super().__init__(row.error)
        self.row = row


def _resolved(file: Path) -> str:
    return str(file.resolve())


def _attachments_of(file: Path) -> list[tuple[str, Path]]:
    """The attachment files read with ``file`` when it is a document (none for an attachment itself, a
    sidecar or a file no loader reads)."""
    if file.suffix.lower() not in SUPPORTED_SUFFIXES or file_label(file) is not None:
        return []
    return attachment_files(file)


def _file_row(claim: _Claim) -> FileRow:
    return FileRow(claim.key, claim.file_hash, claim.doc_id, claim.version, claim.content_hash)


def _failure_row(display: str, key: str, failure_hash: str | None, exc: IngestError) -> FailureRow:
    """A file's failure, cached for its bytes unless the cause was not the file's own."""
    return FailureRow(
        display, str(exc), exc.doc_id, exc.title, key, None if exc.transient else failure_hash, ERROR
    )


def _failure_dict(row: FailureRow) -> dict[str, Any]:
    out: dict[str, Any] = {"path": row.path, "error": row.error}
    if row.doc_id is not None:
        out["doc_id"] = row.doc_id
    if row.title is not None:
        out["title"] = row.title
    if row.kind == CONFLICT:
        out["conflict"] = True
    if row.unchanged:
        out["unchanged"] = True
    return out


def _conflict_message(doc_id: str, version: str, path: str, paths: list[str]) -> str:
    others = ", ".join(p for p in paths if p != path)
    when = "undated" if version == UNDATED else f"effective {version}"
    return (
        f"conflict: same document ({doc_id}, {when}) as {others}, with a different text; "
        "neither is indexed until one is removed or the texts agree"
    )


def unit_texts_of(chunk: Chunk) -> list[str | None]:
    """What each unit of a chunk is embedded as; None for the sole unit of a one-unit chunk, whose vector is
    the chunk's own (it says the same thing, and embedding is most of the cost of an ingest)."""
    units = split_units(chunk.text)
    if len(units) <= 1:
        return [None] * len(units)
    meta = chunk.metadata
    title = str(meta.get("article_title", "") or "")
    # The provision's label and title, not the document's: the document is the chunk vector's context, and
    # the reranker weighs the document's title on its own.
    header = f"{meta.get('article', '')}{f'({title})' if title else ''}".strip()
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
    ocr = f"{settings.ocr.enabled}|{settings.ocr.languages}|{settings.ocr.dpi}"
    units = "units" if settings.ingest.unit_vectors else "no-units"
    return f"{PIPELINE_VERSION}|{settings.ingest.chunk_max_tokens}|{settings.embedder.key}|{ocr}|{units}"


def _file_fingerprint(settings: Settings) -> str:
    """What decides, besides its bytes, whether a file is taken or fails: the pipeline and the limits.
    (Not part of a document's content hash: raising a limit rereads files but re-embeds nothing.)"""
    limits = (
        f"{settings.limits.file_mb}|{settings.limits.pdf_pages}|{settings.limits.chars}|{settings.limits.chunks}|"
        f"{settings.limits.part_mb}|{settings.ocr.max_pages}"
    )
    return f"{_pipeline_fingerprint(settings)}|{LOADER_VERSION}|{limits}"


def ingest_paths(
    settings: Settings,
    paths: Sequence[Path],
    prune: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    wait: float = 0.0,
    on_wait: Callable[[Holder], None] | None = None,
) -> IngestReport:
    """One-shot ingest for callers that do not keep an Ingestor around."""
    ingestor = Ingestor(settings)
    try:
        return ingestor.run(paths, prune=prune, dry_run=dry_run, progress=progress, wait=wait, on_wait=on_wait)
    finally:
        ingestor.store.close()
