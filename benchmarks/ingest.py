"""Ingestion benchmark (not a test): pipeline throughput against the embedder's own.

    .venv/bin/python benchmarks/ingest.py [CORPUS_DIR] [--out benchmarks/results/ingest.json]

Measured, each phase in a fresh subprocess so peak memory (max RSS) is its own:
1. ``embed``: the chunks the pipeline produces for CORPUS_DIR (default
   ../shared/corpus/ko/jeju), embedded by the embedder alone, no cache: the floor.
2. ``ingest``: ``civicrag ingest`` of CORPUS_DIR into an empty data directory.
3. ``reingest``: the same command again, nothing changed.
Overhead = ingest seconds / embed seconds - 1 (the goal is under 20%).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "ko" / "jeju"


def _phase_embed(corpus: Path) -> dict:
    """Chunk the corpus exactly as ingest does, then time the embedder alone on those texts."""
    sys.path.insert(0, str(REPO))
    from civicrag.ingest.chunking import chunk_document
    from civicrag.ingest.documents import IngestError
    from civicrag.ingest.embedding import create_embedder
    from civicrag.ingest.loaders import LoadLimits, iter_candidate_files, load_file
    from civicrag.ingest.parsing import parse_document

    from civicrag.settings import load_settings

    settings = load_settings()
    embedder = create_embedder(settings)
    limits = LoadLimits(int(settings.limits.file_mb * 2**20), settings.limits.pdf_pages)
    texts: list[str] = []
    for file, root in iter_candidate_files([corpus]):
        try:
            doc = load_file(file, root, limits)
        except IngestError:
            continue
        chunks = chunk_document(
            doc, parse_document(doc), embedder.count_tokens, settings.ingest.chunk_max_tokens, "v", "h" * 12
        )
        texts.extend(c.embed_text for c in chunks)
    started = time.perf_counter()
    embedder.embed_passages(texts)
    seconds = time.perf_counter() - started
    return {
        "chunks": len(texts),
        "chars": sum(map(len, texts)),
        "seconds": round(seconds, 2),
        "chunks_per_s": round(len(texts) / seconds, 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _run_cli(args: list[str]) -> tuple[dict, float, float]:
    started = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "civicrag"), *args], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"civicrag {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(proc.stdout), seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "ingest.json")
    parser.add_argument("--phase", choices=["embed"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "embed":
        print(json.dumps(_phase_embed(args.corpus)))
        return

    embed = json.loads(
        subprocess.run(
            [sys.executable, __file__, str(args.corpus), "--phase", "embed"],
            capture_output=True, text=True, check=True,
        ).stdout
    )
    with tempfile.TemporaryDirectory() as data_dir:
        first, first_s, rss = _run_cli(["ingest", str(args.corpus), "--json", "--data-dir", data_dir])
        again, again_s, _ = _run_cli(["ingest", str(args.corpus), "--json", "--data-dir", data_dir])
    files = first["added"] + first["updated"] + first["unchanged"] + len(first["failed"])
    result = {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}",
        "corpus": str(args.corpus),
        "files": files,
        "failed": len(first["failed"]),
        "chunks": first["chunks"],
        "embedder_only": embed,
        "ingest": {
            "seconds": round(first_s, 2),
            "chunks_per_s": round(first["chunks"] / first_s, 2),
            "max_rss_mb": round(rss, 1),
        },
        "pipeline_overhead": round(first_s / embed["seconds"] - 1, 3),
        "reingest_unchanged": {
            "seconds": round(again_s, 2),
            "unchanged": again["unchanged"],
            "fraction_of_first_run": round(again_s / first_s, 3),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
