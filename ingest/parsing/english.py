"""English codes, charters and ordinances → one Provision per section.

What is recognised
------------------
*Sections* (kind ``"section"``), at the start of a Markdown heading, of a bold
line (``**Section 1. Title.**``) or — only in text with neither, such as PDF
extractions — of a plain line:

==========================  ======================  ===========================
spelling in the text        canonical ``article``   where it occurs
==========================  ======================  ===========================
``§ 2-537.`` / ``§2-537``   ``§ 2-537``             D.C. Code
``SECTION 3-1:``            ``SECTION 3-1``         Somerville charter
``Section 4.`` ``Section``  ``SECTION 4``           Rivergrove, appendices
``Sec. 2-1.`` ``Sec 2-1``   ``Sec. 2-1``            Somerville ordinances
``Secs. 2-11-2-20.``        ``Secs. 2-11-2-20``     reserved ranges
``2.1.3 Title`` (heading)   ``2.1.3``               Somerville zoning
==========================  ======================  ===========================

``Section``/``SECTION`` and ``Sec.`` are kept apart on purpose: in the
Somerville file the charter's ``SECTION 3-1`` and the ordinances' ``Sec. 3-1``
are different provisions. Bare numbered headings (zoning) keep their number
as the label, with no ``§`` added, because that is how the ordinance cites
itself ("Section 2.1.3" in prose is normalised to ``SECTION 2.1.3`` by
:func:`canonical_section`, and retrieval should try
:func:`canonical_section_candidates`, which also offers ``2.1.3``).

*Containers*: ``Title``, ``Part``, ``Chapter``, ``Subchapter``, ``Article``,
``Division``, ``Unit``, ``Appendix``, ``Exhibit`` (upper or capitalised case).
They enclose sections and go into ``heading_path`` as written (footnote ``*``
stripped); a bare "CHAPTER I" followed by its title line ("NAME AND
BOUNDARIES") becomes "CHAPTER I NAME AND BOUNDARIES", and a bare "Section 4."
followed by "General Requirements." takes that line as its title. ``Table``
and ``Schedule`` headings only label the text under them. A numbered section
heading immediately followed by deeper headings numbered under it (zoning
``2.1`` → ``2.1.1``; ``SECTION 1.0`` → ``1.1``) is a container too.

Text outside any section (a chapter's notes, a letter of introduction, a fee
schedule under a plain heading, WHEREAS clauses) is not dropped: it becomes
kind ``"preamble"`` provisions, cut into passages of about 1,200 characters
by :mod:`ingest.parsing.generic`. Their ``article`` is the heading's
designation (``Chapter 2``, ``Article II``, ``Table 9.1.1``) or ``""`` for an
undesignated heading (``PREAMBLE``, ``Body Art Regulations``); each passage
starts with the heading line so it reads (and chunks) as that heading's text.

Every provision's ``text`` starts with a clean header line (no ``#``, ``**``
or ``<!-- -->`` comments); ``units`` are the top-level subsections ``(a)``,
``(b)``… — or ``(1)``, ``(A)``, ``a.``, ``A.``, ``(i)`` when that is the
outermost scheme — found at the start of lines, with a lead-in unit ``""``
for the header and any text before the first. A D.C. Code file's
``hierarchy`` front matter (``doc.extra["hierarchy"]``) leads every
``heading_path``.

Tables of contents: the body of a "Table of Contents"/"Contents"/"Index"
heading is skipped, and a section with (almost) no body whose label recurs
later is taken for a contents entry and dropped.

Known limits: section labels are unique per document only up to their
``heading_path`` (the Somerville charter appendix restarts ``Sec. 1`` in each
article, and appendix E's ``Section 1-1`` shares ``SECTION 1-1`` with the
charter); OCR damage (split words, ``Reoeal``, ``3.09Q``) is left as is.

Public: :func:`parse`, :func:`find_units`; :func:`canonical_section` and
:func:`canonical_section_candidates` (the section grammar, ``civicrag.legal.grammar``) are re-exported.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from civicrag.ingest.parsing.generic import MAX_PASSAGE_CHARS, SourceLine, pack_lines, read_lines

from civicrag.legal import grammar
from civicrag.legal.grammar import canonical_section
from civicrag.legal.grammar import canonical_section_candidates as canonical_section_candidates
from civicrag.legal.types import Document, Provision
from civicrag.legal.types import UnitSpan as Unit

# What may follow a section or container number for the line to be a heading rather than a
# sentence ("Section 5 of this ordinance", "section 2-5(d)", "Title 3 compliance"): nothing, a
# period or colon, a dash, or a capitalised word.
_AFTER_OK_RE = re.compile(r"^(?:$|[.:]|\s*[-–—](?:\s|$)|\s+[^\sa-z(])")

_MAJOR_CONTAINERS = {
    "title": 1,
    "exhibit": 3,
    "subtitle": 2,
    "part": 3,
    "appendix": 3,
    "subpart": 4,
    "chapter": 5,
    "subchapter": 6,
    "unit": 6,
    "article": 7,
    "division": 8,
    "subdivision": 9,
}
# Minor designations label the text under them but, like plain headings, sit inside a section.
_MINOR_CONTAINERS = {"table": 12, "schedule": 12}
_CONTAINER_WORDS = "|".join(
    alt for w in [*_MAJOR_CONTAINERS, *_MINOR_CONTAINERS] for alt in (w.upper(), w.capitalize())
)
_CONTAINER_RE = re.compile(
    rf"^(?P<kw>{_CONTAINER_WORDS})\s+"
    r"(?P<num>\d+[A-Za-z]?(?:[.-]\d+)*|[IVXLCDM]+|[A-Z])(?![\w])(?P<after>.*)$"
)
# Zoning-style numbered headings: "2.1.3 Title", "1.1 GENERAL", FEMA model "4.1-1 Anchoring"
# (at least one dot, so a bare "1." heading or a year is not a section).
_NUMBERED_RE = re.compile(r"^(?P<num>\d+(?:\.\d+)+(?:-\d+)?)\.?(?:\s+(?P<after>\S.*))?$")
_BOLD_LEAD_RE = re.compile(r"^\*\*(?P<bold>[^*]+?)\*\*(?P<rest>.*)$")

# Markdown list numbering the converters put in front of subsection labels: "1. (a) Role".
_LIST_PREFIX_RE = re.compile(r"^(\s*)\d{1,3}\.\s+(?=(?:\([A-Za-z0-9]{1,4}\)|[A-Za-z]{1,4}\.)\s)")
_UNIT_RE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<label>\((?P<pin>[a-z]{1,2}|[A-Z]{1,2}|\d{1,3}|[ivxlc]{1,6}|[IVXLC]{1,6})\)"
    r"|(?P<din>[a-z]|[A-Z]|\d{1,3})\.)(?=\s|$)",
    re.M,
)
_UNIT_HEADING_RE = re.compile(r"^\((?:[a-z]{1,2}|[A-Z]{1,2}|\d{1,3})\)\s")
_TOC_RE = re.compile(r"^(?:table of contents|contents|index)$", re.I)
_BLANK_RUN_RE = re.compile(r"\n{3,}")
_TITLE_TRIM = " \t.:;,-–—*"
_INLINE_TITLE_MAX = 80

_TOC_BODY_MAX = 40  # a contents entry may drag a page number or a wrapped title along
_PREAMBLE_MIN_CHARS = 40  # less than this under a heading is a note, not a provision
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


@dataclass(slots=True)
class _Marker:
    """A structural line: a section, a container, or a plain heading."""

    index: int  # line index
    kind: str  # section | container | heading
    level: int  # Markdown 1–6; 10+rank for line containers; 0 for line sections (no level)
    label: str  # canonical label / designation ("" for plain headings)
    number: str  # bare number, for nesting numbered headings
    title: str
    display: str  # the header line as shown
    source: str  # heading | bold | plain
    major: bool = True  # containers: major ones close any open section
    title_line: int = -1  # line absorbed as the container's title


@dataclass(slots=True)
class _Segment:
    owner: _Marker | None
    first: int  # first body line index (after the header line)
    last: int  # exclusive
    path: list[str] = field(default_factory=list)
    skip: bool = False  # a table of contents: the real sections follow


# ---------------------------------------------------------------------------
# classifying lines


def _clean_title(text: str) -> str:
    return text.strip().strip(_TITLE_TRIM).strip()


def _inline_title(rest: str) -> str:
    """A catchline at the start of running text: "Title. Body…" → "Title"; long sentences → ""."""
    rest = rest.strip().lstrip(".:–—- ")
    if not rest:
        return ""
    m = re.match(r"(.+?)[.:](?:\s|$)", rest)
    head = m.group(1) if m else rest
    if len(head) > _INLINE_TITLE_MAX or len(head.split()) > 12 or not head[:1].isupper():
        return ""
    return _clean_title(head)


def _classify(line: SourceLine, index: int) -> _Marker | None:
    """The structural meaning of one line, if any (mode filtering happens later)."""
    text = line.text.strip()
    if not text:
        return None
    if line.level:
        source = "heading"
        body, rest = text, ""
    else:
        bold = _BOLD_LEAD_RE.match(line.marked.strip())
        if bold:
            source = "bold"
            body, rest = bold.group("bold").strip(), bold.group("rest")
        else:
            source = "plain"
            body, rest = text, ""

    m = grammar.SECTION_LINE.match(body)
    if m and _AFTER_OK_RE.match(m.group("after")):
        if m.group("range") and not (m.group("sym") == "§§" or (m.group("word") or "").lower().endswith("s")):
            return None  # "Section 3, 4" in prose
        label = grammar.section_label(m.group("sym"), m.group("word"), m.group("num"), m.group("range"))
        after = m.group("after")
        if source == "heading":
            title = _clean_title(after)
        elif source == "bold":
            title = _clean_title(after) or _inline_title(rest)
        else:
            title = _inline_title(after)
        return _Marker(
            index,
            "section",
            line.level,
            label,
            grammar.normalise_section_number(m.group("num")),
            title,
            _display(text),
            source,
        )

    c = _CONTAINER_RE.match(body)
    if c and _AFTER_OK_RE.match(c.group("after")):
        kw = c.group("kw").lower()
        major = kw in _MAJOR_CONTAINERS
        rank = _MAJOR_CONTAINERS.get(kw) or _MINOR_CONTAINERS[kw]
        if source != "heading" and (len(text) > 120 or not major):
            return None  # a long plain line is prose; tables and schedules only head as headings
        title = _clean_title(c.group("after")) or (_clean_title(rest) if source == "bold" else "")
        return _Marker(
            index,
            "container",
            line.level or 10 + rank,
            f"{kw.capitalize()} {c.group('num')}",
            c.group("num"),
            title,
            _display(text),
            source,
            major=major,
        )

    if source != "heading":
        return None
    n = _NUMBERED_RE.match(body)
    if n:
        return _Marker(
            index,
            "section",
            line.level,
            n.group("num"),
            n.group("num"),
            _clean_title(n.group("after") or ""),
            _display(text),
            source,
        )
    return _Marker(index, "heading", line.level, "", "", _clean_title(text), _display(text), source)


def _display(text: str) -> str:
    """Header text as shown: whitespace collapsed, footnote asterisks dropped."""
    return re.sub(r"\s+", " ", text).strip().rstrip("*").rstrip()


def _find_markers(lines: list[SourceLine]) -> list[_Marker]:
    markers = [m for i, line in enumerate(lines) if (m := _classify(line, i)) is not None]
    # Plain-line structure is only trusted when the text has no marked-up sections at all
    # (PDF extractions): otherwise "Section 5. …" at the start of a body line is prose.
    if any(m.kind == "section" and m.source != "plain" for m in markers):
        markers = [m for m in markers if m.source != "plain"]
    _nest_numbered(markers)
    _absorb_titles(markers, lines)
    # A lone level-1 heading is the document's title, not part of any heading path.
    top = [m for m in markers if m.source == "heading" and m.level == 1]
    if len(top) == 1 and top[0].kind == "heading":
        top[0].level = 0
    return markers


def _nest_numbered(markers: list[_Marker]) -> None:
    """A numbered heading directly followed by deeper headings numbered under it encloses them."""
    sections = [m for m in markers if m.kind == "section" and m.source == "heading"]
    for cur, nxt in itertools.pairwise(sections):
        if nxt.level <= cur.level:
            continue
        stem = re.sub(r"(?:\.0+)+$", "", cur.number)
        if nxt.number.startswith(stem + ".") or nxt.number.startswith(stem + "-"):
            cur.kind = "container"


def _absorb_titles(markers: list[_Marker], lines: list[SourceLine]) -> None:
    """A bare designation followed by its title on the next line takes that line as its title.

    "## CHAPTER I" + "### NAME AND BOUNDARIES", "### SECTION 2.0" + "**DEFINITIONS**",
    and in PDF text "Section 4." + "General Requirements.".
    """
    by_index = {m.index: m for m in markers}
    absorbed: set[int] = set()
    for m in markers:
        if m.title or m.kind == "heading" or m.index in absorbed:
            continue
        if m.source == "plain" and len(lines[m.index].text.strip()) > len(m.display) + 2:
            continue  # the header line already runs on into the body
        j = m.index + 1
        while j < len(lines) and lines[j].blank:
            j += 1
        if j >= len(lines):
            continue
        nxt = by_index.get(j)
        if nxt is not None and not (nxt.kind == "heading" and nxt.level > m.level > 0):
            continue
        text = lines[j].text.strip()
        if not _title_line(text, lines[j], m.kind == "container"):
            continue
        m.title = _clean_title(text)
        m.display = f"{m.display} {text}"
        m.title_line = j
        if nxt is not None:
            absorbed.add(nxt.index)
    if absorbed:
        markers[:] = [m for m in markers if m.index not in absorbed]


def _title_line(text: str, line: SourceLine, container: bool) -> bool:
    """Whether a line right under a bare designation reads as its title rather than as body text."""
    if not text or len(text) > 100 or not any(c.isalpha() for c in text):
        return False
    if _UNIT_RE.match(text) or text.endswith((";", ",", ":")):
        return False
    if text.isupper() or line.marked.strip().startswith("**") or line.level:
        return not text.endswith(".") or text.count(". ") == 0
    if container:
        return False  # mixed-case plain text under a chapter line is body, not a title
    # Mixed case (PDF "General Requirements."): a short catchline, one phrase at most.
    words = text.rstrip(".").split()
    return len(words) <= 8 and text[:1].isupper() and ". " not in text


# ---------------------------------------------------------------------------
# assembling provisions


def parse(doc: Document) -> list[Provision]:
    """Sections (and text outside them) of an English code; [] when there is no section at all."""
    lines = read_lines(doc.text)
    markers = _find_markers(lines)
    base_path = _base_path(doc)
    if not any(m.kind == "section" for m in markers):
        return _citation_fallback(doc, lines, base_path)

    segments = _segments(markers, len(lines))
    provisions: list[Provision] = []
    for seg in segments:
        if seg.skip:
            continue
        path = [*base_path, *seg.path]
        if seg.owner is not None and seg.owner.kind == "section":
            provisions.append(_section(seg.owner, lines, seg, path))
        else:
            provisions.extend(_preamble(seg.owner, lines, seg, path))
    return _qualify_appendix_repeats(_drop_toc_entries(provisions))


_APPENDIX_HEADING = re.compile(r"^APPENDIX\s+([A-Z0-9]+)\b", re.IGNORECASE)


def _qualify_appendix_repeats(provisions: list[Provision]) -> list[Provision]:
    """Give an appendix section that reuses a label of the body its own label: ``SECTION 3-1 (App. E)``.

    Somerville's Traffic Commission rules (Appendix E) number their sections ``Section 3-1`` like the
    charter; a citation must not send staff to the charter's SECTION 3-1 for a traffic rule.
    """
    seen: set[str] = set()
    for provision in provisions:
        if provision.kind != "section":
            continue
        appendix = next((m.group(1).upper() for h in provision.heading_path if (m := _APPENDIX_HEADING.match(h))), None)
        if appendix and provision.article in seen:
            provision.article = f"{provision.article} (App. {appendix})"
        seen.add(provision.article)
    return provisions


def _base_path(doc: Document) -> list[str]:
    hierarchy = doc.extra.get("hierarchy")
    if isinstance(hierarchy, list):
        return [str(h).strip() for h in hierarchy if str(h).strip()]
    return []


def _segments(markers: list[_Marker], n_lines: int) -> list[_Segment]:
    """Cut the lines at the markers, tracking the heading stack for each piece."""
    stack: list[tuple[int, str, bool]] = []  # (level, display, is a major container)
    segments: list[_Segment] = [_Segment(None, 0, n_lines)]
    open_section: _Marker | None = None
    in_toc = False  # under a "Table of Contents" heading: its bold or plain entries are not structure
    for m in markers:
        if in_toc:
            if m.source != "heading":
                continue
            in_toc = False  # contents are lists and bold lines; the next real heading ends them
        if open_section is not None and _inside(m, open_section):
            continue  # a sub-heading inside the section's body
        segments[-1].last = m.index
        if m.kind == "section":
            if m.level:
                # A division heading at the section's own level encloses it (Somerville puts
                # "###### DIVISION 1." and "###### Sec. 2-61." at the same level); a plain
                # heading or table at that level does not.
                while stack and (stack[-1][0] > m.level or (stack[-1][0] == m.level and not stack[-1][2])):
                    stack.pop()
            open_section = m
            path = [d for _, d, _ in stack]
        else:
            level = m.level
            if level:
                while stack and stack[-1][0] >= level:
                    stack.pop()
            path = [d for _, d, _ in stack]
            if level:  # level 0: the document's title heading stays out of paths
                stack.append((level, m.display, m.kind == "container" and m.major))
            open_section = None
        first = (m.title_line if m.title_line >= 0 else m.index) + 1
        segments.append(_Segment(m, first, n_lines, path))
        if m.kind == "heading" and _TOC_RE.match(m.title):
            in_toc = True
            segments[-1].skip = True
    return segments


def _inside(m: _Marker, section: _Marker) -> bool:
    """Whether marker ``m`` is only a sub-heading within the open ``section``'s body."""
    if m.kind == "section" or (m.kind == "container" and m.major):
        return False
    if m.source == "heading" and _UNIT_HEADING_RE.match(m.display):
        return True  # "### (A) AUTHORITY" under "### Section 5.100": a subsection, whatever its level
    if not section.level:
        return False  # a bold/plain section ends at the next heading of any kind
    return m.source == "heading" and m.level > section.level


def _body_lines(lines: list[SourceLine], first: int, last: int) -> list[SourceLine]:
    out = []
    for line in lines[first:last]:
        text = line.text
        if line.level:
            text = text.strip()  # a sub-heading inside a body reads as a line of its own
        elif text[:1].isspace() or text[:1].isdigit():
            text = _LIST_PREFIX_RE.sub(r"\1", text)
        out.append(SourceLine(line.start, line.end, text, line.marked, 0, line.lead))
    return out


def _section(m: _Marker, lines: list[SourceLine], seg: _Segment, path: list[str]) -> Provision:
    body = _body_lines(lines, seg.first, seg.last)
    body_text = _BLANK_RUN_RE.sub("\n\n", "\n".join(line.text for line in body)).strip()
    text = f"{m.display}\n{body_text}" if body_text else m.display
    header = lines[m.index]
    content = [line for line in body if not line.blank]
    end = content[-1].end if content else header.end
    return Provision(
        article=m.label,
        article_title=m.title,
        text=text,
        start=header.start,
        end=end,
        kind="section",
        heading_path=path,
        units=find_units(text, len(m.display) + 1),
    )


def _preamble(m: _Marker | None, lines: list[SourceLine], seg: _Segment, path: list[str]) -> list[Provision]:
    body = _body_lines(lines, seg.first, seg.last)
    if sum(len(line.text.strip()) for line in body) < _PREAMBLE_MIN_CHARS:
        return []
    header = None
    if m is not None:
        head = lines[m.index]
        header = SourceLine(head.start, head.end, m.display, m.display, 0, head.lead)
    label = m.label if m is not None and m.kind == "container" else ""
    title = (m.title or m.display) if m is not None else ""
    return [
        Provision(
            article=label,
            article_title=title,
            text=p.text,
            start=p.start,
            end=p.end,
            kind="preamble",
            heading_path=list(path),
        )
        for p in pack_lines(body, MAX_PASSAGE_CHARS, header=header, repeat_header=True)
    ]


def _drop_toc_entries(provisions: list[Provision]) -> list[Provision]:
    """A (nearly) empty section whose label comes back later is a table-of-contents line."""
    seen_later: set[str] = set()
    keep: list[Provision] = []
    for p in reversed(provisions):
        if p.kind == "section":
            body = p.text.partition("\n")[2]
            if len(body.strip()) <= _TOC_BODY_MAX and p.article in seen_later and not _says_reserved(p):
                continue
            seen_later.add(p.article)
        keep.append(p)
    keep.reverse()
    return keep


def _says_reserved(p: Provision) -> bool:
    return bool(re.search(r"reserved|repealed|superseded", p.text, re.I))


def _citation_fallback(doc: Document, lines: list[SourceLine], path: list[str]) -> list[Provision]:
    """A one-section file (D.C. Code) whose heading is missing: its front-matter citation labels it."""
    citation = str(doc.extra.get("citation") or "")
    label = canonical_section(citation) if citation else None
    if not label or not doc.text.strip():
        return []
    body = _body_lines(lines, 0, len(lines))
    body_text = _BLANK_RUN_RE.sub("\n\n", "\n".join(line.text for line in body)).strip()
    title = _clean_title(doc.title)
    header = f"{label}. {title}" if title else label
    text = f"{header}\n{body_text}"
    content = [line for line in body if not line.blank]
    return [
        Provision(
            article=label,
            article_title=title,
            text=text,
            start=content[0].start if content else 0,
            end=content[-1].end if content else len(doc.text),
            kind="section",
            heading_path=path,
            units=find_units(text, len(header) + 1),
        )
    ]


# ---------------------------------------------------------------------------
# units


@dataclass(slots=True)
class _UnitCandidate:
    start: int
    indent: int
    label: str
    scheme: str
    value: int
    alt_value: int = 0  # "(i)": 9 as a letter, 1 as a Roman numeral


def _roman(s: str) -> int:
    total, prev = 0, 0
    for ch in reversed(s.lower()):
        v = _ROMAN.get(ch, 0)
        total = total - v if v < prev else total + v
        prev = max(prev, v)
    return total


def _letter_value(s: str) -> int:
    # "(aa)" follows "(z)" in long definition lists.
    return (ord(s[0].lower()) - 96) + 26 * (len(s) - 1)


def _candidates(text: str, body_start: int) -> list[_UnitCandidate]:
    out: list[_UnitCandidate] = []
    for m in _UNIT_RE.finditer(text, body_start):
        indent = len(m.group("indent").expandtabs(4))
        start = m.start("label")
        label = m.group("label")
        pin, din = m.group("pin"), m.group("din")
        if pin is not None:
            if pin.isdigit():
                out.append(_UnitCandidate(start, indent, label, "(1)", int(pin)))
            elif pin.islower():
                roman = re.fullmatch(r"[ivxlc]+", pin) is not None
                single = len(pin) == 1 or (len(pin) == 2 and pin[0] == pin[1])
                if single and not (roman and len(pin) == 2):
                    alt = _roman(pin) if roman else 0
                    out.append(_UnitCandidate(start, indent, label, "(a)", _letter_value(pin), alt))
                elif roman:
                    out.append(_UnitCandidate(start, indent, label, "(i)", _roman(pin)))
            else:
                roman = re.fullmatch(r"[IVXLC]+", pin) is not None
                if len(pin) == 1:
                    out.append(_UnitCandidate(start, indent, label, "(A)", _letter_value(pin)))
                elif roman:
                    out.append(_UnitCandidate(start, indent, label, "(I)", _roman(pin)))
        elif din is not None:
            if din.isdigit():
                out.append(_UnitCandidate(start, indent, label, "1.", int(din)))
            elif din.islower():
                out.append(_UnitCandidate(start, indent, label, "a.", _letter_value(din)))
            else:
                out.append(_UnitCandidate(start, indent, label, "A.", _letter_value(din)))
    return out


def find_units(text: str, body_start: int = 0) -> list[Unit]:
    """Top-level subsections of a provision's ``text`` (offsets into it), contiguous from 0.

    The outermost scheme is the one at the smallest indentation whose first
    label starts a sequence — ``(a)``, ``(1)``, ``(A)``, ``(i)``, ``a.``,
    ``A.``, ``1.`` — preferring letters, then numbers, as codes nest them.
    Labels of that scheme are then taken in increasing order (small gaps
    allowed, for OCR losses), so a nested ``(i)`` is not read as the letter
    after ``(h)`` unless it really follows it. [] when there are none.
    """
    cands = _candidates(text, body_start)
    if not cands:
        return []
    scheme = _pick_scheme(cands)
    if scheme is None:
        return []
    mine = [c for c in cands if c.scheme == scheme or (scheme == "(i)" and c.alt_value)]
    indent = min(c.indent for c in mine)
    chosen: list[_UnitCandidate] = []
    prev = 0
    for c in mine:
        if c.indent != indent:
            continue
        value = c.alt_value if scheme == "(i)" and c.scheme == "(a)" else c.value
        if (not chosen and value <= 3) or (chosen and prev < value <= prev + 3):
            chosen.append(c)
            prev = value
    if not chosen:
        return []
    units: list[Unit] = []
    if chosen[0].start > 0:
        units.append(Unit("", 0, chosen[0].start))
    for c, nxt in zip(chosen, [*chosen[1:], None], strict=True):
        units.append(Unit(c.label, c.start, nxt.start if nxt else len(text)))
    return units


_SCHEME_PREFERENCE = ["(a)", "(1)", "(A)", "a.", "A.", "(i)", "(I)", "1."]


def _pick_scheme(cands: list[_UnitCandidate]) -> str | None:
    least = min(c.indent for c in cands)
    outer = [c for c in cands if c.indent == least]
    starts: list[str] = []
    for c in outer:
        if c.scheme == "(a)" and c.value == 1:
            starts.append("(a)")
        elif c.scheme == "(a)" and c.alt_value == 1:
            starts.append("(i)")  # "(i)" opening a list is a Roman numeral
        elif c.value == 1:
            starts.append(c.scheme)
    if starts:
        present = set(starts)
        return next(s for s in _SCHEME_PREFERENCE if s in present)
    return outer[0].scheme if outer else None
