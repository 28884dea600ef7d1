"""Fact recall: which of a question's key facts the answer text contains.

Matching is substring matching after a normalisation that makes equal facts look equal
in Korean and English without a model:
- Unicode NFKC (full-width digits and letters), lower case;
- numerals: thousands separators go (60,000 → 60000), Korean unit numerals become digits
  (6만원 → 60000원, 1억 2천만 원 → 120000000원), leading zeros go (09시 → 9시), trailing
  ".00" goes ($100.00 → $100), English number words become digits (ten days → 10 days),
  and "thirty (30)" collapses to one number;
- 퍼센트 / percent / % are one sign;
- then every space and punctuation mark is removed, so Korean spacing variants
  (14일 이내 / 14일이내) and quote styles never matter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
_EN_NUMBER = re.compile(
    rf"\b(?:({'|'.join(_EN_TENS)})(?:[\s-]({'|'.join(_EN_UNITS)}))?|({'|'.join(_EN_UNITS)}))\b"
)
_KO_UNIT_VALUE = {"억": 10**8, "만": 10**4, "천": 10**3, "백": 10**2}
# "1억 2천만", "6만", "3천": digits each followed by a unit, optionally a trailing plain number.
_KO_NUMBER = re.compile(r"\d+\s*[억만천백](?:\s*\d*\s*[억만천백])*(?:\s*\d+(?!\s*[억만천백]))?")
_KO_PART = re.compile(r"(\d*)\s*([억만천백])|(\d+)")


def _en_word(m: re.Match[str]) -> str:
    if m.group(3):
        return str(_EN_UNITS[m.group(3)])
    return str(_EN_TENS[m.group(1)] + (_EN_UNITS[m.group(2)] if m.group(2) else 0))


def korean_number(text: str) -> int:
    """Value of a run like "1억 2천만" or "6만" (section-wise: 억 and 만 close a section)."""
    total = section = 0
    for m in _KO_PART.finditer(text):
        if m.group(3):
            section += int(m.group(3))
            continue
        digits, unit = m.group(1), m.group(2)
        if unit in ("천", "백"):
            section += int(digits or 1) * _KO_UNIT_VALUE[unit]
        else:
            # "2천만": the 만 multiplies the section built so far; "6만": the digits alone.
            total += (section + int(digits or 0)) * _KO_UNIT_VALUE[unit]
            section = 0
    return total + section


def normalise(text: str) -> str:
    """The comparison form of a fact or an answer (see the module docstring)."""
    s = unicodedata.normalize("NFKC", text or "").lower()
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)
    s = re.sub(r"(?<=\d),(?=\d{3})", "", s)
    s = _EN_NUMBER.sub(_en_word, s)
    s = re.sub(r"(\d+)\s*\(\s*\1\s*\)", r"\1", s)  # "30 (30) days"
    s = _KO_NUMBER.sub(lambda m: str(korean_number(m.group(0))), s)
    s = re.sub(r"(\d+)\.0+(?!\d)", r"\1", s)
    s = re.sub(r"\b0+(\d)", r"\1", s)
    s = re.sub(r"(?<!\d)0+(\d)", r"\1", s)
    s = re.sub(r"퍼센트|percent|per cent|프로", "%", s)
    return re.sub(r"[^\w%]+|_", "", s)


def fact_matches(facts: Sequence[str], answer: str) -> tuple[list[str], list[str]]:
    """(found, missing) facts of ``answer``."""
    haystack = normalise(answer)
    found: list[str] = []
    missing: list[str] = []
    for fact in facts:
        needle = normalise(fact)
        (found if needle and needle in haystack else missing).append(fact)
    return found, missing


def fact_recall(facts: Sequence[str], answer: str) -> float | None:
    """Share of facts present; None when the question lists no facts."""
    if not facts:
        return None
    found, _ = fact_matches(facts, answer)
    return len(found) / len(facts)
