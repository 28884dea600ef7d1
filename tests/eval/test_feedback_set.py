"""👍/👎 rows become questions to retrain on: confirmed answers as gold, 👎 held for review."""

from __future__ import annotations

import json

from civicrag.eval.feedback_set import feedback_items


def _row(i: int, rating: int, refused: bool, citations: list[dict[str, str]], question: str = "경차 할인돼?") -> dict:
    return {"id": i, "rating": rating, "refused": int(refused), "citations": json.dumps(citations),
            "question": question, "answer": "…", "comment": "틀렸어요" if rating < 0 else "", "user": "bob"}


def test_thumbs_become_training_questions() -> None:
    cited = [{"doc_id": "2117853", "article": "제20조"}, {"doc_id": "2117853", "article": "제6조"}]
    items = feedback_items([
        _row(1, 1, False, cited), _row(2, 1, True, [], "반려견 등록비는?"), _row(3, -1, False, cited),
        _row(4, 0, False, cited),  # no rating: nothing to learn
    ])
    assert [i["id"] for i in items] == ["feedback-1", "feedback-2", "feedback-3"]
    up, up_refusal, down = items
    assert up["answerable"] and up["gold"] == [{"doc_id": "2117853", "article": "제20조"}]
    assert up["anchor"] == up["gold"][0] and up["lang"] == "ko" and "user" not in up
    assert not up_refusal["answerable"] and "out_of_corpus" in up_refusal["tags"]
    assert down["needs_review"] and down["gold"] == [] and down["comment"] == "틀렸어요"
