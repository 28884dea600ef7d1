"""Turn the web chat's 👍/👎 into questions a site can retrain on: ``python -m civicrag.eval.feedback_set``.

    python -m civicrag.eval.feedback_set --data-dir civicrag-data --out my-questions.jsonl

- 👍 on an answer: the question, answerable, its gold the provision the answer led with (the
  first citation), anchored there. Staff confirmed it, so it trains as it stands.
- 👍 on a refusal: unanswerable (``out_of_corpus`` until someone says better), anchored on nothing:
  give it an ``anchor`` (the provision nearest to it) so it gets a split, or it is left out.
- 👎: written with ``"needs_review": true``, the system's answer and the staff comment alongside, and
  no gold: a maintainer fills in ``gold`` and ``facts`` (or marks it unanswerable with a reason) and
  deletes ``needs_review``. ``civicrag train`` skips lines that still need review.

Feedback questions carry no ``facts`` unless a reviewer adds them, so they teach the reranker and
answerability but not the unit selector. User names are not exported.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


def feedback_items(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    from civicrag.rag.language import detect_language

    out: list[dict[str, Any]] = []
    for row in rows:
        rating = int(row["rating"])
        if rating == 0:
            continue
        citations = json.loads(row.get("citations") or "[]")
        question = str(row["question"]).strip()
        item: dict[str, Any] = {
            "id": f"feedback-{row['id']}", "question": question, "lang": detect_language(question),
            "answerable": False, "gold": [], "facts": [], "tags": ["feedback"],
        }
        if rating > 0 and citations and not int(row.get("refused") or 0):
            first = {"doc_id": citations[0]["doc_id"], "article": citations[0]["article"]}
            item.update(answerable=True, gold=[first], anchor=first)
            item["tags"].append("feedback_up")
        elif rating > 0:
            item["tags"] += ["feedback_up", "unanswerable", "out_of_corpus"]
        else:
            item["tags"].append("feedback_down")
            item.update(needs_review=True, system_answer=str(row.get("answer", "")),
                        comment=str(row.get("comment", "")))
        out.append(item)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from civicrag.ui.feedback import FeedbackStore

    from civicrag.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m civicrag.eval.feedback_set", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = load_settings(None, data_dir=args.data_dir)
    store = FeedbackStore(settings.data_dir / "feedback.sqlite3")
    try:
        items = feedback_items(store.rows())
    finally:
        store.close()
    args.out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    review = sum(1 for i in items if i.get("needs_review"))
    print(f"wrote {len(items)} questions to {args.out} ({review} need review before training)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
