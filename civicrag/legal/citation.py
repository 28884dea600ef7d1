"""The formal, copy-ready citation of a provision, as official documents write it, from chunk metadata only.

Korean: ``「제주특별자치도 주차장 설치 및 관리 조례」 제6조제2항제1호 (시행 2024. 1. 1.)`` — the title in
낫표, the article with its 조의N, then 항 (①), 호 (1., 2의2.) and 목 (가.) of the quoted unit, then the
effective date of the version cited. An attachment is ``「…」 별표 5``, a form ``「…」 별지 제1호서식``.

English: the code's name from the document's title, jurisdiction and kind, then the section and the
quoted subsection: ``D.C. Code § 2-537(a)(1)``, ``Somerville Code of Ordinances, Sec. 9-121(a)``,
``Somerville City Charter, Section 3-1(b)``, ``Somerville Zoning Ordinance, Sec. 1.1.7``.

Pure functions, no I/O: ingest, rag and ui all use them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from civicrag.legal.grammar import CIRCLED
from civicrag.legal.language import has_hangul
from civicrag.legal.units import Unit

# -- the quoted unit's place in its provision ----------------------------------------------------

_KO_ITEM = re.compile(r"^\s*(\d{1,3})(?:\s*의\s*(\d{1,2}))?\.(?!\d)")  # 호: "1.", "2의2."
_KO_SUBITEM = re.compile(r"^\s*([가-하])\.")  # 목: "가."
_EN_LABEL = re.compile(r"^\s*\((?P<p>[a-z]{1,2}(?:-\d+)?|\d{1,3}|[A-Z]{1,2}|[ivxl]{1,5})\)")
_EN_LOOSE = re.compile(r"^\s*(?P<p>[a-z]|\d{1,2})[.)](?=\s)")  # "a." or "1)" items
_ROMAN = re.compile(r"^[ivxl]+$")


def label_path(units: Sequence[Unit], index: int, paragraph: str = "") -> tuple[str, ...]:
    """The labels from the provision's top unit down to ``units[index]``: ``("②", "1.", "가.")``,
    ``("(a)", "(1)")``; ``()`` for a lead-in before any label.

    Walks the units in order and keeps one label per level (항 / 호 / 목, or (a) / (1) / (A) / (i)); an
    unlabelled unit (a table row, a sentence of a long subsection) belongs to the labels above it.
    ``paragraph`` is the chunk's ``paragraph`` metadata: a chunk that continues a long 항 starts with its
    호, and that 항 is then only known from it.
    """
    levels: dict[int, str] = {}
    lowercase_last = ""
    for unit in units[: index + 1]:
        found = _level(unit, lowercase_last, bool(levels))
        if found is None:
            continue
        level, label = found
        if level == 0 and label.startswith("(") and not _ROMAN.match(label.strip("()")):
            lowercase_last = label.strip("()")
        levels = {k: v for k, v in levels.items() if k < level}
        levels[level] = label
    if levels and 0 not in levels and min(levels) == 1:
        top = _level(Unit(paragraph.strip(), "", 0), "", False) if "–" not in paragraph else None
        if top is not None and top[0] == 0:
            levels[0] = top[1]
    return tuple(levels[k] for k in sorted(levels))


def _level(unit: Unit, lowercase_last: str, nested: bool) -> tuple[int, str] | None:
    text = unit.text
    if not text:
        return None
    if text[0] in CIRCLED:
        return 0, text[0]
    if m := _KO_ITEM.match(text):
        return 1, f"{m.group(1)}의{m.group(2)}." if m.group(2) else f"{m.group(1)}."
    if m := _KO_SUBITEM.match(text):
        return 2, f"{m.group(1)}."
    if m := _EN_LABEL.match(text):
        p = m.group("p")
        if p.isdigit():
            return 1, f"({p})"
        if p.isupper():
            return 2, f"({p})"
        # (i), (v), (x) are letters after (h), (u), (w); elsewhere, inside a subsection, roman numerals.
        if _ROMAN.match(p) and nested and not (len(p) == 1 and lowercase_last and ord(p) == ord(lowercase_last) + 1):
            return 3, f"({p})"
        return 0, f"({p})"
    if m := _EN_LOOSE.match(text):
        p = m.group("p")
        return (1, f"({p})") if p.isdigit() else (0, f"({p})")
    return None


def pinpoint(labels: Sequence[str], korean: bool) -> str:
    """``("②", "1.", "가.")`` → ``제2항제1호가목``; ``("(a)", "(1)")`` → ``(a)(1)``."""
    out = []
    for label in labels:
        if not korean:
            out.append(label if label.startswith("(") else f"({label.rstrip('.)')})")
        elif label and label[0] in CIRCLED:
            out.append(f"제{CIRCLED.index(label[0]) + 1}항")
        elif m := _KO_ITEM.match(label):
            out.append(f"제{m.group(1)}호" + (f"의{m.group(2)}" if m.group(2) else ""))
        elif m := _KO_SUBITEM.match(label):
            out.append(f"{m.group(1)}목")
    return "".join(out)


def labels_of(paragraph: str) -> tuple[str, ...]:
    """A chunk's ``paragraph`` metadata as a label path: one label, or nothing for a range (``①–③``)."""
    paragraph = paragraph.strip()
    if not paragraph or "–" in paragraph or "-" in paragraph.strip("()"):
        return ()
    return (paragraph,)


# -- the formal citation ---------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_KO_ARTICLE = re.compile(r"^제\d+조(?:의\d+)?$")
_APPENDIX_OF_LABEL = re.compile(r"^(?P<label>.+?)\s*\(App\.\s*(?P<app>[A-Z0-9]+)\)$")
_APPENDIX_HEADING = re.compile(r"\bAPPENDIX\s+(?P<app>[A-Z0-9]+)\b", re.IGNORECASE)
_PLACE_PREFIX = re.compile(r"^(?:the\s+)?(?:City|Town|County|Village|Borough|Township)\s+of\s+", re.IGNORECASE)
_PLACE_IN_TITLE = re.compile(r"\b(?:City|Town|County|Village)\s+of\s+([A-Z][A-Za-z .'-]+?)(?:\s*\(|,|$)")
_DOTTED_SECTION = re.compile(r"^\d+(?:\.\d+)+$")


def korean_date(iso: str) -> str:
    """``2024-01-01`` → ``2024. 1. 1.`` (how Korean official documents write dates)."""
    m = _ISO.match(iso or "")
    return f"{int(m.group(1))}. {int(m.group(2))}. {int(m.group(3))}." if m else ""


def is_korean(meta: Mapping[str, Any]) -> bool:
    language = str(meta.get("language", ""))
    return language == "ko" or (language != "en" and has_hangul(str(meta.get("title", ""))))


def formal_citation(meta: Mapping[str, Any], labels: Sequence[str] = ()) -> str:
    """The citation to paste into an official document, from a chunk's metadata and the quoted unit's labels."""
    if is_korean(meta):
        return _korean(meta, labels)
    return _english(meta, labels)


def _korean(meta: Mapping[str, Any], labels: Sequence[str]) -> str:
    title = str(meta.get("title", "")).strip()
    article = str(meta.get("article", "")).strip()
    ref = f"「{title}」"
    if _KO_ARTICLE.match(article):
        ref += f" {article}{pinpoint(labels, korean=True)}"
    elif article == "부칙":
        note = str(meta.get("article_title", "")).strip()
        ref += f" 부칙 {note}" if note.startswith("<") else " 부칙"
    elif article:
        ref += f" {article}"  # 별표 5, 별지 제1호서식
    date = korean_date(str(meta.get("effective_date", "")))
    return f"{ref} (시행 {date})" if date else ref


def _english(meta: Mapping[str, Any], labels: Sequence[str]) -> str:
    title = str(meta.get("title", "")).strip()
    article = str(meta.get("article", "")).strip()
    sub = pinpoint(labels, korean=False)
    if not article:
        page = int(meta.get("page_start", 0) or 0)
        return f"{title}, p. {page}" if page else title
    appendix = ""
    if m := _APPENDIX_OF_LABEL.match(article):
        article, appendix = m.group("label"), m.group("app")
    jurisdiction = str(meta.get("jurisdiction", ""))
    kind = str(meta.get("kind", "")).lower()
    if article.startswith("§") and "district of columbia" in jurisdiction.lower():
        return f"D.C. Code {article}{sub}"
    section = _section_label(article)
    place = _place(jurisdiction, title)
    headings = str(meta.get("heading_path", ""))
    if not appendix and (m := _APPENDIX_HEADING.search(headings)):
        appendix = m.group("app").upper()
    upper = headings.upper()
    if "CHARTER APPENDIX" in upper:
        code = f"{place} Charter Appendix"
    elif kind == "charter" or ("CHARTER" in upper and article.upper().startswith("SECTION")):
        code = f"{place} City Charter"
    elif kind == "zoning":
        code = f"{place} Zoning Ordinance" if place else title
    elif "code of ordinances" in title.lower() or (kind == "code" and place):
        code = f"{place} Code of Ordinances"
    else:
        code = title
    if appendix:
        code = f"{code}, App. {appendix}"
    return f"{code.strip()}, {section}{sub}"


def _section_label(article: str) -> str:
    """``SECTION 3-1`` → ``Section 3-1``; ``1.1.7`` → ``Sec. 1.1.7``; ``Sec. 9-121`` and ``§ 2-537`` as they are."""
    if article.upper().startswith("SECTION "):
        return "Section " + article[len("SECTION ") :]
    if _DOTTED_SECTION.match(article):
        return f"Sec. {article}"
    return article


def _place(jurisdiction: str, title: str) -> str:
    """``City of Somerville, Massachusetts (US)`` → ``Somerville``; from the title when no jurisdiction."""
    name = re.sub(r"\s*\([^)]*\)", "", jurisdiction).split(",")[0].strip()
    name = _PLACE_PREFIX.sub("", name).strip()
    if name:
        return name
    m = _PLACE_IN_TITLE.search(title)
    return m.group(1).strip() if m else ""


def department_names(value: str) -> set[str]:
    """The departments a 담당부서 value names: ``관광산업과, 관광정책과(710-3312)`` → {관광산업과, 관광정책과}."""
    parts = [p.strip() for p in re.split(r"[,/;]", value or "")]
    return {re.sub(r"\s*\([^)]*\)\s*$", "", p).strip() for p in parts if p.strip()}
