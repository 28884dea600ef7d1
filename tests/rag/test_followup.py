"""``rag.followup``: which questions in a conversation are follow-ups, and the standalone question they become."""

from __future__ import annotations

import pytest
from civicrag.rag.followup import FollowupRewriter, Rewrite
from civicrag.rag.references import DocumentNames
from civicrag.rag.types import Message

from tests.rag.test_references import _DOCS, _catalogue, _split

PARKING = "가상특별자치도 주차장 설치 및 관리 조례"


@pytest.fixture()
def names() -> DocumentNames:
    return DocumentNames(_catalogue(_DOCS), _split)


def _rewriter(names: DocumentNames) -> FollowupRewriter:
    return FollowupRewriter(_split, lambda q: [d for d, _ in names.find(q, _split(q))[:1]], names.titles)


def test_short_unanchored_question_in_a_conversation_is_a_follow_up(names: DocumentNames) -> None:
    history = [Message("user", "가파도 시설 위탁 누가 해?"), Message("assistant", "법인에 위탁합니다.")]
    # The document is preference enough: the last question's words do not pull back to its article.
    assert _rewriter(names).rewrite("사용료 누가 정해?", history) == Rewrite("사용료 누가 정해?", True, ["d1"])


def test_question_naming_its_own_document_stands_alone(names: DocumentNames) -> None:
    history = [Message("user", "가파도 시설 위탁 누가 해?"), Message("assistant", "법인에 위탁합니다.")]
    assert _rewriter(names).rewrite("폐기물 조례 배출", history) == Rewrite("폐기물 조례 배출", False)


def test_without_a_user_turn_nothing_is_a_follow_up(names: DocumentNames) -> None:
    assert _rewriter(names).rewrite("사용료 누가 정해?", []) == Rewrite("사용료 누가 정해?", False)
    only_assistant = [Message("assistant", "안녕하세요.")]
    assert not _rewriter(names).is_followup("그럼 경차는?", only_assistant)


def _plain() -> FollowupRewriter:
    """No documents at all: the rewrite carries the previous question's topic words."""
    return FollowupRewriter(_split, lambda q: [], {})


def test_a_cue_word_carries_the_previous_topic_over() -> None:
    history = [Message("user", "경차 주차요금 감면 얼마야?"), Message("assistant", "…")]
    # "그럼" goes; the words that asked the last detail (얼마, and 요금 inside 주차요금) do not carry over.
    assert _plain().rewrite("그럼 전기차는?", history) == Rewrite("전기차는? 경차 주차 감면", True)


def test_english_cues_and_kind_words_of_the_last_question() -> None:
    history = [Message("user", "How long is the mayor's term?")]
    # "and" goes; "How long" and "term" asked the last detail and do not carry over; "is" and "mayor's" do
    # ("the" is the follow-up's own word; this whitespace tokenizer drops no stop words).
    assert _plain().rewrite("and the compensation?", history) == Rewrite("the compensation? is mayor's", True)


def test_an_earlier_follow_up_is_resolved_first() -> None:
    history = [Message("user", "경차 주차요금 감면 얼마야?"), Message("user", "그럼 전기차는?")]
    # "그럼 전기차는?" became "전기차는? 경차 주차 감면"; "또 수소차는?" carries all of its tokens.
    assert _plain().rewrite("또 수소차는?", history).question == "수소차는? 전기차는 경차 주차 감면"


def test_a_cue_alone_repeats_the_previous_question() -> None:
    history = [Message("user", "경차 주차요금 감면 얼마야?")]
    assert _plain().rewrite("그럼", history) == Rewrite("경차 주차요금 감면 얼마야?", True)


def test_anaphors_and_length_decide_without_a_cue() -> None:
    history = [Message("user", "경차 주차요금 감면 얼마야?")]
    rewriter = _plain()
    assert rewriter.is_followup("경차는?", history)  # one token
    assert rewriter.is_followup("그 조항 기한은?", history)  # an anaphor and three tokens
    assert rewriter.is_followup("신청서는 어디에 내?", history)  # three tokens, no document named
    assert not rewriter.is_followup("공영주차장 정기주차권 요금 할인 대상 알려줘", history)  # six tokens


def test_the_documents_the_last_answer_cited_follow_the_conversation() -> None:
    rewriter = FollowupRewriter(_split, lambda q: [], {"9100001": PARKING})
    history = [
        Message("user", "경차 감면돼?"),
        Message("assistant", f"「{PARKING}」 제7조(주차요금의 감면)에서 정하고 있습니다."),
    ]
    # No cue or anaphor: the question brings its own detail, the cited document is the preference.
    assert rewriter.rewrite("전기차 감면 신청 방법", history) == Rewrite("전기차 감면 신청 방법", True, ["9100001"])
    # A cue: the topic words carry over as well ("돼?" asked whether, a rule: it does not).
    assert rewriter.rewrite("그럼 전기차는?", history) == Rewrite("전기차는? 경차 감면", True, ["9100001"])
