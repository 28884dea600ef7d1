"""Fallback parser for text without legal structure: manuals, notes, memos.

The text is cut into passages of at most ``MAX_PASSAGE_CHARS`` characters that
respect the document's own shape:

* headings start a new passage: Markdown ``#`` headings, and short title-like
  lines standing alone as a paragraph (``Meetings``, ``1. 개요``) that are
  followed by body text;
* passages are packed from whole paragraphs (blank-line separated blocks);
  only a paragraph longer than the limit by itself is cut, at sentence ends
  (``.``/``!``/``?`` — which covers Korean ``…다.``), then at line breaks,
  then at spaces, and only as a last resort mid-word.

Every passage is a Provision with ``kind="passage"``, ``article=""``,
``article_title`` = the nearest heading and ``heading_path`` = the whole chain
of headings down to and including that nearest one (so the chunker, which
embeds ``heading_path`` as context, always sees it). The first passage under a
heading starts with the heading line itself.

The line reader and passage packer here are shared with ``english`` (which
uses them for text outside any section): :func:`read_lines` and
:func:`pack_lines`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from civicrag.legal.grammar import CIRCLED_CLASS
from civicrag.legal.language import HANGUL_SYLLABLES
from civicrag.legal.types import Document, Provision

MAX_PASSAGE_CHARS = 1200

_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(\S.*)$")
# Optional closing hashes of an ATX heading ("## Title ##"), stripped after the match so the
# heading pattern itself has no lazy group to backtrack over long lines.
_CLOSING_HASHES_RE = re.compile(r"[ \t]+#+$")
_EMPTY_HEADING_RE = re.compile(r"^#{1,6}[ \t]*$")
_BLOCKQUOTE_RE = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+")
# Markdown thematic breaks ("---", "* * *") separate; they carry no text.
_RULE_RE = re.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_COMMENT_OPEN = "<!--"
_COMMENT_CLOSE = "-->"

# Sentence end: terminal punctuation (plus closing quotes/brackets), whitespace, and
# then something that does not look like a sentence continuing in lower case, so
# "e.g. the" or "Sec. 2" inside a sentence are not taken as ends.
_SENTENCE_END_RE = re.compile(r"[.!?。][\"'”’)\]]*(?=\s+[^\sa-z])")
_SPACE_RE = re.compile(r"\s+")

# Title-like plain lines: short, no terminal punctuation, no list or table markup.
_TITLE_MAX_CHARS = 80
_TITLE_MAX_WORDS = 12
# A list mark, "(1)", a Hangul item letter ("가."), a 항 mark (① … ㊿) or a bracket starts an item, not a title.
_NOT_TITLE_START_RE = re.compile(
    rf"^(?:[-*+•·▪○●□■◦>|]|\(?[0-9a-zA-Z]{{1,3}}\)|[{HANGUL_SYLLABLES}]\.|{CIRCLED_CLASS}|\[)"
)
_TITLE_NUMBER_RE = re.compile(r"^(\d+(?:\.\d+)*)\.?\s")
_TERMINAL_PUNCT = (".", ",", ";", ":", "!", "?", "。", "…", ")", "]")


@dataclass(slots=True)
class SourceLine:
    """One line of ``Document.text`` with its raw span and a cleaned reading.

    ``text`` has HTML comments, heading marks (``#``), blockquote marks (``>``)
    and bold marks (``**``) removed and trailing space stripped; ``marked`` is
    the same before bold removal (callers that care whether a line was bold use
    it). ``level`` is the Markdown heading level (1–6) or 0 for a body line.
    ``lead`` is how many raw characters were dropped before ``text`` begins,
    for approximate mapping of offsets inside the line back to the raw text.
    """

    start: int
    end: int
    text: str
    marked: str
    level: int = 0
    lead: int = 0

    def raw_at(self, index: int) -> int:
        """Raw offset of character ``index`` of ``text`` (approximate once marks were removed)."""
        return min(self.start + self.lead + index, self.end)

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def read_lines(text: str) -> list[SourceLine]:
    """Split ``text`` into cleaned lines with raw offsets (HTML comments may span lines)."""
    lines: list[SourceLine] = []
    offset = 0
    in_comment = False
    for raw in text.split("\n"):
        start, end = offset, offset + len(raw)
        offset = end + 1
        body = raw.rstrip("\r")
        if in_comment or _COMMENT_OPEN in body:
            body, in_comment = _strip_comments(body, in_comment)
        lead = 0
        quote = _BLOCKQUOTE_RE.match(body)
        if quote:
            lead = quote.end()
            body = body[lead:]
        level = 0
        heading = _HEADING_RE.match(body)
        if heading:
            level = len(heading.group(1))
            lead += heading.start(2)
            body = heading.group(2).rstrip()
            if body.endswith("#"):
                body = _CLOSING_HASHES_RE.sub("", body)
        elif _EMPTY_HEADING_RE.match(body) or _RULE_RE.match(body):
            body = ""
        marked = body.rstrip()
        cleaned = marked.replace("**", "") if "**" in marked else marked
        if level and not cleaned.strip():
            level = 0  # "## **" and the like: nothing to head with
        lines.append(SourceLine(start, end, cleaned, marked, level, lead))
    return lines


def _strip_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """Remove ``<!-- … -->`` from one line; returns the rest and whether a comment is still open."""
    out: list[str] = []
    pos = 0
    while pos < len(line):
        if in_comment:
            close = line.find(_COMMENT_CLOSE, pos)
            if close < 0:
                return "".join(out), True
            pos = close + len(_COMMENT_CLOSE)
            in_comment = False
        else:
            open_ = line.find(_COMMENT_OPEN, pos)
            if open_ < 0:
                out.append(line[pos:])
                break
            out.append(line[pos:open_])
            pos = open_ + len(_COMMENT_OPEN)
            in_comment = True
    rest = "".join(out)
    # A line that held only a comment reads as blank, not as stray spaces.
    return (rest if rest.strip() else ""), in_comment


@dataclass(slots=True)
class Passage:
    text: str
    start: int  # raw offsets into Document.text
    end: int


def pack_lines(
    lines: Sequence[SourceLine],
    max_chars: int = MAX_PASSAGE_CHARS,
    header: SourceLine | None = None,
    repeat_header: bool = False,
) -> list[Passage]:
    """Pack body lines into passages of at most ``max_chars``, at paragraph boundaries if possible.

    Paragraphs are runs of non-blank lines; a passage joins whole paragraphs
    with a blank line. A paragraph longer than ``max_chars`` on its own is cut
    (see :func:`_cut_points`). ``header`` (a heading line) leads the first
    passage — or every passage with ``repeat_header`` — and its length is
    reserved, so the heading never ends up alone in a passage of its own.
    Heading lines inside ``lines`` are treated as ordinary lines: callers
    split at headings before packing.
    """
    head = header.text.strip() if header is not None else ""
    budget = max(80, max_chars - (len(head) + 1 if head else 0))
    passages: list[Passage] = []
    current: list[Passage] = []  # pieces (paragraphs or parts of one) waiting to be joined
    size = 0

    def flush() -> None:
        nonlocal current, size
        if current:
            body = "\n\n".join(p.text for p in current)
            start, end = current[0].start, current[-1].end
            if head and (repeat_header or not passages):
                body = f"{head}\n{body}"
                if not passages and header is not None:
                    start = header.start
            passages.append(Passage(body, start, end))
        current, size = [], 0

    for piece in _paragraph_pieces(lines, budget):
        extra = len(piece.text) + (2 if current else 0)
        if current and size + extra > budget:
            flush()
            extra = len(piece.text)
        current.append(piece)
        size += extra
    flush()
    if not passages and head and header is not None:
        passages.append(Passage(head, header.start, header.end))
    return passages


def _paragraph_pieces(lines: Sequence[SourceLine], max_chars: int) -> list[Passage]:
    """Each paragraph as one piece, or as several when it alone exceeds ``max_chars``."""
    pieces: list[Passage] = []
    para: list[SourceLine] = []
    for line in [*lines, None]:
        if line is not None and not line.blank:
            para.append(line)
            continue
        if para:
            pieces.extend(_split_paragraph(para, max_chars))
            para = []
    return pieces


def _split_paragraph(para: list[SourceLine], max_chars: int) -> list[Passage]:
    text = "\n".join(line.text.rstrip() for line in para)
    # Where each line begins inside ``text``, to map cut points back to raw offsets.
    line_starts: list[int] = []
    pos = 0
    for line in para:
        line_starts.append(pos)
        pos += len(line.text.rstrip()) + 1

    def raw(index: int) -> int:
        i = max(0, bisect.bisect_right(line_starts, index) - 1)
        return para[i].raw_at(index - line_starts[i])

    stripped_end = len(text.rstrip())
    if stripped_end <= max_chars:
        return [Passage(text[:stripped_end], para[0].raw_at(0), para[-1].end)]
    out: list[Passage] = []
    for begin, finish in _cut_points(text, max_chars):
        chunk = text[begin:finish]
        lead = len(chunk) - len(chunk.lstrip())
        chunk = chunk.strip()
        if chunk:
            out.append(Passage(chunk, raw(begin + lead), raw(begin + lead + len(chunk))))
    return out


def _cut_points(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Spans of ``text`` each at most ``max_chars`` long, cut at the best boundary available.

    Boundaries are tried in order of preference — sentence ends, line breaks,
    spaces — and within one kind the latest that still fits is taken, so
    pieces are as full as possible. Linear in ``len(text)`` (bisect per cut).
    """
    sentence_ends = [m.end() for m in _SENTENCE_END_RE.finditer(text)]
    line_ends = [m.start() for m in re.finditer(r"\n", text)]
    spaces = [m.start() for m in _SPACE_RE.finditer(text)]
    spans: list[tuple[int, int]] = []
    begin = 0
    n = len(text)
    while begin < n:
        # Skip whitespace so a piece never starts with it.
        while begin < n and text[begin].isspace():
            begin += 1
        if begin >= n:
            break
        limit = begin + max_chars
        if limit >= n:
            spans.append((begin, n))
            break
        cut = 0
        for bounds in (sentence_ends, line_ends, spaces):
            i = bisect.bisect_right(bounds, limit) - 1
            if i >= 0 and bounds[i] > begin:
                cut = bounds[i]
                break
        if not cut:
            cut = limit  # one unbroken run longer than the limit: cut it
        spans.append((begin, cut))
        begin = cut
    return spans


@dataclass(slots=True)
class _Heading:
    level: int  # Markdown 1–6; title-like plain lines 7 and deeper
    text: str


def _title_like(line: SourceLine) -> bool:
    text = line.text.strip()
    if not text or len(text) > _TITLE_MAX_CHARS or "|" in text:
        return False
    if text.endswith(_TERMINAL_PUNCT) or _NOT_TITLE_START_RE.match(text):
        return False
    if len(text.split()) > _TITLE_MAX_WORDS:
        return False
    return any(ch.isalpha() for ch in text)


def _plain_title_level(text: str) -> int:
    """Title-like lines sit below every Markdown level; numbered ones nest by depth (1. > 1.1)."""
    m = _TITLE_NUMBER_RE.match(text)
    depth = m.group(1).count(".") + 1 if m else 1
    return 6 + depth


def _find_headings(lines: list[SourceLine]) -> dict[int, _Heading]:
    """Line index → heading, for Markdown headings and standalone title-like lines.

    A plain line counts as a heading only if it is a paragraph of its own and
    the next paragraph is real body text (several lines, or a long or
    punctuated line): this keeps signature blocks ("Jane Doe" / "City Clerk")
    and short list items from being read as headings.
    """
    headings: dict[int, _Heading] = {}
    # Paragraph blocks as (first index, last index).
    blocks: list[tuple[int, int]] = []
    i, n = 0, len(lines)
    while i < n:
        if lines[i].blank:
            i += 1
            continue
        if lines[i].level:
            blocks.append((i, i))
            i += 1
            continue
        j = i
        while j + 1 < n and not lines[j + 1].blank and not lines[j + 1].level:
            j += 1
        blocks.append((i, j))
        i = j + 1
    for b, (first, last) in enumerate(blocks):
        line = lines[first]
        if line.level:
            headings[first] = _Heading(line.level, line.text.strip())
            continue
        if first != last or not _title_like(line):
            continue
        if b + 1 >= len(blocks):
            continue
        nfirst, nlast = blocks[b + 1]
        nxt = lines[nfirst]
        if nxt.level:
            continue
        body_like = nlast > nfirst or not _title_like(nxt)
        if body_like:
            headings[first] = _Heading(_plain_title_level(line.text.strip()), line.text.strip())
    return headings


def parse(doc: Document, max_chars: int = MAX_PASSAGE_CHARS) -> list[Provision]:
    """Heading- and paragraph-aware passages; never empty for a document with any text."""
    lines = read_lines(doc.text)
    headings = _find_headings(lines)
    provisions: list[Provision] = []
    chain: list[_Heading] = []
    body: list[SourceLine] = []
    heading_line: SourceLine | None = None

    def flush() -> None:
        nonlocal body
        if any(not line.blank for line in body):
            path = [h.text for h in chain]
            title = chain[-1].text if chain else ""
            # The heading line leads the first passage so the text reads as it does in the source.
            for passage in pack_lines(body, max_chars, header=heading_line):
                provisions.append(
                    Provision(
                        article="",
                        article_title=title,
                        text=passage.text,
                        start=passage.start,
                        end=passage.end,
                        kind="passage",
                        heading_path=list(path),
                    )
                )
        body = []

    for index, line in enumerate(lines):
        heading = headings.get(index)
        if heading is None:
            body.append(line)
            continue
        flush()
        heading_line = None
        while chain and chain[-1].level >= heading.level:
            chain.pop()
        chain.append(heading)
        heading_line = SourceLine(line.start, line.end, heading.text, heading.text, 0, line.lead)
    flush()

    if not provisions and doc.text.strip():
        provisions = _headings_only(doc, lines, max_chars)
    return provisions


def _headings_only(doc: Document, lines: list[SourceLine], max_chars: int) -> list[Provision]:
    """Text made only of headings (or only of comments): still one or more passages."""
    content = [SourceLine(ln.start, ln.end, ln.text, ln.marked, 0, ln.lead) for ln in lines]
    passages = pack_lines(content, max_chars)
    if not passages:  # nothing left after cleaning (e.g. only HTML comments): keep the raw text
        raw = doc.text.strip()
        start = doc.text.find(raw[:1])
        lines_raw = [SourceLine(start, start + len(raw), raw, raw)]
        passages = pack_lines(lines_raw, max_chars)
    return [
        Provision(
            article="",
            article_title="",
            text=p.text,
            start=p.start,
            end=p.end,
            kind="passage",
        )
        for p in passages
    ]
