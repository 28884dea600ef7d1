"""The provision grammar: how regulations number and label their parts, as regexes and small helpers.

Korean: 조 (제7조, 제7조의2), 항 (① … ㊿), 호 (1., 2의2.), 목 (가.), 부칙, 별표 (별표 5, 별표 2의3) and 별지 서식
(별지 제1호서식), and the amendment notes that annotate them (<개정 2019.4.11.>, [본조신설 …], 삭제).
English: sections (§ 2-537, SECTION 3-1, Sec. 3-1, Secs. 2-11–2-20, 2.1.3).

Every module that reads or writes these labels takes its patterns from here: the parsers (``ingest.parsing``),
the PDF line rejoiner (``ingest.loaders.reflow``), attachments, the lexical tokenizer (reference tokens), the
question side (``rag.references``, amendments, statutes) and the eval labels. Where two readers need
different strictness (the parser anchors a whole line, a question may write "5조" without 제), both
patterns are here side by side, named for the reader. Pure: no I/O.
"""

from __future__ import annotations

import re

from civicrag.legal.language import HANGUL_SYLLABLES

# -- 항: circled numbers ------------------------------------------------------------------------------

#: The 항 marks ① … ㊿ (Unicode has circled numbers up to 50: ①–⑳ U+2460, ㉑–㉟ U+3251, ㊱–㊿ U+32B1).
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳㉑㉒㉓㉔㉕㉖㉗㉘㉙㉚㉛㉜㉝㉞㉟㊱㊲㊳㊴㊵㊶㊷㊸㊹㊺㊻㊼㊽㊾㊿"
#: A 항 mark, as a regex character class.
CIRCLED_CLASS = f"[{CIRCLED}]"

# Dingbat circled digits (from "&#10112;" in one document) read as the usual 항 marks;
# U+F09E is a Symbol-font middle dot that Office exported as a private-use character.
CHARACTER_FIXES = str.maketrans({**{chr(0x2780 + i): chr(0x2460 + i) for i in range(10)}, "\uf09e": "·"})


def circled(number: int) -> str:
    """The 항 mark of ``number``: 2 → ②, 21 → ㉑; "" outside 1 … 50."""
    return CIRCLED[number - 1] if 0 < number <= len(CIRCLED) else ""


def circled_number(mark: str) -> int | None:
    """The number a 항 mark stands for: ② → 2, ㉑ → 21; None for anything else."""
    return CIRCLED.index(mark) + 1 if len(mark) == 1 and mark in CIRCLED else None


# -- 조: articles ---------------------------------------------------------------------------------------

#: A Korean article label with named groups ``num`` and ``branch``: "제7조", "제 7 조의 2".
ARTICLE_LABEL = r"제\s*(?P<num>\d+)\s*조(?:\s*의\s*(?P<branch>\d+))?"
# A title in parentheses, allowing one level of nesting: "(사용료(관람료) 감면)".
_TITLE = r"\((?P<title>(?:[^()\n]|\([^()\n]*\))*)\)"

#: "##### 제702조 (세척센터의 설치 등)" — the Markdown article heading.
MD_ARTICLE = re.compile(rf"^\s*#{{1,6}}\s*{ARTICLE_LABEL}\s*(?:{_TITLE})?\s*$")
#: "제1조 (목적)" alone on its line — the PDF rendering of that heading.
PLAIN_ARTICLE = re.compile(rf"^\s*{ARTICLE_LABEL}\s*(?:{_TITLE})?\s*$")
#: The body's own label: "제7조의2(세척센터의 설치 등) 본문…" or "제5조 삭제 <2019.4.11.>".
#: The title must be followed by a space or the line end: "제5조(정의)에 따른" is a reference.
BODY_ARTICLE = re.compile(rf"^\s*{ARTICLE_LABEL}\s*(?:{_TITLE}(?=\s|$)|(?P<deleted>삭\s*제)(?=\s|<|\(|\[|$))")
#: Any Markdown article heading in a text (whether the text is legalize-kr Markdown).
ANY_MD_ARTICLE = re.compile(r"^[ \t]*#{1,6}[ \t]*제[ \t]*\d+[ \t]*조", re.MULTILINE)
#: "##### 제0조 (…)": where the export put a chapter line, not an article.
FAKE_ARTICLE_LINE = re.compile(r"^\s*#{1,6}\s*제\s*0+\s*조")
#: An article line inside a 부칙 ("제1조(시행일) …"), for splitting a 부칙 into its articles.
INNER_ARTICLE_LINE = re.compile(r"^[ \t]*제[ \t]*(\d+)[ \t]*조(?:[ \t]*의[ \t]*(\d+))?[ \t]*\(", re.MULTILINE)
#: "제5조 삭제", "제8조의2 삭제<2021.8.9.>": a repealed article's header.
REPEALED_ARTICLE = re.compile(r"^제\s*\d+\s*조(?:\s*의\s*\d+)?\s*삭\s*제")
#: "삭제" or "삭제 <2019.4.11.>" alone on a line: the body of a repealed article.
DELETED_ONLY = re.compile(r"^\s*삭\s*제\s*(?:<[^<>\n]*>)?\s*$")
#: A canonical article label, whole: "제7조", "제7조의2" (``fullmatch`` gives the number and branch).
CANONICAL_ARTICLE = re.compile(r"^제(\d+)조(?:의(\d+))?$")
#: An article label in running text, spaced or not: "제7조의2", "제 7 조의 2" (the lexical leg's token).
ARTICLE_IN_TEXT = re.compile(r"제\s*(\d+)\s*조(?:\s*의\s*(\d+))?")
#: An article label in a question: "제29조의2", "29조의2", "제 29 조 의 2"; not 조례 / 조치 / 조정 (a syllable after
#: 조 other than 의 ends the match).
ARTICLE_IN_QUESTION = re.compile(r"(?<!\d)(제\s*)?(\d+)\s*조(?![례치정직사성합건])(?:\s*의\s*(\d+))?")
#: "「주차장법」 제12조" — a regulation's name in 낫표 and the article cited right after it.
CITED_ARTICLE = re.compile(r"「([^」]+)」\s*(제\d+조(?:의\d+)?)")
#: A short-named statute, decree or ordinance cited with an article: "법 제19조", "영 제6조", "조례 제3조".
ALIAS_ARTICLE = re.compile(rf"(?:^|[^{HANGUL_SYLLABLES}])(?:법|영|조례)\s*제\d+조")
#: "이 조항", "그 조문", "해당 조", "조문": words that make a question about one provision.
PROVISION_WORDS = re.compile(rf"(?:이|그|해당|위)\s*(?:조항|조문|조(?![{HANGUL_SYLLABLES}]))|조항|조문")
#: The nouns a question names provisions with, as a regex fragment for word lists: 조문, 조항, 제5조, 부칙, 별표.
PROVISION_NOUNS = r"조문|조항|제\s*\d+\s*조|부칙|별표"
#: A 별표 in a question: "별표 5", "별 표5", "별표" (group 1 the number, if any).
APPENDIX_IN_QUESTION = re.compile(r"별\s*표\s*(\d+)?")
#: A 부칙 in a question: "부칙", "부 칙".
SUPPLEMENT_IN_QUESTION = re.compile(r"부\s*칙")
#: A 항 in a question, after its article: "제2항", "2항" (group 1 the number).
PARAGRAPH_IN_QUESTION = re.compile(r"제?\s*(\d+)\s*항")

_CANONICAL = re.compile(r"^\s*#*\s*제?\s*(?P<num>\d+)\s*조(?:\s*의\s*(?P<branch>\d+))?\s*(?:\([^)]*\))?\s*$")


def article_label(num: int, branch: int = 0) -> str:
    """The canonical spelling of an article: (7, 0) → 제7조, (7, 2) → 제7조의2."""
    return f"제{num}조의{branch}" if branch else f"제{num}조"


def decode_heading_number(num: int) -> tuple[int, int]:
    """제N0M조 → (N, M): the corpus's headings store 제N조의M as N*100 + M (제702조 is 제7조의2)."""
    if num >= 100 and num % 100:
        return num // 100, num % 100
    return num, 0


def canonical_article(label: str, *, heading_defect: bool = False) -> str | None:
    """The canonical spelling ``제N조`` / ``제N조의M`` of an article label, or None.

    Accepts ``제7조의6``, ``7조의6``, ``제7조의 6``, ``제 7 조의 6``, a trailing
    title ``제7조의6(사용료)``. With ``heading_defect=True`` a heading number
    like ``제706조`` (the corpus's spelling of 제7조의6) is decoded as well.
    """
    match = _CANONICAL.match(label)
    if not match:
        return None
    num = int(match.group("num"))
    branch = int(match.group("branch")) if match.group("branch") else 0
    if not branch and heading_defect:
        num, branch = decode_heading_number(num)
    if num <= 0:
        return None
    return article_label(num, branch)


def article_order(article: str) -> tuple[int, int, int]:
    """제2조 < 제12조 < 제12조의3 < 별표 1: how a list of cited articles reads."""
    m = CANONICAL_ARTICLE.fullmatch(article)
    if m:
        return (0, int(m.group(1)), int(m.group(2) or 0))
    m = re.match(r"별표\s*(\d+)", article)
    return (1, int(m.group(1)) if m else 0, 0)


# -- 항, 호, 목 inside a provision ----------------------------------------------------------------------

#: A line starting with a 항 mark.
PARAGRAPH_LINE = re.compile(rf"^[ \t]*({CIRCLED_CLASS})", re.MULTILINE)
#: A line starting with a 호: "1.", "2의2." — "(?!\d)" keeps "2023. 11. 20." wraps and decimals out.
ITEM_LINE = re.compile(r"^[ \t]*(\d{1,3})(?:[ \t]*의[ \t]*(\d{1,2}))?\.(?!\d)", re.MULTILINE)
#: The letters of 목, in order: 가. 나. 다. …
MOK_LETTERS = "가나다라마바사아자차카타파하"
#: A line starting with a 목 ("가. "), the letter in group 1.
MOK_LINE = re.compile(r"^\s*([가-하])\.\s")
#: The label a quotable unit starts with: a 항 mark, a 호 ("2의2."), a 목 ("가.") or "(a)".
UNIT_LABEL = re.compile(rf"^\s*({CIRCLED_CLASS}|\d{{1,2}}(?:의\d{{1,2}})?\.(?!\d)|[가-하]\.|\([a-z0-9]{{1,4}}\))\s*")


def item_label(num: int, branch: int = 0) -> str:
    """A 호's label: (2, 0) → "2.", (2, 2) → "2의2."."""
    return f"{num}의{branch}." if branch else f"{num}."


# -- 편/장/절/관, 부칙 -------------------------------------------------------------------------------------

#: "제1장 총칙", "제 1 장  총     칙", "제2절 운영위원회" (편/장/절/관).
CHAPTER = re.compile(
    r"^\s*(?:#{1,6}\s*)?제\s*(?P<num>\d+)\s*(?:의\s*(?P<branch>\d+)\s*)?(?P<level>편|장|절|관)"
    r"(?:\s+(?P<title>\S.*?))?\s*$"
)
CHAPTER_LEVEL = {"편": 0, "장": 1, "절": 2, "관": 3}

#: "## 부칙", "부칙", "부 칙  ①(시행일) …", "부칙 <제1234호, 2019.4.11.> …".
SUPPLEMENT = re.compile(r"^\s*(?:#{1,6}\s*)?부\s*칙(?P<rest>(?:[\s<(\[].*)?)$")
#: "부칙 제2조의 규정에 의하여 …" (wrapped reference text), not a new 부칙.
SUPPLEMENT_REFERENCE = re.compile(r"^\s*제\s*\d+\s*조(?:\s*의\s*\d+)?(?!\s*\()")
#: How a real 부칙 line goes on when it is not yet known to be in the 부칙 area.
SUPPLEMENT_START = re.compile(r"^\s*(?:<|\(|\[|①|제\s*1\s*조\s*\(|이\s)")
#: The promulgation note after "부칙": "<제1234호, 2019.4.11.>" or "(2019.4.11.)".
PROMULGATION = re.compile(r"^\s*(<[^<>\n]*>|\((?:[^()\n]*?\d+\s*호[^()\n]*|[^()\n]*?\d{4}\s*\.[^()\n]*)\))")

# -- 별표 and 별지 서식 (attachments) --------------------------------------------------------------------

#: "[별표 1] 세척센터의 명칭과 위치", "[별지 제1호서식] …" at a line start (the parser's appendix heading).
#: A particle right after the bracket ("[별표 1]을 다음과 같이 한다") makes it a reference in running text.
APPENDIX_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:■\s*)?\[\s*(?P<kind>별표|별지)\s*(?P<inner>[^\]\n]*)\]"
    r"(?![을를의에과와은는이가로])(?P<rest>.*)$"
)
#: A 별표 number inside its brackets, spaces removed: "5", "2의3".
TABLE_NUMBER = re.compile(r"^(\d+)(?:\s*의\s*(\d+))?$")
#: "별표5", "별표5의2", "별표" (the only one), "별지3", "별지3의2" after the document's stem in a file name.
FILE_LABEL = re.compile(r"^(?P<stem>.+)\.(?P<kind>별표|별지)(?P<num>\d+)?(?:의(?P<branch>\d+))?$")
#: "[별표 5] 공영주차장 요금", "[별표] …", "[별지 제1호서식] 신청서", "[별표 2의3] …" (an attachment's title).
TITLE_LABEL = re.compile(r"^\s*\[\s*(?P<kind>별표|별지)\s*(?P<inner>[^\]]*)\]\s*(?P<rest>.*)$")
#: An attachment label in running text with the words after it, as an answer names it: "[별표 5] 공영주차장
#: 요금", "[Table 2] Fees" (Korean and English labels; up to the next quote, bracket or clause mark).
ATTACHMENT_IN_TEXT = re.compile(
    r"(\[(?:별표|별지|Table|Schedule|Appendix|Attachment)[^\]\n]{0,40}\][^\n「」\"'(),，.;:]{0,80})"
)
#: A form's number inside its brackets: "제1호서식", "1호", "제2호의2서식".
FORM_NUMBER = re.compile(r"^제?\s*(\d+)\s*호(?:\s*의\s*(\d+))?\s*(?:서식)?$")
#: References in a provision's text: "별표 5와 같다", "별표5", "별표 2의3".
TABLE_REF = re.compile(r"별표\s*(\d+)(?:\s*의\s*(\d+))?")
#: "별표" with no number: the document's only 별표.
BARE_TABLE_REF = re.compile(r"별표(?!\s*\d)")
#: "별지 제1호서식", "별지 제2호의2서식".
FORM_REF = re.compile(r"별지\s*제?\s*(\d+)\s*호(?:\s*의\s*(\d+))?\s*서식")
#: Before a 별표 reference: another law's name ("「주차장법 시행령」 별표 1", "영 별표 1", "시행규칙 별표 2") …
OTHER_LAW_BEFORE = re.compile(r"(?:」|\b영|법|규칙|시행령|\))\s*$")
#: … or this document itself ("이 규칙 별표 1").
THIS_LAW_BEFORE = re.compile(r"이\s*(?:조례|규칙)\s*$")
#: An attachment's title marked deleted: "[별표 3] 삭제".
DELETED_ATTACHMENT = re.compile(r"\]\s*삭제")
#: Where a provision hands the asked detail to an attachment (별표, 서식) or to a later decision.
DEFERRAL = re.compile(
    r"별표\s*\d*\s*(와|과|에|의)|별표\s*\d+|별지|서식|따로\s*정한다|따로\s*정하|정하는\s*바에\s*따른다|"
    r"(규칙|조례|훈령|예규|고시)(으)?로\s*정한다|도지사가\s*정한다|시장이\s*정한다|"
    r"as (determined|established|set) by|to be (set|determined)|set forth in (schedule|appendix|table)|"
    r"schedule|appendix|by regulation",
    re.I,
)


def table_label(num: int | None, branch: int | None = None) -> str:
    """A 별표's canonical label: 5 → 별표 5, (2, 3) → 별표 2의3, None → 별표 (the only one)."""
    if num is None:
        return "별표"
    return f"별표 {num}" + (f"의{branch}" if branch else "")


def form_label(num: int, branch: int | None = None) -> str:
    """A form's canonical label: 1 → 별지 제1호서식, (2, 2) → 별지 제2호의2서식."""
    return f"별지 제{num}호" + (f"의{branch}" if branch else "") + "서식"


def title_label(title: str) -> tuple[str, str] | None:
    """``[별표 5] 공영주차장 요금`` → ``("별표 5", "공영주차장 요금")``; None when it has no such label."""
    m = TITLE_LABEL.match(title or "")
    if not m:
        return None
    inner = " ".join(m.group("inner").split())
    rest = m.group("rest").strip()
    if m.group("kind") == "별지":
        form = FORM_NUMBER.match(inner)
        if not form:
            return None
        return form_label(int(form.group(1)), int(form.group(2)) if form.group(2) else None), rest
    if not inner:
        return "별표", rest
    number = TABLE_NUMBER.match(inner.replace(" ", ""))
    if not number:
        return None
    return table_label(int(number.group(1)), int(number.group(2)) if number.group(2) else None), rest


# -- amendment notes ----------------------------------------------------------------------------------

#: "<개정 2019.3.20., 2025. 6. 13.>", "<신설 2025.7.11.>", "삭제 <2025. 6. 13.>", "삭제<2025.7.11>".
ANGLE_NOTE = re.compile(rf"(?P<deleted>삭\s*제\s*)?<(?P<kind>[{HANGUL_SYLLABLES}]+)?\s*(?P<body>[^<>]*?)>")
#: "[본조신설 2019.3.20.]", "[전문개정 2020.1.13.]", "[제목개정 …]", "[제5조에서 이동 <2019.4.11.>]".
BRACKET_NOTE = re.compile(r"\[(?P<body>[^\[\]]*(?:개정|신설|이동|종전|삭제)[^\[\]]*)\]")
#: A line starting with an amendment note that law.go.kr text keeps on the line it annotates ("<개정 …>", "삭제 <…>").
INLINE_NOTE = re.compile(r"^\s*(?:<\s*(?:개정|신설)|삭제\s*<)")

# -- lines that start a unit of their own, in text extracted from a PDF --------------------------------

#: A line that starts a unit of its own: an article, a chapter, a 항, a 호, 부칙, 별표, 별지, a heading or
#: an amendment note. 호 numbers are short ("1.", "2의2."), which keeps wrapped dates ("2025. 6. 13.>")
#: from looking like items.
UNIT_START = re.compile(
    r"""^\s*(?:
        제\s*\d+\s*조(?:\s*의\s*\d+)?\s*[(（]       # 제7조의2(세척센터의 설치 등), 제1조 (목적)
      | 제\s*\d+\s*조(?:\s*의\s*\d+)?\s*삭\s*제      # 제8조의2 삭제<2021.8.9.> (a deleted article)
      | 제\s*\d+\s*(?:편|장|절|관)(?:\s|$)          # 제1장 총칙
      | """ + CIRCLED_CLASS + r"""                  # 항
      | \d{1,3}(?:의\d+)?\.(?:\s|$)                   # 호
      | 부\s*칙 | \[?\s*별\s*표 | \[?\s*별지 | \#
      | \[(?:본조신설|전문개정|제목개정|종전|본조|제\d+조)
    )""",
    re.VERBOSE,
)
#: What ends a run of 목: an article, a 항 or a 호 line ("다." after one of them ends a sentence, not a 목).
MOK_RESET = re.compile(rf"^\s*(?:제\s*\d+\s*조|{CIRCLED_CLASS}|\d{{1,3}}(?:의\d+)?\.\s)")

# -- English sections ---------------------------------------------------------------------------------

# A section number: 2-537, 2-1202.01a, 1.010, 3-1, 38, 5a; or a Roman numeral (Section IV).
_NUM = r"(?:\d+[A-Za-z]?(?:[-.‐‑–]\d+[A-Za-z]?)*|[IVXLC]+(?![A-Za-z]))"
# Plural keywords may carry a list or a dash range: "Secs. 2-280, 2-281", "Secs. 2-65–2-80".
_RANGE = r"(?:\s*[,–—]\s*\d+[A-Za-z]?(?:[-.]\d+[A-Za-z]?)*)*"

#: A section heading's start: "§ 2-537.", "SECTION 3-1:", "Section 4.", "Sec. 2-1.", "Secs. 2-11-2-20." (groups
#: ``sym`` or ``word``, ``num``, ``range`` and what comes ``after``).
SECTION_LINE = re.compile(
    r"^(?:(?P<sym>§§?)\s*"
    r"|(?P<word>SECTIONS?|Sections?|SECS?\.|Secs?\.|SECS?|Secs?)(?:\s+|(?<=\.)))"
    rf"(?P<num>{_NUM})(?P<range>{_RANGE})(?P<after>.*)$"
)
#: A section reference anywhere in text, any case: "§ 2-537", "section 3-1", "sec. 9-121" (the lexical token).
SECTION_IN_TEXT = re.compile(r"(§+|\bsection\b|\bsec\.?)\s*(\d+[a-z]?(?:[.\-:]\d+[a-z]?)*)", re.IGNORECASE)
#: A section reference in a question: as ``SECTION_IN_TEXT``, "Sec" without its dot too.
SECTION_IN_QUESTION = re.compile(
    r"(§+|\bsection\b|\bsec\b\.?|\bSec\b\.?)\s*(\d+[A-Za-z]?(?:[.\-:]\d+[A-Za-z]?)*)", re.IGNORECASE
)
#: A zoning section number in a question: 2.1.3, 11.2.1 (two dots at least, so "2.5" or a date is not one).
DOTTED_SECTION = re.compile(r"(?<![\d.$])(\d{1,2}\.\d{1,2}(?:\.\d{1,2})+)(?![\d.]*\d)")
#: A token the lexical tokenizer made of a provision number (제7조의2, §2-537, sec9-121, section3-1).
NUMBERED_TOKEN = re.compile(r"^(제|§|sec|section)", re.I)


def normalise_section_number(num: str) -> str:
    """One spelling per number: hyphen-like dashes inside a number become "-", spaces go."""
    num = re.sub(r"\s+", "", num.strip())
    num = re.sub(r"(?<=\d)[‐‑](?=\d)", "-", num)
    # An en dash between two full numbers ("2-65–2-80") is a range and stays; inside a single
    # number ("2–537", as typed by a user or a word processor) it is a hyphen.
    if "-" not in num:
        num = re.sub(r"(?<=\d)[–—](?=\d)", "-", num)
    return num


def section_label(sym: str | None, word: str | None, num: str, rng: str) -> str:
    """The canonical label of a ``SECTION_LINE`` match: § 2-537, SECTION 3-1, Secs. 2-11-2-20, Sec. 2-1."""
    num = normalise_section_number(num + (rng or ""))
    if sym:
        return f"§ {num}"
    assert word is not None
    w = word.lower()
    if w.startswith("section"):
        return f"SECTION {num}"
    if w.startswith("secs"):
        return f"Secs. {num}"
    return f"Sec. {num}"


def canonical_section(label: str) -> str | None:
    """Normalise a user's spelling of a section reference to the parser's canonical label.

    ``§2-537``, ``§ 2-537``, ``D.C. Code § 2-537``, ``2-537`` and lower-case
    ``section 2-537`` → ``§ 2-537`` (a bare hyphenated number and prose
    "section N" are read as D.C. Code style: that is how people cite it);
    ``SECTION 3-1`` and capitalised ``Section 3-1:`` → ``SECTION 3-1``;
    ``Sec. 3-1``, ``sec 3-1``, ``SEC. 3-1`` → ``Sec. 3-1``; ``Secs. 2-11-2-20``
    → ``Secs. 2-11-2-20``; a bare dotted number ``2.1.3`` stays ``2.1.3``
    (zoning). Anything else, including a bare integer, → None.
    """
    candidates = canonical_section_candidates(label)
    return candidates[0] if candidates else None


def canonical_section_candidates(label: str) -> list[str]:
    """Every canonical label ``label`` may mean, most likely first (``[]`` if none).

    For ambiguous input retrieval can try them in turn: ``section 5.010`` →
    ``["§ 5.010", "SECTION 5.010", "Sec. 5.010", "5.010"]``.
    """
    text = label.strip().rstrip(".:").strip()
    text = re.sub(r"^(?:D\.?\s?C\.?\s+)?Code\s+", "", text, flags=re.I)
    text = re.sub(r"(?:\s*\([0-9A-Za-z]{1,4}\))+$", "", text)  # "§ 2-537(a)(1)" → the section
    m = re.match(
        r"^(?:(?P<sym>§§?)\s*|(?P<word>sections?|secs?)(?:\.\s*|\s+|(?=\d))|)"
        rf"(?P<num>{_NUM}{_RANGE})$",
        text,
        flags=re.I,
    )
    if not m:
        return []
    num = normalise_section_number(m.group("num"))
    if not num:
        return []
    word = m.group("word")
    is_roman = bool(re.fullmatch(r"[IVXLC]+", num, flags=re.I))
    if is_roman:
        # Roman numerals only number "Section I." style headings (Rivergrove), never § or Sec.
        return [f"SECTION {num.upper()}"] if word and word.lower() == "section" else []
    all_forms = [f"§ {num}", f"SECTION {num}", f"Sec. {num}"]
    if re.fullmatch(r"\d+(?:\.\d+)+[A-Za-z]?", num):
        all_forms.append(num)
    if m.group("sym"):
        first = f"§ {num}"
    elif word is None:
        if "-" in num:
            first = f"§ {num}"
        elif "." in num:
            first = num
        else:
            return []  # a bare integer or numeral could be anything
    elif word.lower().startswith("section"):
        # Capitalised (as in a heading) → the charter's SECTION; prose lower case → D.C. style §.
        first = f"§ {num}" if word[0] == "s" else f"SECTION {num}"
    elif word.lower() == "secs":
        return [f"Secs. {num}"]
    else:
        first = f"Sec. {num}"
    return [first, *[f for f in all_forms if f != first]]


# -- headers in raw text (the eval's naive baseline) ----------------------------------------------------

#: "##### 제5조 (제목)" headings and body lines "제7조의2(제목) …".
KO_HEADER = re.compile(r"^\s*#*\s*(제\s*\d+\s*조(?:\s*의\s*\d+)?)\s*\(", re.M)
#: English headings: "###### SECTION 3-1: …", "###### Sec. 3-1. …", "# § 2-537. …".
EN_HEADER = re.compile(
    r"^\s*#*\s*(SECTION\s+[0-9A-Z][0-9A-Za-z.\-]*?|Sec\.\s*[0-9][0-9A-Za-z.\-]*?|§\s*[0-9][0-9A-Za-z.\-]*?)"
    r"[.:]?(?=\s|$)",
    re.M,
)


# -- reference tokens ---------------------------------------------------------------------------------


def reference_tokens(text: str) -> list[str]:
    """Provision numbers in ``text`` as single lexical tokens, so an exact reference hits: 제7조의2 → "제7조의2",
    "§ 2-537" → "§2-537", "Section 3-1" → "section3-1", "Sec. 3-1" → "sec3-1" (section and sec stay distinct:
    in the Somerville code the charter's SECTION 3-1 and the ordinances' Sec. 3-1 are different provisions)."""
    refs = []
    for match in ARTICLE_IN_TEXT.finditer(text):
        refs.append(f"제{match.group(1)}조" + (f"의{match.group(2)}" if match.group(2) else ""))
    for match in SECTION_IN_TEXT.finditer(text):
        word = match.group(1).lower().rstrip(".")
        prefix = "§" if word.startswith("§") else word
        refs.append(f"{prefix}{match.group(2).rstrip('.:').lower()}")
    return refs
