"""``rag.language``: the language of a question (Hangul against Latin letters) and the fixed answer phrases."""

from __future__ import annotations

import pytest
from civicrag.rag.language import PHRASES, detect_language, has_hangul, phrase


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("당직 서면 수당 얼마야?", "ko"),
        ("How long does the mayor serve?", "en"),
        # 5 Hangul letters (내용이뭐야) against 7 Latin (SECTION): 5 * 3 = 15 >= 7, so Korean.
        ("SECTION 3-1 내용이 뭐야?", "ko"),
        # 1 Hangul against 3 Latin: 3 >= 3, Korean; against 4: 3 < 4, English.
        ("가 abc", "ko"),
        ("가 abcd", "en"),
        # Jamo count as Hangul letters here.
        ("ㅁㄴㅇㄹ", "ko"),
    ],
)
def test_hangul_must_make_up_a_quarter_of_the_letters(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_text_without_letters_takes_the_default() -> None:
    assert detect_language("123 ?!") == "ko"
    assert detect_language("123 ?!", empty="en") == "en"
    assert detect_language("🙂🙂", empty="en") == "en"


def test_has_hangul_wants_a_syllable() -> None:
    assert has_hangul("4·3 지방공휴일")
    assert not has_hangul("ㅁㄴㅇㄹ")  # jamo alone are not a word
    assert not has_hangul("SECTION 3-1")


def test_every_phrase_exists_in_both_languages() -> None:
    assert all(set(texts) == {"ko", "en"} for texts in PHRASES.values())


def test_phrases_fill_their_placeholders() -> None:
    assert phrase("not_found", "ko") == "규정에서 찾을 수 없습니다."
    assert phrase("answered_by", "en", ref="SECTION 3-1") == "This is governed by SECTION 3-1."
    assert phrase("superseded", "ko", date="2021-06-01", until="2024-07-01") == (
        "※ 2021-06-01 기준으로 시행 중이던 판(현재는 2024-07-01부터 개정됨)에서 인용했습니다."
    )
    assert phrase("empty_document", "en", title="Harbor Mooring Ordinance") == (
        '"Harbor Mooring Ordinance" is registered, but its text could not be read, so it cannot be answered; '
        "check the original."
    )
