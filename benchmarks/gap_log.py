"""What the content-gap log (ui.gaps) costs an answer.

    .venv/bin/python benchmarks/gap_log.py [--data-dir DIR] [--rounds 5] [--out benchmarks/results/gap-log.json]

Over the sample corpus (``corpus/``, ingested into a temporary folder unless ``--data-dir`` names an index)
with ``answer_threshold = 1.0``, so that nearly every answer is a refusal and is logged (the worst case),
for the writer thread (``background``, what civicrag uses) and for an insert in the answering thread
(``inline``, WAL with synchronous=NORMAL):

- ``answer_ms``: ``RagService.ask(...).to_dict()`` alone, and followed by ``GapLog.refused(...)``, alternated
  question by question over ``--rounds`` rounds (p50/p95 of each, and of the paired difference);
- ``log_call_us``: what ``GapLog.refused`` itself adds to the answer path (build the record, read what the
  refusal names, enqueue or insert), p50/p95 over the real results, 50 times each;
- ``burst_us_per_record_until_written``: 2,000 records logged back to back, until all are on disk;
- ``inline_commit_synchronous_full_us``: the inline insert with SQLite's default synchronous=FULL (an
  fsync per question), for comparison.

Prints one JSON object (and writes it to ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

QUESTIONS = [
    "경차는 공영주차장 주차요금을 감면받나요?", "낡은 소파는 어떻게 버려요?", "대형폐기물 수수료는 얼마인가요?",
    "공영주차장은 몇 시에 문을 닫나요?", "당직 근무자의 수당은 얼마인가요?", "대관 사용료는 언제 내야 하나요?",
    "주차장 정기권은 어떻게 신청하나요?", "음식물 쓰레기는 언제 배출하나요?",
    "강당을 빌리려면 며칠 전에 신청해야 하나요?", "불법 주차 과태료는 얼마인가요?",
    "How long is the mayor's term?", "What are the quiet hours at night?", "How many books can I borrow?",
    "Can I renew a library book online?", "What is the fine for a noise violation?",
    "Who enforces the noise ordinance?", "How late can construction work run on weekdays?",
    "Does the library charge late fees?", "What must a block party permit include?",
    "Is a permit needed for a street party?",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values: list[float], digits: int = 2) -> dict[str, float]:
    return {"p50": round(pct(values, 0.5), digits), "p95": round(pct(values, 0.95), digits),
            "mean": round(sum(values) / len(values), digits), "n": len(values)}


def _measure(service: Any, log: Any, results: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    """Answer latency with and without logging (alternated), and the logging call itself."""
    plain: list[float] = []
    logged: list[float] = []
    try:
        for round_ in range(rounds):
            for i, q in enumerate(QUESTIONS):
                for with_log in ((True, False) if (i + round_) % 2 else (False, True)):
                    start = time.perf_counter()
                    data = service.ask(q).to_dict()
                    if with_log:
                        log.refused(data, "bench", "api")
                    (logged if with_log else plain).append((time.perf_counter() - start) * 1000)
        log.flush()
        call: list[float] = []
        for _ in range(50):
            for data in results:
                start = time.perf_counter()
                log.refused(data, "bench", "api")
                call.append((time.perf_counter() - start) * 1e6)
            log.flush()
        burst = 2000
        start = time.perf_counter()
        for i in range(burst):
            log.refused(results[i % len(results)], "bench", "api")
        log.flush()
        total_us = (time.perf_counter() - start) * 1e6 / burst
        rows = len(log.rows())
    finally:
        log.close()
    return {
        "answer_ms": {"without_log": summary(plain), "with_log": summary(logged),
                      "with_minus_without": summary([a - b for a, b in zip(logged, plain, strict=True)])},
        "log_call_us": summary(call, 1),
        "burst_us_per_record_until_written": round(total_us, 1),
        "rows_written": rows, "dropped": log.dropped,
    }


def _sync_full(path: Path, results: list[dict[str, Any]]) -> dict[str, float]:
    """The inline insert with SQLite's default synchronous=FULL (an fsync per question)."""
    from civicrag.ui.gaps import _COLUMNS, gap_record

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=FULL")
    sql = f"INSERT INTO gaps ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
    times = []
    for i in range(300):
        start = time.perf_counter()
        db.execute(sql, gap_record(results[i % len(results)], user="bench", source="api").values())
        times.append((time.perf_counter() - start) * 1e6)
    db.close()
    return summary(times, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="an index of corpus/ (default: ingest into a temp folder)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from civicrag.ingest.pipeline import ingest_paths
    from civicrag.rag.service import RagService
    from civicrag.ui.gaps import GapLog

    from civicrag.settings import load_settings

    tmp = Path(tempfile.mkdtemp(prefix="gap-bench-"))
    data_dir = args.data_dir or tmp / "index"
    settings = load_settings(None, data_dir=data_dir, answer_threshold=1.0, embedder_threads=1)
    if args.data_dir is None:
        report = ingest_paths(settings, [REPO / "corpus"])
        print(f"ingested corpus/: {report.chunks} chunks in {report.seconds:.0f} s", file=sys.stderr)
    service = RagService(settings)
    service.load()
    out: dict[str, Any] = {
        "what": "content-gap log cost per answer (every refused answer logged)",
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "questions": len(QUESTIONS), "rounds": args.rounds,
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),  # other jobs on the 2 cores
    }
    try:
        results = [service.ask(q).to_dict() for q in QUESTIONS]  # also warms first-call costs
        # A question that names a provision is answered whatever the threshold: only refusals are logged.
        results = [r for r in results if r["refused"]]
        out["refused"] = len(results)
        for mode in ("background", "inline"):
            out[mode] = _measure(service, GapLog(tmp / f"gaps-{mode}.sqlite3", background=mode == "background"),
                                 results, args.rounds)
        out["inline_commit_synchronous_full_us"] = _sync_full(tmp / "gaps-inline.sqlite3", results)
    finally:
        service.close()

    text = json.dumps(out, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
