"""HWPX (Hancom's zip + XML format, KS X 6101 "OWPML") → Markdown-like text.

A package is a zip: ``Contents/content.hpf`` lists the section parts in reading
order (its ``<opf:spine>``), and each ``Contents/sectionN.xml`` holds
paragraphs (``hp:p``) made of runs (``hp:run``) of text (``hp:t``), tables
(``hp:tbl`` → ``hp:tr`` → ``hp:tc`` → ``hp:subList`` → ``hp:p``) and other
controls. The text comes out the way the parsers read PDF text and Markdown:

* one line per paragraph, an empty paragraph (how HWP authors space blocks)
  becomes a blank line; a line break inside a paragraph stays a line break;
* a table becomes a block of rows, cells joined by `` | ``, set off by blank lines;
* text boxes and footnotes are kept (after the paragraph that anchors them);
  running headers/footers and hidden comments are not content and are dropped;
* a blank line separates sections.

Only the standard library's zip reader and lxml (already a dependency) are
used: the format is plain XML, and reading it ourselves keeps every failure a
one-line ``IngestError``.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from typing import Any

from civicrag.ingest.documents import IngestError
from civicrag.ingest.loaders.common import Extracted, LineBuffer, LoadLimits, PartBudget, collapse_spaces
from lxml import etree

_HP = "http://www.hancom.co.kr/hwpml/2011/paragraph"
_HP10 = "http://www.hancom.co.kr/hwpml/2016/paragraph"  # a few 2016 additions use this namespace
_OPF = "http://www.idpf.org/2007/opf/"
_MIMETYPE = "application/hwp+zip"
_CONTENT_HPF = "Contents/content.hpf"
_SECTION_NAME = re.compile(r"^Contents/section(\d+)\.xml$", re.IGNORECASE)

# Controls whose text is not part of the running text: page headers/footers repeat on every page,
# hidden comments are notes to the author, field/bookmark markers carry no text.
_SKIP = frozenset({"header", "footer", "hiddenComment", "secPr", "colPr", "pageNum", "pageHiding", "linesegarray"})
_MAX_TITLE_CHARS = 100
# lxml refuses network access and entity expansion with these options (untrusted files).
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)


def extract_hwpx(data: bytes, sidecar: dict[str, Any], limits: LoadLimits) -> Extracted:
    """Every part is unpacked within ``limits.max_part_bytes`` and the text read so far is held to
    ``limits.max_chars`` after each section, so a small package that unpacks to gigabytes is refused early."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise IngestError("corrupt HWPX: not a zip archive") from None
    budget = PartBudget(limits, "HWPX")
    with archive:
        names = set(archive.namelist())
        if "mimetype" in names:
            mimetype = _read(archive, "mimetype", budget).decode("ascii", "replace").strip()
            if mimetype != _MIMETYPE:
                raise IngestError(f"corrupt HWPX: mimetype is '{mimetype[:60]}', not {_MIMETYPE}")
        if "META-INF/manifest.xml" in names and _is_encrypted(_read(archive, "META-INF/manifest.xml", budget)):
            raise IngestError("encrypted HWPX (password protected)")
        # The declared sizes refuse a bomb before any section is unpacked or parsed.
        for info in archive.infolist():
            if _SECTION_NAME.match(info.filename) or info.filename == _CONTENT_HPF:
                budget.check_declared(info.filename, info.file_size)
        hpf = _read(archive, _CONTENT_HPF, budget) if _CONTENT_HPF in names else None
        sections = _section_parts(hpf, names)
        if not sections:
            raise IngestError("corrupt HWPX: no Contents/section*.xml part")
        title = _package_title(hpf)
        blocks: list[str] = []
        n_chars = 0
        for part in sections:
            root = _parse_xml(_read(archive, part, budget), part)
            writer = _Writer()
            writer.paragraphs(root)
            del root
            section = writer.text()
            if section:
                blocks.append(section)
                n_chars += len(section) + 2
                limits.check_chars(n_chars, partial=True)
    text = "\n\n".join(blocks)
    if not text.strip():
        raise IngestError("no text in HWPX document")
    return Extracted(text=text + "\n", format="hwpx", meta=sidecar, title_hint=title or first_line_title(text))


def first_line_title(text: str) -> str | None:
    """The first non-empty line when it is short enough to be a title.

    Hancom documents rarely fill in a title property, but a 조례 or a notice
    starts with its name on the first line, as the Markdown twin's ``#`` heading does.
    """
    for line in text.split("\n"):
        line = collapse_spaces(line)
        if line:
            return line if len(line) <= _MAX_TITLE_CHARS and " | " not in line else None
    return None


def _read(archive: zipfile.ZipFile, name: str, budget: PartBudget) -> bytes:
    try:
        return budget.read_zip_member(archive, archive.getinfo(name))
    except IngestError:
        raise
    except RuntimeError as exc:  # zipfile raises RuntimeError for encrypted members
        if "encrypted" in str(exc).lower():
            raise IngestError("encrypted HWPX (password protected)") from None
        raise IngestError(f"corrupt HWPX: cannot read {name}: {collapse_spaces(str(exc))[:100]}") from None
    except Exception as exc:  # BadZipFile, KeyError, zlib.error, EOFError …: a damaged archive member
        raise IngestError(f"corrupt HWPX: cannot read {name}: {collapse_spaces(str(exc))[:100]}") from None


def _parse_xml(data: bytes, part: str) -> Any:
    try:
        return etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise IngestError(f"corrupt HWPX: {part} is not well-formed XML ({collapse_spaces(str(exc))[:100]})") from None


def _is_encrypted(manifest: bytes) -> bool:
    # ODF-style manifests describe encrypted parts with <encryption-data>; Hancom writes the same.
    return b"encryption-data" in manifest


def _section_parts(hpf: bytes | None, names: set[str]) -> list[str]:
    """Section part names in reading order: the content.hpf spine, else section0, section1 …"""
    numbered = sorted((int(m.group(1)), name) for name in names if (m := _SECTION_NAME.match(name)))
    fallback = [name for _n, name in numbered]
    if hpf is None:
        return fallback
    try:
        root = etree.fromstring(hpf, parser=_PARSER)
    except etree.XMLSyntaxError:
        return fallback  # the manifest is a convenience; the sections themselves are what matters
    hrefs = {item.get("id"): _part_name(item.get("href", "")) for item in root.iter(f"{{{_OPF}}}item")}
    ordered = [hrefs.get(ref.get("idref")) for ref in root.iter(f"{{{_OPF}}}itemref")]
    spine = [name for name in ordered if name and _SECTION_NAME.match(name) and name in names]
    # Sections the spine forgot are still text of the document: keep them, after the listed ones.
    return spine + [name for name in fallback if name not in spine] if spine else fallback


def _part_name(href: str) -> str:
    """Zip member name of a manifest href: Hancom writes them from the package root
    ("Contents/section0.xml"); an href relative to content.hpf's folder is accepted too."""
    return href if href.startswith("Contents/") else posixpath.normpath(posixpath.join("Contents", href))


def _package_title(hpf: bytes | None) -> str | None:
    if hpf is None:
        return None
    try:
        root = etree.fromstring(hpf, parser=_PARSER)
    except etree.XMLSyntaxError:
        return None
    for title in root.iter(f"{{{_OPF}}}title"):
        text = collapse_spaces(title.text or "")
        if text:
            return text
    return None


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


class _Writer(LineBuffer):
    """Collects the lines of one section or table cell."""

    def paragraphs(self, container: Any) -> None:
        """Every ``hp:p`` directly under ``container`` (a section or a subList), in order."""
        for child in container:
            if _local(child.tag) == "p":
                self.paragraph(child)

    def paragraph(self, p: Any) -> None:
        parts: list[str] = []
        after: list[Any] = []  # tables and boxes anchored in this paragraph, written after its text
        for run in p:
            if _local(run.tag) != "run":
                continue
            for node in run:
                name = _local(node.tag)
                if name == "t":
                    parts.append(_t_text(node))
                elif name in _SKIP:
                    continue
                else:
                    after.append(node)
        line = "".join(parts).replace("\r", "")
        # Trailing spaces are layout; leading ones can be indentation that the parsers ignore anyway.
        if line.strip():
            self.lines.extend(seg.rstrip() for seg in line.split("\n"))
        else:
            self.lines.append("")
        for node in after:
            self.control(node)

    def control(self, node: Any) -> None:
        name = _local(node.tag)
        if name in _SKIP:
            return
        if name == "tbl":
            self.table(node)
            return
        # Text boxes (drawText), footnotes/endnotes, captions …: any subList with paragraphs.
        sublists = [el for el in node.iter() if _local(el.tag) == "subList" and _owner_kept(el, node)]
        outermost = [s for s in sublists if not any(o is not s and _is_ancestor(o, s) for o in sublists)]
        for sub in outermost:
            inner = _Writer()
            inner.paragraphs(sub)
            text = inner.text()
            if text:
                self.blank()
                self.lines.extend(text.split("\n"))
                self.blank()

    def table(self, tbl: Any) -> None:
        rows: list[str] = []
        for tr in tbl:
            if _local(tr.tag) != "tr":
                continue
            cells: list[str] = []
            for tc in tr:
                if _local(tc.tag) != "tc":
                    continue
                inner = _Writer()
                for sub in tc:
                    if _local(sub.tag) == "subList":
                        inner.paragraphs(sub)
                cells.append(self.cell_text(inner))
            if any(cells):
                rows.append(" | ".join(cells).rstrip())
        self.add_table(rows)


def _owner_kept(sub: Any, top: Any) -> bool:
    """False when the subList sits inside a header, footer or hidden comment below ``top``."""
    el = sub.getparent()
    while el is not None and el is not top:
        if _local(el.tag) in _SKIP:
            return False
        el = el.getparent()
    return True


def _is_ancestor(a: Any, b: Any) -> bool:
    el = b.getparent()
    while el is not None:
        if el is a:
            return True
        el = el.getparent()
    return False


def _t_text(t: Any) -> str:
    """Text of an ``hp:t``: its own text plus the tails of inline marks (tab, line break …)."""
    out = [t.text or ""]
    for child in t:
        name = _local(child.tag)
        if name == "tab":
            out.append("\t")
        elif name == "lineBreak":
            out.append("\n")
        elif name in ("nbSpace", "fwSpace"):
            out.append(" ")
        elif name == "hyphen":
            out.append("-")
        out.append(child.tail or "")
    return "".join(out)
