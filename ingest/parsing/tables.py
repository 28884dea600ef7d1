"""Raw MS-Office HTML left inside regulation text → readable plain text.

law.go.kr bodies (and so the legalize-kr Markdown) sometimes carry the HTML that
a word processor exported: ``<TABLE STYLE=…>`` tables whose cells hold usage
hours and fees, ``<P CLASS=조문>``/``<SPAN>`` wrappers, ``<?xml:namespace …>``
and ``<o:p>`` residue, ``&nbsp;`` and numeric entities. Tables become one line
per row with cells joined by `` | ``; the rest of the markup is dropped.

Korean legal text also contains things that *look* like tags but are text that
staff rely on: ``<개정 2019.4.11.>``, ``<신설 2021.12.31.>``, ``삭제<2021.12.31.>``,
``<제123호, 2019.4.11.>``. Only ASCII-named HTML tags count as markup here, and
any other ``<`` is escaped before a fragment reaches the HTML parser, so those
notes survive verbatim.
"""

from __future__ import annotations

import html
import re

from bs4 import BeautifulSoup
from bs4.element import Tag

# Opening/closing <table> tags, paired by depth to find each top-level table.
_TABLE_TAG = re.compile(r"<(/?)table\b[^>]*>", re.IGNORECASE)

# Markup that Office exports around text. Restricting to ASCII tag names is what keeps
# "<개정 2019.4.11.>" and "<제123호, …>" out: they start with Hangul, never a Latin letter.
_TAG_NAMES = (
    r"(?:table|tbody|thead|tfoot|tr|td|th|col|colgroup|caption|p|span|font|div|br|hr|"
    r"b|i|u|s|strong|em|sup|sub|small|big|center|ul|ol|li|img|a|[a-z]+:[a-z]+)"
)
_MARKUP = re.compile(
    rf"</?{_TAG_NAMES}(?=[\s/>])[^<>]*>|<\?xml[^<>]*>|<!\[(?:if|endif)[^<>]*\]>",
    re.IGNORECASE,
)

# A "<" that does not open a tag (Hangul, digit, space …): escaped so the HTML parser keeps it as text.
_TEXT_LT = re.compile(r"<(?![A-Za-z/!?])")

# Complete entities only: html.unescape alone would also rewrite "&copy" without a semicolon.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

_BLOCK_TAGS = ("p", "div", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6")


def html_tables_to_text(text: str) -> str:
    """``text`` with embedded Office HTML turned into plain text.

    Each ``<table>`` becomes its rows, one per line, non-empty cells joined with
    " | " (a cell spanning several rows is repeated on each, so every line reads
    on its own); other Office tags are removed, entities decoded. Text without
    markup is returned unchanged apart from entity decoding.
    """
    if "<" not in text and "&" not in text:
        return text
    out: list[str] = []
    pos = 0
    for start, end in _table_spans(text):
        out.append(_strip_markup(text[pos:start]))
        rows = _table_rows(text[start:end])
        if rows:
            # A table sits on lines of its own, whatever shared its first or last line.
            if out and out[-1] and not out[-1].endswith("\n"):
                out.append("\n")
            out.append("\n".join(rows))
            if end < len(text) and text[end] != "\n":
                out.append("\n")
        pos = end
    out.append(_strip_markup(text[pos:]))
    return "".join(out)


def _table_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level table, nested tables included in their parent."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for match in _TABLE_TAG.finditer(text):
        if not match.group(1):
            if depth == 0:
                start = match.start()
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                spans.append((start, match.end()))
    if depth > 0:
        # Unclosed table (truncated export): it runs as far as the lines keep carrying markup.
        spans.append((start, _markup_run_end(text, start)))
    return spans


def _markup_run_end(text: str, start: int) -> int:
    end = start
    pos = start
    while pos < len(text):
        newline = text.find("\n", pos)
        line_end = len(text) if newline < 0 else newline
        if not _MARKUP.search(text, pos, line_end):
            break
        end = line_end
        pos = line_end + 1
    return end


def _soup(fragment: str) -> BeautifulSoup:
    soup = BeautifulSoup(_TEXT_LT.sub("&lt;", fragment), "lxml")
    # Block boundaries become line breaks, inline ones (span runs splitting "최초" "30" "분") do not.
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_BLOCK_TAGS):
        block.append("\n")
    return soup


def _cell_text(cell: Tag) -> str:
    return " ".join(cell.get_text("").split())


def _span(cell: Tag, attr: str) -> int:
    value = str(cell.get(attr) or "1").strip()
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _table_rows(fragment: str) -> list[str]:
    soup = _soup(fragment)
    lines: list[str] = []
    for table in soup.find_all("table"):
        if table.find_parent("table") is not None:
            continue  # a nested table's text is read as part of its parent cell
        lines.extend(_rows_of(table))
    if not lines:
        # No usable rows (a table tag without cells): keep whatever text it had.
        lines = [line.strip() for line in soup.get_text("").splitlines() if line.strip()]
    return lines


def _rows_of(table: Tag) -> list[str]:
    """One line per <tr>; a rowspan cell is carried into the rows it covers."""
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    carried: dict[int, tuple[str, int, int]] = {}  # column → (text, rows still covered, colspan)
    lines: list[str] = []
    for tr in rows:
        cells = [c for c in tr.find_all(["td", "th"]) if c.find_parent("tr") is tr]
        pending = dict(carried)  # carried cells not yet placed in this row
        values: dict[int, str] = {}
        col = 0
        for cell in cells:
            while col in pending:
                text, _, width = pending.pop(col)
                values[col] = text
                col += width
            width = _span(cell, "colspan")
            values[col] = _cell_text(cell)
            if _span(cell, "rowspan") > 1:
                carried[col] = (values[col], _span(cell, "rowspan"), width)
            col += width
        for column, (text, _, _) in pending.items():
            values[column] = text  # carried cells right of the row's last real cell
        carried = {c: (t, left - 1, w) for c, (t, left, w) in carried.items() if left > 1}
        line = " | ".join(v for _, v in sorted(values.items()) if v)
        if line:
            lines.append(line)
    return lines


def _strip_markup(text: str) -> str:
    """Drop non-table Office markup (parsed, not regex-deleted) and decode entities."""
    if not text:
        return text
    if _MARKUP.search(text):
        text = _strip_markup_lines(text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
    return text.replace("\xa0", " ")


def _strip_markup_lines(text: str) -> str:
    """Each run of consecutive lines carrying markup goes through the HTML parser once."""
    lines = text.split("\n")
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            soup = _soup("\n".join(run))
            out.extend(" ".join(line.split()) for line in soup.get_text("").splitlines() if line.strip())
            run.clear()

    for line in lines:
        if _MARKUP.search(line):
            run.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


__all__ = ["html_tables_to_text"]
