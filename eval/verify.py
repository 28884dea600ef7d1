"""Check question sets against the corpus text: ``python -m civicrag.eval.verify SET.jsonl... --corpus DIR...``.

Every check reads the documents through ingest's own parsers (``eval.provisions``):
- each gold provision exists in the version in force on the question's ``as_of`` (latest otherwise);
- each fact appears in the *body* of a gold provision (whitespace ignored, case too for English),
  not merely in its heading: a question whose "fact" is the article title tests nothing;
- ``near`` provisions exist; the ``anchor`` (the provision the question was written over) exists,
  and its split unit is recorded (``eval.splits``);
- the question does not copy the gold article's title, and no question text repeats another's;
- each question has a kind tag, unanswerable ones say why (attachment, delegated, out_of_corpus,
  no_body), follow-ups have a history and as-of questions an ``as_of``.

``--show DOC_ID`` prints a document's provisions with their canonical labels (for writers).
Exit status 0 when every item passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from civicrag.eval.golden import GoldenItem, parse_lines
from civicrag.eval.provisions import Corpus, compact, contains_fact, load_corpus
from civicrag.eval.splits import unit_of

KINDS = frozenset({
    "amount", "period", "deadline", "date", "count", "who", "who_decides", "condition", "yes_no",
    "definition", "procedure", "location", "sanction", "fee_exemption", "explicit_article",
})
WHY_NOT = frozenset({"attachment", "delegated", "out_of_corpus", "no_body"})


def check_item(item: GoldenItem, corpus: Corpus, require_anchor: bool) -> tuple[list[str], str | None]:
    """Problems of one item, and the split unit of its anchor (None when it has none)."""
    problems: list[str] = []
    casefold = item.lang == "en"
    tags = set(item.tags)
    if not tags & KINDS:
        problems.append(f"tags: no question kind among {sorted(KINDS)}")
    if item.answerable and tags & WHY_NOT:
        problems.append(f"tags: an answerable question tagged {sorted(tags & WHY_NOT)}")
    if not item.answerable and not tags & WHY_NOT:
        problems.append(f"tags: an unanswerable question needs one of {sorted(WHY_NOT)}")
    if "followup" in tags and not item.history:
        problems.append("history: a follow-up needs the conversation before it")
    if "as_of" in tags and not item.as_of:
        problems.append("as_of: tagged as_of without a date")
    if item.answerable and not item.facts:
        problems.append("facts: an answerable question needs at least one fact")
    for g in item.gold:
        found = corpus.find(g.doc_id, g.article, item.as_of)
        if not found:
            version = corpus.version_on(g.doc_id, item.as_of)
            where = f"version {version}" if version else "the corpus"
            problems.append(f"gold: {g.doc_id} {g.article} is not a provision of {where}")
            continue
        title = found[0].article_title.strip()
        if len(compact(title, casefold)) >= (4 if item.lang == "ko" else 12) and compact(title, casefold) in compact(
            item.question, casefold
        ):
            problems.append(f"question: copies the article title {title!r}")
    gold_bodies = [p.body for g in item.gold for p in corpus.find(g.doc_id, g.article, item.as_of)]
    for fact in item.facts:
        if gold_bodies and not contains_fact(gold_bodies, fact, casefold):
            problems.append(f"facts: {fact!r} is not in the body of the gold provision(s)")
    for near in item.extra.get("near") or []:
        if not isinstance(near, dict) or not corpus.find(str(near.get("doc_id", "")), str(near.get("article", "")),
                                                          item.as_of):
            problems.append(f"near: {near!r} is not a provision of the corpus")
    anchor = item.extra.get("anchor")
    unit: str | None = None
    if isinstance(anchor, dict) and anchor.get("doc_id"):
        doc_id, article = str(anchor["doc_id"]), str(anchor.get("article") or "")
        if doc_id in corpus.empty and not article:
            unit = unit_of(doc_id)
        else:
            found = corpus.find(doc_id, article, item.as_of) if article else corpus.of(doc_id)
            if not found:
                problems.append(f"anchor: {doc_id} {article} is not a provision of the corpus")
            else:
                unit = unit_of(doc_id, found[0].heading_path)
    elif require_anchor:
        problems.append('anchor: missing {"doc_id", "article"} of the provision the question was written over')
    if item.answerable and unit is not None:
        gold_units = {unit_of(g.doc_id, p.heading_path) for g in item.gold
                      for p in corpus.find(g.doc_id, g.article, item.as_of)}
        if gold_units and unit not in gold_units:
            problems.append(f"anchor: in {unit}, but the gold provisions are in {sorted(gold_units)}")
    return problems, unit


def verify(paths: Sequence[Path], corpus: Corpus, require_anchor: bool = False) -> tuple[list[str], Counter[str]]:
    problems: list[str] = []
    counts: Counter[str] = Counter()
    seen: dict[str, str] = {}
    for path in paths:
        items, bad = parse_lines(Path(path).read_text(encoding="utf-8").splitlines(), str(path))
        problems.extend(bad)
        for item in items:
            text = re.sub(r"\s+", " ", item.question.strip()).casefold()
            key = f"{text}|{json.dumps(item.history, ensure_ascii=False)}|{item.as_of}"
            if key in seen:
                problems.append(f"{item.source}: question: same text as {seen[key]}")
            seen.setdefault(key, item.source)
            item_problems, _unit = check_item(item, corpus, require_anchor)
            problems.extend(f"{item.source} ({item.id}): {p}" for p in item_problems)
            counts["questions"] += 1
            counts["answerable" if item.answerable else "unanswerable"] += 1
            for tag in item.tags:
                counts[f"tag:{tag}"] += 1
    return problems, counts


def show(corpus: Corpus, doc_id: str) -> None:
    for version in corpus.versions.get(doc_id, []):
        for p in corpus.of(doc_id, version):
            print(f"=== {p.doc_id} [{version or 'undated'}] {p.article} ({p.article_title})"
                  f"  unit={unit_of(p.doc_id, p.heading_path)}")
            print(p.text)
    if doc_id in corpus.empty:
        print(f"=== {doc_id}: registered without a body: {corpus.empty[doc_id]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m civicrag.eval.verify", description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path)
    parser.add_argument("--corpus", action="append", type=Path, required=True)
    parser.add_argument("--require-anchor", action="store_true", help="every item must name its anchor provision")
    parser.add_argument("--show", metavar="DOC_ID", help="print a document's provisions and exit")
    args = parser.parse_args(argv)
    corpus = load_corpus(args.corpus)
    if args.show:
        show(corpus, args.show)
        return 0
    problems, counts = verify(args.sets, corpus, args.require_anchor)
    for p in problems:
        print(p)
    print(f"{counts['questions']} questions ({counts['answerable']} answerable, {counts['unanswerable']} not); "
          f"{len(problems)} problem(s)", file=sys.stderr)
    tags = sorted((k[4:], v) for k, v in counts.items() if k.startswith("tag:"))
    print("tags: " + ", ".join(f"{t} {n}" for t, n in tags), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
