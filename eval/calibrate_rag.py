"""Measure retrieval legs and fit the refusal model on golden sets (default ``eval/sets/calibration.jsonl``).

    .venv/bin/python -m eval.calibrate_rag --data-dir DIR [--set SET.jsonl]...
        [--variants] [--fit]

Prints, for the answerable questions, hit@1 / hit@5 / MRR@10 of the dense, lexical and
hybrid legs (and, with ``--variants``, of fusion and option variants); for all
questions, refusal precision/recall/F1 of (a) the best-similarity threshold alone
(tuned on the sets themselves, so optimistic), (b) the shipped model and (c) the
content-aware model scored by 10-fold cross-validation, so the number is honest about
questions it was not fitted on. ``--fit`` prints weights fitted on all the given sets, to
paste into ``rag.refusal.DEFAULT_WEIGHTS``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from civicrag.settings import Settings, load_settings
from eval.golden import Gold, GoldenItem, load_sets
from rag.refusal import FEATURES
from rag.service import RagService


def rank_of_gold(retrieved: list[tuple[str, str]], gold: list[Gold]) -> int | None:
    wanted = {(g.doc_id, g.article) for g in gold}
    for i, key in enumerate(retrieved, start=1):
        if key in wanted:
            return i
    return None


def retrieval_metrics(service: RagService, items: list[GoldenItem], leg: str) -> dict[str, float]:
    ranks: list[int | None] = []
    started = time.perf_counter()
    for item in items:
        chunks = service.retrieve(item.question, k=10, leg=leg, as_of=item.as_of)
        ranks.append(rank_of_gold([(c.chunk.doc_id, c.chunk.article) for c in chunks], item.gold))
    n = max(1, len(items))
    return {
        "hit@1": sum(1 for r in ranks if r == 1) / n,
        "hit@5": sum(1 for r in ranks if r and r <= 5) / n,
        "mrr@10": sum(1 / r for r in ranks if r) / n,
        "ms/q": (time.perf_counter() - started) * 1000 / n,
    }


def prf(pred: list[bool], truth: list[bool]) -> dict[str, float]:
    """Scores of the *refusal* decision: positive = refused (not answerable)."""
    tp = sum(p and t for p, t in zip(pred, truth, strict=True))
    fp = sum(p and not t for p, t in zip(pred, truth, strict=True))
    fn = sum(t and not p for p, t in zip(pred, truth, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def _fit(x: np.ndarray, y: np.ndarray, c: float = 1.0) -> tuple[np.ndarray, float]:
    """Logistic regression on the raw features. (Standardising them first scored the same under
    cross-validation but gave flags that almost never fire, like ``empty``, weights of ±10 or more.)"""
    # scikit-learn comes with sentence-transformers; only this maintainer's tool needs it.
    from sklearn.linear_model import LogisticRegression

    # Unweighted classes: the sets hold about as many unanswerable questions, in proportion, as
    # staff are expected to ask; balancing them multiplied the false refusals.
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(x, y)
    return model.coef_[0], float(model.intercept_[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--set", type=Path, action="append", help="Golden set(s); repeatable (default: calibration).")
    parser.add_argument("--variants", action="store_true", help="Also measure fusion/option variants.")
    parser.add_argument("--fit", action="store_true", help="Print refusal weights fitted on all the sets.")
    parser.add_argument("--show", action="store_true", help="Print each question's outcome.")
    args = parser.parse_args()

    items = load_sets(args.set or [Path("eval/sets/calibration.jsonl")])
    settings = load_settings(None, data_dir=args.data_dir)
    service = RagService(settings)
    service.load()
    answerable = [i for i in items if i.answerable]

    print(f"sets: {len(items)} questions, {len(answerable)} answerable")
    for leg in ("dense", "lexical", "hybrid"):
        print(f"  {leg:8}", _fmt(retrieval_metrics(service, answerable, leg)))
    if args.variants:
        _variants(settings, service, answerable)

    # -- refusal -----------------------------------------------------------------------
    rows, truth, dense_top, outcomes = [], [], [], []
    for item in items:
        result = service.ask(item.question, history=item.history or None, as_of=item.as_of)
        assert result.answerability is not None
        feats = result.answerability.features
        rows.append([feats[f] for f in FEATURES])
        truth.append(not item.answerable)
        dense_top.append(feats["dense"])
        cited = {(c.doc_id, c.article) for c in result.citations}
        gold = {(g.doc_id, g.article) for g in item.gold}
        outcomes.append((item, result, bool(cited & gold)))
    x, y = np.array(rows, dtype=float), np.array(truth, dtype=bool)

    best = max(
        ((t, prf([d < t for d in dense_top], truth)) for t in np.arange(0.70, 0.95, 0.0025)),
        key=lambda kv: kv[1]["f1"],
    )
    print(f"refusal, best-similarity threshold alone (tuned on these sets): t={best[0]:.4f} {best[1]}")
    current = [r.refused for _, r, _ in outcomes]
    print(f"refusal, current model (rag.refusal weights, threshold {settings.answer_refusal_threshold}):",
          prf(current, truth))
    # Honest estimate: each question is scored by a model fitted without its fold.
    p_answerable = _cross_validated(x, ~y)
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        print(f"refusal, content model, 10-fold cross-validated, threshold {t}:",
              prf([p < t for p in p_answerable], truth))
    answered = [(it, r, hit) for it, r, hit in outcomes if it.answerable and not r.refused]
    print(f"answered answerable: {len(answered)}/{len(answerable)}; cited gold: {sum(h for _, _, h in answered)}")
    if args.fit:
        w, b = _fit(x, ~y)
        weights = {"bias": round(b, 3), **{f: round(float(v), 3) for f, v in zip(FEATURES, w, strict=True)}}
        print("fitted weights:", json.dumps(weights))
    if args.show:
        for it, r, hit in outcomes:
            mark = "OK " if (r.refused == (not it.answerable)) and (r.refused or hit) else "XX "
            top = r.retrieved[0] if r.retrieved else None
            print(mark, it.id, "refused" if r.refused else "answer", f"p={r.answerability.score:.2f}",
                  f"top={top.doc_id}:{top.article}" if top else "", json.dumps(r.answerability.features))


def _cross_validated(x: np.ndarray, y: np.ndarray, folds: int = 10) -> list[float]:
    """P(answerable) of each row from a model fitted on the other folds (stratified, fixed seed)."""
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
        w, b = _fit(x[train], y[train])
        out[test] = 1 / (1 + np.exp(-(x[test] @ w + b)))
    return [float(p) for p in out]


def _variants(settings: Settings, base: RagService, items: list[GoldenItem]) -> None:
    options: list[tuple[str, dict[str, Any]]] = [
        ("rrf fusion", {"retrieval_fusion": "rrf"}),
        ("rrf k=60", {"retrieval_fusion": "rrf", "retrieval_rrf_k": 60}),
        ("no doc boost", {"retrieval_doc_boost": 0.0}),
        ("doc boost 2", {"retrieval_doc_boost": 2.0}),
        ("lexical weight 0.5", {"retrieval_lexical_weight": 0.5}),
        ("neighbours 1", {"retrieval_neighbours": 1}),
        ("no fact boost", {"retrieval_fact_boost": 0.0}),
        ("fact boost 0.5", {"retrieval_fact_boost": 0.5}),
        ("+use-m3 leg", {"retrieval_second_dense": "use-m3"}),
    ]
    for name, overrides in options:
        variant = settings.model_copy(update=overrides)
        service = RagService(variant, store=base.store, embedder=base.embedder)
        try:
            service.load()
        except Exception as exc:
            print(f"  {name:20} unavailable: {exc}")
            continue
        print(f"  {name:20}", _fmt(retrieval_metrics(service, items, "hybrid")))


def _fmt(metrics: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.3f}" if k != "ms/q" else f"{k}={v:.1f}" for k, v in metrics.items())


if __name__ == "__main__":
    main()
