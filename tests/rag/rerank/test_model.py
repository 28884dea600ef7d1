"""``rag.rerank.model``: the logistic calibration, ``predict``, artefact save/load and its refusals, and the
stand-in models used while training."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from civicrag.rag.rerank.features import ANSWER_FEATURES, CANDIDATE_FEATURES, UNIT_FEATURES
from civicrag.rag.rerank.model import (
    ARTEFACT_VERSION,
    DEFAULT_ARTEFACT,
    ArtefactError,
    Calibration,
    DecisionModels,
    UntrainedModels,
    predict,
    save,
)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_calibration_is_a_logistic_function_of_standardised_features() -> None:
    calibration = Calibration({"p1": 2.0, "margin": -1.0}, bias=0.5, mean={"p1": 0.5}, scale={"p1": 0.25})
    # z = 0.5 + 2 * (0.75 - 0.5) / 0.25 - 1 * 0.2 = 2.3
    assert calibration({"p1": 0.75, "margin": 0.2}) == pytest.approx(_sigmoid(2.3))
    # A missing feature is 0; a zero scale counts as 1: z = 0.5 + 2 * (0 - 0.5) / 0.25 = -3.5
    assert calibration({}) == pytest.approx(_sigmoid(-3.5))
    assert Calibration({"x": 1.0}, 0.0, scale={"x": 0.0})({"x": 3.0}) == pytest.approx(_sigmoid(3.0))
    # z is clipped to [-50, 50]: no overflow however large the input.
    assert Calibration({"x": 1.0}, 0.0)({"x": 1e6}) == pytest.approx(_sigmoid(50.0))


def test_predict_over_rows() -> None:
    calibration = Calibration({"p1": 1.0}, 0.0)
    assert predict(calibration, [{"p1": 0.0}, {"p1": math.log(3)}], ["p1"]).tolist() == pytest.approx([0.5, 0.75])
    assert predict(calibration, [], ["p1"]).shape == (0,)


def _similarity_models() -> tuple[Calibration, Calibration, Calibration]:
    return Calibration({"unit_max": 4.0}, -2.0), Calibration({"cos": 3.0}, -1.0), Calibration({"p1": 5.0}, -2.5)


def test_a_similarity_artefact_round_trips(tmp_path: Path) -> None:
    candidate, unit, answer = _similarity_models()
    save(tmp_path / "art", candidate, unit, answer, {"threshold": 0.4})
    meta = json.loads((tmp_path / "art" / "meta.json").read_text(encoding="utf-8"))
    assert meta["kind"] == "similarity" and meta["artefact_version"] == ARTEFACT_VERSION
    assert meta["query_encoder"] == "" and meta["candidate_features"] == list(CANDIDATE_FEATURES)
    models = DecisionModels.load(tmp_path / "art")
    assert models.threshold == 0.4 and models.query_adapter is None
    # sigmoid(4 * 0.5 - 2) = 0.5; sigmoid(4 * 1 - 2) = sigmoid(2)
    assert models.rank([{"unit_max": 0.5}, {"unit_max": 1.0}]).tolist() == pytest.approx([0.5, _sigmoid(2.0)])
    assert models.units([{"cos": 1 / 3}]).tolist() == pytest.approx([0.5])
    assert models.answerable({"p1": 0.5}) == pytest.approx(0.5)


def test_artefacts_of_another_version_or_other_features_are_refused(tmp_path: Path) -> None:
    save(tmp_path / "art", *_similarity_models(), {})
    meta_path = tmp_path / "art" / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, "artefact_version": ARTEFACT_VERSION + 1}), encoding="utf-8")
    with pytest.raises(ArtefactError, match=f"is version {ARTEFACT_VERSION + 1}"):
        DecisionModels.load(tmp_path / "art")
    meta_path.write_text(json.dumps({**meta, "unit_features": list(UNIT_FEATURES)[:-1]}), encoding="utf-8")
    with pytest.raises(ArtefactError, match="other unit_features"):
        DecisionModels.load(tmp_path / "art")
    meta_path.write_text(json.dumps({**meta, "query_encoder": "query-adapter.npz"}), encoding="utf-8")
    with pytest.raises(ArtefactError, match=r"names a query encoder query-adapter\.npz it lacks"):
        DecisionModels.load(tmp_path / "art")
    with pytest.raises(ArtefactError, match="cannot load the reranker artefact"):
        DecisionModels.load(tmp_path / "missing")


def test_a_query_adapter_is_copied_into_the_artefact(tmp_path: Path) -> None:
    adapter = tmp_path / "adapter.npz"
    np.savez(adapter, a=np.zeros(1))
    save(tmp_path / "art", *_similarity_models(), {}, query_adapter=adapter)
    assert DecisionModels.load(tmp_path / "art").query_adapter == tmp_path / "art" / "query-adapter.npz"


def test_the_shipped_artefact_loads_with_the_current_features() -> None:
    models = DecisionModels.load(DEFAULT_ARTEFACT)
    assert models.meta["artefact_version"] == ARTEFACT_VERSION
    assert models.meta["answer_features"] == list(ANSWER_FEATURES)
    assert models.threshold == models.meta["threshold"]


def test_untrained_models_keep_the_retrieval_order_and_answer_nothing() -> None:
    untrained = UntrainedModels()
    assert untrained.rank([{}, {}]).tolist() == [0.5, 0.5] and untrained.units([{}]).tolist() == [0.5]
    assert untrained.answerable({"p1": 1.0}) == 0.0 and untrained.threshold == 1.0
