"""Soak: many clients asking while `civicrag ingest` changes documents from the command line.

    .venv/bin/python benchmarks/soak.py --out benchmarks/results/soak.json            # 20 clients, 10 min
    .venv/bin/python benchmarks/soak.py --chroma embedded --workers 1 --minutes 3 --out ...

Builds a small index of twelve Jeju ordinances (``SOAK_DOCS`` from ``../shared/corpus/ko/jeju``, split
into two folders of six), starts a ``chroma run`` server (``--chroma server``, the default) and
``civicrag serve --workers N --open-demo`` over it, then runs ``--clients`` threads that ask, back to back,
the distinct questions of ``eval/sets/*.jsonl`` about those documents. At 30% and at 65% of the run a
round changes two documents in each folder (a marker sentence in their first article) and starts two
``civicrag ingest FOLDER --wait`` processes a second apart: the second waits for the first's lease.

Checked and written as JSON: errors (any non-200 or transport error), lost documents (the server's
document list polled every 5 s, and the manifest and Chroma compared at the end), and stale answers: an
answer to a question *sent after* an ingest ended that still cites or retrieves a chunk of a version that
ingest replaced. Also latency, and how long after an ingest the first answer citing its new version came.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "ko" / "jeju"
# Twelve Jeju ordinances of 9-24 kB with 27-75 eval questions each.
SOAK_DOCS = (
    "2117895", "2117284", "2139994", "2170617", "2117374", "2117732",
    "2118035", "2208260", "2117875", "2151268", "2176836", "2170616",
)
ROUNDS = (0.30, 0.65)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def mark(text: str, label: str) -> str:
    """The document with a marker sentence at the end of its first article (a correction: same date)."""
    first = text.find("\n##### ")
    end = text.find("\n\n##### ", first + 1) if first >= 0 else -1
    line = f"\n이 조는 {label}에 따라 보완되었다.\n"
    return text + line if end < 0 else text[:end] + "\n" + line + text[end:]


def questions(doc_ids: set[str]) -> list[str]:
    seen: dict[str, None] = {}
    for path in sorted((REPO / "eval" / "sets").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if {g["doc_id"] for g in item.get("gold") or []} & doc_ids:
                seen.setdefault(item["question"], None)
    pool = list(seen)
    random.Random(7).shuffle(pool)
    return pool


def live_hashes(manifest: Path) -> dict[str, set[str]]:
    """doc_id -> the 12-character content hashes its live chunks' ids carry."""
    db = sqlite3.connect(f"file:{manifest}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT doc_id, content_hash FROM versions WHERE status = 'live'").fetchall()
    finally:
        db.close()
    out: dict[str, set[str]] = {}
    for doc_id, content_hash in rows:
        out.setdefault(doc_id, set()).add(content_hash[:12])
    return out


def chunk_refs(result: dict[str, Any]) -> set[tuple[str, str]]:
    """(doc_id, hash) of every chunk an answer retrieved or cited; ids are DOC@VERSION#HASH-SEQ."""
    refs = set()
    for item in [*result.get("retrieved", []), *result.get("citations", [])]:
        chunk_id = str(item.get("chunk_id") or "")
        if "@" in chunk_id and "#" in chunk_id:
            refs.add((chunk_id.split("@", 1)[0], chunk_id.rsplit("#", 1)[1].rsplit("-", 1)[0]))
    return refs


def wait_http(url: str, proc: subprocess.Popen[bytes], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=5, trust_env=False).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds} s")


class Soak:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work: Path = args.work
        self.folders = [self.work / "docs-a", self.work / "docs-b"]
        self.env = {**os.environ, "CIVICRAG_DATA_DIR": str(self.work / "data"), "GRADIO_ANALYTICS_ENABLED": "False"}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.responses: list[dict[str, Any]] = []
        self.doc_counts: list[tuple[float, int]] = []
        self.ingests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.t0 = 0.0

    # -- setup ---------------------------------------------------------------------------------
    def setup(self) -> str:
        shutil.rmtree(self.work, ignore_errors=True)
        for i, doc_id in enumerate(SOAK_DOCS):
            folder = self.folders[i % 2]
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(CORPUS / f"{doc_id}.md", folder / f"{doc_id}.md")
        if self.args.chroma == "server":
            port = free_port()
            log = (self.work / "chroma.log").open("wb")
            exe = Path(sys.executable).parent / "chroma"
            self.procs.append(subprocess.Popen(
                [str(exe), "run", "--path", str(self.work / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
                stdout=log, stderr=subprocess.STDOUT))
            wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", self.procs[-1], 120)
            self.env.update(CIVICRAG_CHROMA__HOST="127.0.0.1", CIVICRAG_CHROMA__PORT=str(port))
        if self.args.embedding_cache and self.args.embedding_cache.exists():  # skip re-embedding the twelve
            (self.work / "data").mkdir(parents=True)
            shutil.copy(self.args.embedding_cache, self.work / "data" / "embedding-cache.sqlite3")
        started = time.monotonic()
        first = subprocess.run([sys.executable, "-m", "civicrag.cli", "ingest", *map(str, self.folders), "--json"],
                               env=self.env, capture_output=True, text=True, cwd=REPO)
        if first.returncode != 0:
            raise SystemExit(f"initial ingest failed: {first.stderr[-2000:]}")
        self.initial_ingest = {"seconds": round(time.monotonic() - started, 1), **json.loads(first.stdout)}
        port = free_port()
        log = (self.work / "serve.log").open("wb")
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "civicrag.cli", "serve", "--open-demo", "--port", str(port),
             "--workers", str(self.args.workers)],
            env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/api/status", self.procs[-1])
        return url

    # -- traffic ---------------------------------------------------------------------------------
    def client(self, n: int, url: str, pool: list[str], until: float) -> None:
        k = 0
        with httpx.Client(base_url=url, timeout=300, trust_env=False) as http:
            while time.monotonic() < until:
                question = pool[(n + self.args.clients * k) % len(pool)]
                k += 1
                sent = time.monotonic()
                record: dict[str, Any] = {"client": n, "sent": sent - self.t0}
                try:
                    response = http.post("/api/ask", json={"question": question})
                    record["status"] = response.status_code
                    record["worker"] = response.headers.get("X-Civicrag-Worker")
                    if response.status_code == 200:
                        record["refs"] = sorted(chunk_refs(response.json()))
                    else:
                        record["error"] = response.text[:200]
                except httpx.HTTPError as exc:
                    record["status"] = 0
                    record["error"] = f"{type(exc).__name__}: {exc}"[:200]
                record["seconds"] = time.monotonic() - sent
                with self.lock:
                    self.responses.append(record)

    def watch_documents(self, url: str) -> None:
        with httpx.Client(base_url=url, timeout=120, trust_env=False) as http:
            while not self.stop.wait(5):
                try:
                    count = len(http.get("/api/documents").json())
                except (httpx.HTTPError, ValueError):
                    count = -1
                self.doc_counts.append((time.monotonic() - self.t0, count))

    def ingest_round(self, r: int) -> None:
        manifest = self.work / "data" / "manifest.sqlite3"
        before = live_hashes(manifest)
        runs = []
        for f, folder in enumerate(self.folders):
            changed = sorted(folder.glob("*.md"))[r * 2 : r * 2 + 2]
            for path in changed:
                path.write_text(mark(path.read_text(encoding="utf-8"), f"soak round {r + 1}"), encoding="utf-8")
            proc = subprocess.Popen(
                [sys.executable, "-m", "civicrag.cli", "ingest", str(folder), "--wait", "1800", "--json"],
                env=self.env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            runs.append({"round": r + 1, "folder": folder.name, "changed": [p.stem for p in changed],
                         "start": time.monotonic() - self.t0, "proc": proc})
            if f == 0:
                time.sleep(1)
        def finish(run: dict[str, Any]) -> None:
            proc = run.pop("proc")
            out, err = proc.communicate()
            run["end"] = time.monotonic() - self.t0
            run["seconds"] = round(run["end"] - run["start"], 1)
            run["exit"] = proc.returncode
            report = json.loads(out) if proc.returncode in (0, 1) and out.strip() else {}
            run["report"] = {k: report.get(k) for k in ("added", "updated", "unchanged", "failed", "recovered")}
            run["waited_for_the_other"] = "waiting for the ingest" in err
            run["stderr"] = err.strip()[-300:] if proc.returncode else ""

        waiters = [threading.Thread(target=finish, args=(run,)) for run in runs]
        for th in waiters:
            th.start()
        for th in waiters:
            th.join()
        after = live_hashes(manifest)
        for run in runs:
            run["replaced"] = {d: sorted(before.get(d, set()) - after.get(d, set())) for d in run["changed"]}
            run["new"] = {d: sorted(after.get(d, set()) - before.get(d, set())) for d in run["changed"]}
        self.ingests.extend(runs)

    def run(self) -> dict[str, Any]:
        pool = questions(set(SOAK_DOCS))
        url = self.setup()
        with httpx.Client(base_url=url, timeout=600, trust_env=False) as http:  # warm up every worker
            for q in pool[: 4 * self.args.workers]:
                http.post("/api/ask", json={"question": q})
        duration = self.args.minutes * 60
        self.t0 = time.monotonic()
        until = self.t0 + duration
        clients = [threading.Thread(target=self.client, args=(n, url, pool, until)) for n in range(self.args.clients)]
        watcher = threading.Thread(target=self.watch_documents, args=(url,), daemon=True)
        for th in [*clients, watcher]:
            th.start()
        for r, at in enumerate(ROUNDS):
            time.sleep(max(0.0, self.t0 + at * duration - time.monotonic()))
            self.ingest_round(r)
        for th in clients:
            th.join()
        self.stop.set()
        final = self.final_check(url)
        return self.summary(pool, final)

    # -- results ------------------------------------------------------------------------------------
    def final_check(self, url: str) -> dict[str, Any]:
        documents = len(httpx.get(url + "/api/documents", timeout=120, trust_env=False).json())
        for proc in reversed(self.procs[1:]):  # the web server: then the embedded folder is free
            proc.terminate()
            proc.wait(timeout=120)
        code = (
            "import json; from civicrag.settings import load_settings; from ingest.store import IndexStore; "
            "st = IndexStore(load_settings()); live = {c for c, *_ in st.manifest.live_chunks()}; "
            "ids = st.vectors.all_ids(); print(json.dumps({'documents': st.manifest.counts()['documents'], "
            "'live_chunks': len(live), 'live_without_vector': len(live - ids), 'unfinished': "
            "len(st.manifest.unfinished())}))"
        )
        done = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True, cwd=REPO)
        check = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {"error": done.stderr}
        return {"server_documents": documents, **check}

    def summary(self, pool: list[str], final: dict[str, Any]) -> dict[str, Any]:
        rs = self.responses
        errors = [r for r in rs if r["status"] != 200]
        stale, citing_new, first_fresh = 0, 0, {}
        for run in self.ingests:
            old = {(d, h) for d, hs in run["replaced"].items() for h in hs}
            new = {(d, h) for d, hs in run["new"].items() for h in hs}
            after = [r for r in rs if r["sent"] > run["end"] and r["status"] == 200]
            stale += sum(1 for r in after if old & {tuple(x) for x in r["refs"]})
            fresh = [r["sent"] for r in after if new & {tuple(x) for x in r["refs"]}]
            citing_new += len(fresh)
            first_fresh[f"round {run['round']} {run['folder']}"] = round(min(fresh) - run["end"], 2) if fresh else None
        latencies = [r["seconds"] for r in rs]
        windows = [(run["start"], run["end"]) for run in self.ingests]
        during = [r["seconds"] for r in rs if any(a <= r["sent"] <= b for a, b in windows)]
        elapsed = self.args.minutes * 60
        return {
            "chroma": "chroma run server" if self.args.chroma == "server" else "embedded (CLI ingests via the server)",
            "workers": self.args.workers,
            "clients": self.args.clients,
            "minutes": self.args.minutes,
            "documents": len(SOAK_DOCS),
            "corpus": f"../shared/corpus/ko/jeju: {', '.join(SOAK_DOCS)}",
            "distinct_questions": len(pool),
            "initial_ingest": self.initial_ingest,
            "requests": len(rs),
            "requests_per_s": round(len(rs) / elapsed, 2),
            "workers_seen": dict(Counter(str(r.get("worker")) for r in rs)),
            "errors": len(errors),
            "error_kinds": dict(Counter(str(r.get("error", ""))[:80] for r in errors)),
            "stale_answers_after_ingest": stale,
            # (answer, ingest) pairs: an answer counts once for each ingest that had ended when it was asked.
            "answers_checked_after_ingests": sum(
                1 for run in self.ingests for r in rs if r["sent"] > run["end"] and r["status"] == 200),
            "of_which_retrieving_a_changed_document": citing_new,
            "first_answer_from_new_version_s_after_ingest": first_fresh,
            "min_documents_listed": min((c for _, c in self.doc_counts), default=None),
            "lost_documents": len(SOAK_DOCS) - min((c for _, c in self.doc_counts), default=0),
            "final": final,
            "latency_ms": {"p50": round(percentile(latencies, 50) * 1000),
                           "p95": round(percentile(latencies, 95) * 1000),
                           "p99": round(percentile(latencies, 99) * 1000), "max": round(max(latencies) * 1000)},
            "latency_during_ingests_ms": {"p50": round(percentile(during, 50) * 1000),
                                          "p95": round(percentile(during, 95) * 1000),
                                          "max": round(max(during, default=0) * 1000)},
            "ingests": self.ingests,
            "cpus": os.cpu_count(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        }

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chroma", choices=["server", "embedded"], default="server")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "civicrag-soak")
    parser.add_argument("--embedding-cache", type=Path,
                        help="An embedding-cache.sqlite3 of an earlier run to start from (the first ingest is faster).")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.chroma == "embedded" and args.workers != 1:
        parser.error("embedded Chroma allows one server process: --workers 1")
    soak = Soak(args)
    try:
        report = soak.run()
    finally:
        soak.close()
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
