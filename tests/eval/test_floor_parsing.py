from __future__ import annotations

import pytest
from civicrag.eval.gate import Floor, FloorError, check_floors, parse_floor


def test_parse() -> None:
    assert parse_floor("article_hit@5=0.8") == Floor("article_hit@5", 0.8)
    assert parse_floor("dense:article_hit@5 = 0.5") == Floor("article_hit@5", 0.5, "dense")
    for bad in ("article_hit@5", "=0.5", "x=high"):
        with pytest.raises(FloorError):
            parse_floor(bad)


def test_check() -> None:
    summaries = {"hybrid": {"article_hit@5": 0.9, "refusal_f1": None}, "dense": {"article_hit@5": 0.4}}
    assert check_floors([parse_floor("article_hit@5=0.8")], summaries, "hybrid") == []
    assert check_floors([parse_floor("article_hit@5=0.9")], summaries, "hybrid") == []  # equal meets the floor
    failures = check_floors([parse_floor("dense:article_hit@5=0.8")], summaries, "hybrid")
    assert failures == ["dense: article_hit@5 = 0.400 < 0.8"]
    assert "not computed" in check_floors([parse_floor("refusal_f1=0.1")], summaries, "hybrid")[0]
    with pytest.raises(FloorError, match="unknown metric"):
        check_floors([parse_floor("hit@5=0.1")], summaries, "hybrid")
    with pytest.raises(FloorError, match="no configuration"):
        check_floors([parse_floor("bm25:article_hit@5=0.1")], summaries, "hybrid")


def test_lower_is_better_metrics_are_ceilings() -> None:
    summary = {"shipped": {"false_refusal_rate": 0.08, "wrong_lead": 0.04, "article_hit@1": 0.8}}
    assert check_floors([parse_floor("false_refusal_rate=0.05")], summary, "shipped") == [
        "shipped: false_refusal_rate = 0.080 > 0.05 (a ceiling)"
    ]
    assert check_floors([parse_floor("wrong_lead=0.05"), parse_floor("article_hit@1=0.75")], summary, "shipped") == []
