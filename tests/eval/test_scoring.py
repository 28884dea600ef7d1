from __future__ import annotations

from typing import Any

import pytest
from civicrag.eval.golden import Gold, GoldenItem
from civicrag.eval.scoring import aggregate, breakdown, score_question


def item(answerable: bool = True, facts: list[str] | None = None, tags: list[str] | None = None) -> GoldenItem:
    gold = [Gold("d", "제5조"), Gold("d", "7조")] if answerable else []
    return GoldenItem("q", "질문", "ko", answerable, gold, facts or [], tags or ["t"])


def test_answerable_question_scores() -> None:
    m, found, missing = score_question(
        item(facts=["6만원"]),
        retrieved=[("d", "제9조"), ("d", "제7조"), ("e", "제5조")],
        scores=[0.9, 0.8, 0.7],
        cited=[("d", "제7조")],
        answer="수당은 60,000원이다.",
        refused=False,
    )
    assert m["article_hit@1"] == 0.0 and m["article_hit@3"] == 1.0 and m["article_mrr@10"] == 0.5
    assert m["doc_hit@1"] == 1.0
    assert m["citation_precision"] == 1.0 and m["citation_recall"] == 0.5
    assert m["fact_recall"] == 1.0 and found == ["6만원"] and missing == []
    assert m["correct"] is True


def test_refused_answerable_is_incorrect() -> None:
    m, _, _ = score_question(item(), [], None, [], "규정에서 찾을 수 없습니다.", True)
    assert m["correct"] is False and m["article_hit@10"] == 0.0 and m["fact_recall"] is None


def test_unanswerable_question() -> None:
    m, _, _ = score_question(item(answerable=False), [("d", "제5조")], None, [], "", True)
    assert m == {"refused": True, "correct": True}


def run(answerable: bool, refused: bool, hit: float, total_ms: float, tags: list[str], facts: float | None = None
        ) -> dict[str, Any]:
    metrics: dict[str, Any] = {"refused": refused, "correct": (not refused) if answerable else refused}
    if answerable:
        metrics.update({"article_hit@5": hit, "fact_recall": facts})
    return {"answerable": answerable, "refused": refused, "metrics": metrics, "timings_ms": {"total": total_ms},
            "tags": tags, "lang": "ko", "error": None}


def test_aggregate_means_over_applicable_questions() -> None:
    runs = [
        run(True, False, 1.0, 10, ["a"], facts=1.0),
        run(True, True, 0.0, 20, ["a", "b"], facts=None),
        run(False, True, 0.0, 30, ["b"]),
        run(False, False, 0.0, 40, ["b"]),
    ]
    s = aggregate(runs)
    assert s["questions"] == 4 and s["answerable"] == 2 and s["errors"] == 0
    assert s["article_hit@5"] == 0.5  # over the two answerable questions only
    assert s["fact_recall"] == 1.0  # the question without facts does not count
    assert s["correct"] == 0.5
    assert s["refusal_precision"] == 0.5 and s["refusal_recall"] == 0.5
    assert s["latency_p50_ms"] == pytest.approx(25.0)
    by_tag = breakdown(runs, "tags")
    assert by_tag["a"]["questions"] == 2 and by_tag["b"]["questions"] == 3
    assert breakdown(runs, "lang")["ko"]["questions"] == 4
