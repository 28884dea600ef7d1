"""Run golden sets through several configurations (and the naive baseline) and score every answer.

One index per distinct ``INDEX_FIELDS`` combination (ingested once, incrementally, into
``index_root``) is shared by all the retrieval-only configurations built on it; each
configuration gets its own ``RagService`` so its settings (legs, fusion, boosts) apply.
Every configuration answers the same questions, so the report compares like with like.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from civicrag.eval.configs import BASELINE, Configuration, index_key
from civicrag.eval.golden import GoldenItem
from civicrag.eval.labels import Key, article_key, gold_keys, headers_in
from civicrag.eval.scoring import aggregate, breakdown, score_question

from civicrag.settings import ConfigError, Settings

SCHEMA = 1
#: progress(label, done, total): label names the configuration being run.
Progress = Callable[[str, int, int], None]


@dataclass
class EvalPlan:
    items: list[GoldenItem]
    configs: list[Configuration]
    base: Settings
    corpus: list[Path] = field(default_factory=list)  # ingest these; empty = use base.data_dir as it is
    index_root: Path = Path("civicrag-data/eval-index")
    baseline: bool = True
    sets: list[str] = field(default_factory=list)
    judge: bool = True  # LLM-judged faithfulness when an endpoint is configured
    split: str | None = None  # score only the questions of this split ("test"); None = every question
    split_dir: Path | None = None  # train/dev/test unit lists (default eval/sets/splits)


def run_plan(plan: EvalPlan, progress: Progress | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Everything ``results.json`` holds: meta, per-configuration summaries and breakdowns, per-question runs."""
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    total = len(plan.items) * (len(plan.configs) + (1 if plan.baseline and plan.corpus else 0))
    done = 0
    indexes: dict[str, dict[str, Any]] = {}
    runs: list[dict[str, Any]] = []
    config_meta: list[dict[str, Any]] = []
    embedders: dict[tuple[str, str], Any] = {}
    skipped: list[dict[str, str]] = []
    judge = _judge(plan.base) if plan.judge else None

    split_of: dict[str, tuple[str, str]] = {}  # question id -> (unit, split)
    items = list(plan.items)
    for config in plan.configs:
        settings = config.settings(plan.base)
        key = index_key(settings)
        if plan.corpus:
            settings = config.settings(plan.base, data_dir=Path(plan.index_root) / key)
            if key not in indexes:
                indexes[key] = _ingest(settings, plan.corpus, log)
        else:
            if key != index_key(plan.base):
                raise ConfigError(
                    f"configuration {config.name!r} needs its own index ({key}); give --corpus so it can be built"
                )
            indexes.setdefault(key, {"data_dir": str(settings.data_dir), "ingested": False})
        shared = (key, settings.embedder.query_prefix)
        if shared not in embedders:
            from civicrag.ingest.embedding import create_embedder

            embedders[shared] = create_embedder(settings)
        from civicrag.rag.service import RagService

        service = RagService(settings, embedder=embedders[shared] if not _own_query_encoder(settings) else None)
        try:
            try:
                loaded = service.load()
            except Exception as exc:  # e.g. an optional leg's package is missing: skip it, keep the run
                log(f"configuration {config.name} unavailable, skipped: {type(exc).__name__}: {exc}")
                skipped.append({"name": config.name, "error": f"{type(exc).__name__}: {exc}"})
                done += len(items)
                continue
            if not split_of:
                split_of = assign_splits(plan.items, loaded.catalogue, plan.split_dir)
                if plan.split:
                    items = [i for i in plan.items if split_of[i.id][1] == plan.split]
                    total = len(items) * (len(plan.configs) + (1 if plan.baseline and plan.corpus else 0))
                    log(f"{len(items)} of {len(plan.items)} questions are in the {plan.split} split")
            jurisdiction_of = _jurisdictions(loaded.catalogue) if config.scoped else {}
            for item in items:
                if progress:
                    progress(config.name, done, total)
                record = _ask(service, config.name, item, judge, _scope(item, jurisdiction_of))
                record["unit"], record["split"] = split_of.get(item.id, ("", ""))
                runs.append(record)
                done += 1
        finally:
            service.close()
        config_meta.append({**config.to_dict(), "index": key})

    baseline_stats: dict[str, Any] | None = None
    if plan.baseline and plan.corpus:
        from civicrag.eval.baseline import NaiveBaseline

        settings = plan.base.with_overrides(data_dir=Path(plan.index_root) / index_key(plan.base))
        naive = NaiveBaseline(settings, plan.corpus, embedder=embedders.get((index_key(plan.base), "")))
        if progress:
            progress(f"{BASELINE} (building)", done, total)
        baseline_stats = naive.build()
        for item in items:
            if progress:
                progress(BASELINE, done, total)
            record = _ask_naive(naive, item, judge)
            record["unit"], record["split"] = split_of.get(item.id, ("", ""))
            runs.append(record)
            done += 1
        config_meta.append({
            "name": BASELINE, "overrides": {}, "index": "in-memory",
            "description": "llama-index defaults: SentenceSplitter(1024/200), same embedder, dense top-k, "
                           "no structure; cites its top 2 nodes, never refuses",
        })
    if progress:
        progress("done", done, total)
    if judge is not None:
        judge.close()

    configs_out = []
    for meta in config_meta:
        mine = [r for r in runs if r["config"] == meta["name"]]
        configs_out.append({
            **meta, "summary": aggregate(mine), "by_tag": breakdown(mine, "tags"), "by_lang": breakdown(mine, "lang"),
            "by_split": breakdown(mine, "split"),
        })
    return {
        "schema": SCHEMA,
        "started": started_at,
        "seconds": round(time.perf_counter() - started, 1),
        "sets": plan.sets,
        "corpus": [str(p) for p in plan.corpus],
        "questions_total": len(items),
        "split": plan.split or "all",
        "environment": {
            "python": platform.python_version(), "machine": platform.machine(),
            "embedder": plan.base.embedder.key, "llm": bool(plan.base.llm.base_url),
        },
        "indexes": indexes,
        "baseline": baseline_stats,
        "skipped": skipped,
        "configs": configs_out,
        "questions": runs,
    }


def _ingest(settings: Settings, corpus: Sequence[Path], log: Callable[[str], None]) -> dict[str, Any]:
    """Bring the index of ``settings.data_dir`` in line with ``corpus`` (incremental; prunes what left)."""
    from civicrag.ingest.pipeline import ingest_paths

    log(f"indexing {', '.join(map(str, corpus))} into {settings.data_dir} …")
    report = ingest_paths(settings, list(corpus), prune=True)
    log(f"  added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"removed {report.removed}, failed {len(report.failed)} in {report.seconds:.1f} s")
    return {"data_dir": str(settings.data_dir), "ingested": True, **report.to_dict()}


def _record(item: GoldenItem, config: str) -> dict[str, Any]:
    return {
        "config": config, "id": item.id, "question": item.question, "lang": item.lang, "tags": list(item.tags),
        "answerable": item.answerable, "gold": item.gold_dicts(), "facts": list(item.facts),
        "history": item.history, "as_of": item.as_of, "source": item.source,
    }


def assign_splits(items: Sequence[GoldenItem], catalogue: Any, split_dir: Path | None = None
                  ) -> dict[str, tuple[str, str]]:
    """(unit, split) of every question, from its anchor/gold provisions' place in the indexed corpus."""
    from civicrag.eval.splits import SPLIT_DIR, item_split, load_splits

    splits = load_splits(split_dir or SPLIT_DIR)
    headings: dict[Key, str] = {}
    for record in catalogue.records:
        headings.setdefault(article_key(record.doc_id, record.article), str(record.metadata.get("heading_path", "")))

    def heading_of(doc: str, article: str) -> str:
        return headings.get(article_key(doc, article), "")

    out: dict[str, tuple[str, str]] = {}
    for item in items:
        unit, split = item_split(item.extra, [(g.doc_id, g.article) for g in item.gold], heading_of, splits)
        out[item.id] = (unit or "", split)
    return out


def _jurisdictions(catalogue: Any) -> dict[str, str]:
    """doc_id -> jurisdiction, for scoped runs."""
    return {r.doc_id: str(r.metadata.get("jurisdiction", "")) for r in catalogue.records}


def _scope(item: GoldenItem, jurisdiction_of: dict[str, str]) -> dict[str, str] | None:
    """A scoped run asks as a user who chose the jurisdiction of the question's document."""
    if not jurisdiction_of:
        return None
    docs = [g.doc_id for g in item.gold]
    anchor = item.extra.get("anchor")
    if isinstance(anchor, dict) and anchor.get("doc_id"):
        docs.append(str(anchor["doc_id"]))
    for doc in docs:
        if jurisdiction_of.get(doc):
            return {"jurisdiction": jurisdiction_of[doc].split(",")[0]}
    return None


def _own_query_encoder(settings: Settings) -> bool:
    """A configuration whose artefact brings a tuned query encoder needs its own embedder."""
    return settings.rerank.artefact is not None


def _ask(service: Any, config: str, item: GoldenItem, judge: Any | None,
         filters: dict[str, str] | None = None) -> dict[str, Any]:
    record = _record(item, config)
    try:
        result = service.ask(item.question, history=item.history or None, as_of=item.as_of, id=item.id,
                             filters=filters)
    except Exception as exc:  # one failing question must not end a long run; it is scored as a miss
        record.update(refused=False, retrieved=[], cited=[], answer="", error=f"{type(exc).__name__}: {exc}",
                      timings_ms={"total": 0.0})
        metrics, found, missing = score_question(item, [], None, [], "", False)
        record.update(metrics=metrics, facts_found=found, facts_missing=missing)
        return record
    retrieved = [
        {"doc_id": r.doc_id, "article": r.article, "score": r.score, "chunk_id": r.chunk_id} for r in result.retrieved
    ]
    cited = [{"doc_id": c.doc_id, "article": c.article, "page": c.page} for c in result.citations]
    metrics, found, missing = score_question(
        item,
        [article_key(r["doc_id"], r["article"]) for r in retrieved],
        [r["score"] for r in retrieved],
        [article_key(c["doc_id"], c["article"]) for c in cited],
        result.answer,
        result.refused,
    )
    record.update(
        refused=result.refused, retrieved=retrieved, cited=cited, answer=result.answer, error=None,
        facts_found=found, facts_missing=missing, metrics=metrics, timings_ms=dict(result.timings_ms),
        mode=result.mode, rewritten_question=result.rewritten_question,
        answerability=round(result.answerability.score, 4) if result.answerability else None,
    )
    if judge is not None and not result.refused:
        from civicrag.eval.metrics.faithfulness import faithfulness

        record["faithfulness"] = faithfulness(judge, item.question, result.answer, [c.text for c in result.citations])
    return record


def naive_keys(texts_docs: Sequence[tuple[str, str]], gold: Sequence[Key]) -> list[Key]:
    """(doc_id, article) of naive chunks, scored generously.

    A chunk is credited with a gold article of its document whose header it contains (one not
    credited to an earlier chunk first); otherwise it names the first article header it holds,
    or none. Without this a structure-blind chunk could never match an article-level gold.
    """
    credited: set[Key] = set()
    keys: list[Key] = []
    for doc_id, text in texts_docs:
        headers = headers_in(text)
        hits = [g for g in gold if g[0] == doc_id and g[1] in headers]
        fresh = [g for g in hits if g not in credited]
        if fresh or hits:
            key = (fresh or hits)[0]
            credited.add(key)
        else:
            key = article_key(doc_id, headers[0] if headers else "")
        keys.append(key)
    return keys


def _ask_naive(naive: Any, item: GoldenItem, judge: Any | None) -> dict[str, Any]:
    record = _record(item, BASELINE)
    result = naive.ask(item.question)
    gold = gold_keys(item.gold_dicts())
    retrieved_keys = naive_keys([(h.doc_id, h.text) for h in result.retrieved], gold)
    cited_keys = naive_keys([(h.doc_id, h.text) for h in result.cited], gold)
    retrieved = [
        {"doc_id": k[0], "article": k[1], "score": round(h.score, 6)}
        for k, h in zip(retrieved_keys, result.retrieved, strict=True)
    ]
    cited = [{"doc_id": k[0], "article": k[1]} for k in cited_keys]
    metrics, found, missing = score_question(
        item, retrieved_keys, [r["score"] for r in retrieved], cited_keys, result.answer, False
    )
    record.update(
        refused=False, retrieved=retrieved, cited=cited, answer=result.answer, error=None, facts_found=found,
        facts_missing=missing, metrics=metrics, timings_ms=result.timings_ms, mode="naive",
    )
    if judge is not None:
        from civicrag.eval.metrics.faithfulness import faithfulness

        record["faithfulness"] = faithfulness(judge, item.question, result.answer, [h.text for h in result.cited])
    return record


def _judge(settings: Settings) -> Any | None:
    if not settings.llm.base_url:
        return None
    from civicrag.rag.answer.llm import LlmClient

    key = settings.llm.api_key.get_secret_value() if settings.llm.api_key else None
    return LlmClient(settings.llm.base_url, settings.llm.model, key, settings.llm.timeout_s, 0.0)
