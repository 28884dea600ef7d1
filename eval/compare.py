"""``--compare PREVIOUS/results.json``: metric deltas per configuration and the questions that flipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.scoring import HEADLINE

FLIP_FIELDS = ("correct", "article_hit@5")


def load_results(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read previous results {path}: {exc}") from exc
    if not isinstance(data, dict) or "configs" not in data or "questions" not in data:
        raise ValueError(f"{path} is not a civicrag eval results.json")
    return data


def compare(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Deltas (current - previous) of every numeric summary metric shared by a configuration of both runs,
    and per configuration the questions whose ``correct`` or ``article_hit@5`` changed."""
    prev_configs = {c["name"]: c for c in previous["configs"]}
    deltas: dict[str, dict[str, dict[str, float]]] = {}
    for config in current["configs"]:
        before = prev_configs.get(config["name"])
        if before is None:
            continue
        table: dict[str, dict[str, float]] = {}
        for metric, now in config["summary"].items():
            was = before["summary"].get(metric)
            if _number(now) and _number(was):
                table[metric] = {"previous": float(was), "current": float(now), "delta": float(now) - float(was)}
        # Headline metrics first, then the rest in their order.
        deltas[config["name"]] = dict(
            sorted(table.items(), key=lambda kv: (HEADLINE.index(kv[0]) if kv[0] in HEADLINE else len(HEADLINE)))
        )
    prev_runs = {(q["config"], q["id"]): q for q in previous["questions"]}
    flipped: list[dict[str, Any]] = []
    for q in current["questions"]:
        before = prev_runs.get((q["config"], q["id"]))
        if before is None:
            continue
        for field in FLIP_FIELDS:
            now, was = q["metrics"].get(field), before["metrics"].get(field)
            if now is None or was is None or bool(now) == bool(was):
                continue
            flipped.append({
                "config": q["config"], "id": q["id"], "question": q["question"], "metric": field,
                "previous": bool(was), "current": bool(now),
                "previous_top": [f"{r['doc_id']} {r['article']}" for r in before.get("retrieved", [])[:3]],
                "current_top": [f"{r['doc_id']} {r['article']}" for r in q.get("retrieved", [])[:3]],
            })
    return {
        "previous_started": previous.get("started", ""),
        "deltas": deltas,
        "flipped": flipped,
        "only_previous": sorted(set(prev_configs) - {c["name"] for c in current["configs"]}),
        "only_current": sorted({c["name"] for c in current["configs"]} - set(prev_configs)),
    }


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
