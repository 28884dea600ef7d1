"""Hangul and language detection (civicrag.legal.language): one rule for documents and questions."""

from __future__ import annotations

import unicodedata

import pytest

from civicrag.legal.language import HANGUL_WORD, detect_language, has_hangul, is_hangul_syllable, with_topic_particle


@pytest.mark.parametrize(
    ("text", "language"),
    [("당직 서면 수당 얼마야?", "ko"), ("How long does the mayor serve?", "en"), ("SECTION 3-1 내용이 뭐야?", "ko"),
     ("제1조(목적) 이 조례는 Seoul 시의 조례이다.", "ko"),
     ("Section 1. The 조례 word is quoted here in English text.", "en")],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language
    assert detect_language(text, empty="en") == language  # ``empty`` only decides texts without letters


def test_a_quarter_of_the_letters_makes_korean() -> None:
    assert detect_language("가" * 10 + "a" * 30) == "ko"  # 10 * 3 >= 30
    assert detect_language("가" * 10 + "a" * 31) == "en"


@pytest.mark.parametrize("text", ["", "   ", "123 456?", "第十條", "Привет"])
def test_no_hangul_or_latin_letter_is_the_empty_language(text: str) -> None:
    assert detect_language(text) == "ko"  # a question: asked in the service's first language
    assert detect_language(text, empty="en") == "en"  # a document: read with the English parser


def test_decomposed_hangul_counts_as_korean() -> None:
    # Text typed on some systems arrives NFD-normalised: conjoining jamo, no precomposed syllable.
    question = unicodedata.normalize("NFD", "주차장 요금은 SECTION")
    assert not has_hangul(question) and detect_language(question) == "ko"


def test_hangul_helpers() -> None:
    assert has_hangul("주차장 요금") and not has_hangul("ㅎㅎ ok") and not has_hangul("parking")
    assert is_hangul_syllable("가") and is_hangul_syllable("힣") and not is_hangul_syllable("ㄱ")
    assert not is_hangul_syllable("가나")
    assert HANGUL_WORD.findall("제7조(주차장) fee 요금을") == ["제", "조", "주차장", "요금을"]


@pytest.mark.parametrize(
    ("label", "with_particle"),
    [("제7조", "제7조는"), ("부칙", "부칙은"), ("제9조의2", "제9조의2는"), ("별표 1", "별표 1은"),
     ("제10조", "제10조는"), ("별표 3", "별표 3은"), ("Sec. 9", "Sec. 9는"), ("(a)", "(a)은(는)"), ("", "은(는)")],
)
def test_topic_particle(label: str, with_particle: str) -> None:
    assert with_topic_particle(label) == with_particle
