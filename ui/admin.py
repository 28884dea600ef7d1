"""What the admin console and the admin API do: uploads, re-ingest with progress, delete, tables.

The index is changed only through ``Ingestor.run`` and ``Ingestor.delete``, under the data
directory's ingest lease, so a re-ingest or a delete here never overlaps one in another
process (``civicrag ingest``, another server worker, another host).
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civicrag.ingest.loaders import SUPPORTED_SUFFIXES
from civicrag.ingest.store.lease import Lease, LeaseBusy, ingest_lease

from civicrag.settings import Settings

SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml")
_UNSAFE_CHARS = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)


class UploadError(ValueError):
    """An upload refused, with a message fit for the user."""


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def safe_filename(name: str) -> str:
    """A file name that stays inside the upload folder, or UploadError.

    Keeps only the last path component (either slash), drops control and shell-unsafe
    characters, refuses names that are empty, hidden, or of a type the ingester cannot read.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE_CHARS.sub("_", name).strip(" .")
    if not name or name in (".", ".."):
        raise UploadError("empty or invalid file name")
    lower = name.lower()
    if not (any(lower.endswith(s) for s in SIDECAR_SUFFIXES) or Path(lower).suffix in SUPPORTED_SUFFIXES):
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES | set(SIDECAR_SUFFIXES)))
        raise UploadError(f"{name}: file type not accepted (allowed: {allowed})")
    if len(name.encode("utf-8")) > 200:
        stem, dot, ext = name.rpartition(".")
        name = stem.encode("utf-8")[:150].decode("utf-8", "ignore") + dot + ext
    return name


def save_upload(settings: Settings, name: str, data: bytes) -> Path:
    """Write an uploaded document into the upload folder (replacing a file of the same name)."""
    limit = int(settings.server.upload_max_mb * 1024 * 1024)
    if len(data) > limit:
        raise UploadError(
            f"{name}: {len(data) / 1048576:.1f} MB is over the {settings.server.upload_max_mb:g} MB limit"
        )
    if not data:
        raise UploadError(f"{name}: the file is empty")
    folder = uploads_dir(settings).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / safe_filename(name)).resolve()
    if target.parent != folder:  # belt and braces: safe_filename already allows no separators
        raise UploadError(f"{name}: invalid file name")
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


@dataclass
class IngestJob:
    """A re-ingest running in a background thread, observed by the console and the API."""

    running: bool = False
    done: int = 0
    total: int = 0
    current: str = ""
    started: float = 0.0
    finished: float = 0.0
    report: dict[str, Any] | None = None
    error: str = ""
    paths: list[str] = field(default_factory=list)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id, "running": self.running, "done": self.done, "total": self.total, "current": self.current,
            "seconds": round((self.finished or time.time()) - self.started, 1) if self.started else 0.0,
            "report": self.report, "error": self.error, "paths": list(self.paths),
        }


class AdminOps:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.job = IngestJob()
        self._write_lock = threading.Lock()  # one index-changing operation at a time in this process
        self._thread: threading.Thread | None = None
        self.refusal = ""  # why the last start_ingest returned False
        self.jobs: dict[str, IngestJob] = {}  # the last few, by id: a caller polls its own job's report

    # -- re-ingest ----------------------------------------------------------------
    def ingest_paths(self) -> list[Path]:
        """The configured source folders that exist, plus the upload folder."""
        folder = uploads_dir(self.settings)
        folder.mkdir(parents=True, exist_ok=True)
        return [p for p in self.settings.ingest.sources if p.exists()] + [folder]

    def start_ingest(self, prune: bool = False, paths: list[Path] | None = None) -> bool:
        """Start a re-ingest (of the source folders, or of ``paths``) in the background; False if one is
        already running, here or in another process (``refusal`` says which)."""
        if not self._write_lock.acquire(blocking=False):
            self.refusal = "an ingest is already running"
            return False
        lease = ingest_lease(self.settings)
        try:
            lease.acquire()
        except LeaseBusy as exc:  # a `civicrag ingest`, another server worker, another host
            self._write_lock.release()
            self.refusal = str(exc)
            return False
        paths = self.ingest_paths() if paths is None else paths
        self.job = IngestJob(running=True, started=time.time(), paths=[str(p) for p in paths])
        self.jobs[self.job.id] = self.job
        for old in list(self.jobs)[:-20]:
            del self.jobs[old]
        self._thread = threading.Thread(
            target=self._run_ingest, args=(paths, prune, lease), daemon=True, name="ingest"
        )
        self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.job.snapshot()

    def _run_ingest(self, paths: list[Path], prune: bool, lease: Lease) -> None:
        from civicrag.ingest.pipeline import Ingestor

        job = self.job

        def on_progress(done: int, total: int, path: str) -> None:
            job.done, job.total, job.current = done, total, Path(path).name if path else ""

        try:
            ingestor = Ingestor(self.settings)
            try:
                job.report = ingestor.run(paths, prune=prune, progress=on_progress, lease=lease).to_dict()
            finally:
                ingestor.store.close()
        except Exception as exc:  # reported to the admin; the server goes on
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            lease.release()
            job.running = False
            job.finished = time.time()
            self._write_lock.release()

    # -- delete -----------------------------------------------------------------------
    def delete_document(self, doc_id: str) -> bool:
        """Remove every version of a document from the index (``Ingestor.delete``); its uploaded files go too.

        Files outside the upload folder are left alone; a later re-ingest of their folder brings the document
        back. Returns False when the document is not indexed; raises RuntimeError while an ingest runs.
        """
        from civicrag.ingest.pipeline import Ingestor

        if not self._write_lock.acquire(timeout=5):
            raise RuntimeError("an ingest is running; try again when it has finished")
        lease = ingest_lease(self.settings)
        try:
            try:
                lease.acquire()
            except LeaseBusy as exc:
                raise RuntimeError(f"{exc}; try again when it has finished") from exc
            ingestor = Ingestor(self.settings)
            try:
                files = ingestor.delete(doc_id, lease=lease)
            finally:
                ingestor.store.close()
            if files is None:
                return False
            folder = uploads_dir(self.settings).resolve()
            for path in files:
                if path.resolve().parent == folder:
                    for victim in [path, *(path.with_name(path.name + s) for s in SIDECAR_SUFFIXES)]:
                        victim.unlink(missing_ok=True)
            return True
        finally:
            lease.release()
            self._write_lock.release()


def documents_table(versions: Iterable[Any]) -> list[dict[str, Any]]:
    """One row per indexed document: versions, effective dates, chunks, last ingest, source; from the live
    versions ``RagService.document_versions()`` lists."""
    by_doc: dict[str, list[Any]] = {}
    for row in versions:
        by_doc.setdefault(row.doc_id, []).append(row)
    table = []
    for doc_id, rows in sorted(by_doc.items()):
        current = rows[-1]
        table.append({
            "doc_id": doc_id,
            "title": current.title,
            "kind": current.kind,
            "jurisdiction": current.jurisdiction,
            "versions": len(rows),
            "effective_dates": ", ".join(
                (r.effective_date or "undated") + (" (superseded)" if r.superseded else "") for r in rows
            ),
            "chunks": sum(r.chunk_count for r in rows),
            "last_ingest": max(r.ingested_at for r in rows),
            "source": current.source,
        })
    return table


def failures_table(failed: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """The failed files (``RagService.failed_files()``) by file name."""
    return [{"path": Path(f["path"]).name, "error": f["error"]} for f in failed]
