"""The words of asking dropped from queries come from a data file whose every group names its source."""

from __future__ import annotations


def test_every_question_word_group_says_where_it_comes_from() -> None:
    import tomllib

    from civicrag.rag.retrieval import QUESTION_WORDS_PATH, question_words

    groups = tomllib.loads(QUESTION_WORDS_PATH.read_text(encoding="utf-8"))["group"]
    assert groups and all(g.get("source", "").strip() and g.get("words") for g in groups)
    assert {"얼마", "언제", "how", "whi"} <= question_words()
