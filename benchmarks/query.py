"""Query latency and memory of ``RagService`` on an ingested corpus, at 1x and at Nx synthetic copies.

    .venv/bin/python benchmarks/query.py --data-dir /tmp/cr-full [--scales 1,10] [--threads 2]
        [--questions eval/sets/calibration.jsonl] [--json]

For each scale: retrieval latency (query embedding + both legs + fusion) and end-to-end
extractive answer latency, p50/p95 over the question set (each question once, so the
query-embedding memo never hits), plus the process RSS after loading. The Nx copies are
made in memory from the live chunks (new ids and doc ids, the same texts, vectors with a
little noise so ties do not collapse, a BM25 index rebuilt over N times the token lists):
what grows is what a larger corpus grows, without N times the embedding work.
Targets: p95 < 100 ms retrieval, < 300 ms answer; at 10x no more than 1.5x those.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _synthetic(service: Any, scale: int) -> Any:
    """The service's loaded parts rebuilt over ``scale`` copies of every live chunk."""
    import numpy as np

    from ingest.store.lexical import LexicalIndex
    from rag.catalogue import Catalogue
    from rag.types import ChunkRecord

    base = service.load()
    records = base.catalogue.records
    tokens = [toks for _, _, _, toks in service.store.manifest.live_chunks()]
    matrix = base.legs["dense"].matrix
    rng = np.random.default_rng(0)
    out_records: list[ChunkRecord] = []
    out_tokens: list[list[str]] = []
    blocks = []
    for copy in range(scale):
        for record, toks in zip(records, tokens, strict=True):
            if copy == 0:
                out_records.append(record)
            else:
                meta = dict(record.metadata)
                meta["doc_id"] = f"{record.doc_id}~{copy}"
                meta["title"] = f"{record.title} ({copy})"
                out_records.append(ChunkRecord(f"{record.chunk_id}~{copy}", record.text, meta,
                                               record.valid_from, record.valid_to))
            out_tokens.append(list(toks))
        noise = 0.0 if copy == 0 else 0.02
        block = matrix + rng.normal(0, noise, matrix.shape).astype(np.float32) if noise else matrix
        blocks.append(block / np.linalg.norm(block, axis=1, keepdims=True))
    catalogue = Catalogue.from_records(out_records, base.catalogue.generation)
    lexical = LexicalIndex.build([r.chunk_id for r in out_records], out_tokens, base.catalogue.generation)
    return service.assemble(base.generation, catalogue, out_tokens, np.vstack(blocks).astype(np.float32), lexical)


def run(data_dir: Path, scales: list[int], questions: list[str], threads: int) -> list[dict[str, Any]]:
    from civicrag.settings import load_settings
    from rag.service import RagService

    settings = load_settings(None, data_dir=data_dir, embedder_threads=threads)
    service = RagService(settings)
    rss0 = _rss_mb()
    started = time.perf_counter()
    service.load()
    load_s = time.perf_counter() - started
    results = []
    for scale in scales:
        if scale > 1:
            t = time.perf_counter()
            service.install(_synthetic(service, scale))
            build_s = time.perf_counter() - t
        else:
            build_s = load_s
        loaded = service.load()
        # Warm-up on questions outside the measured set (first-call costs: allocations, caches).
        for q in ("워밍업 질문입니다", "warm-up question"):
            service.ask(q)
        retrieve_ms: list[float] = []
        answer_ms: list[float] = []
        for i, question in enumerate(questions):
            # A new spelling each time: the embedding memo and token caches must not hit.
            q = f"{question} " + " " * (i % 3) + ("?" if scale > 1 else "")
            t = time.perf_counter()
            service.retrieve(q, k=10)
            retrieve_ms.append((time.perf_counter() - t) * 1000)
            q2 = q + "."
            result = service.ask(q2)
            answer_ms.append(result.timings_ms["total"])
        results.append({
            "scale": scale,
            "chunks": len(loaded.catalogue),
            "load_or_build_s": round(build_s, 2),
            "rss_mb": round(_rss_mb(), 1),
            "rss_growth_mb": round(_rss_mb() - rss0, 1),
            "retrieve_p50_ms": round(statistics.median(retrieve_ms), 1),
            "retrieve_p95_ms": round(_pct(retrieve_ms, 0.95), 1),
            "answer_p50_ms": round(statistics.median(answer_ms), 1),
            "answer_p95_ms": round(_pct(answer_ms, 0.95), 1),
            "questions": len(questions),
        })
    service.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--threads", type=int, default=0,
                        help="Query embedder threads; 0 = the service default (1: see RagService.embedder).")
    parser.add_argument("--questions", type=Path, default=REPO / "eval" / "sets" / "calibration.jsonl")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    results = run(args.data_dir, [int(s) for s in args.scales.split(",")], questions, args.threads)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        print(
            f"{r['scale']:>3}x {r['chunks']:>7} chunks  retrieve p50 {r['retrieve_p50_ms']:7.1f} ms  "
            f"p95 {r['retrieve_p95_ms']:7.1f} ms | answer p50 {r['answer_p50_ms']:7.1f} ms  "
            f"p95 {r['answer_p95_ms']:7.1f} ms | RSS {r['rss_mb']:.0f} MB (+{r['rss_growth_mb']:.0f}) "
            f"| load/build {r['load_or_build_s']} s"
        )
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(f"growth {b['scale']}x/1x: retrieve p95 x{b['retrieve_p95_ms'] / max(a['retrieve_p95_ms'], 1e-9):.2f}, "
              f"answer p95 x{b['answer_p95_ms'] / max(a['answer_p95_ms'], 1e-9):.2f}")


if __name__ == "__main__":
    main()
