"""``rag.evidence``: the IDF table over chunk tokens and the token weights evidence is scored with."""

from __future__ import annotations

import math

import pytest
from civicrag.rag.evidence import EvidenceScorer, idf_table


def test_idf_is_bm25_style_over_chunk_token_sets() -> None:
    table = idf_table([["주차", "요금", "요금"], ["주차", "감면"], ["당직"], []])
    # n = 4 chunks; a token repeated in one chunk counts once. idf = ln(1 + (n - df + 0.5) / (df + 0.5)).
    assert table == pytest.approx({
        "주차": math.log(1 + 2.5 / 2.5),  # df 2: ln 2
        "요금": math.log(1 + 3.5 / 1.5),  # df 1
        "감면": math.log(1 + 3.5 / 1.5),
        "당직": math.log(1 + 3.5 / 1.5),
    })
    assert idf_table([]) == {}


def test_weights_of_known_unknown_short_and_numeric_tokens() -> None:
    scorer = EvidenceScorer(str.split, {"주차": 2.0, "5": 1.0, "시": 1.5})
    assert scorer.weight("주차") == 2.0
    assert scorer.weight("경차") == 3.0  # not in the corpus: weighs like a rare word
    assert scorer.weight("5") == pytest.approx(0.3)  # a number: 1.0 * 0.3
    assert scorer.weight("시") == pytest.approx(0.45)  # one letter: 1.5 * 0.3
    assert scorer.weight("2024") == pytest.approx(0.9)  # unknown number: 3.0 * 0.3
    assert scorer.known("주차") and not scorer.known("경차")


def test_tokens_are_computed_once_per_text() -> None:
    calls: list[str] = []

    def tokenize(text: str) -> list[str]:
        calls.append(text)
        return text.split()

    scorer = EvidenceScorer(tokenize)
    assert scorer.tokens("주차 요금 주차") == frozenset({"주차", "요금"})
    assert scorer.tokens("주차 요금 주차") == frozenset({"주차", "요금"})
    assert calls == ["주차 요금 주차"]
