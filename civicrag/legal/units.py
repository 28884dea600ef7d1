"""A provision's quotable units: one 항 (①), one 호 (1.) or 목 (가.), one (a) subsection or English sentence.

The same split serves ingest (each unit is embedded, so a question can meet the sentence that
answers it) and answering (the answer quotes units). A 호 hangs under the 항 whose lead-in
introduces it ("다음 각 호의 …"): it is read, embedded and quoted with that lead-in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from civicrag.legal.grammar import CIRCLED
from civicrag.legal.language import has_hangul

_LABEL = re.compile(
    rf"^\s*(?P<label>[{CIRCLED}]|\d{{1,2}}\.(?!\d)|[가-하]\.|\([a-z0-9]{{1,4}}\)|[a-z]\.|\d{{1,2}}\))\s*"
)
_LEAD_IN = re.compile(r"다음\s*각\s*(호|목)|다음과\s*같|the following|as follows|:\s*$", re.I)
_EN_SENTENCE = re.compile(r"(?<=[.;])\s+(?=[A-Z(])")
_NOTE = re.compile(r"^\s*(\[[^\]]*\]|<[^>]*>)\s*$")  # amendment notes on their own line ([본조신설 …])
_HEADER = re.compile(r"^(제\d+조(의\d+)?|부칙|별표)")
# Characters of a unit's text embedded at most: a table row run or a schedule can be pages long, and a
# question meets the start of a sentence as well as its end. Embedding is most of an ingest's cost.
EMBED_CHARS = 700
LEAD_IN_CHARS = 160


@dataclass
class Unit:
    text: str
    label: str  # "②", "3.", "(a)", "" for a lead-in or an unlabelled sentence
    index: int  # position in the provision
    parent: int | None = None  # the lead-in unit a 호 hangs under
    children: tuple[int, ...] = ()

    @property
    def is_item(self) -> bool:
        """A 호/목 or lettered item (not a 항): it reads only with its lead-in."""
        return bool(self.label) and self.label[0] not in CIRCLED


def split_units(text: str) -> list[Unit]:
    """Quotable units of a provision's text; the header line (제4조(…), "Sec. 9-121. Fees.") is not one."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if lines and (_HEADER.match(lines[0]) or (len(lines) > 1 and len(lines[0]) < 90 and not lines[0].endswith("."))):
        body = lines[1:] or lines[:1]
    else:
        body = lines
    units: list[Unit] = []
    current_lead: int | None = None
    for line in body:
        if _NOTE.match(line):
            continue
        m = _LABEL.match(line)
        label = m.group("label") if m else ""
        pieces = [line]
        if not label and not has_hangul(line) and len(line) > 300:
            pieces = [p for p in _EN_SENTENCE.split(line) if p.strip()]
        for piece in pieces:
            is_item = bool(label) and label[0] not in CIRCLED
            unit = Unit(piece, label, len(units), parent=current_lead if is_item else None)
            units.append(unit)
            if not is_item:
                current_lead = unit.index if _LEAD_IN.search(piece) else None
    for unit in units:
        if unit.parent is not None:
            parent = units[unit.parent]
            parent.children = (*parent.children, unit.index)
    return units


def unit_context(units: list[Unit], unit: Unit, children: int = 10) -> str:
    """The unit as it reads and is quoted: a 호 after its lead-in, a lead-in with its first 호."""
    parts = []
    if unit.parent is not None:
        parts.append(units[unit.parent].text)
    parts.append(unit.text)
    parts.extend(units[i].text for i in unit.children[:children])
    return "\n".join(parts)


def context_line(title: str, headings: Sequence[str]) -> str:
    """The document title and the enclosing headings, ``" > "``-joined, empty parts left out: what a chunk is
    embedded after, so "이 조례" has a referent. ``headings`` is a provision's heading path as a list (ingest) or
    the ``heading_path`` metadata string in a one-item list (rag): both give the same line."""
    return " > ".join(p for p in (title, *headings) if p)


def chunk_embed_text(title: str, headings: Sequence[str], text: str) -> str:
    """The text a chunk is embedded (and lexically indexed) as: its ``context_line``, then the chunk's text.

    ingest embeds this (``Chunk.embed_text``); rag rebuilds it from chunk metadata for a second dense model,
    whose vectors must be of the same text."""
    context = context_line(title, headings)
    return f"{context}\n{text}" if context else text


def unit_embed_text(header: str, units: list[Unit], unit: Unit) -> str:
    """What ingest embeds for a unit: the provision's header (document, article and its title), a 호's lead-in
    (cut short: it says what the list is of), then the unit itself, cut to ``EMBED_CHARS``. A lead-in's items
    are embedded on their own, so they are not repeated here."""
    parts = [header]
    if unit.parent is not None:
        parts.append(units[unit.parent].text[:LEAD_IN_CHARS])
    parts.append(unit.text)
    return "\n".join(parts)[:EMBED_CHARS]
