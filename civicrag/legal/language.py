"""Hangul and the language of a text: the one definition of the Hangul ranges and the one language rule.

ingest decides a document's language with ``detect_language`` (when its front matter does not say), and
rag a question's; every regex elsewhere that needs Hangul builds on ``HANGUL_SYLLABLES``.
"""

from __future__ import annotations

import re
from typing import Literal

#: The two languages civicrag reads and answers in.
Language = Literal["ko", "en"]

#: The precomposed Hangul syllables 가 (U+AC00) to 힣 (U+D7A3), as the inside of a regex character class.
HANGUL_SYLLABLES = "\uac00-\ud7a3"
#: Hangul letters that are not syllables: conjoining jamo (U+1100–U+11FF, what NFD-normalised Korean is made
#: of) and compatibility jamo (U+3130–U+318F: ㄱ, ㅏ, as in "ㅎㅎ").
HANGUL_JAMO = "\u1100-\u11ff\u3130-\u318f"

#: One Hangul syllable; ``HANGUL_WORD`` finds the Hangul runs of a text ("주차장을", "조례"); ``HANGUL_LETTER``
#: one Hangul letter of any form (syllable or jamo).
HANGUL = re.compile(f"[{HANGUL_SYLLABLES}]")
HANGUL_WORD = re.compile(f"[{HANGUL_SYLLABLES}]+")
HANGUL_LETTER = re.compile(f"[{HANGUL_SYLLABLES}{HANGUL_JAMO}]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")

#: Characters of a long document read to tell its language; counting megabytes would only cost time.
LANGUAGE_SAMPLE_CHARS = 200_000


def has_hangul(text: str) -> bool:
    """Whether the text holds a Hangul syllable: a Korean title, word or question."""
    return HANGUL.search(text) is not None


def is_hangul_syllable(char: str) -> bool:
    """Whether ``char`` is one precomposed Hangul syllable (가 … 힣)."""
    return len(char) == 1 and HANGUL.match(char) is not None


def detect_language(text: str, empty: Language = "ko") -> Language:
    """``ko`` when Hangul makes up at least a quarter of the Hangul and Latin letters, else ``en``.

    Only the two scripts civicrag reads count: a Korean question or regulation quotes Latin names and
    numbers ("SECTION 3-1 내용이 뭐야?"), an English one rarely quotes Hangul, and a quarter is far beyond
    either kind of quoting. Other scripts (Hanja, CJK punctuation) and digits are neither's evidence.

    ``empty`` is the language of a text with neither a Hangul nor a Latin letter ("123?", "", "第十條"):
    a question is then taken as asked in Korean (the default: the service's first language), while
    ingest passes ``empty="en"`` for a document, which it reads with the English parser.
    Only the first ``LANGUAGE_SAMPLE_CHARS`` characters are read.
    """
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    hangul = len(HANGUL_LETTER.findall(sample))
    latin = len(_LATIN_LETTER.findall(sample))
    if hangul == 0 and latin == 0:
        return empty
    return "ko" if hangul * 3 >= latin else "en"


def with_topic_particle(label: str) -> str:
    """The label with its topic particle, chosen by how its last syllable or digit is read aloud:
    제7조는, 부칙은, 제9조의2는, 별표 1은; ``…은(는)`` when the last character is neither."""
    last = label.strip()[-1:] if label.strip() else ""
    if last.isdigit():
        # 일 칠 팔 삼 육 영 end in a consonant; 이 사 오 구 in a vowel.
        return f"{label}{'는' if last in '2459' else '은'}"
    if is_hangul_syllable(last):
        # A syllable's code point is ord("가") + (initial * 21 + vowel) * 28 + final; final 0 is no consonant.
        has_final = (ord(last) - ord("가")) % 28 != 0
        return f"{label}{'은' if has_final else '는'}"
    return f"{label}은(는)"
