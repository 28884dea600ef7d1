"""Staff words → the regulations' words, for the lexical leg of a query only.

Staff ask in everyday words (쓰레기, 할인, 사표, 킥보드); the ordinances use legal
terms (폐기물, 감면·경감, 의원면직, 개인형 이동장치). Dense retrieval bridges some of
these; BM25 cannot. Each entry was added for a question in the calibration set or
a field report and is measured there; keep it short and unambiguous.
Keys and values are tokenizer outputs (Kiwi morphemes / Snowball stems).
"""

from __future__ import annotations

SYNONYMS: dict[str, tuple[str, ...]] = {
    # Korean everyday word -> legal terms
    "쓰레기": ("폐기물",),
    "할인": ("감면", "경감"),
    "깎": ("감면", "경감"),
    "공짜": ("무료", "면제"),
    "경차": ("경형",),
    "사표": ("의원면직",),
    "사직": ("의원면직",),
    "킥보드": ("개인형", "이동장치"),
    "킥": ("개인형", "이동장치"),
    "월급": ("보수",),
    "벌금": ("과태료",),
    "이사": ("전입",),
    "대관": ("사용허가", "사용료"),
    "빌리": ("대출", "사용허가"),
    "쉬": ("휴무",),
    "휴일": ("공휴일", "휴무"),
    "환불": ("반환", "환불"),
    "돌려받": ("반환",),
    "위원": ("위원",),
    # English everyday word -> code terms (stems)
    "pay": ("compens", "salari"),
    "salari": ("compens",),
    "loos": ("at-larg",),
    "leash": ("at-larg", "leash"),
    "fee": ("fee", "charg"),
    "lab": ("laboratori",),
    "serv": ("term",),
}


def expand(tokens: list[str]) -> list[str]:
    """The tokens followed by the legal terms their everyday words stand for (no duplicates)."""
    out = list(tokens)
    seen = set(out)
    for t in tokens:
        for extra in SYNONYMS.get(t, ()):
            if extra not in seen:
                seen.add(extra)
                out.append(extra)
    return out
