"""The learned decisions, loaded from a versioned artefact directory written by ``civicrag train``.

An artefact is a folder::

    meta.json        version, kind, feature lists, training data hash, split, dev metrics, threshold
    candidate.txt    LightGBM model: probability that a candidate provision answers the question
    unit.txt         LightGBM model: probability that a unit (항/호) of the lead states what was asked
    answer.txt       LightGBM model: probability that the question is answerable, over ANSWER_FEATURES
                     (``answer.json``, a logistic calibration, in the ``similarity`` kind)
    query-adapter.npz   (optional) the tuned query encoder the features were computed with

Two kinds: ``features`` (the trees above, over every document-agnostic feature) and ``similarity``
(the neural reranker alone: ``candidate.json``/``unit.json`` are logistic functions of the tuned
encoder's unit cosines only, so it can be compared with the feature model on the same footing).

The service loads it once; nothing learned lives in code. ``ARTEFACT_VERSION`` changes when the
feature definitions change, so an artefact trained on other features is refused, not misread.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from civicrag.rag.rerank.features import ANSWER_FEATURES, CANDIDATE_FEATURES, UNIT_FEATURES, matrix

ARTEFACT_VERSION = 1
DEFAULT_ARTEFACT = Path(__file__).parent / "artefacts" / "reranker"


class ArtefactError(ValueError):
    """The artefact is missing, incomplete or was trained for other features."""


@dataclass
class Calibration:
    """p = sigmoid(bias + sum w_i * (x_i - mean_i) / scale_i) over ANSWER_FEATURES."""

    weights: dict[str, float]
    bias: float
    mean: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)

    def __call__(self, features: Mapping[str, float]) -> float:
        z = self.bias
        for name, w in self.weights.items():
            x = float(features.get(name, 0.0))
            z += w * (x - self.mean.get(name, 0.0)) / (self.scale.get(name, 1.0) or 1.0)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {"weights": self.weights, "bias": self.bias, "mean": self.mean, "scale": self.scale}


class DecisionModels:
    def __init__(self, candidate: Any, unit: Any, answer: Any, meta: dict[str, Any],
                 query_adapter: Path | None = None):
        # Each model: a LightGBM booster, or a Calibration (the ``similarity`` kind, and older answer models).
        self._candidate = candidate
        self._unit = unit
        self.answer = answer
        self.meta = meta
        self.threshold = float(meta.get("threshold", 0.5))
        # The tuned query encoder the features were computed with (None: the shipped weights).
        self.query_adapter = query_adapter

    @classmethod
    def load(cls, path: Path = DEFAULT_ARTEFACT) -> DecisionModels:
        import lightgbm

        path = Path(path)
        try:
            meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
            candidate: Any
            unit: Any
            if meta.get("kind", "features") == "similarity":
                candidate = Calibration(**json.loads((path / "candidate.json").read_text(encoding="utf-8")))
                unit = Calibration(**json.loads((path / "unit.json").read_text(encoding="utf-8")))
            else:
                candidate = lightgbm.Booster(model_str=(path / "candidate.txt").read_text(encoding="utf-8"))
                unit = lightgbm.Booster(model_str=(path / "unit.txt").read_text(encoding="utf-8"))
            answer: Any
            if (path / "answer.txt").is_file():
                answer = lightgbm.Booster(model_str=(path / "answer.txt").read_text(encoding="utf-8"))
            else:
                answer = Calibration(**json.loads((path / "answer.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise ArtefactError(f"cannot load the reranker artefact in {path}: {exc}") from exc
        if meta.get("artefact_version") != ARTEFACT_VERSION:
            raise ArtefactError(
                f"the reranker artefact in {path} is version {meta.get('artefact_version')}, this civicrag reads "
                f"version {ARTEFACT_VERSION}: retrain it (`civicrag train`)"
            )
        for name, expected in (("candidate_features", CANDIDATE_FEATURES), ("unit_features", UNIT_FEATURES),
                               ("answer_features", ANSWER_FEATURES)):
            if tuple(meta.get(name, ())) != tuple(expected):
                raise ArtefactError(f"the reranker artefact in {path} was trained on other {name}: retrain it")
        adapter = path / meta["query_encoder"] if meta.get("query_encoder") else None
        if adapter is not None and not adapter.is_file():
            raise ArtefactError(f"the reranker artefact in {path} names a query encoder {adapter.name} it lacks")
        return cls(candidate, unit, answer, meta, adapter)

    def rank(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return predict(self._candidate, rows, CANDIDATE_FEATURES)

    def units(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return predict(self._unit, rows, UNIT_FEATURES)

    def answerable(self, features: Mapping[str, float]) -> float:
        return float(predict(self.answer, [features], ANSWER_FEATURES)[0])


def predict(model: Any, rows: Sequence[Mapping[str, float]], names: Sequence[str]) -> np.ndarray:
    """Probabilities of one model (a LightGBM booster or a Calibration) for feature rows in ``names`` order."""
    if not rows:
        return np.zeros(0)
    if isinstance(model, Calibration):
        return np.asarray([model(r) for r in rows], dtype=np.float64)
    # One thread: a few dozen rows do not parallelise, and OpenMP threads fight the server's own.
    return np.asarray(model.predict(matrix(rows, names), num_threads=1), dtype=np.float64)


def save(
    path: Path,
    candidate: Any,
    unit: Any,
    answer: Any,
    meta: Mapping[str, Any],
    query_adapter: Path | None = None,
) -> None:
    """Write an artefact folder (the models' own text formats; deterministic for the same fit)."""
    import shutil

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for stale in ("candidate.txt", "unit.txt", "answer.txt", "candidate.json", "unit.json", "answer.json"):
        (path / stale).unlink(missing_ok=True)
    meta = dict(meta)
    if query_adapter is not None:
        shutil.copyfile(query_adapter, path / "query-adapter.npz")
        meta["query_encoder"] = "query-adapter.npz"
    else:
        meta["query_encoder"] = ""
        (path / "query-adapter.npz").unlink(missing_ok=True)
    for name, model in (("candidate", candidate), ("unit", unit)):
        if isinstance(model, Calibration):
            (path / f"{name}.json").write_text(json.dumps(model.to_dict(), indent=1, sort_keys=True) + "\n",
                                               encoding="utf-8")
            meta.setdefault("kind", "similarity")
        else:
            (path / f"{name}.txt").write_text(model.model_to_string(), encoding="utf-8")
    meta.setdefault("kind", "features")
    if isinstance(answer, Calibration):
        (path / "answer.json").write_text(json.dumps(answer.to_dict(), indent=1, sort_keys=True) + "\n",
                                          encoding="utf-8")
    else:
        (path / "answer.txt").write_text(answer.model_to_string(), encoding="utf-8")
    full = {
        **meta,
        "artefact_version": ARTEFACT_VERSION,
        "candidate_features": list(CANDIDATE_FEATURES),
        "unit_features": list(UNIT_FEATURES),
        "answer_features": list(ANSWER_FEATURES),
    }
    (path / "meta.json").write_text(json.dumps(full, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                                    encoding="utf-8")


class UntrainedModels:
    """Stands in for an artefact while one is being trained: every candidate and unit scores 0.5, so the
    retrieval order stands; nothing is answered unless a rule says so (threshold 1)."""

    def __init__(self, query_adapter: Path | None = None) -> None:
        self.meta: dict[str, Any] = {"untrained": True}
        self.threshold = 1.0
        self.answer = Calibration({}, 0.0)
        self.query_adapter = query_adapter

    def rank(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.full(len(rows), 0.5)

    def units(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.full(len(rows), 0.5)

    def answerable(self, features: Mapping[str, float]) -> float:
        return 0.0
