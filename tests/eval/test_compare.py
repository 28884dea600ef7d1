from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from civicrag.eval.compare import compare, load_results


def results(hit: float, correct_q1: bool, started: str = "t") -> dict[str, Any]:
    def q(qid: str, correct: bool) -> dict[str, Any]:
        return {"config": "hybrid", "id": qid, "question": qid, "metrics": {"correct": correct, "article_hit@5": 1.0},
                "retrieved": [{"doc_id": "d", "article": "제1조"}]}

    return {
        "started": started,
        "configs": [{"name": "hybrid", "summary": {"article_hit@5": hit, "latency_p95_ms": 100.0, "refusal_f1": None}}],
        "questions": [q("q1", correct_q1), q("q2", True)],
    }


def test_deltas_and_flips() -> None:
    diff = compare(results(0.9, True), results(0.8, False, started="before"))
    assert diff["previous_started"] == "before"
    assert diff["deltas"]["hybrid"]["article_hit@5"]["delta"] == pytest.approx(0.1)
    assert "refusal_f1" not in diff["deltas"]["hybrid"]  # not computed in either run: no delta
    assert [(f["id"], f["metric"], f["previous"], f["current"]) for f in diff["flipped"]] == [
        ("q1", "correct", False, True)
    ]


def test_configs_only_in_one_run() -> None:
    now = results(0.9, True)
    now["configs"].append({"name": "dense", "summary": {}})
    diff = compare(now, results(0.9, True))
    assert diff["only_current"] == ["dense"] and diff["flipped"] == []


def test_load_results_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a civicrag eval"):
        load_results(path)
    with pytest.raises(ValueError, match="cannot read"):
        load_results(tmp_path / "missing.json")
