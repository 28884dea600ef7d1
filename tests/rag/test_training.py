"""``civicrag train`` on a tiny set: deterministic, and the artefact it writes loads back to the same decisions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from civicrag.settings import Settings

TRAINING = Path(__file__).resolve().parent.parent / "fixtures" / "training"


def _train(settings: Settings, out: Path) -> dict[str, object]:
    from civicrag.eval.train import train
    from civicrag.rag.service import RagService

    service = RagService(settings)  # its own instance: training swaps the models it decides with
    try:
        return train(service, [TRAINING / "questions.jsonl"], out, TRAINING / "splits", log=lambda _m: None)
    finally:
        service.close()


@pytest.fixture(scope="module")
def artefacts(rag_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    first, second = tmp_path_factory.mktemp("art1"), tmp_path_factory.mktemp("art2")
    meta = _train(rag_settings, first)
    _train(rag_settings, second)
    return first, second, meta


def test_training_twice_writes_the_same_models(artefacts: tuple[Path, Path, dict]) -> None:
    first, second, _ = artefacts
    for name in ("candidate.txt", "unit.txt", "answer.txt"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_only_train_questions_fit_and_dev_chooses_the_threshold(artefacts: tuple[Path, Path, dict]) -> None:
    _, _, meta = artefacts
    # tests/fixtures/training: 18 questions over the train units, 6 over the dev units, none over test.
    assert meta["split"] == {"train": 18, "dev": 6, "train_units": 2, "dev_units": 2}
    assert meta["dev"]["questions"] == 6
    # Dev holds 4 answerable and 2 unanswerable questions. At the lowest threshold tried, 0.02, one of the two
    # unanswerable ones is refused and no answerable one: precision 1/1, recall 1/2, F1 2 * 1 * 0.5 / 1.5 =
    # 0.6667. No higher threshold scores better without refusing an answerable question (1/4 = 0.25 of them,
    # over the 0.05 allowed), and ties keep the lower threshold.
    assert (meta["dev"]["answerable"], meta["max_false_refusals"]) == (4, 0.05)
    assert meta["threshold"] == meta["dev"]["threshold"] == 0.02
    assert {k: meta["dev"][k] for k in ("refusal_precision", "refusal_recall", "refusal_f1", "false_refusal_rate")} == {
        "refusal_precision": 1.0, "refusal_recall": 0.5, "refusal_f1": 0.6667, "false_refusal_rate": 0.0
    }


def test_the_artefact_round_trips(artefacts: tuple[Path, Path, dict], rag_settings: Settings) -> None:
    from civicrag.rag.rerank.features import CANDIDATE_FEATURES
    from civicrag.rag.rerank.model import DecisionModels

    first, _, meta = artefacts
    models = DecisionModels.load(first)
    assert models.threshold == meta["threshold"]
    rows = [dict.fromkeys(CANDIDATE_FEATURES, 0.0) | {"unit_max": 0.9, "cover_title": 1.0},
            dict.fromkeys(CANDIDATE_FEATURES, 0.0) | {"unit_max": 0.7}]
    again = DecisionModels.load(first)
    np.testing.assert_array_equal(models.rank(rows), again.rank(rows))
    assert models.answerable({"p1": 0.9}) == again.answerable({"p1": 0.9})


def test_an_artefact_for_other_features_is_refused(artefacts: tuple[Path, Path, dict], tmp_path: Path) -> None:
    import json
    import shutil

    from civicrag.rag.rerank.model import ArtefactError, DecisionModels

    copy = tmp_path / "old"
    shutil.copytree(artefacts[0], copy)
    meta = json.loads((copy / "meta.json").read_text())
    meta["candidate_features"] = meta["candidate_features"][:-1]
    (copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtefactError, match="other candidate_features"):
        DecisionModels.load(copy)
