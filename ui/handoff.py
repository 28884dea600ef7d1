"""``civicrag ingest`` beside a running ``civicrag serve`` on the embedded Chroma default.

Chroma's embedded ``PersistentClient`` supports one process per data folder: a second process writing
the folder leaves the first one's in-memory vector index behind (every question then fails with
``Error finding id``) and two writers can corrupt it. So the folder has one owner at a time, the holder of
the ``chroma`` lease (``ingest.store.lease``): ``civicrag serve`` for as long as it runs, or a
``civicrag ingest`` for as long as it writes. An ingest that finds a server holding the folder hands its
paths to that server, which ingests them in its own process through the admin console's machinery and
reloads; with a ``chroma run`` server (``chroma.host``) every process talks to Chroma over HTTP and this
module is not used.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from civicrag.ingest.pipeline import IngestReport, ProgressCallback, ingest_paths
from civicrag.ingest.store.lease import CHROMA, Holder, Lease, LeaseBusy

from civicrag.settings import Settings

TOKEN_HEADER = "X-Civicrag-Token"
LOCAL_INGEST_PATH = "/api/ingest/local"


class IngestRefused(Exception):
    """The server would not take the ingest (another is running and the wait ran out); the message says why."""


def chroma_lease(settings: Settings, info: dict[str, Any] | None = None) -> Lease:
    """The lease on the data folder's embedded Chroma (``info`` carries a server's URL and token)."""
    return Lease(
        settings.manifest_path, CHROMA, settings.ingest.lease_ttl_s, settings.ingest.lease_heartbeat_s, info=info,
        busy_message="another ingest is running",
    )


def ingest(
    settings: Settings,
    paths: Sequence[Path],
    prune: bool = False,
    wait: float = 0.0,
    progress: ProgressCallback | None = None,
    on_wait: Callable[[Holder], None] | None = None,
) -> tuple[IngestReport, Holder | None]:
    """Ingest into an embedded-Chroma data folder: here when no process has it open, else through the server
    that has. Returns the report and the server it went through (None: done in this process).

    Waits up to ``wait`` seconds for another ingest; then LeaseBusy (or IngestRefused from a server).
    """
    deadline = time.monotonic() + wait
    lease = chroma_lease(settings)
    told = False
    while True:
        holder = lease.try_acquire()
        if holder is None:
            try:
                report = ingest_paths(settings, paths, prune=prune, progress=progress,
                                      wait=max(0.0, deadline - time.monotonic()), on_wait=on_wait)
            finally:
                lease.release()
            return report, None
        if holder.info.get("url"):
            lease.close()
            if holder.host != socket.gethostname():
                raise IngestRefused(
                    f"the data folder's embedded Chroma is open on host {holder.host} ({holder.info['url']}); "
                    "ingest there, or use a `chroma run` server (chroma_host) for several hosts"
                )
            return through_server(holder, paths, prune, deadline, progress, on_wait), holder
        if time.monotonic() >= deadline:
            lease.close()
            raise LeaseBusy(holder)
        if on_wait is not None and not told:
            on_wait(holder)
            told = True
        time.sleep(0.5)


def through_server(
    holder: Holder,
    paths: Sequence[Path],
    prune: bool,
    deadline: float,
    progress: ProgressCallback | None = None,
    on_wait: Callable[[Holder], None] | None = None,
) -> IngestReport:
    """Have the server that holds the folder ingest ``paths`` (absolute: it reads them itself); poll its
    progress until the report is in."""
    import httpx

    headers = {TOKEN_HEADER: str(holder.info["token"])}
    body = {"paths": [str(Path(p).resolve()) for p in paths], "prune": prune}
    told = False
    with httpx.Client(base_url=str(holder.info["url"]), headers=headers, timeout=60, trust_env=False) as client:
        while True:
            started = client.post(LOCAL_INGEST_PATH, json=body)
            if started.status_code != 409:
                break
            detail = str(started.json().get("detail", "another ingest is running"))
            if time.monotonic() >= deadline:
                raise IngestRefused(detail)
            if on_wait is not None and not told:
                on_wait(holder)
                told = True
            time.sleep(0.5)
        if started.status_code != 202:
            raise IngestRefused(f"the server at {holder.info['url']} refused the ingest: "
                                f"{started.status_code} {started.text[:300]}")
        job_id = started.json()["id"]
        while True:
            snap = client.get(LOCAL_INGEST_PATH, params={"id": job_id})
            snap.raise_for_status()
            job = snap.json()
            if progress is not None and job["total"]:
                progress(job["done"], job["total"], job["current"])
            if not job["running"]:
                break
            time.sleep(0.3)
    if job["error"]:
        raise RuntimeError(f"the server's ingest failed: {job['error']}")
    return IngestReport(**job["report"])
