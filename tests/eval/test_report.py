from __future__ import annotations

import xml.dom.minidom
from pathlib import Path
from typing import Any

from civicrag.eval.compare import compare, load_results
from civicrag.eval.report import svg_grouped_bars, svg_heatmap, svg_latency, worst_questions, write_reports
from civicrag.eval.scoring import aggregate, breakdown


def q(config: str, qid: str, correct: bool, total_ms: float) -> dict[str, Any]:
    return {
        "config": config, "id": qid, "question": f"질문 {qid} <b>&", "lang": "ko", "tags": ["amount"],
        "answerable": True, "refused": not correct, "gold": [{"doc_id": "d", "article": "제5조"}], "facts": ["6만원"],
        "retrieved": [{"doc_id": "d", "article": "제5조" if correct else "제9조", "score": 0.5}],
        "cited": [{"doc_id": "d", "article": "제5조"}] if correct else [], "answer": "6만원" if correct else "",
        "facts_found": ["6만원"] if correct else [], "facts_missing": [] if correct else ["6만원"], "error": None,
        "metrics": {"refused": not correct, "correct": correct, "article_hit@5": 1.0 if correct else 0.0,
                    "citation_recall": 1.0 if correct else 0.0, "fact_recall": 1.0 if correct else 0.0},
        "timings_ms": {"total": total_ms, "retrieve": total_ms / 2},
    }


def results(correct_q2: bool) -> dict[str, Any]:
    runs = [q("hybrid", "q1", True, 50.0), q("hybrid", "q2", correct_q2, 80.0), q("dense", "q1", False, 30.0),
            q("dense", "q2", False, 35.0)]
    configs = []
    for name in ("hybrid", "dense"):
        mine = [r for r in runs if r["config"] == name]
        configs.append({"name": name, "overrides": {}, "description": name, "index": "i", "summary": aggregate(mine),
                        "by_tag": breakdown(mine, "tags"), "by_lang": breakdown(mine, "lang")})
    return {"started": "2026-01-01T00:00:00+00:00", "seconds": 1.0, "sets": ["s.jsonl"], "corpus": [],
            "questions_total": 2, "configs": configs, "questions": runs}


def test_write_reports(tmp_path: Path) -> None:
    now, before = results(False), results(True)
    paths = write_reports(now, tmp_path, compare(now, before))
    data = load_results(paths["json"])
    assert data["comparison"]["flipped"][0]["id"] == "q2"
    # Compressed deterministically: the same results are the same bytes (an unchanged run is no change in git).
    again = write_reports(now, tmp_path / "again", compare(now, before))
    assert again["json"].read_bytes() == paths["json"].read_bytes()
    tsv = paths["tsv"].read_text(encoding="utf-8").splitlines()
    assert tsv[0].split("\t")[:3] == ["config", "id", "split"] and len(tsv) == 1 + len(now["questions"])
    md = paths["md"].read_text(encoding="utf-8")
    assert "| article_hit@5 | 0.500 | 0.000 |" in md
    assert "## Worst questions (hybrid)" in md and "refused an answerable question" in md
    assert "Flipped questions (2)" in md  # correct and article_hit@5 both flipped for q2
    page = paths["html"].read_text(encoding="utf-8")
    assert page.count("<svg") == 4 and "<script" not in page  # self-contained, no scripts
    assert "질문 q1 &lt;b&gt;&amp;" in page and "<b>&" not in page  # question text is escaped


def test_worst_questions_puts_misses_first() -> None:
    worst = worst_questions(results(False), "hybrid")
    assert [w["id"] for w in worst] == ["q2"]


def test_svgs_are_well_formed() -> None:
    for svg in (
        svg_grouped_bars(["a", "b"], {"x": {"a": 0.5, "b": None}, "y": {"a": 1.2}}, "t <&>"),
        svg_heatmap(["tag"], ["x", "y"], {("tag", "x"): 0.2, ("tag", "y"): None}, {"tag": 3}, "h"),
        svg_latency({"x": [1.0, 2.0, 300.0], "y": []}, "l"),
    ):
        xml.dom.minidom.parseString(svg)
