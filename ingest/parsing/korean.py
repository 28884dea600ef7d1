"""Korean regulations (조례/규칙) → one Provision per 조, plus each 부칙 and 별표.

Input is either legalize-kr Markdown (``##### 제N조 (제목)`` headings, each
followed by the body) or text extracted from a PDF (headings are plain lines,
or only the body's own ``제N조(제목)`` line is there). The corpus has defects
this parser absorbs rather than trusts (see ../shared/corpus/README.md):

* a heading writes 제N조의M as 제N0M조 (``##### 제702조`` is 제7조의2), and in
  some documents every heading title is shifted by one article; the body's own
  leading ``제N조(제목)`` is right, so when it is there it wins;
* ``##### 제0조 (…)`` followed by ``제1장 총칙`` is a chapter line, not an article;
* raw MS-Office HTML tables sit inside articles (fees, opening hours);
* amendment notes (``<개정 2019.4.11.>``, ``[본조신설 …]``) look like tags but are
  text staff need, so they are kept verbatim.

The parse is one pass over the lines with anchored regexes: linear in the text,
which matters because English files (megabytes) reach here through fallbacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from civicrag.ingest.parsing.tables import html_tables_to_text

from civicrag.legal import grammar
from civicrag.legal.grammar import canonical_article as canonical_article
from civicrag.legal.types import Document, Provision
from civicrag.legal.types import UnitSpan as Unit

# ---------------------------------------------------------------------------
# Line patterns: the provision grammar (civicrag.legal.grammar: grammar.MD_ARTICLE, grammar.SUPPLEMENT …),
# each anchored at the start of a single line. Only the Markdown heading mark is the parser's own.

_MD_HEADING_MARK = re.compile(r"^\s*#{1,6}\s+")


# ---------------------------------------------------------------------------
# Parsing


@dataclass
class _Line:
    start: int  # offset of the line in doc.text
    end: int  # offset just past the line's text (before its newline)
    text: str


@dataclass
class _Block:
    """A provision under construction: raw span plus what its header says."""

    kind: str  # article | supplementary | appendix | void (chapter lines, fake articles)
    start: int
    body_start: int
    article: str = ""
    title: str = ""
    header: str = ""
    heading_path: list[str] = field(default_factory=list)
    empty_marker: bool = False  # a bare "## 부칙" heading: merged into the 부칙 line that follows


@dataclass
class _State:
    blocks: list[_Block] = field(default_factory=list)
    chapters: list[tuple[int, str]] = field(default_factory=list)  # (level, "제1장 총칙")
    in_tail: bool = False  # inside 부칙/별표: article lines there belong to them
    last_article: tuple[int, int] = (0, 0)


def parse(doc: Document) -> list[Provision]:
    """Provisions of a Korean regulation in document order; [] when it has no 조 at all."""
    text = doc.text
    lines = _split_lines(text)
    heading_mode = grammar.ANY_MD_ARTICLE.search(text) is not None
    state = _State()
    i = 0
    while i < len(lines):
        i = _step(lines, i, heading_mode, state)
    if not any(b.kind == "article" for b in state.blocks):
        return []  # title-only, placeholder, or not a 조-structured text: the caller falls back
    provisions: list[Provision] = []
    first_start = state.blocks[0].start if state.blocks else len(text)
    preamble = _preamble(doc, lines, first_start)
    if preamble:
        provisions.append(preamble)
    for index, block in enumerate(state.blocks):
        if block.kind == "void":
            continue
        end = state.blocks[index + 1].start if index + 1 < len(state.blocks) else len(text)
        provision = _provision(text, block, end)
        if block.empty_marker and provision.text == block.header:
            continue  # a bare "## 부칙" heading with nothing under it
        provisions.append(provision)
    return provisions


def _split_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    offset = 0
    for raw in text.splitlines(keepends=True):
        content = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        lines.append(_Line(offset, offset + len(content), content))
        offset += len(raw)
    return lines


def _next_nonblank(lines: list[_Line], i: int) -> int:
    while i < len(lines) and not lines[i].text.strip():
        i += 1
    return i


def _step(lines: list[_Line], i: int, heading_mode: bool, state: _State) -> int:
    """Classify line ``i``; open a block if it starts one. Returns the next line to look at."""
    line = lines[i]
    stripped = line.text.strip()
    if not stripped or stripped[0] not in "#제부[■":
        return i + 1  # every structural line starts with one of these: skip the rest cheaply

    supplement = grammar.SUPPLEMENT.match(line.text)
    if supplement and _is_supplement_line(supplement.group("rest"), state):
        _open_supplement(lines, i, supplement.group("rest"), state)
        return i + 1

    appendix = grammar.APPENDIX_HEADING.match(line.text)
    if appendix:
        _open_appendix(line, appendix, state)
        return i + 1

    if state.in_tail:
        return i + 1  # 부칙 articles (제1조(시행일) …) and quoted chapters stay inside the 부칙

    chapter = grammar.CHAPTER.match(line.text)
    if chapter and _is_chapter_line(lines, i, chapter, heading_mode):
        _open_chapter(line, chapter, state)
        return i + 1

    md_heading = grammar.MD_ARTICLE.match(line.text)
    if md_heading:
        return _open_from_heading(lines, i, md_heading, state, markdown=True)
    if heading_mode:
        return i + 1  # Markdown documents open articles only at ##### headings

    plain_heading = grammar.PLAIN_ARTICLE.match(line.text)
    if plain_heading and _after_last(state, plain_heading, decode=True):
        return _open_from_heading(lines, i, plain_heading, state, markdown=False)
    body_label = grammar.BODY_ARTICLE.match(line.text)
    if body_label and _after_last(state, body_label, decode=False):
        _open_article_from_body(line, line.start, body_label, state)
    return i + 1


def _is_supplement_line(rest: str, state: _State) -> bool:
    if grammar.SUPPLEMENT_REFERENCE.match(rest):
        return False
    if not rest.strip() or state.in_tail:
        return True
    # Before the 부칙 area, only a line that reads like a 부칙 opening starts one, so a
    # wrapped PDF line beginning with "부칙 …" in running text stays text.
    return grammar.SUPPLEMENT_START.match(rest) is not None


def _is_chapter_line(lines: list[_Line], i: int, chapter: re.Match[str], heading_mode: bool) -> bool:
    title = chapter.group("title") or ""
    if len(title) > 60 or title.endswith(("다.", "다")):
        return False
    if not heading_mode or lines[i].text.lstrip().startswith("#"):
        return True
    # In Markdown, a chapter line follows a fake "##### 제0조" heading or precedes an article heading.
    before = i - 1
    while before >= 0 and not lines[before].text.strip():
        before -= 1
    if before >= 0 and grammar.FAKE_ARTICLE_LINE.match(lines[before].text):
        return True
    after = _next_nonblank(lines, i + 1)
    return after < len(lines) and grammar.MD_ARTICLE.match(lines[after].text) is not None


def _number(match: re.Match[str]) -> tuple[int, int]:
    num = int(match.group("num"))
    branch = int(match.group("branch")) if match.group("branch") else 0
    return num, branch


def _after_last(state: _State, match: re.Match[str], decode: bool) -> bool:
    """Plain-text (PDF) labels must move forward: a wrapped line starting "제3조(…) …" is text."""
    num, branch = _number(match)
    if num == 0:
        return decode  # a fake 제0조 heading line becomes a break; a 제0조 body label is text
    if decode and not branch:
        num, branch = _maybe_decode(num, state)
    return (num, branch) > state.last_article


def _maybe_decode(num: int, state: _State) -> tuple[int, int]:
    """Decode a 제N0M조 heading only where the plain number cannot be the next article."""
    base = state.last_article[0]
    decoded, branch = grammar.decode_heading_number(num)
    if branch and base and num > base + 1 and decoded in (base, base + 1):
        return decoded, branch
    return num, 0


def _open_from_heading(
    lines: list[_Line], i: int, heading: re.Match[str], state: _State, *, markdown: bool
) -> int:
    line = lines[i]
    j = _next_nonblank(lines, i + 1)
    follower = lines[j] if j < len(lines) else None
    body_label = grammar.BODY_ARTICLE.match(follower.text) if follower else None
    num, branch = _number(heading)

    if body_label and follower and (markdown or _same_article(heading, body_label)):
        # The body repeats its own label: it wins over the heading (shifted titles, 제N0M조).
        _open_article_from_body(follower, line.start, body_label, state)
        return j + 1
    if num == 0:
        # "##### 제0조 (…)" is where the export put a chapter line; the chapter (if any)
        # is the next line. Either way the fake heading ends the article before it.
        _close_with_void(line, state)
        return i + 1
    if not branch:
        num, branch = _maybe_decode(num, state)
    title = " ".join((heading.group("title") or "").split())
    body = line.end  # the heading line itself is replaced by a clean header
    if follower and grammar.DELETED_ONLY.match(follower.text):
        header = f"{grammar.article_label(num, branch)} {follower.text.strip()}"
        _open_article(state, line.start, follower.end, num, branch, "삭제", header)
        return j + 1
    header = f"{grammar.article_label(num, branch)}({title})" if title else grammar.article_label(num, branch)
    _open_article(state, line.start, body, num, branch, title, header)
    return i + 1


def _same_article(heading: re.Match[str], body_label: re.Match[str]) -> bool:
    """In plain text a heading line merges with the next label line only if both name one article."""
    h_num, h_branch = _number(heading)
    b_num, b_branch = _number(body_label)
    if (h_num, h_branch) == (b_num, b_branch):
        return True
    if not h_branch and grammar.decode_heading_number(h_num) == (b_num, b_branch):
        return True
    return (heading.group("title") or "").strip() == (body_label.group("title") or "").strip() != ""


def _open_article_from_body(line: _Line, start: int, body_label: re.Match[str], state: _State) -> None:
    num, branch = _number(body_label)
    if body_label.group("deleted"):
        # "제5조 삭제 <2019.4.11.>": the whole line is the header, verbatim from 삭제 on.
        header = f"{grammar.article_label(num, branch)} {line.text[body_label.start('deleted') :].strip()}"
        _open_article(state, start, line.end, num, branch, "삭제", header)
        return
    title = " ".join((body_label.group("title") or "").split())
    header = f"{grammar.article_label(num, branch)}({title})" if title else grammar.article_label(num, branch)
    _open_article(state, start, line.start + body_label.end(), num, branch, title, header)


def _open_article(
    state: _State, start: int, body_start: int, num: int, branch: int, title: str, header: str
) -> None:
    state.blocks.append(
        _Block(
            kind="article",
            start=start,
            body_start=body_start,
            article=grammar.article_label(num, branch),
            title=title,
            header=header,
            heading_path=[name for _, name in state.chapters],
        )
    )
    state.last_article = (num, branch)


def _close_with_void(line: _Line, state: _State) -> None:
    state.blocks.append(_Block(kind="void", start=line.start, body_start=line.end))


def _open_chapter(line: _Line, chapter: re.Match[str], state: _State) -> None:
    level = grammar.CHAPTER_LEVEL[chapter.group("level")]
    branch = f"의{chapter.group('branch')}" if chapter.group("branch") else ""
    label = f"제{int(chapter.group('num'))}{chapter.group('level')}{branch}"
    name = f"{label} {_tidy_chapter_title(chapter.group('title') or '')}".strip()
    state.chapters = [(lvl, n) for lvl, n in state.chapters if lvl < level] + [(level, name)]
    previous = state.blocks[-1] if state.blocks else None
    if previous and previous.kind == "void" and previous.body_start <= line.start:
        return  # the chapter line right after a fake 제0조 heading: same gap
    _close_with_void(line, state)


def _tidy_chapter_title(title: str) -> str:
    """Letter-spaced print titles ("총     칙") close up to "총칙"; others keep single spaces."""
    words = title.split()
    if len(words) > 1 and all(len(w) == 1 for w in words):
        return "".join(words)
    return " ".join(words)


def _open_supplement(lines: list[_Line], i: int, rest: str, state: _State) -> None:
    line = lines[i]
    note_match = grammar.PROMULGATION.match(rest)
    note = note_match.group(1).strip() if note_match else ""
    body_start = line.start + (len(line.text) - len(rest)) + (note_match.end() if note_match else 0)
    block = _Block(
        kind="supplementary",
        start=line.start,
        body_start=body_start,
        article="부칙",
        title=note,
        header=f"부칙 {note}" if note else "부칙",
        empty_marker=not rest.strip(),
    )
    previous = state.blocks[-1] if state.blocks else None
    if previous and previous.empty_marker and _blank_since(lines, i, previous.body_start):
        block.start = previous.start  # "## 부칙" then "부칙 …": one provision, no empty one
        state.blocks[-1] = block
    else:
        state.blocks.append(block)
    state.in_tail = True
    state.chapters = []


def _blank_since(lines: list[_Line], i: int, offset: int) -> bool:
    """Whether the lines before ``i`` back to ``offset`` are all blank (scans only that gap)."""
    k = i - 1
    while k >= 0 and lines[k].end > offset:
        if lines[k].text.strip():
            return False
        k -= 1
    return True


def _open_appendix(line: _Line, appendix: re.Match[str], state: _State) -> None:
    inner = " ".join(appendix.group("inner").split())
    number = grammar.TABLE_NUMBER.match(inner.replace(" ", ""))
    if appendix.group("kind") == "별표":
        if number:
            label = f"별표 {int(number.group(1))}"
            label += f"의{int(number.group(2))}" if number.group(2) else ""
        else:
            label = "별표"
    else:
        label = f"별지 {inner}".strip()
    state.blocks.append(
        _Block(
            kind="appendix",
            start=line.start,
            body_start=line.end,
            article=label,
            title=appendix.group("rest").strip(),
            header=line.text.strip().lstrip("#").strip(),
        )
    )
    state.in_tail = True
    state.chapters = []


# ---------------------------------------------------------------------------
# Building provisions


def _provision(text: str, block: _Block, end: int) -> Provision:
    raw = text[block.start : end]
    end = block.start + len(raw.rstrip())
    body = _clean_body(text[block.body_start : max(block.body_start, end)])
    clean = f"{block.header}\n{body}" if body else block.header
    return Provision(
        article=block.article,
        article_title=block.title,
        text=clean,
        start=block.start,
        end=end,
        kind=block.kind,
        heading_path=list(block.heading_path),
        units=_units(clean, block.kind),
    )


def _clean_body(raw: str) -> str:
    """Body text for reading/embedding: tables as rows, no Markdown marks, notes kept verbatim."""
    text = html_tables_to_text(raw).translate(grammar.CHARACTER_FIXES)
    out: list[str] = []
    blank = False
    for line in text.splitlines():
        if grammar.FAKE_ARTICLE_LINE.match(line):
            continue
        line = _MD_HEADING_MARK.sub("", line)
        if not line.strip():
            blank = bool(out)
            continue
        if blank:
            out.append("")  # keep one blank line where the source had some ([본조신설 …] stands apart)
            blank = False
        out.append(line.strip())
    return "\n".join(out)


def _units(text: str, kind: str) -> list[Unit]:
    """항 (①…), else top-level 호 (1., 2의2.); inner 조 lines for a 부칙. Contiguous, lead-in first."""
    starts: list[tuple[int, str]] = []
    if kind == "supplementary":
        starts = [
            (m.start(), grammar.article_label(int(m.group(1)), int(m.group(2) or 0)))
            for m in grammar.INNER_ARTICLE_LINE.finditer(text)
            if m.start() > 0
        ]
        if len(starts) < 2:
            starts = []  # a single 제1조 is no split point worth having
    if not starts:
        starts = _paragraph_starts(text)
    if not starts:
        starts = _item_starts(text)
    if not starts:
        return []
    units: list[Unit] = []
    if starts[0][0] > 0:
        units.append(Unit(label="", start=0, end=starts[0][0]))
    for index, (start, label) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(text)
        units.append(Unit(label=label, start=start, end=end))
    return units


def _paragraph_starts(text: str) -> list[tuple[int, str]]:
    starts: list[tuple[int, str]] = []
    last = -1
    for match in grammar.PARAGRAPH_LINE.finditer(text):
        rank = grammar.CIRCLED.index(match.group(1))
        if rank > last:  # a repeated or earlier mark is a quotation, not a new 항
            starts.append((match.start(), match.group(1)))
            last = rank
    return starts


def _item_starts(text: str) -> list[tuple[int, str]]:
    """Top-level 호 in sequence (1., 2., 2의2., 3. …); "2023. 11. 20.>" wraps don't fit it."""
    starts: list[tuple[int, str]] = []
    previous = (0, 0)
    for match in grammar.ITEM_LINE.finditer(text):
        num = int(match.group(1))
        branch = int(match.group(2)) if match.group(2) else 0
        follows = (num == previous[0] + 1 and branch == 0) or (
            num == previous[0] and previous[0] > 0 and branch > previous[1]
        )
        if follows:
            label = f"{num}의{branch}." if branch else f"{num}."
            starts.append((match.start(), label))
            previous = (num, branch)
    return starts


def _preamble(doc: Document, lines: list[_Line], first_start: int) -> Provision | None:
    """Text before the first provision, when it is more than the title (and chapter lines)."""
    title_key = "".join(doc.title.split())
    consumed = ""  # the title as read so far: a PDF may wrap it over two lines
    content: list[_Line] = []
    for line in lines:
        if line.start >= first_start:
            break
        stripped = line.text.strip()
        if not stripped or stripped.startswith("#") or grammar.CHAPTER.match(stripped):
            continue
        key = "".join(stripped.split())
        if not content and title_key and title_key.startswith(consumed + key):
            consumed += key
            continue
        content.append(line)
    if not content:
        return None
    first = content[0].text.strip()
    if not consumed and len(first) <= 80 and not first.endswith("."):
        content = content[1:]  # a title we could not match (a PDF named by number): its first short line
    # What is left must read as text, not as the rest of a wrapped title line.
    if not content or not any("다." in line.text for line in content):
        return None
    start, end = content[0].start, content[-1].end
    body = _clean_body(doc.text[start:end])
    if not body:
        return None
    return Provision(
        article="",
        article_title="전문",
        text=body,
        start=start,
        end=end,
        kind="preamble",
        units=[],
    )


__all__ = ["canonical_article", "parse"]
