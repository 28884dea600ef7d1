"""The manifest (SQLite): the source of truth for what is indexed.

Tables
- ``versions``: one row per (document, version, content). ``status`` is
  ``pending`` while its vectors are being written, ``live`` once visible, and
  ``retired`` when replaced and waiting for its vectors to be deleted. Versions
  are keyed by effective date; ``valid_from``/``valid_to`` say when each is in
  force (``valid_to`` is NULL for the current one).
- ``chunks``: text, metadata and lexical tokens of every chunk of every version.
- ``units``: the vector (float16) and lexical tokens of each quotable unit (항/호, (a), sentence) of a
  chunk: the reranker compares the question with the sentence that answers it. Written and dropped with
  its chunk.
- ``files``: which file produced which version, with its byte hash, for fast skips.
- ``failures``: the files the last ingest could not take, with the reason, and the document
  (``doc_id``, ``title``) a file names when it has front matter but no body (or is over a limit, or in
  conflict), so questions about that document can be told it is registered but unreadable. A row also
  keeps the hash its file had (``file_hash``: bytes, sidecar and the settings that decide the outcome),
  so an unchanged failed file is reported again without being read again, and for a ``conflict`` (two
  files, one document and effective date, different texts) the ``version`` and ``content_hash`` the file
  claims. A conflicting effective date ends the validity of the document's earlier version all the same.
- ``state``: the generation counter (bumped on every visible change) and more.
- ``leases``: who may write (``ingest.store.lease``); a pending version records its writer's lease token,
  so cleaning up after a crash never touches a version another process is still writing.

A document switches from its old to its new version in one SQLite transaction,
after the new vectors are written; readers only see ``live`` rows, so each
document is wholly old or wholly new whatever point a crash interrupts.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from civicrag.ingest.documents import Chunk, Document
from civicrag.ingest.store import lease

from civicrag.legal.types import in_force

UNDATED = "undated"

# Columns added after the first release, with their types: manifests made before get them on open.
_ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "failures": (
        ("doc_id", "TEXT"),
        ("title", "TEXT"),
        ("file_key", "TEXT"),
        ("file_hash", "TEXT"),
        ("kind", "TEXT"),
        ("version", "TEXT"),
        ("content_hash", "TEXT"),
    ),
    "units": (("tokens_json", "TEXT"),),
    "versions": (("writer", "TEXT"),),
}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    doc_id TEXT NOT NULL,
    version TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'live', 'retired')),
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    language TEXT NOT NULL,
    format TEXT NOT NULL,
    effective_date TEXT,
    valid_from TEXT,
    valid_to TEXT,
    chunk_count INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    meta_json TEXT NOT NULL,
    PRIMARY KEY (doc_id, version, content_hash)
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    version TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    embed_text TEXT NOT NULL,
    metadata_json TEXT NOT NULL,
    tokens_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_version ON chunks (doc_id, version, content_hash);
CREATE TABLE IF NOT EXISTS units (
    chunk_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    vector BLOB NOT NULL,
    tokens_json TEXT,
    PRIMARY KEY (chunk_id, idx)
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    file_hash TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    version TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    path TEXT PRIMARY KEY, error TEXT NOT NULL, at TEXT NOT NULL, doc_id TEXT, title TEXT
);
-- columns added since (file_key, file_hash, kind, version, content_hash): see _ADDED_COLUMNS
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class VersionRow:
    doc_id: str
    version: str
    content_hash: str
    status: str
    source: str
    title: str
    kind: str
    jurisdiction: str
    language: str
    format: str
    effective_date: str | None
    valid_from: str | None
    valid_to: str | None
    chunk_count: int
    ingested_at: str
    meta_json: str
    writer: str | None = None  # lease token of the process writing a pending version

    @property
    def superseded(self) -> bool:
        return self.valid_to is not None

    def in_force(self, as_of: str) -> bool:
        """Whether this version applies on ``as_of`` (ISO date): ``civicrag.legal.types.in_force``."""
        return in_force(self.valid_from, self.valid_to, as_of)


@dataclass(frozen=True)
class FileRow:
    path: str
    file_hash: str
    doc_id: str
    version: str
    content_hash: str


ERROR = "error"
CONFLICT = "conflict"


@dataclass(frozen=True)
class FailureRow:
    """A file the last ingest of it could not take.

    ``kind`` is ``error`` (the file itself: unreadable, over a limit, no text …) or ``conflict`` (the file
    is fine, but another file gives the same document and effective date a different text); a conflict
    row also says what the file claims (``version``, ``content_hash``). ``file_key`` is the resolved path,
    ``file_hash`` the hash the file had then (None: not cached, it is tried again).
    """

    path: str
    error: str
    doc_id: str | None = None
    title: str | None = None
    file_key: str | None = None
    file_hash: str | None = None
    kind: str = ERROR
    version: str | None = None
    content_hash: str | None = None
    unchanged: bool = field(default=False, compare=False)  # not stored: reported again without rereading


# (path, error), (path, error, doc_id, title), or a full FailureRow.
Failure = tuple[str, str] | tuple[str, str, str | None, str | None] | FailureRow
_FAILURE_COLUMNS = "path, error, doc_id, title, file_key, file_hash, COALESCE(kind, 'error'), version, content_hash"


class Manifest:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Autocommit mode; explicit BEGIN IMMEDIATE in transaction() keeps each change atomic.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA + lease.SCHEMA)
        self._add_missing_columns()
        # The ingest lease this process holds while it writes (set by Ingestor.run): its writes are fenced.
        self.writer: str | None = None

    def _add_missing_columns(self) -> None:
        """Bring a manifest written by an older release up to the current columns (nullable, so no backfill)."""
        for table, columns in _ADDED_COLUMNS.items():
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, sql_type in columns:
                if name in have:
                    continue
                try:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
                except sqlite3.OperationalError as exc:
                    # Another process opening the same manifest may have added it a moment ago.
                    if "duplicate column" not in str(exc):
                        raise

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def snapshot(self) -> Iterator[Manifest]:
        """A read-only view of one committed state: all its reads see the same generation, whatever commits
        meanwhile (one read transaction on a connection of its own; in WAL mode it never blocks a writer)."""
        view = Manifest.__new__(Manifest)
        view.path, view.writer = self.path, None
        view._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            view._db.execute("BEGIN")
            view._db.execute("SELECT COUNT(*) FROM state").fetchone()  # the snapshot is taken at the first read
            yield view
        finally:
            view._db.close()  # ends the read transaction

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    # -- state ---------------------------------------------------------------
    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set_state(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))

    def set_state(self, key: str, value: str) -> None:
        with self.transaction() as db:
            self._set_state(db, key, value)

    @property
    def generation(self) -> int:
        return int(self.get_state("generation", "0") or 0)

    def _bump(self, db: sqlite3.Connection) -> None:
        current = db.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()
        self._set_state(db, "generation", str(int(current[0]) + 1 if current else 1))

    # -- reads ---------------------------------------------------------------
    def versions(self, doc_id: str | None = None, status: str = "live") -> list[VersionRow]:
        sql = "SELECT * FROM versions WHERE status = ?"
        args: list[Any] = [status]
        if doc_id is not None:
            sql += " AND doc_id = ?"
            args.append(doc_id)
        sql += " ORDER BY doc_id, COALESCE(valid_from, ''), version"
        return [VersionRow(*row) for row in self._db.execute(sql, args)]

    def live_version(self, doc_id: str, version: str) -> VersionRow | None:
        row = self._db.execute(
            "SELECT * FROM versions WHERE doc_id = ? AND version = ? AND status = 'live'", (doc_id, version)
        ).fetchone()
        return VersionRow(*row) if row else None

    def has_document(self, doc_id: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM versions WHERE doc_id = ? AND status = 'live' LIMIT 1", (doc_id,)
        ).fetchone()
        return row is not None

    def file(self, path: str) -> FileRow | None:
        row = self._db.execute(
            "SELECT path, file_hash, doc_id, version, content_hash FROM files WHERE path = ?", (path,)
        ).fetchone()
        return FileRow(*row) if row else None

    def files(self) -> list[FileRow]:
        return [
            FileRow(*row)
            for row in self._db.execute("SELECT path, file_hash, doc_id, version, content_hash FROM files")
        ]

    def chunk_ids(self, doc_id: str, version: str, content_hash: str) -> list[str]:
        return [
            row[0]
            for row in self._db.execute(
                "SELECT chunk_id FROM chunks WHERE doc_id = ? AND version = ? AND content_hash = ? ORDER BY seq",
                (doc_id, version, content_hash),
            )
        ]

    def live_chunks(self) -> Iterator[tuple[str, str, dict[str, Any], list[str]]]:
        """(chunk_id, text, metadata, tokens) of every live chunk, in a stable order."""
        rows = self._db.execute(
            "SELECT c.chunk_id, c.text, c.metadata_json, c.tokens_json FROM chunks c JOIN versions v "
            "ON c.doc_id = v.doc_id AND c.version = v.version AND c.content_hash = v.content_hash "
            "WHERE v.status = 'live' ORDER BY c.doc_id, c.version, c.seq"
        )
        for chunk_id, text, metadata_json, tokens_json in rows:
            yield chunk_id, text, json.loads(metadata_json), json.loads(tokens_json)

    def live_units(self) -> Iterator[tuple[str, int, np.ndarray, list[str] | None]]:
        """(chunk_id, unit index, float32 vector, tokens or None) of every unit of every live chunk."""
        rows = self._db.execute(
            "SELECT u.chunk_id, u.idx, u.vector, u.tokens_json FROM units u JOIN chunks c ON u.chunk_id = c.chunk_id "
            "JOIN versions v ON c.doc_id = v.doc_id AND c.version = v.version AND c.content_hash = v.content_hash "
            "WHERE v.status = 'live'"
        )
        for chunk_id, idx, blob, tokens in rows:
            vector = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
            yield chunk_id, int(idx), vector, json.loads(tokens) if tokens else None

    def counts(self) -> dict[str, int]:
        one = self._db.execute
        return {
            "documents": one("SELECT COUNT(DISTINCT doc_id) FROM versions WHERE status = 'live'").fetchone()[0],
            "versions": one("SELECT COUNT(*) FROM versions WHERE status = 'live'").fetchone()[0],
            "superseded_versions": one(
                "SELECT COUNT(*) FROM versions WHERE status = 'live' AND valid_to IS NOT NULL"
            ).fetchone()[0],
            "chunks": one(
                "SELECT COALESCE(SUM(chunk_count), 0) FROM versions WHERE status = 'live'"
            ).fetchone()[0],
            "files": one("SELECT COUNT(*) FROM files").fetchone()[0],
        }

    def failures(self) -> list[tuple[str, str]]:
        """(path, error) of every file the last ingest could not take."""
        return list(self._db.execute("SELECT path, error FROM failures ORDER BY path"))

    def failure_rows(self) -> list[FailureRow]:
        return [FailureRow(*row) for row in self._db.execute(f"SELECT {_FAILURE_COLUMNS} FROM failures ORDER BY path")]

    def failure(self, file_key: str) -> FailureRow | None:
        """The recorded failure of the file at ``file_key`` (its resolved path), if any."""
        row = self._db.execute(
            f"SELECT {_FAILURE_COLUMNS} FROM failures WHERE file_key = ? ORDER BY at DESC LIMIT 1", (file_key,)
        ).fetchone()
        return FailureRow(*row) if row else None

    def conflicts(self, doc_id: str, version: str) -> list[FailureRow]:
        """Files recorded in conflict over one document version."""
        rows = self._db.execute(
            f"SELECT {_FAILURE_COLUMNS} FROM failures WHERE kind = ? AND doc_id = ? AND version = ? ORDER BY path",
            (CONFLICT, doc_id, version),
        )
        return [FailureRow(*row) for row in rows]

    def files_of(self, doc_id: str, version: str) -> list[FileRow]:
        """The files recorded as producing one document version."""
        rows = self._db.execute(
            "SELECT path, file_hash, doc_id, version, content_hash FROM files WHERE doc_id = ? AND version = ? "
            "ORDER BY path",
            (doc_id, version),
        )
        return [FileRow(*row) for row in rows]

    def empty_documents(self) -> list[tuple[str, str, str]]:
        """(doc_id, title, path) of failed files that name a document: registered, but no readable text."""
        return self._empty_documents(self._db)

    @staticmethod
    def _empty_documents(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
        rows = db.execute(
            "SELECT COALESCE(doc_id, ''), title, path FROM failures "
            "WHERE title IS NOT NULL AND title != '' ORDER BY path"
        )
        return [(str(d), str(t), str(p)) for d, t, p in rows]

    def unfinished(self) -> list[VersionRow]:
        """Versions a crash left behind: pending (never made visible) or retired (not yet deleted)."""
        rows = self._db.execute("SELECT * FROM versions WHERE status IN ('pending', 'retired')")
        return [VersionRow(*row) for row in rows]

    def all_chunk_ids(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT chunk_id FROM chunks")}

    # -- writes --------------------------------------------------------------
    def begin_version(
        self,
        doc: Document,
        version: str,
        content_hash: str,
        chunks: list[Chunk],
        tokens: list[list[str]],
        unit_vectors: Sequence[np.ndarray] | None = None,
        unit_tokens: Sequence[Sequence[Sequence[str]]] | None = None,
    ) -> None:
        """Record a new version as pending, with its chunks (invisible to readers until activated).

        ``unit_vectors[i]`` holds one row per unit of chunk ``i`` (``civicrag.legal.units.split_units``), and
        ``unit_tokens[i]`` their lexical tokens.
        """
        meta = {
            "promulgated": doc.promulgated,
            "department": doc.department,
            "source_url": doc.source_url,
            "ocr": doc.ocr,
            **{k: v for k, v in doc.extra.items() if isinstance(v, str | int | float | bool | list)},
        }
        with self.transaction() as db:
            self._delete_version(db, doc.doc_id, version, content_hash)
            db.execute(
                "INSERT INTO versions (doc_id, version, content_hash, status, source, title, kind, jurisdiction, "
                "language, format, effective_date, valid_from, valid_to, chunk_count, ingested_at, meta_json, "
                "writer) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?)",
                (
                    doc.doc_id,
                    version,
                    content_hash,
                    doc.source,
                    doc.title,
                    doc.kind,
                    doc.jurisdiction,
                    doc.language,
                    doc.format,
                    doc.effective_date,
                    len(chunks),
                    now_iso(),
                    json.dumps(meta, ensure_ascii=False, default=str),
                    self.writer,
                ),
            )
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.chunk_id,
                        doc.doc_id,
                        version,
                        content_hash,
                        i,
                        c.text,
                        c.embed_text,
                        json.dumps(c.metadata, ensure_ascii=False),
                        json.dumps(t, ensure_ascii=False),
                    )
                    for i, (c, t) in enumerate(zip(chunks, tokens, strict=True))
                ],
            )
            if unit_vectors is not None:
                tokens = unit_tokens if unit_tokens is not None else [[None] * len(rows) for rows in unit_vectors]
                db.executemany(
                    "INSERT INTO units (chunk_id, idx, vector, tokens_json) VALUES (?, ?, ?, ?)",
                    [
                        (c.chunk_id, j, np.asarray(v, dtype=np.float16).tobytes(),
                         None if t is None else json.dumps(list(t), ensure_ascii=False))
                        for c, rows, toks in zip(chunks, unit_vectors, tokens, strict=True)
                        for j, (v, t) in enumerate(zip(rows, toks, strict=True))
                    ],
                )

    def activate_version(self, doc_id: str, version: str, content_hash: str, file: FileRow) -> None:
        """Make a pending version live, retiring the one it replaces, in one transaction.

        Raises LeaseLost when this process no longer holds the ingest lease, and RuntimeError when the pending
        rows are gone (another process cleaned them up): either way the old version stays live.
        """
        with self.transaction() as db:
            self.fence(db)
            pending = db.execute(
                "SELECT 1 FROM versions WHERE doc_id = ? AND version = ? AND content_hash = ? AND status = 'pending'",
                (doc_id, version, content_hash),
            ).fetchone()
            if pending is None:
                raise RuntimeError(f"the pending version {version} of {doc_id} vanished before it was made live")
            db.execute(
                "UPDATE versions SET status = 'retired' WHERE doc_id = ? AND version = ? AND status = 'live' "
                "AND content_hash != ?",
                (doc_id, version, content_hash),
            )
            db.execute(
                "UPDATE versions SET status = 'live' WHERE doc_id = ? AND version = ? AND content_hash = ?",
                (doc_id, version, content_hash),
            )
            self._recompute_validity(db, doc_id)
            self._record_file(db, file)
            self._bump(db)

    def fence(self, db: sqlite3.Connection) -> None:
        """Inside a write transaction: refuse when this process writes under an ingest lease it has lost."""
        if self.writer is not None:
            lease.fence(db, lease.INGEST, self.writer)

    def record_file(self, file: FileRow) -> None:
        with self.transaction() as db:
            self._record_file(db, file)

    def _record_file(self, db: sqlite3.Connection, file: FileRow) -> None:
        db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
            (file.path, file.file_hash, file.doc_id, file.version, file.content_hash, now_iso()),
        )

    def withdraw_version(self, doc_id: str, version: str) -> bool:
        """Hide a document's version (its files are in conflict) and forget which files gave it; its vectors
        are deleted afterwards by purge. Returns whether there was one to hide."""
        with self.transaction() as db:
            hidden = db.execute(
                "UPDATE versions SET status = 'retired' WHERE doc_id = ? AND version = ? AND status = 'live'",
                (doc_id, version),
            ).rowcount
            db.execute("DELETE FROM files WHERE doc_id = ? AND version = ?", (doc_id, version))
            if hidden:
                self._recompute_validity(db, doc_id)
                self._bump(db)
        return bool(hidden)

    def retire_document(self, doc_id: str) -> None:
        """Hide every version of a document (its vectors are deleted afterwards by purge)."""
        with self.transaction() as db:
            self.fence(db)
            db.execute("UPDATE versions SET status = 'retired' WHERE doc_id = ?", (doc_id,))
            db.execute("DELETE FROM files WHERE doc_id = ?", (doc_id,))
            self._bump(db)

    def purge(self, row: VersionRow) -> None:
        """Forget a pending or retired version and its chunks (after its vectors are gone)."""
        with self.transaction() as db:
            self._delete_version(db, row.doc_id, row.version, row.content_hash)

    def _delete_version(self, db: sqlite3.Connection, doc_id: str, version: str, content_hash: str) -> None:
        args = (doc_id, version, content_hash)
        db.execute(
            "DELETE FROM units WHERE chunk_id IN (SELECT chunk_id FROM chunks WHERE doc_id = ? AND version = ? "
            "AND content_hash = ?)",
            args,
        )
        db.execute("DELETE FROM chunks WHERE doc_id = ? AND version = ? AND content_hash = ?", args)
        db.execute("DELETE FROM versions WHERE doc_id = ? AND version = ? AND content_hash = ?", args)

    def _recompute_validity(self, db: sqlite3.Connection, doc_id: str) -> None:
        """Each live version is in force from its effective date until the next version's.

        An effective date in conflict (two files, two texts, neither indexed) still ends the version
        before it: that version is known to be superseded, even though what replaced it is not indexed.
        """
        rows = db.execute(
            "SELECT version, content_hash, effective_date FROM versions WHERE doc_id = ? AND status = 'live'",
            (doc_id,),
        ).fetchall()
        conflicted = {
            row[0]
            for row in db.execute(
                "SELECT DISTINCT version FROM failures WHERE kind = ? AND doc_id = ?", (CONFLICT, doc_id)
            )
            if row[0] != UNDATED
        }
        dates = sorted({r[2] for r in rows if r[2] is not None} | conflicted)
        for version, content_hash, effective in rows:
            # Undated versions come first: a dated amendment supersedes them.
            later = [d for d in dates if effective is None or d > effective]
            valid_to = later[0] if later else None
            db.execute(
                "UPDATE versions SET valid_from = ?, valid_to = ? WHERE doc_id = ? AND version = ? "
                "AND content_hash = ?",
                (effective, valid_to, doc_id, version, content_hash),
            )

    def update_failures(self, scanned: Iterable[str], failures: Iterable[Failure]) -> None:
        """Forget old failures of the files just scanned (by path or resolved path), then record this run's.

        Each failure is ``(path, error)``, ``(path, error, doc_id, title)`` or a ``FailureRow``.
        """
        rows = [f if isinstance(f, FailureRow) else FailureRow(*f) for f in failures]
        with self.transaction() as db:
            before = self._empty_documents(db), self._conflict_keys(db)
            for path in scanned:
                db.execute("DELETE FROM failures WHERE path = ? OR file_key = ?", (path, path))
            for r in rows:
                if r.file_key:  # one row per file, however its path was spelt
                    db.execute("DELETE FROM failures WHERE file_key = ?", (r.file_key,))
            db.executemany(
                "INSERT OR REPLACE INTO failures (path, error, at, doc_id, title, file_key, file_hash, kind, "
                "version, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.path, r.error, now_iso(), r.doc_id, r.title, r.file_key, r.file_hash, r.kind, r.version,
                     r.content_hash)
                    for r in rows
                ],
            )
            after = self._empty_documents(db), self._conflict_keys(db)
            if after[1] != before[1]:
                # A conflict that starts or ends changes when the document's earlier version stops applying.
                for doc_id in {d for d, _v in after[1] ^ before[1]}:
                    self._recompute_validity(db, doc_id)
            if after != before:
                # Readers answer "registered but unreadable" from this list: a change is a visible change.
                self._bump(db)

    @staticmethod
    def _conflict_keys(db: sqlite3.Connection) -> set[tuple[str, str]]:
        rows = db.execute(
            "SELECT DISTINCT doc_id, version FROM failures WHERE kind = ? AND doc_id IS NOT NULL", (CONFLICT,)
        )
        return {(str(d), str(v)) for d, v in rows}
