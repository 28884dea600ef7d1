from __future__ import annotations

import pytest
from civicrag.eval.metrics.refusal import refusal_scores


def test_known_values() -> None:
    # 3 unanswerable (2 refused), 3 answerable (1 wrongly refused).
    refused = [True, True, False, True, False, False]
    answerable = [False, False, False, True, True, True]
    s = refusal_scores(refused, answerable)
    assert s["refusal_precision"] == pytest.approx(2 / 3)
    assert s["refusal_recall"] == pytest.approx(2 / 3)
    assert s["refusal_f1"] == pytest.approx(2 / 3)
    assert s["false_refusal_rate"] == pytest.approx(1 / 3)


def test_never_refusing_scores_zero() -> None:
    s = refusal_scores([False, False], [False, True])
    assert s["refusal_precision"] == 0.0 and s["refusal_recall"] == 0.0 and s["refusal_f1"] == 0.0


def test_refusing_everything() -> None:
    s = refusal_scores([True] * 4, [False, True, True, True])
    assert s["refusal_recall"] == 1.0 and s["refusal_precision"] == 0.25 and s["false_refusal_rate"] == 1.0


def test_undefined_without_unanswerables_or_refusals() -> None:
    s = refusal_scores([False, False], [True, True])
    assert s["refusal_precision"] is None and s["refusal_recall"] is None and s["refusal_f1"] is None
    assert s["false_refusal_rate"] == 0.0


def test_empty_input() -> None:
    s = refusal_scores([], [])
    assert s["refusal_f1"] is None and s["false_refusal_rate"] is None


def test_length_mismatch() -> None:
    with pytest.raises(ValueError):
        refusal_scores([True], [])
