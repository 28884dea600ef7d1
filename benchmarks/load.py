"""Load test of ``POST /api/ask`` on loopback: single-user latency, then N concurrent clients, at each N asked.

    .venv/bin/python benchmarks/load.py                       # own server over $TMPDIR/civicrag-bench-load
    .venv/bin/python benchmarks/load.py --data-dir DIR --clients 1,5,20 --seconds 30
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:7860 --user U --password P

Without ``--url`` it ingests the sample corpus into the data directory when that holds no
index (the sample corpus is tiny: give ``--data-dir`` an existing index of a real corpus for
figures that mean something), starts ``civicrag serve --open-demo`` on a free loopback port,
and stops it after.

Every request carries a question no earlier request of the run sent, so the server's
query-embedding memo (keyed on the question text) never answers one: the questions are the
distinct ones of the eval sets (``--questions``; follow-ups, which need their conversation, are
left out), shuffled with ``--seed``, and each is sent at most once. A warm-up of ``--warmup``
questions, not used again, loads the index and the models. Then the single-user phase (one
client, sequential, ``--single-rounds`` questions), then one concurrent phase per ``--clients``
level, each for ``--seconds`` at most and with its own share of the questions left. A phase
whose share runs out stops early and says so (``stopped_early``) rather than repeat a question.

Prints one JSON object: per level requests per second, p50/p95/max latency, errors, the number
of questions, and the p95 ratio against the single-user p95 (goal: zero errors, ratio within 3).
A server given by ``--url`` may still hold in its memo questions an earlier run sent it (the
memo keeps the latest 256 per loaded index): start a fresh one, or change ``--seed``.
The server logs refused questions to its data directory's gap log (``gaps.log``, on by default).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
SETS = REPO / "eval" / "sets"
DEFAULT_QUESTIONS = [SETS / "ko.jsonl", SETS / "en.jsonl", SETS / "large-ko.jsonl", SETS / "large-en.jsonl"]
#: Entries of the query-embedding memo of one loaded index (``rag.retrieval._memoise``).
SERVER_MEMO_SIZE = 256


def load_questions(paths: list[Path]) -> list[str]:
    """The distinct stand-alone questions of JSONL sets (field ``question``), in file order.

    Questions that differ only in case or spacing count as one; follow-ups (a ``history``) are left out."""
    seen: set[str] = set()
    out: list[str] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            question = str(item.get("question") or "").strip()
            key = " ".join(question.split()).casefold()
            if not question or item.get("history") or key in seen:
                continue
            seen.add(key)
            out.append(question)
    return out


class QuestionPool:
    """Hands out each question once, across threads; ``take`` returns None when none are left."""

    def __init__(self, questions: list[str]):
        self._questions = list(questions)
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> str | None:
        with self._lock:
            if self._next >= len(self._questions):
                return None
            question = self._questions[self._next]
            self._next += 1
            return question

    def split(self, n: int) -> QuestionPool:
        """A pool of the next ``n`` questions (at most the ones left), taken from this one."""
        with self._lock:
            part = self._questions[self._next : self._next + n]
            self._next += len(part)
        return QuestionPool(part)

    def __len__(self) -> int:
        with self._lock:
            return len(self._questions) - self._next


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    if not (data_dir / "manifest.sqlite3").exists():
        print(f"ingesting {REPO / 'corpus'} into {data_dir} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "civicrag.cli", "ingest", str(REPO / "corpus"), "--data-dir", str(data_dir)],
            check=False,
            cwd=REPO,
        )
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "civicrag.cli",
            "serve",
            "--open-demo",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/api/status", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not start within 120 s")


def ask(client: httpx.Client, question: str) -> tuple[float, str | None]:
    started = time.perf_counter()
    try:
        response = client.post("/api/ask", json={"question": question})
        error = None if response.status_code == 200 and "answer" in response.json() else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    return time.perf_counter() - started, error


def index_status(url: str, auth: Any) -> dict[str, Any]:
    """Documents and chunks of the server's index (empty when /api/status does not answer)."""
    try:
        info = httpx.get(url + "/api/status", auth=auth, timeout=10).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return {k: info.get(k) for k in ("data_dir", "documents", "chunks", "embedder")}


def warm_up(url: str, auth: Any, pool: QuestionPool, n: int) -> dict[str, Any]:
    """Load the index and the models with ``n`` questions of the pool (gone from it: never sent again)."""
    latencies, errors = [], 0
    with httpx.Client(base_url=url, auth=auth, timeout=300) as client:
        for _ in range(n):
            question = pool.take()
            if question is None:
                break
            latency, error = ask(client, question)
            latencies.append(latency)
            errors += error is not None
    return {
        "questions": len(latencies),
        "errors": errors,
        "first_ms": round(latencies[0] * 1000, 1) if latencies else None,
        "what": "loads the index and the models; its questions are not sent again and not measured",
    }


def single_user(url: str, auth: Any, pool: QuestionPool) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    with httpx.Client(base_url=url, auth=auth, timeout=60) as client:
        while (question := pool.take()) is not None:
            latency, error = ask(client, question)
            latencies.append(latency)
            if error:
                errors[error] = errors.get(error, 0) + 1
    return {"latencies": latencies, "errors": errors}


def concurrent(url: str, auth: Any, pool: QuestionPool, clients: int, seconds: float, think_s: float = 0.0) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    ran_out = threading.Event()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(n: int) -> None:
        pace = random.Random(n)
        with httpx.Client(base_url=url, auth=auth, timeout=120) as client:
            if think_s:
                time.sleep(pace.uniform(0, think_s))  # people do not all press Enter at once
            while time.monotonic() < stop_at:
                question = pool.take()
                if question is None:
                    ran_out.set()
                    return
                latency, error = ask(client, question)
                if think_s:
                    time.sleep(pace.expovariate(1 / think_s))  # reading the answer before the next question
                with lock:
                    latencies.append(latency)
                    if error:
                        errors[error] = errors.get(error, 0) + 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - started
    return {"elapsed_s": elapsed, "latencies": latencies, "errors": errors, "ran_out": ran_out.is_set()}


def _summary(latencies: list[float], errors: dict[str, int]) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "questions": len(latencies),  # one distinct question per request
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "max_ms": round(max(latencies, default=0) * 1000, 1),
        "errors": sum(errors.values()),
        "error_kinds": errors,
    }


def parse_clients(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--clients wants numbers like 1,5,20, got {text!r}") from exc
    if not levels or any(n < 1 for n in levels):
        raise argparse.ArgumentTypeError(f"--clients wants positive numbers like 1,5,20, got {text!r}")
    return levels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="An already running server; default: start one.")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "civicrag-bench-load")
    parser.add_argument(
        "--clients",
        type=parse_clients,
        default=[20],
        help="Concurrency levels, one phase each, e.g. 1,5,20 (default 20).",
    )
    parser.add_argument("--seconds", type=float, default=60, help="Longest duration of each concurrent phase.")
    parser.add_argument("--single-rounds", type=int, default=30, help="Questions of the single-user phase.")
    parser.add_argument("--warmup", type=int, default=3, help="Questions that load the models (not measured).")
    parser.add_argument(
        "--think-s",
        type=float,
        default=0.0,
        help="Pause of each client between requests (0 = closed loop, as fast as possible).",
    )
    parser.add_argument(
        "--questions",
        type=Path,
        action="append",
        help="A JSONL question set (field 'question'); repeat for several. "
        "Default: eval/sets/ko, en, large-ko, large-en.",
    )
    parser.add_argument("--seed", type=int, default=0, help="Order of the questions.")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--out", type=Path, help="Also write the JSON here (e.g. benchmarks/results/load.json).")
    args = parser.parse_args()

    sources = args.questions or DEFAULT_QUESTIONS
    questions = load_questions(sources)
    random.Random(args.seed).shuffle(questions)
    pool = QuestionPool(questions)
    needed = args.warmup + args.single_rounds + len(args.clients)
    if len(pool) < needed:
        raise SystemExit(f"{len(pool)} distinct questions, fewer than the {needed} the phases need at least")

    auth = (args.user, args.password) if args.user else None
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server(args.data_dir)
    levels: list[dict[str, Any]] = []
    phase_pools: list[QuestionPool] = []
    try:
        index = index_status(url, auth)
        warmup = warm_up(url, auth, pool, args.warmup)
        single_pool = pool.split(args.single_rounds)
        single = single_user(url, auth, single_pool)
        p95_single = percentile(single["latencies"], 95)
        for i, clients in enumerate(args.clients):
            share = len(pool) // (len(args.clients) - i)  # the questions left, dealt evenly to the phases left
            phase_pool = pool.split(share)
            phase_pools.append(phase_pool)
            run = concurrent(url, auth, phase_pool, clients, args.seconds, args.think_s)
            lat = run["latencies"]
            p95 = percentile(lat, 95)
            stopped = None
            if run["ran_out"]:
                stopped = (
                    f"its {share} questions ran out after {run['elapsed_s']:.1f} s of {args.seconds:g} s "
                    "(no question is sent twice)"
                )
                print(f"clients={clients}: {stopped}", file=sys.stderr)
            levels.append(
                {
                    "clients": clients,
                    "think_s": args.think_s,
                    "seconds": round(run["elapsed_s"], 1),
                    "requests_per_s": round(len(lat) / run["elapsed_s"], 2) if run["elapsed_s"] else 0.0,
                    **_summary(lat, run["errors"]),
                    "question_share": share,
                    "stopped_early": stopped,
                    "p95_vs_single_user_p95": round(p95 / p95_single, 2) if p95_single else None,
                }
            )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    report = {
        "server": "given (--url)" if args.url else "started by this run (civicrag serve --open-demo)",
        "index": index,
        "cache": {
            "distinct_questions": True,
            "question_sources": [str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p) for p in sources],
            "questions_available": len(questions),
            "questions_left_unused": len(pool) + sum(len(p) for p in phase_pools),
            "seed": args.seed,
            "warmup": warmup,
            "note": (
                "every request carries a question no earlier request of this run sent, so the server's "
                "query-embedding memo does not answer it"
                + (
                    ""
                    if proc is not None
                    else f"; a server given by --url may hold questions of an earlier run in its memo "
                    f"(the latest {SERVER_MEMO_SIZE} per loaded index)"
                )
            ),
        },
        "single_user": {
            **_summary(single["latencies"], single["errors"]),
            "stopped_early": None if len(single["latencies"]) >= args.single_rounds else "questions ran out",
        },
        "levels": levels,
        "cpus": os.cpu_count(),
    }
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
