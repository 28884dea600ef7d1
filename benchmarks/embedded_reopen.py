"""Is it sound for a server to *reopen* its embedded Chroma client on a new generation while `civicrag ingest`
writes the same folder from another process? (The alternative, chosen, is one owner per folder: the CLI
hands its paths to the server — `ui/handoff.py`; `benchmarks/soak.py --chroma embedded` measures that.)

    .venv/bin/python benchmarks/embedded_reopen.py --corpus ../shared/corpus/ko/jeju --docs 12 --ingests 10

A reader process stands in for the server: whenever the manifest's generation moves on it drops its
Chroma client (``reopen``: ``SharedSystemClient.clear_system_cache()``, then a new ``PersistentClient``;
``keep``: the server as it was, the client kept open), reads the vectors of every live chunk by id and
runs a query. Meanwhile ``civicrag ingest`` runs ``--ingests`` times as separate processes, each time on
a changed document. At the end a fresh process checks the folder: every live chunk has its vector and
queries work. Prints and writes a JSON summary (errors by kind, missing vectors, final check).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.soak import SOAK_DOCS, mark  # noqa: E402


def _collection(settings: Any) -> Any:
    from civicrag.ingest.store.vectors import collection_name, open_chroma_client

    client = open_chroma_client(settings)
    return client.get_or_create_collection(
        name=collection_name(settings.chroma.collection, settings.embedder.key),
        embedding_function=None, metadata={"hnsw:space": "cosine"},
    )


def read_all(settings: Any) -> dict[str, Any]:
    """Read every live chunk's vector (one manifest snapshot) and run one query: what a server's reload does."""
    from civicrag.ingest.store.manifest import Manifest

    manifest = Manifest(settings.manifest_path)
    try:
        with manifest.snapshot() as snap:
            generation = snap.generation
            ids = [c for c, _, _, _ in snap.live_chunks()]
    finally:
        manifest.close()
    collection = _collection(settings)
    found, first = 0, None
    for i in range(0, len(ids), 2000):
        got = collection.get(ids=ids[i : i + 2000], include=["embeddings"])
        found += len(got["ids"])
        if first is None and len(got["embeddings"]):
            first = got["embeddings"][0]
    if first is not None:
        collection.query(query_embeddings=[list(first)], n_results=5)
    return {"generation": generation, "live": len(ids), "missing": len(ids) - found}


def reader(data_dir: Path, mode: str, stop: Path, out: Path) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient
    from civicrag.ingest.store.manifest import Manifest

    from civicrag.settings import load_settings

    settings = load_settings(data_dir=data_dir)
    manifest = Manifest(settings.manifest_path)
    seen, reads = -1, []
    while not stop.exists():
        generation = manifest.generation
        if generation != seen or mode == "reopen-always":
            if mode != "keep":
                SharedSystemClient.clear_system_cache()
            try:
                reads.append({"ok": True, **read_all(settings)})
            except Exception as exc:  # what a question would have got: a 500
                reads.append({"ok": False, "generation": generation, "error": f"{type(exc).__name__}: {exc}"[:300]})
            seen = generation
        time.sleep(0.2)
    out.write_text(json.dumps(reads), encoding="utf-8")


def final_check(data_dir: Path) -> dict[str, Any]:
    """A fresh process, nobody else on the folder: every live chunk's vector present, queries answer."""
    code = (
        f"import json,sys; sys.path.insert(0, {str(REPO)!r}); from benchmarks.embedded_reopen import read_all; "
        "from civicrag.settings import load_settings; from ingest.store import IndexStore; "
        f"s = load_settings(data_dir={str(data_dir)!r}); r = read_all(s); st = IndexStore(s); "
        "r['chroma_ids'] = len(st.vectors.all_ids()); r['manifest_ids'] = len(st.manifest.all_chunk_ids()); "
        "r['documents'] = st.manifest.counts()['documents']; print(json.dumps(r))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        return {"ok": False, "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"}
    return {"ok": True, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "ko" / "jeju")
    parser.add_argument("--docs", type=int, default=len(SOAK_DOCS), help="The first N of soak.py's documents.")
    parser.add_argument("--ingests", type=int, default=10)
    parser.add_argument("--mode", choices=["reopen", "reopen-always", "keep"], default="reopen",
                        help="reopen on each new generation; reopen-always: every 0.2 s, to meet the writes; "
                        "keep: the client stays open (the server as it was)")
    parser.add_argument("--changes", type=int, default=1, help="Documents changed per ingest.")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "civicrag-embedded-reopen")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    folder, data = args.work / "docs", args.work / "data"
    folder.mkdir(parents=True)
    files = [args.corpus / f"{d}.md" for d in SOAK_DOCS[: args.docs]]
    for f in files:
        shutil.copy(f, folder / f.name)
    env = {**os.environ, "CIVICRAG_DATA_DIR": str(data)}
    cli = [sys.executable, "-m", "civicrag.cli", "ingest", str(folder), "--json"]
    cache = args.work.with_name(args.work.name + "-embedding-cache.sqlite3")  # kept between runs
    if cache.exists():
        data.mkdir()
        shutil.copy(cache, data / "embedding-cache.sqlite3")
    first = subprocess.run(cli, env=env, capture_output=True, text=True, cwd=REPO)
    assert first.returncode == 0, first.stderr
    shutil.copy(data / "embedding-cache.sqlite3", cache)

    stop, reads_path = args.work / "stop", args.work / "reads.json"
    proc = subprocess.Popen([sys.executable, __file__, "--reader", str(data), args.mode, str(stop), str(reads_path)],
                            cwd=REPO)
    time.sleep(10)  # the reader has opened the folder
    ingests = []
    for i in range(args.ingests):
        for j in range(args.changes):
            target = folder / files[(i * args.changes + j) % len(files)].name
            target.write_text(mark(target.read_text(encoding="utf-8"), f"reopen test {i}"), encoding="utf-8")
        started = time.monotonic()
        done = subprocess.run(cli, env=env, capture_output=True, text=True, cwd=REPO)
        report = json.loads(done.stdout) if done.returncode in (0, 1) and done.stdout.strip() else {}
        ingests.append({"exit": done.returncode, "seconds": round(time.monotonic() - started, 1),
                        "updated": report.get("updated"),
                        "error": done.stderr.strip()[-300:] if done.returncode else ""})
        time.sleep(3)
    time.sleep(5)
    stop.touch()
    proc.wait(timeout=300)
    reads = json.loads(reads_path.read_text(encoding="utf-8"))
    errors = Counter(r["error"][:300] for r in reads if not r["ok"])
    summary = {
        "mode": args.mode,
        "documents": len(files),
        "changed_per_ingest": args.changes,
        "ingests": len(ingests),
        "ingest_exit_codes": dict(Counter(str(i["exit"]) for i in ingests)),
        "reloads": len(reads),
        "reload_errors": sum(1 for r in reads if not r["ok"]),
        "reload_error_kinds": dict(errors),
        "reloads_missing_vectors": sum(1 for r in reads if r.get("missing")),
        "final_check": final_check(data),
        "ingest_runs": ingests,
    }
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--reader":
        reader(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5]))
    else:
        main()
