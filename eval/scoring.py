"""Per-question scoring (composes the metric modules) and aggregation per configuration, tag and language."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from civicrag.eval.golden import GoldenItem
from civicrag.eval.labels import Key, article_key, gold_keys
from civicrag.eval.metrics.base import mean, rate
from civicrag.eval.metrics.citation import citation_scores
from civicrag.eval.metrics.facts import fact_matches
from civicrag.eval.metrics.latency import latency_scores
from civicrag.eval.metrics.lead import lead_scores
from civicrag.eval.metrics.refusal import refusal_scores
from civicrag.eval.metrics.retrieval import retrieval_scores

#: Metrics shown first in tables and plots, and the usual CI floors.
HEADLINE = (
    "article_hit@1", "article_hit@5", "e2e_correct", "wrong_lead", "false_refusal_rate", "refusal_precision",
    "refusal_recall", "refusal_f1", "fact_recall", "correct",
)
#: Metrics where lower is better (deltas are coloured the other way round).
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "wrong_lead", "latency_p50_ms", "latency_p95_ms", "latency_mean_ms",
                             "retrieve_p50_ms", "retrieve_p95_ms", "retrieve_mean_ms", "errors"})


def score_question(
    item: GoldenItem,
    retrieved: Sequence[Key],
    scores: Sequence[float] | None,
    cited: Sequence[Key],
    answer: str,
    refused: bool,
) -> tuple[dict[str, Any], list[str], list[str]]:
    """(metrics, facts found, facts missing) of one answer; keys are already normalised (doc_id, article).

    Retrieval and citation metrics apply to answerable questions only (None otherwise);
    ``correct`` is the strict per-question verdict used for "flipped" questions: answerable →
    not refused, a gold provision cited and every fact present; unanswerable → refused.
    """
    metrics: dict[str, Any] = {"refused": refused}
    found, missing = fact_matches(item.facts, answer) if item.facts else ([], [])
    if item.answerable:
        gold = gold_keys(item.gold_dicts())
        gold_docs = list(dict.fromkeys(doc for doc, _ in gold))
        metrics.update(retrieval_scores(list(retrieved), gold, "article", scores))
        metrics.update(retrieval_scores([doc for doc, _ in retrieved], gold_docs, "doc", scores))
        metrics.update(citation_scores(list(cited), gold))
        metrics.update(citation_scores([doc for doc, _ in cited], gold_docs, "citation_doc"))
        metrics["fact_recall"] = len(found) / len(item.facts) if item.facts else None
        metrics.update(lead_scores(list(cited), gold, refused, len(missing)))
        metrics["correct"] = (
            not refused and metrics["citation_recall"] > 0 and (not item.facts or not missing)
        )
    else:
        metrics["correct"] = refused
    return metrics, found, missing


def keys_of(entries: Iterable[dict[str, Any]]) -> list[Key]:
    return [article_key(str(e.get("doc_id", "")), str(e.get("article", ""))) for e in entries]


def aggregate(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Summary metrics of one configuration's question runs (dicts as written to results.json)."""
    out: dict[str, Any] = {
        "questions": len(runs),
        "answerable": sum(1 for r in runs if r["answerable"]),
        "errors": sum(1 for r in runs if r.get("error")),
    }
    answerable = [r["metrics"] for r in runs if r["answerable"]]
    names: list[str] = []
    for m in answerable:
        for name in m:
            if name not in names and name not in ("refused", "correct"):
                names.append(name)
    for name in names:
        out[name] = mean(m.get(name) for m in answerable)
    out["correct"] = rate(r["metrics"].get("correct") for r in runs)
    out.update(refusal_scores([bool(r["refused"]) for r in runs], [bool(r["answerable"]) for r in runs]))
    out.update(latency_scores([r["timings_ms"].get("total", 0.0) for r in runs]))
    out.update(latency_scores([r["timings_ms"].get("retrieve", 0.0) for r in runs], prefix="retrieve"))
    judged = [r.get("faithfulness") for r in runs if r.get("faithfulness") is not None]
    if judged:
        out["faithfulness_advisory"] = mean(judged)
    return out


def breakdown(runs: Sequence[dict[str, Any]], field: str) -> dict[str, dict[str, Any]]:
    """``aggregate`` per value of ``tags`` (each tag) or of a scalar field such as ``lang``."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        values = r[field] if isinstance(r[field], list) else [r[field]]
        for v in values:
            groups.setdefault(str(v), []).append(r)
    return {k: aggregate(v) for k, v in sorted(groups.items())}


def rescore(record: dict[str, Any]) -> None:
    """Recompute a stored question run's metrics from what it retrieved, cited and answered."""
    from civicrag.eval.golden import Gold, GoldenItem

    item = GoldenItem(
        id=record["id"], question=record["question"], lang=record["lang"], answerable=record["answerable"],
        gold=[Gold(g["doc_id"], g["article"]) for g in record["gold"]], facts=list(record["facts"]),
        tags=list(record["tags"]),
    )
    retrieved = record.get("retrieved") or []
    metrics, found, missing = score_question(
        item, keys_of(retrieved), [float(r.get("score", 0.0)) for r in retrieved], keys_of(record.get("cited") or []),
        record.get("answer") or "", bool(record.get("refused")),
    )
    record.update(metrics=metrics, facts_found=found, facts_missing=missing)
