"""Undo line wrapping in text extracted from PDFs.

English: ``hyphen-\\nated`` → ``hyphenated``.

Korean: typesetters wrap Korean anywhere, mid-word included, so a PDF line
such as ``… 실천함으로써 자`` / ``원을 절약하고 …`` must be rejoined without a
space, while a heading such as ``제1조 (목적)`` keeps its own line. A line is
taken as wrapped when it reaches (about) the document's full line width, or
leaves a ``<개정 …>`` note open, and the next line does not start a new
structural unit (article, 항 ①, 호 1., 목 가., 부칙, 별표, ``[본조신설 …]``).

Whether a wrap fell on a space cannot be seen in the PDF (the space is dropped
at the line end), so a Korean word-spacing model decides: kiwipiepy's
``Kiwi.space`` when it is installed (it is a project dependency), else no
space, which is right for most wraps in the measured corpus.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from civicrag.legal import grammar
from civicrag.legal.language import HANGUL_SYLLABLES

# Decides, for (text before, text after) pairs, whether a space belongs at the junction.
Spacer = Callable[[Sequence[tuple[str, str]]], list[bool]]

_HYPHEN_WRAP = re.compile(r"(?<=[A-Za-z])-[ \t]*\n[ \t]*(?=[a-z])")

# A line that starts a unit of its own (article, chapter, 항, 호, 부칙, 별표, note) is never a wrap's
# continuation: ``grammar.UNIT_START``. 목 (가. 나. 다.): "다." also ends sentences ("…한" / "다. <개정 …>"),
# so it only counts as a marker when the previous letter was seen since the last article, 항 or 호
# (``grammar.MOK_RESET``). An amendment note that law.go.kr text keeps on the line it annotates
# (``grammar.INLINE_NOTE``) continues that line.

# What the next line contributes before the earliest place a typesetter could have broken it:
# a run of Latin/digits/punctuation is unbreakable, Hangul breaks after any syllable.
_FIRST_CHUNK = re.compile(f"[^\\s{HANGUL_SYLLABLES}]*[{HANGUL_SYLLABLES}]?")
# A line this much narrower than a full line (in half-width cells) is a short line, not a wrap.
_FULL_LINE_SLACK = 8
_MIN_LINES = 5
_MIN_FULL_WIDTH = 40  # about 20 Hangul syllables

_OPENERS = "([{<「『“‘〈《"
_CLOSERS = ")]}>」』”’〉》.,"

_DATE_BREAK = re.compile(r"\d\.\d$")  # "2020.7." / "15.>": a date split after its dot

_KEEP, _JOIN, _SPACE, _ASK = "\n", "", " ", None


def rejoin_hyphenated(text: str) -> str:
    """``hyphen-\\nated`` → ``hyphenated`` (lowercase continuation only: ``Anti-\\nTrust`` stays)."""
    return _HYPHEN_WRAP.sub("", text)


def _width(s: str) -> int:
    """Display width in half-width cells: Hangul and other wide glyphs count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in s)


def _full_width(lines: Sequence[str]) -> int | None:
    widths = sorted(_width(line.rstrip()) for line in lines if line.strip())
    if len(widths) < _MIN_LINES:
        return None
    # The 95th percentile: the measure of a full line, robust to a few over-wide lines.
    full = widths[int(0.95 * (len(widths) - 1))]
    # Documents of short lines only (tables, lists) have no running text to rejoin.
    return full if full >= _MIN_FULL_WIDTH else None


def rejoin_korean_wraps(pages: Sequence[str], spacer: Spacer | None = None) -> list[str]:
    """Rejoin wrapped lines within each page; pages are never merged (page offsets stay exact)."""
    page_lines = [page.split("\n") for page in pages]
    full = _full_width([line for lines in page_lines for line in lines])
    if full is None:
        return list(pages)

    decisions: list[list[str | None]] = []
    questions: list[tuple[str, str]] = []
    seen_mok: set[str] = set()
    for lines in page_lines:
        page_decisions: list[str | None] = []
        for i, line in enumerate(lines):
            mok = grammar.MOK_LINE.match(line)
            if grammar.MOK_RESET.match(line):
                seen_mok = set()
            if mok:
                seen_mok.add(mok.group(1))
            if i + 1 == len(lines):
                break
            decision = _decide(line, lines[i + 1], full, seen_mok)
            if decision is _ASK:
                questions.append((_tail(line), _head(lines[i + 1])))
            page_decisions.append(decision)
        decisions.append(page_decisions)

    answers = iter(_ask(spacer, questions) if questions else [])
    out: list[str] = []
    for lines, page_decisions in zip(page_lines, decisions, strict=True):
        parts = [lines[0]]
        for line, decision in zip(lines[1:], page_decisions, strict=True):
            if decision is _ASK:
                decision = _SPACE if next(answers) else _JOIN
            if decision == _KEEP:
                parts.append("\n" + line)
            else:
                parts[-1] = parts[-1].rstrip()
                parts.append(decision + line.lstrip())
        out.append("".join(parts))
    return out


def _decide(line: str, nxt: str, full: int, seen_mok: set[str]) -> str | None:
    left, right = line.rstrip(), nxt.lstrip()
    if not left or not right:
        return _KEEP
    chunk = _FIRST_CHUNK.match(right)
    room_needed = _width(left) + 1 + _width(chunk.group(0) if chunk else "")
    open_note = left.rfind("<") > left.rfind(">")
    wrapped = room_needed >= full - _FULL_LINE_SLACK or open_note
    if not wrapped:
        return _KEEP
    if grammar.INLINE_NOTE.match(right):
        return _SPACE
    if grammar.UNIT_START.match(right) or _starts_mok(right, seen_mok):
        return _KEEP
    if left != line or right != nxt:
        return _SPACE  # the typesetter kept the space at the break: a word boundary
    if left[-1] in _OPENERS or right[0] in _CLOSERS or _DATE_BREAK.search(left + right[:1]):
        return _JOIN  # "「" / "자원의 절약과…」": brackets hug their contents
    if left[-1] in _CLOSERS or left[-1] in ",;:!?":
        return _SPACE
    return _ASK


def _starts_mok(right: str, seen_mok: set[str]) -> bool:
    match = grammar.MOK_LINE.match(right)
    if not match:
        return False
    letter = match.group(1)
    return letter == "가" or grammar.MOK_LETTERS[grammar.MOK_LETTERS.index(letter) - 1] in seen_mok


def _tail(line: str) -> str:
    return " ".join(line.split(" ")[-2:]).strip()


def _head(line: str) -> str:
    return " ".join(line.split(" ")[:2]).strip()


def _ask(spacer: Spacer | None, questions: list[tuple[str, str]]) -> list[bool]:
    if spacer is None:
        spacer = kiwi_spacer() or _never_space
    answers = spacer(questions)
    if len(answers) != len(questions):
        raise ValueError("spacer returned a different number of answers")
    return answers


def _never_space(questions: Sequence[tuple[str, str]]) -> list[bool]:
    return [False] * len(questions)


def _kiwi() -> Any | None:
    """The shared Kiwi (``ingest.kiwi``); None when kiwipiepy cannot load."""
    try:
        from civicrag.ingest.kiwi import shared_kiwi

        return shared_kiwi()
    except Exception:  # pragma: no cover - missing package or model: fall back, never refuse the PDF
        return None


def kiwi_spacer() -> Spacer | None:
    """A ``Spacer`` backed by kiwipiepy's word-spacing model, or None without kiwipiepy."""
    kiwi = _kiwi()
    if kiwi is None:  # pragma: no cover
        return None

    def spacer(questions: Sequence[tuple[str, str]]) -> list[bool]:
        glued = [left + right for left, right in questions]
        try:
            # reset_whitespace=False: existing spaces stay, the model only adds; we read the junction.
            spaced = list(kiwi.space(glued, reset_whitespace=False))
        except Exception:  # pragma: no cover - spacing is a refinement, not a reason to fail
            return _never_space(questions)
        return [_space_at(s, len(left.replace(" ", ""))) for s, (left, _r) in zip(spaced, questions, strict=True)]

    return spacer


def _space_at(spaced: str, nonspace_before: int) -> bool:
    """Whether ``spaced`` has a space right after its first ``nonspace_before`` non-space characters."""
    seen = 0
    for ch in spaced:
        if seen == nonspace_before:
            return ch == " "
        if ch != " ":
            seen += 1
    return False
