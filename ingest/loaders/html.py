"""HTML → Markdown-like text, so the parsers read it exactly like a Markdown file.

Headings become ``#``..``######`` lines (the Somerville code's ``###### SECTION 3-1: …``
and ``###### Sec. 2-1. …`` headings come out as in its Markdown edition),
paragraphs and list items become blocks separated by blank lines (ordered items
keep their ``1.`` number, as in Markdown), and table rows become lines of cells
joined by `` | ``. Scripts, styles, navigation and comments are dropped.
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import CData, NavigableString, Tag
from civicrag.ingest.documents import IngestError
from civicrag.ingest.loaders.common import Extracted, collapse_spaces, normalise_newlines

_DROP = frozenset(
    {
        "script", "style", "nav", "noscript", "template", "head", "svg", "math",
        "iframe", "object", "embed", "button", "select", "input", "textarea", "canvas",
    }
)  # fmt: skip
_BLOCK = frozenset(
    {
        "html", "body", "main", "p", "div", "section", "article", "header", "footer", "aside",
        "blockquote", "address", "figure", "figcaption", "dl", "dt", "dd", "details", "summary",
        "fieldset", "legend", "center", "hr", "form", "caption",
    }
)  # fmt: skip
_HEADING = {f"h{n}": n for n in range(1, 7)}
# Plain text nodes only: Comment, Doctype, Declaration and script/style strings are subclasses.
_TEXT_TYPES = (NavigableString, CData)
_SPACE_RUN = re.compile(r"\s+")


def extract_html(data: bytes, sidecar: dict[str, Any]) -> Extracted:
    try:
        # Decode UTF-8 ourselves (the common case, and exact); else let bs4 sniff <meta charset>.
        markup: str | bytes = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        markup = data
    try:
        soup = BeautifulSoup(markup, "lxml")
    except Exception as exc:  # lxml is lenient; this is for truly broken input
        raise IngestError(f"unreadable HTML: {collapse_spaces(str(exc))[:120]}") from None

    writer = _Writer()
    try:
        writer.walk(soup)
    except RecursionError:  # thousands of nested elements: generated junk, not a regulation
        raise IngestError("HTML nested too deeply to read") from None
    writer.flush()
    text = normalise_newlines("\n\n".join(writer.blocks))
    if not text.strip():
        raise IngestError("no text in HTML document")

    title = None
    if soup.title is not None:
        title = collapse_spaces(soup.title.get_text()) or None
    if title is None:
        h1 = soup.find("h1")
        if isinstance(h1, Tag):
            title = _inline_text(h1) or None
    # <html lang> is not used: page templates often keep lang="en" whatever the content.
    return Extracted(text=text, format="html", meta=sidecar, title_hint=title)


class _Writer:
    """Walks the tree once, collecting blocks of text; inline content accumulates in ``buf``."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.buf: list[str] = []
        self.prefix = ""  # list marker waiting for the first block of its item

    def flush(self) -> None:
        if not self.buf:
            return
        # "\n" in the buffer only comes from <br>; source newlines were turned into spaces.
        lines = [collapse_spaces(line) for line in "".join(self.buf).split("\n")]
        self.buf.clear()
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append(self.prefix + text)
            self.prefix = ""

    def block(self, text: str) -> None:
        self.flush()
        if text:
            self.blocks.append(self.prefix + text)
            self.prefix = ""

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) in _TEXT_TYPES:
                    self.buf.append(_SPACE_RUN.sub(" ", str(child)))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _DROP:
                continue
            if name in _HEADING:
                self.block(f"{'#' * _HEADING[name]} {_inline_text(child)}".rstrip())
            elif name == "br":
                self.buf.append("\n")
            elif name in ("ul", "ol"):
                self.flush()
                self._list(child, ordered=name == "ol")
            elif name == "li":  # an item outside any list
                self.flush()
                self.prefix = "- "
                self.walk(child)
                self.flush()
                self.prefix = ""
            elif name == "table":
                self.flush()
                self._table(child)
            elif name == "pre":
                self.block(child.get_text().strip("\n"))
            elif name in _BLOCK:
                self.flush()
                self.walk(child)
                self.flush()
            else:
                self.walk(child)  # inline: a, strong, em, code, span ...

    def _list(self, node: Tag, *, ordered: bool) -> None:
        start = node.get("start")
        number = int(start) if isinstance(start, str) and start.strip().isdigit() else 1
        for child in node.children:
            if isinstance(child, Tag) and child.name == "li":
                self.prefix = f"{number}. " if ordered else "- "
                self.walk(child)
                self.flush()
                self.prefix = ""
                number += 1
            elif isinstance(child, Tag):
                self.walk(child)
                self.flush()

    def _table(self, table: Tag) -> None:
        caption = table.find("caption")
        if isinstance(caption, Tag):
            self.block(_inline_text(caption))
        rows: list[str] = []
        for tr in table.find_all("tr"):
            if tr.find_parent("table") is not table:
                continue  # a nested table's rows belong to its own cell
            cells = [_inline_text(cell) for cell in tr.find_all(("td", "th"), recursive=False)]
            if any(cells):  # layout rows with only empty cells carry nothing
                rows.append(" | ".join(cells).rstrip())
        if rows:
            self.block("\n".join(rows))


def _inline_text(node: Tag) -> str:
    parts: list[str] = []
    _collect(node, parts)
    return collapse_spaces("".join(parts))


def _collect(node: Tag, parts: list[str]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) in _TEXT_TYPES:
                parts.append(str(child))
        elif isinstance(child, Tag) and child.name not in _DROP:
            if child.name == "br" or child.name in _BLOCK or child.name in ("li", "tr", "td", "th"):
                parts.append(" ")
            _collect(child, parts)
