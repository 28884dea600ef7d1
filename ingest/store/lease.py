"""Who may write an index: a lease in the manifest, held by one process at a time across processes and hosts.

A lease is a row of the manifest's ``leases`` table: its name, a random token, the holder's pid, host and
process start time, when it was taken and a heartbeat the holder renews from a background thread. Taking
it is one ``BEGIN IMMEDIATE`` transaction: read the row, and replace it only when its holder is gone — its
heartbeat is older than the time-to-live, or it ran on this host and that process no longer exists (then
there is no need to wait for the time-to-live: a killed ``civicrag ingest`` is taken over at once).

Two leases are used:
- ``ingest``: whoever changes the index (``Ingestor.run``, the admin console's delete) holds it. The
  manifest's writes check its token inside their own transaction (``Manifest.fence``), so a writer that
  lost its lease — frozen past the time-to-live while another took over — cannot make a version live.
- ``chroma``: with the embedded Chroma default, the one process that may open the ``PersistentClient`` of
  the data folder (Chroma supports one per folder). ``civicrag serve`` holds it with its URL and a token,
  so ``civicrag ingest`` hands its work to that server instead of opening the folder a second time.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civicrag.settings import Settings

INGEST = "ingest"
CHROMA = "chroma"

SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    proc_start TEXT NOT NULL,
    started TEXT NOT NULL,
    heartbeat REAL NOT NULL,
    info_json TEXT NOT NULL DEFAULT '{}'
);
"""


class LeaseBusy(Exception):
    """The lease is held by a live process; the message names it."""

    def __init__(self, holder: Holder, what: str = "another ingest is running"):
        self.holder = holder
        super().__init__(f"{what} ({holder.describe()})")


class LeaseLost(RuntimeError):
    """A holder's lease was taken over (its heartbeat stopped for longer than the time-to-live)."""


@dataclass(frozen=True)
class Holder:
    name: str
    token: str
    pid: int
    host: str
    proc_start: str
    started: str
    heartbeat: float
    info: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"pid {self.pid}{where}, since {self.started}"

    def alive(self, ttl: float, now: float | None = None) -> bool:
        """Whether the holder still runs: a fresh heartbeat, and on this host a live process with its pid."""
        if (now if now is not None else time.time()) - self.heartbeat > ttl:
            return False
        if self.host == socket.gethostname():
            return process_start(self.pid) == self.proc_start
        return True


def process_start(pid: int) -> str:
    """An identity of a running process: its start time in clock ticks since boot ('' when it is not running).

    A pid alone can be reused after a crash; the pair (pid, start time) cannot. A zombie counts as gone.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if not Path("/proc/self/stat").exists():  # no procfs (not Linux): fall back to the pid alone
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return ""
            except PermissionError:
                pass
            return "pid"
        return ""
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces and parentheses
    if fields[0] in ("Z", "X"):
        return ""
    return fields[19]


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    return db


def _row_to_holder(row: tuple[Any, ...] | None) -> Holder | None:
    if row is None:
        return None
    name, token, pid, host, proc_start, started, heartbeat, info_json = row
    return Holder(name, token, int(pid), host, proc_start, started, float(heartbeat), json.loads(info_json or "{}"))


def read_holder(db: sqlite3.Connection, name: str) -> Holder | None:
    """The row of a lease (alive or not)."""
    return _row_to_holder(db.execute("SELECT * FROM leases WHERE name = ?", (name,)).fetchone())


def live_holder(manifest_path: Path, name: str, ttl: float) -> Holder | None:
    """The process holding a lease now, or None."""
    if not manifest_path.exists():
        return None
    db = _connect(manifest_path)
    try:
        holder = read_holder(db, name)
    finally:
        db.close()
    return holder if holder is not None and holder.alive(ttl) else None


class Lease:
    """One process's claim on a named lease of a manifest. ``with Lease(...).acquire():`` holds it."""

    def __init__(
        self,
        manifest_path: Path,
        name: str = INGEST,
        ttl: float = 60.0,
        heartbeat: float = 5.0,
        info: dict[str, Any] | None = None,
        busy_message: str = "another ingest is running",
    ):
        self.path = manifest_path
        self.name = name
        self.ttl = ttl
        self.interval = heartbeat
        self.info = dict(info or {})
        self.busy_message = busy_message
        self.token = secrets.token_hex(16)
        self.lost = False
        self._db: sqlite3.Connection | None = None
        self._db_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> bool:
        return self._thread is not None and not self.lost

    def try_acquire(self) -> Holder | None:
        """Take the lease if it is free or its holder is gone; else return the live holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._db is None:
            self._db = _connect(self.path)
        db = self._db
        now = time.time()
        with self._db_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                current = read_holder(db, self.name)
                if current is not None and current.token != self.token and current.alive(self.ttl, now):
                    db.execute("ROLLBACK")
                    return current
                db.execute(
                    "INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (self.name, self.token, os.getpid(), socket.gethostname(), process_start(os.getpid()),
                     datetime.now(UTC).isoformat(timespec="seconds"), now, json.dumps(self.info)),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        self.lost = False
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, daemon=True, name=f"lease-{self.name}")
        self._thread.start()
        return None

    def acquire(
        self, wait: float = 0.0, poll: float = 0.5, on_wait: Callable[[Holder], None] | None = None
    ) -> Lease:
        """Take the lease, waiting up to ``wait`` seconds (``float('inf')``: until free); else LeaseBusy."""
        deadline = time.monotonic() + wait
        told = False
        while True:
            holder = self.try_acquire()
            if holder is None:
                return self
            if time.monotonic() >= deadline:
                self.close()
                raise LeaseBusy(holder, self.busy_message)
            if on_wait is not None and not told:
                on_wait(holder)
                told = True
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())) or poll)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self._db_lock:
                    assert self._db is not None
                    cur = self._db.execute(
                        "UPDATE leases SET heartbeat = ? WHERE name = ? AND token = ?",
                        (time.time(), self.name, self.token),
                    )
            except sqlite3.Error:
                continue  # a busy database: try again at the next beat (the time-to-live is many beats)
            if cur.rowcount != 1:
                self.lost = True
                return

    def release(self) -> None:
        """Give the lease back (only if it is still ours) and stop the heartbeat."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)
            self._thread = None
        if self._db is not None:
            # On failure the row is left for the time-to-live (or the pid check) to expire.
            with self._db_lock, contextlib.suppress(sqlite3.Error):
                self._db.execute("DELETE FROM leases WHERE name = ? AND token = ?", (self.name, self.token))
        self.close()

    def close(self) -> None:
        if self._db is not None and self._thread is None:
            with self._db_lock:
                self._db.close()
            self._db = None

    def __enter__(self) -> Lease:
        if not self.held:
            self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def ingest_lease(settings: Settings) -> Lease:
    """The lease every writer of the data directory's index takes."""
    return Lease(settings.manifest_path, INGEST, settings.ingest.lease_ttl_s, settings.ingest.lease_heartbeat_s)


def fence(db: sqlite3.Connection, name: str, token: str) -> None:
    """Inside a write transaction: raise LeaseLost unless ``token`` still holds the lease."""
    holder = read_holder(db, name)
    if holder is None or holder.token != token:
        taken = f" (now held by {holder.describe()})" if holder is not None else ""
        raise LeaseLost(f"this process lost the {name} lease{taken}; its changes were not made visible")
