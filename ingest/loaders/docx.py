"""DOCX (Word 2007+) → Markdown-like text, through python-docx.

Body paragraphs and tables are read in document order (python-docx's
``iter_inner_content``). Like the HTML loader, Word headings (``Heading N`` /
``Title`` styles, or an outline level set on the paragraph) become ``#`` lines
so the parsers treat them exactly like Markdown headings; every other paragraph
is one line, an empty paragraph a blank line, and a table a block of rows with
cells joined by `` | ``. The core properties' title, when set, is the title hint.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from civicrag.ingest.documents import IngestError
from civicrag.ingest.loaders.common import Extracted, LineBuffer, LoadLimits, PartBudget, collapse_spaces

# "Heading 1" … "Heading 9" (English style ids survive localisation: a Korean Word still says Heading1).
_HEADING_STYLE = re.compile(r"^(?:heading|제목)\s*(\d)$", re.IGNORECASE)
_DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
# OLE compound files start with this: an encrypted (password-protected) DOCX is one, and so is a .doc.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def extract_docx(data: bytes, sidecar: dict[str, Any], limits: LoadLimits) -> Extracted:
    """Every zip member is held to ``limits.max_part_bytes`` by its declared size before python-docx opens
    the package: python-docx reads members through ``zipfile``, which never returns more bytes than the
    size a member declares (more fails its CRC), so the declared sizes bound what is unpacked."""
    if data.startswith(_OLE_MAGIC):
        # Word saves a password-protected .docx as an OLE container holding the encrypted package.
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data:
            raise IngestError("encrypted DOCX (password protected)")
        raise IngestError("corrupt DOCX: an OLE file (a Word 97-2003 .doc renamed?), not a DOCX package")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            has_types = "[Content_Types].xml" in archive.namelist()
            budget = PartBudget(limits, "DOCX")
            for info in archive.infolist():
                budget.take(info.filename, info.file_size)
    except zipfile.BadZipFile:
        raise IngestError("corrupt DOCX: not a zip archive") from None
    if not has_types:
        raise IngestError("corrupt DOCX: not an Office document package (no [Content_Types].xml)")
    # Imported here: python-docx pulls in lxml machinery that the other formats never need.
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except PackageNotFoundError:
        raise IngestError("corrupt DOCX: no Word document part in the package") from None
    except KeyError as exc:  # a part the relationships name is not in the zip
        raise IngestError(f"corrupt DOCX: missing part ({collapse_spaces(str(exc)).strip(chr(34))[:100]})") from None
    except ValueError as exc:
        # python-docx says "file '…' is not a Word file, content type is '…'" for xlsx/pptx packages.
        reason = collapse_spaces(str(exc))
        if "content type" in reason:
            raise IngestError("corrupt DOCX: the package is not a Word document (xlsx or pptx?)") from None
        raise IngestError(f"corrupt DOCX: {reason[:120]}") from None
    except Exception as exc:  # lxml syntax errors, zlib errors, BadZipFile from damaged members
        raise IngestError(f"corrupt DOCX: {collapse_spaces(str(exc))[:120] or type(exc).__name__}") from None

    writer = _Writer()
    try:
        writer.container(document)
    except RecursionError:  # tables nested thousands deep: generated junk
        raise IngestError("DOCX tables nested too deeply to read") from None
    text = writer.text()
    if not text.strip():
        raise IngestError("no text in DOCX document")
    title = None
    try:
        title = collapse_spaces(document.core_properties.title or "") or None
    except Exception:  # a broken docProps/core.xml is not worth refusing the text for
        title = None
    if title is None:
        title = writer.first_heading
    return Extracted(text=text + "\n", format="docx", meta=sidecar, title_hint=title)


class _Writer(LineBuffer):
    def __init__(self) -> None:
        super().__init__()
        self.first_heading: str | None = None

    def container(self, parent: Any) -> None:
        from docx.table import Table

        for item in parent.iter_inner_content():
            if isinstance(item, Table):
                self.table(item)
            else:
                self.paragraph(item)

    def paragraph(self, paragraph: Any) -> None:
        text = paragraph.text.replace("\r", "")
        level = _heading_level(paragraph)
        if level and text.strip():
            heading = collapse_spaces(text)
            if self.first_heading is None:
                self.first_heading = heading
            # Headings are blocks of their own, as in Markdown.
            self.blank()
            self.lines.append(f"{'#' * level} {heading}")
            self.blank()
        elif text.strip():
            self.lines.extend(line.rstrip() for line in text.split("\n"))
        else:
            self.lines.append("")

    def table(self, table: Any) -> None:
        rows: list[str] = []
        for row in table.rows:
            cells: list[str] = []
            previous = None
            for cell in row.cells:
                # python-docx repeats a horizontally merged cell once per grid column it spans.
                if previous is not None and cell._tc is previous:
                    continue
                previous = cell._tc
                inner = _Writer()
                inner.container(cell)
                cells.append(self.cell_text(inner))
            if any(cells):
                rows.append(" | ".join(cells).rstrip())
        self.add_table(rows)


def _heading_level(paragraph: Any) -> int:
    """1–6 for a heading paragraph (Markdown has six levels; deeper ones share the last), else 0."""
    try:
        style = paragraph.style
    except Exception:  # a style id the styles part does not define
        style = None
    names = [getattr(style, "name", "") or "", getattr(style, "style_id", "") or ""]
    for name in names:
        if name.lower() == "title":
            return 1
        match = _HEADING_STYLE.match(name.strip())
        if match and int(match.group(1)) > 0:
            return min(int(match.group(1)), 6)
    # An outline level set directly on the paragraph (w:outlineLvl 0 = level 1; 9 = body text).
    ppr = paragraph._p.pPr
    if ppr is not None:
        for el in ppr.iterchildren():
            if el.tag.endswith("}outlineLvl"):
                value = el.get(el.tag.rsplit("}", 1)[0] + "}val")
                if value is not None and value.isdigit() and int(value) < 9:
                    return min(int(value) + 1, 6)
    return 0
