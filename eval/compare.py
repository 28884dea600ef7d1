"""``--compare PREVIOUS/results.json``: metric deltas per configuration and the questions that flipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from civicrag.eval.scoring import HEADLINE

FLIP_FIELDS = ("correct", "article_hit@5")


def load_results(path: Path) -> dict[str, Any]:
    """A run's results: ``results.json.gz`` (as written now), a plain ``results.json``, or a folder holding either."""
    import gzip

    path = Path(path)
    if path.is_dir():
        path = path / "results.json.gz" if (path / "results.json.gz").exists() else path / "results.json"
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
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


def merge_results(results: dict[str, Any], other: dict[str, Any], rename: str | None = None) -> None:
    """Add another run's configurations (e.g. an earlier release run on the same questions) to ``results``.

    Only the questions this run scored are kept from the other; each must be there, so the configurations
    are compared on the same questions. ``rename`` names the (single) configuration taken over.
    """
    from civicrag.eval.scoring import aggregate, breakdown, rescore

    wanted = {q["id"] for q in results["questions"]}
    names = [c["name"] for c in other["configs"]]
    if rename and len(names) != 1:
        raise ValueError(f"can only rename a single configuration, the other run has {len(names)}")
    for config in other["configs"]:
        name = rename or config["name"]
        if name in {c["name"] for c in results["configs"]}:
            raise ValueError(f"configuration {name!r} is in both runs")
        runs = [dict(q, config=name) for q in other["questions"] if q["config"] == config["name"] and q["id"] in wanted]
        missing = wanted - {q["id"] for q in runs}
        if missing:
            raise ValueError(f"{config['name']} did not score {len(missing)} of these questions, "
                             f"e.g. {sorted(missing)[0]}")
        split = {q["id"]: (q.get("unit", ""), q.get("split", "")) for q in results["questions"]}
        for q in runs:
            q["unit"], q["split"] = split[q["id"]]
            rescore(q)  # the other run may predate today's metrics: score its answers the same way
        meta = {k: v for k, v in config.items() if k not in ("summary", "by_tag", "by_lang", "by_split")}
        results["configs"].append({
            **meta, "name": name, "summary": aggregate(runs), "by_tag": breakdown(runs, "tags"),
            "by_lang": breakdown(runs, "lang"), "by_split": breakdown(runs, "split"),
        })
        results["questions"].extend(runs)
