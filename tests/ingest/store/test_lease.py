"""The ingest lease: one holder, takeover from the gone, fencing of a writer that lost it; manifest snapshots."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from civicrag.ingest.store.lease import INGEST, Lease, LeaseBusy, LeaseLost, live_holder, process_start
from civicrag.ingest.store.manifest import FileRow, Manifest

from tests.ingest.store.test_manifest import _add, _chunks, _doc


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "manifest.sqlite3"


def put_holder(path: Path, token: str, pid: int, host: str, heartbeat: float, proc_start: str = "1") -> None:
    """A lease row as another process (or host) would have left it."""
    Manifest(path).close()  # creates the tables
    with sqlite3.connect(path) as db:
        db.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (INGEST, token, pid, host, proc_start, "2026-01-02T03:04:05+00:00", heartbeat, json.dumps({})))


def test_second_taker_is_told_who_holds_it(path: Path) -> None:
    first = Lease(path).acquire()
    try:
        second = Lease(path)
        with pytest.raises(LeaseBusy) as busy:
            second.acquire(wait=0)
        holder = busy.value.holder
        assert (holder.pid, holder.host, holder.token) == (os.getpid(), socket.gethostname(), first.token)
        assert str(busy.value) == f"another ingest is running (pid {os.getpid()}, since {holder.started})"
    finally:
        first.release()
    assert live_holder(path, INGEST, 60) is None
    Lease(path).acquire().release()  # free again once released


def test_holder_on_this_host_that_is_gone_is_taken_over_at_once(path: Path) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    put_holder(path, "dead", int(ended.stdout), socket.gethostname(), time.time())
    assert live_holder(path, INGEST, 60) is None
    lease = Lease(path).acquire()
    assert live_holder(path, INGEST, 60).token == lease.token  # type: ignore[union-attr]
    lease.release()


def test_a_reused_pid_is_not_the_old_holder(path: Path) -> None:
    put_holder(path, "old", os.getpid(), socket.gethostname(), time.time(), proc_start="not-this-process")
    assert live_holder(path, INGEST, 60) is None
    put_holder(path, "me", os.getpid(), socket.gethostname(), time.time(), proc_start=process_start(os.getpid()))
    assert live_holder(path, INGEST, 60).token == "me"  # type: ignore[union-attr]


def test_holder_on_another_host_counts_until_its_heartbeat_is_older_than_the_ttl(path: Path) -> None:
    now = time.time()
    put_holder(path, "remote", 4242, "elsewhere", now - 30)
    with pytest.raises(LeaseBusy, match=r"another ingest is running \(pid 4242 on elsewhere, since 2026-01-02"):
        Lease(path, ttl=60).acquire()
    put_holder(path, "remote", 4242, "elsewhere", now - 61)
    Lease(path, ttl=60).acquire().release()


def test_writer_that_lost_its_lease_cannot_make_its_version_live(path: Path) -> None:
    manifest = Manifest(path)
    _add(manifest, "2025-06-13", "h1")
    lease = Lease(path).acquire()
    manifest.writer = lease.token
    chunks = _chunks("2025-06-13", "h2")
    manifest.begin_version(_doc("2025-06-13", "새 본문"), "2025-06-13", "h2", chunks, [["t"]] * len(chunks))
    # Frozen past the time-to-live: another process took the lease over.
    lease.release()
    taker = Lease(path).acquire()
    with pytest.raises(LeaseLost, match="lost the ingest lease"):
        manifest.activate_version("2117284", "2025-06-13", "h2", FileRow("/r.md", "fh", "2117284", "2025-06-13", "h2"))
    assert [v.content_hash for v in manifest.versions()] == ["h1"]  # the old version stays live
    assert [(r.content_hash, r.status, r.writer) for r in manifest.unfinished()] == [("h2", "pending", lease.token)]
    taker.release()
    manifest.close()


def test_a_vanished_pending_version_is_not_activated(path: Path) -> None:
    manifest = Manifest(path)
    _add(manifest, "2025-06-13", "h1")
    chunks = _chunks("2025-06-13", "h2")
    manifest.begin_version(_doc("2025-06-13"), "2025-06-13", "h2", chunks, [["t"]] * len(chunks))
    manifest.purge(manifest.unfinished()[0])  # what the old recover() of a second process did
    with pytest.raises(RuntimeError, match="vanished before it was made live"):
        manifest.activate_version("2117284", "2025-06-13", "h2", FileRow("/r.md", "fh", "2117284", "2025-06-13", "h2"))
    assert [v.content_hash for v in manifest.versions()] == ["h1"]
    manifest.close()


def test_snapshot_reads_one_generation_while_another_connection_commits(path: Path) -> None:
    manifest = Manifest(path)
    _add(manifest, "2019-03-20", "h1")
    generation = manifest.generation
    with manifest.snapshot() as view:
        writer = Manifest(path)
        _add(writer, "2025-06-13", "h2")
        writer.close()
        assert view.generation == generation
        assert [v.version for v in view.versions()] == ["2019-03-20"]
        assert len(list(view.live_chunks())) == 2
    assert manifest.generation == generation + 1
    assert [v.version for v in manifest.versions()] == ["2019-03-20", "2025-06-13"]
    manifest.close()


def test_recover_leaves_the_pending_version_of_a_live_writer(tmp_path: Path) -> None:
    from civicrag.ingest.store import IndexStore

    from civicrag.settings import load_settings

    settings = load_settings(data_dir=tmp_path / "data")
    store = IndexStore(settings)
    writing = Lease(settings.manifest_path).acquire()  # a live process in the middle of its write
    for writer, content_hash in ((writing.token, "h2"), ("gone", "h3")):
        store.manifest.writer = writer
        chunks = _chunks("2025-06-13", content_hash)
        store.manifest.begin_version(_doc("2025-06-13"), "2025-06-13", content_hash, chunks, [["t"]] * len(chunks))
    store.manifest.writer = None
    assert store.recover() == 1
    assert [(r.content_hash, r.writer) for r in store.manifest.unfinished()] == [("h2", writing.token)]
    writing.release()
    assert store.recover() == 1  # its writer is gone now
    assert store.manifest.unfinished() == []
    store.close()
