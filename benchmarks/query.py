"""Query latency and memory of ``RagService`` on an ingested corpus, at 1x and at Nx synthetic copies.

    .venv/bin/python benchmarks/query.py --data-dir /tmp/cr-full [--scales 1,10] [--threads 2]
        [--questions eval/sets/calibration.jsonl] [--json]

For each scale: retrieval latency (query embedding + both legs + fusion) and end-to-end
extractive answer latency, p50/p95 over the question set, plus the process RSS after loading.
Each distinct question is measured once per scale, and no measured call is answered from the
query-embedding memo: every scale has fresh retrieval parts (a fresh memo), the retrieval call
sends the question as written and the answer call the same words plus one trailing space (another
memo key; the model still embeds it, to a vector a hair from the first), and the script counts the
calls in which the dense leg asked for a vector and the model did not run ("embedding_memo_hits",
expected 0). Repeated questions of the set are measured once.
The Nx copies are made in memory from the live chunks (new ids and doc ids, the same texts,
vectors with a little noise so ties do not collapse, the same per-unit vectors, a BM25 index
rebuilt over N times the token lists): what grows is what a larger corpus grows, without N times
the embedding work. Every copy is made from the index as loaded (never from an earlier copy), its
token lists paired with the loaded chunks by chunk id, all read in one snapshot of the manifest;
the run stops if an ingest changes the index meanwhile.
Targets: p95 < 100 ms retrieval, < 300 ms answer; at 10x no more than 1.5x those.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
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


class _ModelCalls:
    """Wraps the embedder's ``embed_query``: counts the queries the model really embedded."""

    def __init__(self, embed: Callable[[str], Any]):
        self._embed = embed
        self.count = 0

    def __call__(self, text: str) -> Any:
        self.count += 1
        return self._embed(text)


class _VectorRequests:
    """Wraps a dense leg's memoised ``_embed``: counts the query vectors the leg asked for."""

    def __init__(self, memoised: Callable[[str], Any]):
        self._memoised = memoised
        self.count = 0

    def __call__(self, text: str) -> Any:
        self.count += 1
        return self._memoised(text)


def _requests_of(loaded: Any) -> _VectorRequests:
    dense = loaded.legs["dense"]
    if not isinstance(dense._embed, _VectorRequests):
        dense._embed = _VectorRequests(dense._embed)
    return dense._embed


def _synthetic(service: Any, base: Any, scale: int) -> Any:
    """The service's parts rebuilt over ``scale`` copies of every live chunk of ``base`` (the loaded index).

    The catalogue's rows, the dense matrix's rows and the unit vectors come from ``base``; the token lists
    are read from the manifest in one snapshot of the same generation and paired with the rows by chunk id.
    """
    import numpy as np
    from civicrag.ingest.store.lexical import LexicalIndex
    from civicrag.rag.catalogue import Catalogue
    from civicrag.rag.rerank.candidates import UnitVectors
    from civicrag.rag.types import ChunkRecord

    records = base.catalogue.records
    with service.store.manifest.snapshot() as manifest:
        if manifest.generation != base.generation:
            raise SystemExit(
                f"the index changed while benchmarking (generation {base.generation} -> {manifest.generation}): "
                "run on an index no ingest is writing to"
            )
        tokens_of = {chunk_id: toks for chunk_id, _, _, toks in manifest.live_chunks()}
        empty_documents = manifest.empty_documents()
    missing = [r.chunk_id for r in records if r.chunk_id not in tokens_of]
    if missing:
        raise SystemExit(f"{len(missing)} loaded chunks have no row in the manifest (e.g. {missing[0]})")
    tokens = [tokens_of[r.chunk_id] for r in records]
    matrix = base.legs["dense"].matrix
    if matrix.shape[0] != len(records):
        raise SystemExit(f"{matrix.shape[0]} dense vectors for {len(records)} chunks")
    rng = np.random.default_rng(0)
    out_records: list[ChunkRecord] = []
    out_tokens: list[list[str]] = []
    blocks = []
    attachments = dict(base.catalogue.attachments)
    for copy in range(scale):
        for record, toks in zip(records, tokens, strict=True):
            if copy == 0:
                out_records.append(record)
            else:
                meta = dict(record.metadata)
                meta["doc_id"] = f"{record.doc_id}~{copy}"
                meta["title"] = f"{record.title} ({copy})"
                out_records.append(
                    ChunkRecord(f"{record.chunk_id}~{copy}", record.text, meta, record.valid_from, record.valid_to)
                )
            out_tokens.append(list(toks))
        if copy:
            attachments.update(
                {
                    (f"{doc_id}~{copy}", version): titles
                    for (doc_id, version), titles in base.catalogue.attachments.items()
                }
            )
        noise = 0.0 if copy == 0 else 0.02
        block = matrix + rng.normal(0, noise, matrix.shape).astype(np.float32) if noise else matrix
        blocks.append(block / np.linalg.norm(block, axis=1, keepdims=True))
    catalogue = Catalogue.from_records(out_records, base.catalogue.generation)
    catalogue.attachments = attachments
    units = base.decider.unit_vectors
    out_units = None
    if units is not None:
        # Row r of copy c is row c * len(records) + r: the same units, the offsets shifted by whole copies.
        n_units = len(units.matrix)
        out_units = UnitVectors(
            np.vstack([units.matrix] * scale),
            np.concatenate([units.offsets + copy * n_units for copy in range(scale)]),
            np.tile(units.counts, scale),
            list(units.tokens) * scale,
        )
    lexical = LexicalIndex.build([r.chunk_id for r in out_records], out_tokens, base.catalogue.generation)
    return service.assemble(
        base.generation,
        catalogue,
        out_tokens,
        np.vstack(blocks).astype(np.float32),
        lexical,
        empty_documents=empty_documents,
        unit_vectors=out_units,
    )


def load_questions(path: Path) -> tuple[list[str], int]:
    """The distinct questions of a JSONL set (field ``question``), in file order, and how many repeats were dropped.

    Two questions that differ only in case or spacing count as one (the memo is keyed on the text)."""
    seen: set[str] = set()
    out: list[str] = []
    dropped = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        question = str(json.loads(line)["question"]).strip()
        key = " ".join(question.split()).casefold()
        if not question or key in seen:
            dropped += 1
            continue
        seen.add(key)
        out.append(question)
    return out, dropped


def run(data_dir: Path, scales: list[int], questions: list[str], threads: int) -> list[dict[str, Any]]:
    from civicrag.rag.service import RagService

    from civicrag.settings import load_settings

    settings = load_settings(None, data_dir=data_dir, embedder_threads=threads)
    service = RagService(settings)
    model = _ModelCalls(service.embedder.embed_query)
    service.embedder.embed_query = model  # the dense legs built from here on call the model through it
    rss0 = _rss_mb()
    started = time.perf_counter()
    real = service.load()
    load_s = time.perf_counter() - started
    results = []
    for scale in scales:
        if scale > 1:
            t = time.perf_counter()
            parts = _synthetic(service, real, scale)
            build_s = time.perf_counter() - t
        else:
            parts, build_s = real, load_s
        service.install(parts)
        loaded = service.load()
        if loaded is not parts:
            raise SystemExit("the index changed while benchmarking (a reload replaced the parts under test)")
        requests = _requests_of(loaded)
        # Warm-up on questions outside the measured set (first-call costs: allocations, Kiwi, the model).
        for q in ("워밍업 질문입니다", "warm-up question"):
            service.ask(q)
        retrieve_ms: list[float] = []
        answer_ms: list[float] = []
        memo_hits = 0
        for question in questions:
            for call in ("retrieve", "answer"):
                asked, ran = requests.count, model.count
                t = time.perf_counter()
                if call == "retrieve":
                    service.retrieve(question, k=10)
                    retrieve_ms.append((time.perf_counter() - t) * 1000)
                else:
                    # One trailing space: another memo key than the retrieval call's, the same words.
                    result = service.ask(question + " ")
                    answer_ms.append(result.timings_ms["total"])
                if requests.count > asked and model.count == ran:
                    memo_hits += 1
        if service.load() is not parts:
            raise SystemExit(f"the index changed while benchmarking scale {scale}: its figures are not of it")
        results.append(
            {
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
                "embedding_memo_hits": memo_hits,
            }
        )
    service.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--scales", default="1,10")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="Query embedder threads; 0 = the service default (1: see RagService.embedder).",
    )
    parser.add_argument("--questions", type=Path, default=REPO / "eval" / "sets" / "calibration.jsonl")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    questions, dropped = load_questions(args.questions)
    if not questions:
        raise SystemExit(f"no questions in {args.questions}")
    if dropped:
        print(f"{dropped} repeated or empty questions of {args.questions} left out", file=sys.stderr)
    scales = list(dict.fromkeys(int(s) for s in args.scales.split(",") if s.strip()))  # each scale once
    if any(s < 1 for s in scales):
        raise SystemExit("--scales: positive integers, e.g. 1,10")
    results = run(args.data_dir, scales, questions, args.threads)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        print(
            f"{r['scale']:>3}x {r['chunks']:>7} chunks  retrieve p50 {r['retrieve_p50_ms']:7.1f} ms  "
            f"p95 {r['retrieve_p95_ms']:7.1f} ms | answer p50 {r['answer_p50_ms']:7.1f} ms  "
            f"p95 {r['answer_p95_ms']:7.1f} ms | RSS {r['rss_mb']:.0f} MB (+{r['rss_growth_mb']:.0f}) "
            f"| load/build {r['load_or_build_s']} s | {r['questions']} questions, "
            f"{r['embedding_memo_hits']} embedding memo hits"
        )
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(
            f"growth {b['scale']}x/1x: retrieve p95 x{b['retrieve_p95_ms'] / max(a['retrieve_p95_ms'], 1e-9):.2f}, "
            f"answer p95 x{b['answer_p95_ms'] / max(a['answer_p95_ms'], 1e-9):.2f}"
        )


if __name__ == "__main__":
    main()
