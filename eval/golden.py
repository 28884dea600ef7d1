"""Golden question sets: JSONL, one question per line, validated on load.

Fields (see ``eval/README.md``)::

    id          str, unique across all loaded files
    question    str, non-empty
    lang        "ko" | "en"
    answerable  bool
    gold        list of {doc_id, article}: every provision that answers (non-empty iff answerable)
    facts       list of short strings a correct answer must contain
    tags        list of str (topic, kind of question)
    history     optional list of {role, content} (follow-up questions)
    as_of       optional "YYYY-MM-DD"

Unknown keys (``near``, notes …) are kept in ``extra`` so authors can annotate freely.
Every problem is reported with its file, line number and field, all at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

LANGS = ("ko", "en")
ROLES = ("user", "assistant", "system")
REQUIRED = ("id", "question", "lang", "answerable", "gold", "facts", "tags")


class GoldenError(ValueError):
    """A golden file is invalid; ``problems`` lists every ``path:line: field: message``."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        shown = "\n".join(self.problems[:50])
        more = f"\n… and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{len(self.problems)} problem(s) in golden set(s):\n{shown}{more}")


@dataclass(frozen=True)
class Gold:
    doc_id: str
    article: str


@dataclass
class GoldenItem:
    id: str
    question: str
    lang: str
    answerable: bool
    gold: list[Gold]
    facts: list[str]
    tags: list[str]
    history: list[dict[str, str]] = field(default_factory=list)
    as_of: str | None = None
    source: str = ""  # "path:line", for messages and the report
    extra: dict[str, Any] = field(default_factory=dict)

    def gold_dicts(self) -> list[dict[str, str]]:
        return [{"doc_id": g.doc_id, "article": g.article} for g in self.gold]


def _str_list(value: Any, name: str, problems: list[str], where: str, allow_empty: bool = True) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: {name}: must be a list of non-empty strings")
        return []
    if not allow_empty and not value:
        problems.append(f"{where}: {name}: must not be empty")
    return [v.strip() for v in value]


def parse_item(obj: Any, where: str, problems: list[str]) -> GoldenItem | None:
    """One validated item, or None after appending its problems (``where`` = "path:line")."""
    if not isinstance(obj, dict):
        problems.append(f"{where}: a line must be a JSON object, got {type(obj).__name__}")
        return None
    before = len(problems)
    for name in REQUIRED:
        if name not in obj:
            problems.append(f"{where}: {name}: missing required field")
    if len(problems) > before:
        return None
    item_id, question, lang, answerable = obj["id"], obj["question"], obj["lang"], obj["answerable"]
    if not isinstance(item_id, str) or not item_id.strip():
        problems.append(f"{where}: id: must be a non-empty string")
    if not isinstance(question, str) or not question.strip():
        problems.append(f"{where}: question: must be a non-empty string")
    if lang not in LANGS:
        problems.append(f"{where}: lang: must be one of {', '.join(LANGS)}, got {lang!r}")
    if not isinstance(answerable, bool):
        problems.append(f"{where}: answerable: must be true or false, got {answerable!r}")
    gold: list[Gold] = []
    if not isinstance(obj["gold"], list):
        problems.append(f"{where}: gold: must be a list of {{doc_id, article}}")
    else:
        for i, g in enumerate(obj["gold"]):
            ok = (
                isinstance(g, dict)
                and isinstance(g.get("doc_id"), str) and g["doc_id"].strip()
                and isinstance(g.get("article"), str) and g["article"].strip()
            )
            if not ok:
                problems.append(f"{where}: gold[{i}]: must be {{\"doc_id\": str, \"article\": str}}, got {g!r}")
            else:
                gold.append(Gold(g["doc_id"].strip(), g["article"].strip()))
        if answerable is True and not obj["gold"]:
            problems.append(f"{where}: gold: an answerable question needs at least one gold provision")
        if answerable is False and obj["gold"]:
            problems.append(f"{where}: gold: an unanswerable question must have no gold provisions")
    facts = _str_list(obj["facts"], "facts", problems, where)
    tags = _str_list(obj["tags"], "tags", problems, where)
    history: list[dict[str, str]] = []
    if "history" in obj and obj["history"] is not None:
        raw = obj["history"]
        if not isinstance(raw, list):
            problems.append(f"{where}: history: must be a list of {{role, content}}")
        else:
            for i, turn in enumerate(raw):
                if not (isinstance(turn, dict) and turn.get("role") in ROLES and isinstance(turn.get("content"), str)):
                    problems.append(f"{where}: history[{i}]: must be {{\"role\": user|assistant|system, "
                                    f"\"content\": str}}")
                else:
                    history.append({"role": turn["role"], "content": turn["content"]})
    as_of = obj.get("as_of")
    if as_of is not None:
        try:
            date.fromisoformat(str(as_of))
        except ValueError:
            problems.append(f"{where}: as_of: must be YYYY-MM-DD, got {as_of!r}")
    if len(problems) > before:
        return None
    extra = {k: v for k, v in obj.items() if k not in (*REQUIRED, "history", "as_of")}
    return GoldenItem(
        id=item_id.strip(), question=question.strip(), lang=lang, answerable=answerable, gold=gold,
        facts=facts, tags=tags, history=history, as_of=str(as_of) if as_of else None, source=where, extra=extra,
    )


def parse_lines(lines: Iterable[str], name: str = "<set>") -> tuple[list[GoldenItem], list[str]]:
    """Items and problems of JSONL text; blank lines and ``//`` or ``#`` comment lines are skipped."""
    items: list[GoldenItem] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "//")):
            continue
        where = f"{name}:{number}"
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        item = parse_item(obj, where, problems)
        if item is not None:
            items.append(item)
    return items, problems


def load_sets(paths: Sequence[Path]) -> list[GoldenItem]:
    """All items of the given files, validated together (ids must be unique across files)."""
    items: list[GoldenItem] = []
    problems: list[str] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        got, bad = parse_lines(text.splitlines(), str(path))
        items.extend(got)
        problems.extend(bad)
    first: dict[str, str] = {}
    for item in items:
        if item.id in first:
            problems.append(f"{item.source}: id: duplicate id {item.id!r} (first at {first[item.id]})")
        else:
            first[item.id] = item.source
    if problems:
        raise GoldenError(problems)
    if not items:
        raise GoldenError([f"{', '.join(map(str, paths)) or '(no files)'}: no questions"])
    return items
