"""``civicrag train``: fit the learned decisions on the train split and write a versioned artefact.

    civicrag train SET.jsonl... --data-dir INDEX [--out DIR] [--splits DIR] [--query-adapter FILE]

1. Every question of the sets is assigned its split by the unit of its anchor provision
   (``eval.splits``): only *train* questions fit anything; *dev* chooses the answer threshold
   and reports; *test* is never read here.
2. Each train question runs through the service exactly as at answer time (follow-up rewrite,
   retrieval, candidate provisions, ``rag.rerank.features``), with a stand-in model, so the
   features are the ones the fitted models will meet.
3. Candidate model (LightGBM, binary: the candidate is a gold provision), its boosting rounds
   chosen by 5-fold cross-validation grouped by split unit.
4. Answerability: out-of-fold candidate probabilities re-rank each train question; LightGBM over
   the lead's ``ANSWER_FEATURES`` learns P(the question is answerable) (the ``similarity`` kind: a
   logistic calibration).
5. Unit model (LightGBM): among the gold provision's units, the one holding the question's facts.
6. Threshold: on dev, the largest refusal F1 with false refusals at most ``--max-false-refusals``
   (5%) of the answerable questions.

Deterministic for the same data (fixed seeds, one thread). The artefact's ``meta.json`` records the
data hash, the split, the counts, the cost and the dev figures.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from civicrag.eval.golden import GoldenItem, load_sets
from civicrag.eval.labels import article_key, gold_keys
from civicrag.eval.provisions import contains_fact
from civicrag.eval.splits import SPLIT_DIR, item_split, load_splits
from civicrag.rag.facts import FactKind
from civicrag.rag.rerank.features import (
    ANSWER_FEATURES,
    CANDIDATE_FEATURES,
    UNIT_FEATURES,
    answer_features,
    matrix,
    unit_features,
)
from civicrag.rag.rerank.model import Calibration, UntrainedModels, save
from civicrag.rag.rerank.model import predict as predict_rows

SEED = 20261203
# num_leaves 7 / min_data_in_leaf 40 chosen on the Korean dev split over 15 / 20 (article hit@1 0.818 vs 0.802).
CANDIDATE_PARAMS: dict[str, Any] = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 40,
    "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "seed": SEED, "deterministic": True, "force_row_wise": True, "num_threads": 1, "verbose": -1,
}
UNIT_PARAMS: dict[str, Any] = {**CANDIDATE_PARAMS, "num_leaves": 7, "min_data_in_leaf": 10}
# Answerability: trees over the lead's answer features, chosen on the dev split over a logistic calibration
# (refusal F1 0.497 vs 0.381 at <= 5% false refusals, the same leads) and two other tree sizes (0.389, 0.478).
ANSWER_PARAMS: dict[str, Any] = {**CANDIDATE_PARAMS, "num_leaves": 7, "min_data_in_leaf": 60}
ANSWER_ROUNDS = 300
MAX_ROUNDS = 600


@dataclass
class Slot:
    """What training keeps of a candidate provision (picklable, no live objects)."""

    doc_id: str
    article: str
    pinned: bool
    rank: int
    score: float = 0.0


@dataclass
class Example:
    """One question as the models see it."""

    item: GoldenItem
    split: str
    unit: str
    text: str  # the standalone question the service embedded
    kind: FactKind
    candidates: list[Slot]
    rows: list[dict[str, float]]
    labels: list[int]
    topic_ok: list[bool]  # per candidate: shares a topic word with the question (rule 2)
    vector: np.ndarray | None = None  # the query embedding features were computed with
    unit_vectors: list[np.ndarray] = field(default_factory=list)  # per candidate, its units' vectors
    unit_rows: list[dict[str, float]] = field(default_factory=list)  # the gold provision's units
    unit_labels: list[int] = field(default_factory=list)  # ... 1 where the unit holds a fact

    @property
    def gold_found(self) -> bool:
        return any(self.labels)


def collect(service: Any, items: Sequence[GoldenItem], splits: dict[str, str], wanted: set[str],
            progress: Callable[[int, int], None] | None = None, query_adapter: Path | None = None) -> list[Example]:
    """Features of every question whose split is in ``wanted``, through the service's own code path
    (queries embedded with ``query_adapter``'s tuned encoder when given)."""
    service.use_models(UntrainedModels(query_adapter))
    loaded = service.load()
    catalogue = loaded.catalogue
    headings: dict[tuple[str, str], str] = {}
    for record in catalogue.records:
        headings.setdefault((record.doc_id, article_key(record.doc_id, record.article)[1]),
                            str(record.metadata.get("heading_path", "")))

    def heading_of(doc: str, article: str) -> str:
        return headings.get((doc, article_key(doc, article)[1]), "")

    examples: list[Example] = []
    for done, item in enumerate(items):
        if progress:
            progress(done, len(items))
        if item.extra.get("needs_review"):
            continue  # a 👎 from the chat nobody has labelled yet (eval.feedback_set)
        unit, split = item_split(item.extra, [(g.doc_id, g.article) for g in item.gold], heading_of, splits)
        if split not in wanted:
            continue
        query = service.query(item.question, item.history or None, item.as_of)
        chunks, vector = service.retrieve_for(query)
        decider = loaded.decider
        candidates, rows, view = decider.candidates(query, chunks, vector)
        gold = set(gold_keys(item.gold_dicts()))
        labels = [1 if article_key(c.doc_id, c.article) in gold else 0 for c in candidates]
        topic_ok = [not query.topic or any(t in decider.tokens_of(c) for t in query.topic) for c in candidates]
        example = Example(
            item, split, unit or "", query.text, query.kind,
            [Slot(c.doc_id, c.article, c.pinned, c.rank) for c in candidates], rows, labels, topic_ok, vector,
            [np.asarray([u.vector for u in c.units if u.vector is not None], dtype=np.float32) for c in candidates],
        )
        if item.facts and any(labels):
            lead = candidates[labels.index(1)]
            example.unit_rows = unit_features(view, lead.units)
            example.unit_labels = [
                1 if any(contains_fact([u.text], f, item.lang == "en") for f in item.facts) else 0 for u in lead.units
            ]
        examples.append(example)
    return examples


# -- fitting ----------------------------------------------------------------------------------------

def _dataset(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for e in examples for r in e.rows]
    labels = [y for e in examples for y in e.labels]
    return matrix(rows, CANDIDATE_FEATURES), np.asarray(labels, dtype=np.float64)


def _folds(examples: Sequence[Example], k: int = 5) -> list[list[int]]:
    """Question indices per fold, whole split units kept together (a document's questions never straddle)."""
    units = sorted({e.unit for e in examples})
    order = np.random.default_rng(SEED).permutation(len(units))
    fold_of = {units[j]: i % k for i, j in enumerate(order)}
    return [[n for n, e in enumerate(examples) if fold_of[e.unit] == f] for f in range(k)]


def fit_candidates(examples: Sequence[Example]) -> tuple[Any, int, list[np.ndarray]]:
    """The candidate model, its rounds (by grouped CV) and the out-of-fold probabilities per question."""
    import lightgbm

    folds = [f for f in _folds(examples, min(5, len({e.unit for e in examples}))) if f]
    oof: list[np.ndarray] = [np.zeros(len(e.rows)) for e in examples]
    best_rounds: list[int] = []
    if len(folds) < 2:
        # One split unit (a toy set): nothing to cross-validate on; fixed rounds, in-fold probabilities.
        x, y = _dataset(examples)
        final = lightgbm.train(CANDIDATE_PARAMS, lightgbm.Dataset(x, y), num_boost_round=100)
        return final, 100, [final.predict(matrix(e.rows, CANDIDATE_FEATURES)) if e.rows else np.zeros(0)
                            for e in examples]
    for fold in folds:
        held = set(fold)
        train = [e for n, e in enumerate(examples) if n not in held]
        valid = [examples[n] for n in fold]
        x, y = _dataset(train)
        vx, vy = _dataset(valid)
        if not len(vy) or not len(y):
            continue
        booster = lightgbm.train(
            CANDIDATE_PARAMS, lightgbm.Dataset(x, y), num_boost_round=MAX_ROUNDS,
            valid_sets=[lightgbm.Dataset(vx, vy)], callbacks=[lightgbm.early_stopping(50, verbose=False)],
        )
        best_rounds.append(booster.best_iteration or MAX_ROUNDS)
        for n in fold:
            if examples[n].rows:
                oof[n] = booster.predict(matrix(examples[n].rows, CANDIDATE_FEATURES),
                                         num_iteration=booster.best_iteration)
    rounds = max(20, round(float(np.mean(best_rounds)))) if best_rounds else 100
    x, y = _dataset(examples)
    final = lightgbm.train(CANDIDATE_PARAMS, lightgbm.Dataset(x, y), num_boost_round=rounds)
    return final, rounds, oof


def ranked(example: Example, probabilities: np.ndarray) -> list[int]:
    """Candidate indices as the service orders them: a named provision first, then by probability."""
    return sorted(range(len(example.candidates)),
                  key=lambda i: (not example.candidates[i].pinned, -probabilities[i], example.candidates[i].rank))


def answer_rows(example: Example, probabilities: np.ndarray) -> tuple[dict[str, float], int, int]:
    """(answer features, label = the lead is gold, index of the lead) for one question and its probabilities."""
    order = ranked(example, probabilities)
    for i, c in enumerate(example.candidates):
        c.score = float(probabilities[i])
    features = answer_features(example.kind, [example.candidates[i] for i in order],  # type: ignore[misc]
                               [example.rows[i] for i in order])
    return features, example.labels[order[0]] if order else 0, order[0] if order else -1


#: The neural reranker alone (``--kind similarity``) reads only the tuned encoder's cosines.
SIMILARITY_CANDIDATE = ("unit_max", "unit_gap")
SIMILARITY_UNIT = ("cos", "cos_gap")
SIMILARITY_ANSWER = ("p1", "logit1", "margin")


def fit_calibration(rows: Sequence[dict[str, float]], labels: Sequence[int],
                    names: Sequence[str] = ANSWER_FEATURES) -> Calibration:
    """Logistic regression on standardised features (sklearn, deterministic lbfgs)."""
    from sklearn.linear_model import LogisticRegression

    x = matrix(rows, names)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit((x - mean) / scale, np.asarray(labels))
    return Calibration(
        weights={n: round(float(w), 6) for n, w in zip(names, model.coef_[0], strict=True)},
        bias=round(float(model.intercept_[0]), 6),
        mean={n: round(float(m), 6) for n, m in zip(names, mean, strict=True)},
        scale={n: round(float(s), 6) for n, s in zip(names, scale, strict=True)},
    )


def fit_answer(rows: Sequence[dict[str, float]], labels: Sequence[int]) -> Any:
    """LightGBM over ANSWER_FEATURES: the probability that the question is answerable."""
    import lightgbm

    x, y = matrix(rows, ANSWER_FEATURES), np.asarray(labels, dtype=np.float64)
    return lightgbm.train(ANSWER_PARAMS, lightgbm.Dataset(x, y), num_boost_round=ANSWER_ROUNDS)


def fit_units(examples: Sequence[Example]) -> tuple[Any, int]:
    import lightgbm

    rows = [r for e in examples for r in e.unit_rows]
    labels = [y for e in examples for y in e.unit_labels]
    if not rows or len(set(labels)) < 2:
        raise ValueError("no unit of a gold provision holds the facts of any train question: cannot fit the unit model")
    x, y = matrix(rows, UNIT_FEATURES), np.asarray(labels, dtype=np.float64)
    rounds = 150
    return lightgbm.train(UNIT_PARAMS, lightgbm.Dataset(x, y), num_boost_round=rounds), rounds


# -- choosing the threshold on dev ------------------------------------------------------------------

@dataclass
class DevOutcome:
    answerable: bool
    lead_gold: bool
    pinned: bool
    topic_ok: bool
    p: float


def predict(model: Any, rows: Sequence[dict[str, float]]) -> np.ndarray:
    """Candidate probabilities, as the service computes them."""
    return predict_rows(model, rows, CANDIDATE_FEATURES)


def dev_outcomes(examples: Sequence[Example], candidate_model: Any, answer_model: Any) -> list[DevOutcome]:
    out = []
    for e in examples:
        probabilities = predict(candidate_model, e.rows)
        if not e.rows:
            out.append(DevOutcome(e.item.answerable, False, False, False, 0.0))
            continue
        features, label, lead = answer_rows(e, probabilities)
        p = float(predict_rows(answer_model, [features], ANSWER_FEATURES)[0])
        out.append(DevOutcome(e.item.answerable, bool(label), e.candidates[lead].pinned, e.topic_ok[lead], p))
    return out


def refusal_table(outcomes: Sequence[DevOutcome], threshold: float) -> dict[str, float]:
    """Refusal precision/recall/F1 (positive = refused, truth = unanswerable), false-refusal and wrong-lead rates."""
    tp = fp = fn = 0
    answerable = sum(1 for o in outcomes if o.answerable)
    false_refusals = wrong_leads = right = 0
    for o in outcomes:
        answered = o.pinned or (o.topic_ok and o.p >= threshold)
        refused = not answered
        if refused and not o.answerable:
            tp += 1
        elif refused and o.answerable:
            fp += 1
            false_refusals += 1
        elif not refused and not o.answerable:
            fn += 1
        if answered and o.answerable:
            if o.lead_gold:
                right += 1
            else:
                wrong_leads += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": threshold, "refusal_precision": round(precision, 4), "refusal_recall": round(recall, 4),
        "refusal_f1": round(f1, 4), "false_refusal_rate": round(false_refusals / answerable, 4) if answerable else 0.0,
        "wrong_lead_rate": round(wrong_leads / answerable, 4) if answerable else 0.0,
        "lead_right_answered": round(right / answerable, 4) if answerable else 0.0,
    }


def choose_threshold(outcomes: Sequence[DevOutcome], max_false_refusals: float) -> dict[str, float]:
    """The threshold with the best refusal F1 among those refusing at most ``max_false_refusals`` of the
    answerable questions (ties: the lower threshold, which answers more)."""
    best: dict[str, float] | None = None
    for t in np.round(np.arange(0.02, 0.99, 0.01), 2):
        row = refusal_table(outcomes, float(t))
        if row["false_refusal_rate"] > max_false_refusals:
            continue
        if best is None or row["refusal_f1"] > best["refusal_f1"]:
            best = row
    return best or refusal_table(outcomes, 0.02)


# -- the command ------------------------------------------------------------------------------------

def data_hash(paths: Sequence[Path], split_dirs: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in [*paths, *(f for d in split_dirs for f in sorted(Path(d).glob("*.txt")))]:
        digest.update(Path(path).name.encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def train(
    service: Any,
    sets: Sequence[Path],
    out: Path,
    split_dir: Path | Sequence[Path] = SPLIT_DIR,
    max_false_refusals: float = 0.05,
    note: str = "",
    log: Callable[[str], None] = print,
    query_adapter: Path | None = None,
    kind: str = "features",
) -> dict[str, Any]:
    started = time.perf_counter()
    items = load_sets(list(sets))
    split_dirs = [split_dir] if isinstance(split_dir, Path) else list(split_dir)
    splits: dict[str, str] = {}
    for folder in split_dirs:
        splits.update(load_splits(folder))
    examples = collect(service, items, splits, {"train", "dev"}, query_adapter=query_adapter)
    train_set = [e for e in examples if e.split == "train"]
    dev_set = [e for e in examples if e.split == "dev"]
    if not train_set or not dev_set:
        raise ValueError(f"need train and dev questions, got {len(train_set)} and {len(dev_set)}: check the splits")
    t_collect = time.perf_counter()
    log(f"features of {len(train_set)} train and {len(dev_set)} dev questions in {t_collect - started:.0f} s")
    if kind == "similarity":
        candidate_model: Any = fit_calibration([r for e in train_set for r in e.rows],
                                               [y for e in train_set for y in e.labels], SIMILARITY_CANDIDATE)
        rounds, oof = 0, [predict(candidate_model, e.rows) for e in train_set]
        unit_model: Any = fit_calibration([r for e in train_set for r in e.unit_rows],
                                          [y for e in train_set for y in e.unit_labels], SIMILARITY_UNIT)
        unit_rounds = 0
    else:
        candidate_model, rounds, oof = fit_candidates(train_set)
        unit_model, unit_rounds = fit_units(train_set)
    # Answerability is fitted to "the question is answerable" rather than "the lead is gold": on the Korean
    # dev split the former gave refusal F1 0.34 against 0.19 at false refusals <= 5%, with the same leads.
    rows, labels = [], []
    for e, p in zip(train_set, oof, strict=True):
        if e.rows:
            features, _, _ = answer_rows(e, p)
            rows.append(features)
            labels.append(int(e.item.answerable))
    answer_model: Any = (fit_calibration(rows, labels, SIMILARITY_ANSWER) if kind == "similarity"
                         else fit_answer(rows, labels))
    outcomes = dev_outcomes(dev_set, candidate_model, answer_model)
    chosen = choose_threshold(outcomes, max_false_refusals)
    seconds = time.perf_counter() - started
    answerable_train = [e for e in train_set if e.item.answerable]
    answerable_dev = [e for e in dev_set if e.item.answerable]
    dev_hit1 = _hit_at_1(dev_set, candidate_model)
    meta = {
        "kind": kind,
        "trained": time.strftime("%Y-%m-%d"),
        "note": note,
        "sets": [str(p) for p in sets],
        "data_sha256": data_hash(sets, split_dirs),
        "split": {"train": len(train_set), "dev": len(dev_set),
                  "train_units": len({e.unit for e in train_set}), "dev_units": len({e.unit for e in dev_set})},
        "train": {
            "questions": len(train_set), "answerable": len(answerable_train),
            "gold_in_candidates": round(sum(e.gold_found for e in answerable_train) / max(1, len(answerable_train)), 4),
            "candidate_rows": sum(len(e.rows) for e in train_set), "candidate_rounds": rounds,
            "unit_rows": sum(len(e.unit_rows) for e in train_set), "unit_rounds": unit_rounds,
            "seconds": round(seconds, 1), "seconds_features": round(t_collect - started, 1),
        },
        "dev": {
            "questions": len(dev_set), "answerable": len(answerable_dev),
            "gold_in_candidates": round(sum(e.gold_found for e in answerable_dev) / max(1, len(answerable_dev)), 4),
            "article_hit@1": dev_hit1, **chosen,
        },
        "threshold": chosen["threshold"],
        "max_false_refusals": max_false_refusals,
    }
    save(out, candidate_model, unit_model, answer_model, meta, query_adapter)
    log(f"wrote {out}: dev hit@1 {dev_hit1}, threshold {chosen['threshold']}, refusal F1 {chosen['refusal_f1']}, "
        f"false refusals {chosen['false_refusal_rate']}, wrong leads {chosen['wrong_lead_rate']}")
    return meta


def _hit_at_1(examples: Sequence[Example], model: Any) -> float:
    answerable = [e for e in examples if e.item.answerable]
    hits = 0
    for e in answerable:
        if not e.rows:
            continue
        order = ranked(e, predict(model, e.rows))
        hits += e.labels[order[0]]
    return round(hits / len(answerable), 4) if answerable else math.nan


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m civicrag.eval.train`` (also ``civicrag train``)."""
    import argparse

    from civicrag.rag.service import RagService

    from civicrag.settings import ConfigError, load_settings

    parser = argparse.ArgumentParser(prog="civicrag train", description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path, help="question sets (JSONL) with anchors")
    parser.add_argument("--data-dir", type=Path, required=True, help="an index of the corpus the sets were written on")
    parser.add_argument("--out", type=Path, default=Path("civicrag-data/reranker"), help="artefact folder to write")
    parser.add_argument("--splits", type=Path, action="append", default=None,
                        help="folder of train/dev/test unit lists (repeatable: a site's own beside ours)")
    parser.add_argument("--max-false-refusals", type=float, default=0.05)
    parser.add_argument("--config", type=Path, default=None, help="settings file (TOML)")
    parser.add_argument("--note", default="", help="a line kept in the artefact's meta.json")
    parser.add_argument("--kind", choices=("features", "similarity"), default="features",
                        help="features: gradient-boosted trees over every feature; similarity: the tuned "
                        "encoder's unit cosines alone (the neural reranker on its own, for comparison)")
    parser.add_argument("--query-adapter", type=Path, default=None,
                        help="a tuned query encoder (civicrag train-encoder): features use it, the artefact keeps it")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config, data_dir=args.data_dir)
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    if settings.embedder.threads == 0:
        settings = settings.with_overrides(embedder={"threads": 1})
    service = RagService(settings)
    try:
        meta = train(service, args.sets, args.out, args.splits or [SPLIT_DIR], args.max_false_refusals, args.note,
                     query_adapter=args.query_adapter, kind=args.kind)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    finally:
        service.close()
    print(json.dumps({k: meta[k] for k in ("split", "train", "dev", "threshold")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
