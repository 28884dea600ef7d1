"""Load test of ``POST /api/ask``: N concurrent clients on loopback for a fixed time.

    .venv/bin/python benchmarks/load.py                       # own server over $TMPDIR/civicrag-bench-load
    .venv/bin/python benchmarks/load.py --data-dir DIR --clients 20 --seconds 60
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:7860 --user U --password P

Without ``--url`` it ingests the sample corpus into the data directory when that holds no
index, starts ``civicrag serve --open-demo`` on a free loopback port, and stops it after.
First it measures single-user latency (one client, sequential), then the concurrent run.
Prints one JSON object: requests per second, p50/p95/max latency, errors, and the p95 ratio
against the single-user p95 (goal: zero errors, ratio within 3).
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
QUESTIONS = [
    "경차는 공영주차장 주차요금을 감면받나요?",
    "대형폐기물은 어떻게 버리나요?",
    "당직수당은 얼마인가요?",
    "공공시설 대관 신청은 언제까지 해야 하나요?",
    "How long is the mayor's term?",
    "What are the quiet hours in the noise ordinance?",
    "과태료는 얼마인가요?",
    "Can I return library books late?",
]


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
            check=False, cwd=REPO,
        )
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "civicrag.cli", "serve", "--open-demo", "--port", str(port),
         "--data-dir", str(data_dir)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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


def single_user(url: str, auth: Any, rounds: int) -> list[float]:
    with httpx.Client(base_url=url, auth=auth, timeout=60) as client:
        for q in QUESTIONS:  # warm-up: load indexes, fill caches
            ask(client, q)
        return [ask(client, QUESTIONS[i % len(QUESTIONS)])[0] for i in range(rounds)]


def concurrent(url: str, auth: Any, clients: int, seconds: float, think_s: float = 0.0) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(n: int) -> None:
        pace = random.Random(n)
        with httpx.Client(base_url=url, auth=auth, timeout=120) as client:
            if think_s:
                time.sleep(pace.uniform(0, think_s))  # people do not all press Enter at once
            i = n
            while time.monotonic() < stop_at:
                latency, error = ask(client, QUESTIONS[i % len(QUESTIONS)])
                i += 1
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
    return {"requests": len(latencies), "elapsed_s": round(elapsed, 1), "latencies": latencies, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="An already running server; default: start one.")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "civicrag-bench-load")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--single-rounds", type=int, default=30)
    parser.add_argument("--think-s", type=float, default=0.0,
                        help="Pause of each client between requests (0 = closed loop, as fast as possible).")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--out", type=Path, help="Also write the JSON here (e.g. benchmarks/results/load.json).")
    args = parser.parse_args()

    auth = (args.user, args.password) if args.user else None
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server(args.data_dir)
    try:
        single = single_user(url, auth, args.single_rounds)
        run = concurrent(url, auth, args.clients, args.seconds, args.think_s)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    lat = run["latencies"]
    p95_single = percentile(single, 95)
    p95 = percentile(lat, 95)
    report = {
        "clients": args.clients,
        "think_s": args.think_s,
        "seconds": run["elapsed_s"],
        "requests": run["requests"],
        "requests_per_s": round(run["requests"] / run["elapsed_s"], 2) if run["elapsed_s"] else 0.0,
        "p50_ms": round(percentile(lat, 50) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(max(lat, default=0) * 1000, 1),
        "errors": sum(run["errors"].values()),
        "error_kinds": run["errors"],
        "single_user_p50_ms": round(percentile(single, 50) * 1000, 1),
        "single_user_p95_ms": round(p95_single * 1000, 1),
        "p95_vs_single_user_p95": round(p95 / p95_single, 2) if p95_single else None,
        "cpus": os.cpu_count(),
    }
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
