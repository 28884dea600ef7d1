from __future__ import annotations

import pytest
from civicrag.eval.metrics.facts import fact_matches, fact_recall, korean_number, normalise


@pytest.mark.parametrize(
    ("fact", "answer"),
    [
        ("14일 이내", "대출기간은 14일이내로 한다."),  # spacing
        ("6만원", "당직비는 1회 60,000원이다."),  # unit numeral vs separators
        ("60,000원", "1회 6만 원을 지급한다."),
        ("1억 2천만원", "한도는 120,000,000원"),
        ("09시부터 22시까지", "운영시간은 9시부터 22시까지로 한다"),  # leading zero
        ("10퍼센트", "사용료의 10%를 공제"),
        ("「주차장법」", "주차장법에 따라"),  # punctuation
        ("ten days", "within 10 days of impoundment"),
        ("24 hours", "within twenty-four hours after"),
        ("30 days", "thirty (30) days"),
        ("$100", "a fine not to exceed $100.00"),
        ("ＡＢＣ １２", "abc12"),  # full-width
    ],
)
def test_equivalent_spellings_match(fact: str, answer: str) -> None:
    assert normalise(fact) in normalise(answer), (normalise(fact), normalise(answer))


def test_different_numbers_do_not_match() -> None:
    assert fact_recall(["5만원"], "1회 7만원") == 0.0
    assert fact_recall(["2년"], "임기는 12년") == 1.0  # substring semantics: facts should be specific


def test_recall_and_split() -> None:
    found, missing = fact_matches(["7일 전까지", "10퍼센트"], "사용일 7일 전까지 취소하면 10% 공제 후 반환")
    assert found == ["7일 전까지", "10퍼센트"] and missing == []
    assert fact_recall(["휴무", "수당"], "다음 날은 휴무") == 0.5


def test_no_facts_is_undefined() -> None:
    assert fact_recall([], "anything") is None


def test_korean_number() -> None:
    assert korean_number("1억 2천만") == 120_000_000
    assert korean_number("5만 5천") == 55_000
    assert korean_number("3천") == 3_000
