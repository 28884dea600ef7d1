"""What kind of fact a question asks for, and whether a provision's text states one.

Answerability cannot rest on similarity alone: "당직 수당이 얼마야?" is very similar to
an article that says the amount "is set by the governor" or "is as in 별표 2" (which is
not in the corpus). These patterns let the refusal model ask the content question:
does the best provision state an amount, a period, a body, a condition, a rule?
"""

from __future__ import annotations

import re
from typing import Literal

from civicrag.legal.grammar import DEFERRAL
from civicrag.legal.language import HANGUL_SYLLABLES, has_hangul

FactKind = Literal["amount", "period", "date", "body", "count", "rule", "procedure", "definition", "other"]

# Order matters: the first kind whose cue appears wins ("언제까지" is a period, not a date).
_QUESTION_CUES: list[tuple[FactKind, re.Pattern[str]]] = [
    # Interrogatives first: they say what is asked; topic nouns (요금, 수당) only as a last resort.
    ("period", re.compile(
        r"언제까지|며칠|몇\s*(일|개월|달|년|시간|시|주)|얼마나\s*(오래|걸|살|동안|있)|기간|임기|기한|"
        r"how long|deadline|within how|\bterms?\b|\bserve\b|how many (days|years|months|hours|weeks)", re.I)),
    ("count", re.compile(r"몇\s*(명|개|회|인|곳|번|살|세|차례)|how many|number of", re.I)),
    ("amount", re.compile(
        r"얼마|금액|액수|몇\s*원|퍼센트|비율|몇\s*%|가격|how much|percent|amount|price|\bcost|\bfees?\b|"
        r"\bsalary\b|in dollars", re.I)),
    ("date", re.compile(r"언제|날짜|시행일|몇\s*월|\bwhen\b|what date|what day", re.I)),
    ("body", re.compile(
        r"누가|누구|어디|어느\s*(기관|부서)|\bwho\b|whom|which (body|department|office|board)", re.I)),
    ("procedure", re.compile(r"어떻게|방법|절차|how (do|can|should|to)|procedure|apply|process", re.I)),
    ("rule", re.compile(
        r"되나요|되나|돼\?|되는지|가능|할\s*수\s*있|수\s*있[나어을]|해야|하나요|금지|허용|의무|\bcan\b|\bmay\b|"
        r"\bmust\b|allowed|permitted|prohibited|required|\bis it\b|\bdo(es)? .* (need|have) to", re.I)),
    ("definition", re.compile(r"뭐야|무엇|뜻|정의|이란|란\?|what is|what are|what does .* mean|defin", re.I)),
    ("amount", re.compile(r"요금|수수료|사용료|수당|보수|단가|\bpay\b|\bfine\b|penalt", re.I)),
]

_HANGUL = f"[{HANGUL_SYLLABLES}]"  # one Hangul syllable, in the patterns below

# A sum of money, a rate or a multiple: "5,000원", "100분의 50", "$25", "3배".
_AMOUNT_FIGURE = (
    r"\d[\d,.]*\s*(원|천원|만원|억원|퍼센트|%|분의)|[일이삼사오육칠팔구십백천만]+\s*원|\$\s?\d|\d\s*(dollars|"
    r"percent|cents)|100분의|\d+\s*배|[두세네]\s*배"
)

_FACT_PATTERNS: dict[FactKind, re.Pattern[str]] = {
    # A reduction or exemption answers "얼마야?" too ("감면한다", "무료"), though it gives no figure.
    "amount": re.compile(rf"{_AMOUNT_FIGURE}|감면|면제|무료|exempt", re.I),
    "period": re.compile(
        r"\d+\s*(일|개월|년|주|시간|분|시(?!행))\s*(이내|이상|이하|동안|전|후|까지|마다|간)?|\d{1,2}:\d\d|임기|"
        r"\d+\s*(days?|months?|years?|hours?|weeks?)|\bterm\b|until|within",
        re.I,
    ),
    "date": re.compile(
        r"\d+\s*월\s*\d+\s*일|매년|매월|공포한\s*날|\d{4}\.\s*\d+\.\s*\d+|(January|February|March|"
        r"April|May|June|July|August|September|October|November|December)\s+\d|\bday\b",
        re.I,
    ),
    "body": re.compile(
        rf"위원회|도지사|시장|군수|교육감|의회|{_HANGUL}+장[은이]|{_HANGUL}+(과|부|실|국|센터)(장)?[은이에]|council|mayor|"
        rf"board|commission|department|officer|director|clerk|president|{_HANGUL}\s*자로\s*한다|사람|주민|공무원|관공서|기관",
        re.I,
    ),
    "count": re.compile(
        r"\d+\s*(명|개|회|인|곳|번|개소|세|차례)|한\s*차례|[한두세]\s*번|[일이삼사오육칠팔구십]+\s*명|\d+\s*(members?|"
        r"persons?|people|times)",
        re.I,
    ),
    "rule": re.compile(
        r"하여야\s*한다|해야\s*한다|할\s*수\s*있다|할\s*수\s*없다|아니\s*된다|못한다|금지|의무|shall|must|may not|"
        r"may\b|prohibited|permitted|required|authoriz|allowed|unlawful|no person shall|exempt",
        re.I,
    ),
    "procedure": re.compile(
        r"신청|제출|신고|배출|절차|접수|통보|수거|shall (submit|apply|file)|application|apply|permit",
        re.I,
    ),
    "definition": re.compile(
        r"이란|말한다|라\s*한다|means|shall mean|defined",
        re.I,
    ),
    "other": re.compile(r"."),
}

def question_kind(question: str) -> FactKind:
    """The kind of fact asked. Korean puts the interrogative last, so cue priority decides; English
    puts it first ("Who acts as mayor when …" asks for a body, not a date), so the earliest cue does."""
    if has_hangul(question):
        for kind, cue in _QUESTION_CUES:
            if cue.search(question):
                return kind
        return "other"
    if _EN_DURATION.search(question):
        return "period"
    found = [(m.start(), i, kind) for i, (kind, cue) in enumerate(_QUESTION_CUES) if (m := cue.search(question))]
    # "What is/are …" opens most questions; it means a definition only when nothing else is asked.
    specific = [f for f in found if f[2] != "definition"]
    return min(specific or found)[2] if found else "other"


_EN_DURATION = re.compile(r"how (much|many) (time|vacation|leave|days|weeks|months|years)", re.I)


def kind_spans(question: str, kind: FactKind | None = None) -> list[tuple[int, int]]:
    """Character spans of the words that ask for ``kind`` ("how long", "term", "얼마"); by default the kind
    ``question_kind`` detects (pass it when it is known, so it is not worked out twice)."""
    kind = question_kind(question) if kind is None else kind
    return [m.span() for k, cue in _QUESTION_CUES if k == kind for m in cue.finditer(question)]


def states_fact(kind: FactKind, text: str) -> bool:
    return bool(_FACT_PATTERNS[kind].search(text))


# Stricter than ``_FACT_PATTERNS``: a figure must be there ("감면", "임기" do not count).
_NUMBER_PATTERNS: dict[FactKind, re.Pattern[str]] = {
    "amount": re.compile(_AMOUNT_FIGURE, re.I),
    "period": re.compile(
        r"\d+\s*(일|개월|년|주|시간|분|시(?!행))|\d{1,2}:\d\d|[한두세네]\s*(달|해)|"
        r"\d+\s*(days?|months?|years?|hours?|weeks?)|\b(one|two|three|four|five|six|ten|thirty)\s+(days?|months?|years?)",
        re.I,
    ),
    "count": re.compile(
        r"\d+\s*(명|개|회|인|곳|번|개소|세|차례|부)|한\s*차례|[한두세]\s*번|[일이삼사오육칠팔구십]+\s*명|\d+\s*(members?|"
        r"persons?|people|times|copies)|\b(one|two|three|four|five|six|seven|nine|eleven)\s+(members?|persons?)",
        re.I,
    ),
}


def states_number(kind: FactKind, text: str) -> bool:
    """The text gives a figure of the asked kind; kinds without figures fall back to ``states_fact``."""
    pattern = _NUMBER_PATTERNS.get(kind)
    return bool(pattern.search(text)) if pattern else states_fact(kind, text)


def defers(text: str) -> bool:
    """Whether the provision hands the detail to something that is not here: an attachment (별표, 서식), a later
    decision ("도지사가 따로 정한다") or another regulation (``civicrag.legal.grammar.DEFERRAL``)."""
    return bool(DEFERRAL.search(text))
