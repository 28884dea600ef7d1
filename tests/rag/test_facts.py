"""``rag.facts``: the kind of fact a question asks for, and whether a text states (or defers) one."""

from __future__ import annotations

from typing import Any

import pytest
from civicrag.rag.facts import defers, kind_spans, question_kind, states_fact, states_number


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("당직 서면 수당 얼마야?", "amount"),
        ("4·3 지방공휴일은 언제야?", "date"),
        ("신청은 언제까지 해야 해?", "period"),  # 언제까지 is a period, not a date: period cues come first
        ("위원은 몇 명이야?", "count"),
        ("위원장은 누가 맡아?", "body"),
        ("대형폐기물은 어떻게 버려요?", "procedure"),
        ("경차도 감면되나요?", "rule"),
        ("공영주차장이란 뭐야?", "definition"),
        ("경차 주차 감면 대상", "other"),  # no interrogative and no fee noun
        ("주차요금 감면", "amount"),  # 요금 inside 주차요금 is the fee noun
        ("정기주차권 요금", "amount"),  # a fee noun, the last resort
        ("How long does the mayor serve?", "period"),
        ("How much vacation do employees get?", "period"),  # time asked as "how much"
        ("Who acts as mayor when the mayor is absent?", "body"),  # English: the earliest cue wins
        ("What is the fee for a dog license?", "amount"),  # "what is" means a definition only when alone
        ("What is a dangerous dog?", "definition"),
        ("Snow removal", "other"),
    ],
)
def test_question_kind(question: str, kind: str) -> None:
    assert question_kind(question) == kind


def test_kind_spans_are_the_words_that_ask() -> None:
    question = "How long is the mayor's term?"
    assert [question[a:b] for a, b in kind_spans(question)] == ["How long", "term"]
    # Both amount cues ask: the interrogative and the fee noun.
    assert [("당직 수당 얼마야?")[a:b] for a, b in kind_spans("당직 수당 얼마야?")] == ["얼마", "수당"]
    assert kind_spans("경차 주차 감면 대상") == []


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("amount", "당직근무자에게는 6만원의 당직수당을 지급한다.", True),
        ("amount", "경차는 주차요금을 감면한다.", True),  # a reduction answers "how much?" too
        ("amount", "수수료는 도지사가 따로 정한다.", False),
        ("period", "위원의 임기는 2년으로 한다.", True),
        ("period", "The mayor shall serve a term of four years.", True),
        ("date", "매년 4월 3일을 지방공휴일로 한다.", True),
        ("date", "이 조례는 공포한 날부터 시행한다.", True),
        ("body", "위원회는 위원장 1명을 둔다.", True),
        ("count", "위원회는 15명 이내로 구성한다.", True),
        ("count", "위원회는 위원으로 구성한다.", False),
        ("definition", '"공영주차장"이란 도가 설치한 주차장을 말한다.', True),
        ("procedure", "주민센터에 신고하여야 한다.", True),
        ("rule", "누구든지 견인할 수 있다.", True),
        ("other", "아무 글", True),
    ],
)
def test_states_fact(kind: Any, text: str, expected: bool) -> None:
    assert states_fact(kind, text) is expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("amount", "사용료는 별표 1과 같다.", False),  # names the fee, states no figure
        ("amount", "1일 5,000원으로 한다.", True),
        ("amount", "사용료의 100분의 50을 감면한다.", True),
        ("amount", "사용료를 감면할 수 있다.", False),  # states_fact counts 감면; a figure it is not
        ("period", "임기는 위원회가 정한다.", False),
        ("period", "임기는 2년으로 한다.", True),
        ("count", "위원은 15명 이내로 구성한다.", True),
        ("body", "위원장은 부지사가 된다.", True),  # kinds without figures fall back to states_fact
    ],
)
def test_states_number_wants_a_figure_of_the_kind_asked(kind: Any, text: str, expected: bool) -> None:
    assert states_number(kind, text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("정기주차권의 요금은 별표 1과 같다.", True),
        ("신청서는 별지 제1호서식에 따른다.", True),
        ("운영시간은 도지사가 따로 정한다.", True),
        ("세부 사항은 규칙으로 정한다.", True),
        ("Fees are as set forth in schedule A.", True),
        ("주차요금은 1시간에 1천원으로 한다.", False),
        ("The mayor shall serve four years.", False),
    ],
)
def test_defers(text: str, expected: bool) -> None:
    assert defers(text) is expected
