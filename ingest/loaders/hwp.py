"""HWP 5.x (Hancom's binary compound-file format) → Markdown-like text, via olefile.

Read from the published specification (한글 문서 파일 형식 5.0, Hancom, revision 1.3):

* the file is an OLE2 compound file; ``FileHeader`` holds the signature, the
  version and flags (bit 0 compressed, bit 1 password, bit 2 distribution
  document, bit 4 DRM);
* the body is ``BodyText/Section0``, ``Section1`` …, each a sequence of records
  (raw-deflate compressed when the flag says so). A record header is one
  little-endian DWORD: tag id (10 bits), level (10 bits), size (12 bits, 0xFFF
  meaning the size follows as a DWORD);
* ``HWPTAG_PARA_HEADER`` starts a paragraph, ``HWPTAG_PARA_TEXT`` holds its
  UTF-16LE text, in which code points below 32 are controls: some one unit long
  (line break, paragraph end), the others eight units long (tab, and the
  anchors of tables, text boxes, footnotes … whose content follows as
  ``HWPTAG_CTRL_HEADER`` records one level deeper);
* a table is a ``CTRL_HEADER`` with id ``tbl `` followed by ``HWPTAG_TABLE``
  and, per cell, a ``HWPTAG_LIST_HEADER`` (row/column address) and the cell's
  paragraphs.

The output follows the HWPX loader: a line per paragraph, blank lines for empty
paragraphs, tables as `` | `` rows set off by blank lines, headers/footers and
hidden comments dropped. HWP 3.x (a different, pre-1997 format), password
protected and distribution (배포용) documents are reported, not guessed at.

pyhwp reads this format too, but it is AGPL; olefile (BSD) plus this reader
keeps the dependency permissive.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from civicrag.ingest.documents import IngestError
from civicrag.ingest.loaders.common import Extracted, LineBuffer, LoadLimits, PartBudget, collapse_spaces
from civicrag.ingest.loaders.hwpx import extract_hwpx, first_line_title

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SIGNATURE = b"HWP Document File"
_HWP3_SIGNATURE = b"HWP Document File V"  # "HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05"

_FLAG_COMPRESSED = 1 << 0
_FLAG_PASSWORD = 1 << 1
_FLAG_DISTRIBUTION = 1 << 2
_FLAG_DRM = 1 << 4

_HWPTAG_BEGIN = 0x10
_TAG_PARA_HEADER = _HWPTAG_BEGIN + 50
_TAG_PARA_TEXT = _HWPTAG_BEGIN + 51
_TAG_CTRL_HEADER = _HWPTAG_BEGIN + 55
_TAG_LIST_HEADER = _HWPTAG_BEGIN + 56

# Control characters of PARA_TEXT (spec table 6): these take one UTF-16 unit, all others take eight.
_CHAR_CONTROLS = frozenset({0, 10, 13, 24, 25, 26, 27, 28, 29, 30, 31})
# Controls whose paragraphs are not running text: page header/footer, hidden comment, 덧말 is kept.
_SKIP_CONTROLS = frozenset({"head", "foot", "tcmt"})
_MAX_DEPTH = 64  # nested tables/boxes deeper than this are junk, not a regulation


@dataclass
class _Record:
    tag: int
    level: int
    data: bytes
    children: list[_Record] = field(default_factory=list)


def extract_hwp(data: bytes, sidecar: dict[str, Any], limits: LoadLimits) -> Extracted:
    """Each BodyText stream is inflated within ``limits.max_part_bytes`` (a deflate bomb is cut off there,
    not unpacked), and the text read so far is held to ``limits.max_chars`` after each section."""
    if data.startswith(_HWP3_SIGNATURE):
        raise IngestError("HWP 3.0 or older: not supported (save it as HWP 5 or HWPX in Hancom Office)")
    if data.startswith(b"PK\x03\x04"):
        # HWPX packages are sometimes given the .hwp name; the content decides.
        extracted = extract_hwpx(data, sidecar, limits)
        extracted.extra["container"] = "hwpx"
        return extracted
    if not data.startswith(_OLE_MAGIC):
        raise IngestError("corrupt HWP: not an HWP 5 compound file")
    import olefile  # imported here: only HWP files need it

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises OSError and friends for damaged containers
        raise IngestError(f"corrupt HWP: {collapse_spaces(str(exc))[:100] or type(exc).__name__}") from None
    with ole:
        header = _stream(ole, "FileHeader")
        if header is None:
            raise IngestError("corrupt HWP: no FileHeader stream (not an HWP file?)")
        if not header.startswith(_SIGNATURE) or len(header) < 40:
            raise IngestError("corrupt HWP: bad FileHeader signature")
        version = _version(header[32:36])
        flags = struct.unpack_from("<I", header, 36)[0]
        if version[0] < 5:
            raise IngestError("HWP 3.0 or older: not supported (save it as HWP 5 or HWPX in Hancom Office)")
        if flags & _FLAG_PASSWORD:
            raise IngestError("encrypted HWP (password protected)")
        if flags & _FLAG_DRM:
            raise IngestError("encrypted HWP (DRM protected)")
        if flags & _FLAG_DISTRIBUTION:
            raise IngestError("HWP distribution document (배포용 문서, encrypted): not supported")
        names = _section_names(ole)
        if not names:
            raise IngestError("corrupt HWP: no BodyText/Section stream")
        compressed = bool(flags & _FLAG_COMPRESSED)
        budget = PartBudget(limits, "HWP")
        sections: list[str] = []
        n_chars = 0
        for name in names:
            raw = _stream(ole, name) or b""
            if compressed:
                body = _inflate(raw, name, budget)
            else:
                budget.take(name, len(raw))  # stored as is, inside the (size-capped) file
                body = raw
            del raw
            records = _tree(_records(body, name))
            writer = _Writer()
            try:
                writer.paragraphs(records, 0)
            except RecursionError:
                raise IngestError("corrupt HWP: controls nested too deeply") from None
            text = writer.text()
            if text:
                sections.append(text)
                n_chars += len(text) + 2
                limits.check_chars(n_chars, partial=True)
        title = _summary_title(ole)
    text = "\n\n".join(sections)
    if not text.strip():
        raise IngestError("no text in HWP document")
    extra = {"hwp_version": ".".join(str(v) for v in version)}
    title = title or first_line_title(text)
    return Extracted(text=text + "\n", format="hwp", meta=sidecar, title_hint=title, extra=extra)


def _version(raw: bytes) -> tuple[int, int, int, int]:
    # DWORD 0xMMnnPPrr: major, minor, build, revision, most significant byte first.
    mm, nn, pp, rr = raw[3], raw[2], raw[1], raw[0]
    return mm, nn, pp, rr


def _stream(ole: Any, name: str) -> bytes | None:
    try:
        if not ole.exists(name):
            return None
        return bytes(ole.openstream(name).read())
    except Exception as exc:  # a damaged FAT chain shows up only when a stream is read
        raise IngestError(f"corrupt HWP: cannot read stream {name}: {collapse_spaces(str(exc))[:80]}") from None


def _section_names(ole: Any) -> list[str]:
    numbered: list[tuple[int, str]] = []
    for entry in ole.listdir(streams=True, storages=False):
        if len(entry) == 2 and entry[0] == "BodyText" and entry[1].startswith("Section"):
            suffix = entry[1][len("Section") :]
            if suffix.isdigit():
                numbered.append((int(suffix), "/".join(entry)))
    return [name for _n, name in sorted(numbered)]


def _inflate(raw: bytes, name: str, budget: PartBudget) -> bytes:
    """Raw deflate (no zlib header, spec 3.2), refused once it passes the part cap."""
    try:
        return budget.inflate_raw(raw, name)
    except zlib.error as exc:
        raise IngestError(f"corrupt HWP: {name} does not inflate ({exc})") from None


def _records(body: bytes, name: str) -> list[_Record]:
    records: list[_Record] = []
    pos, end = 0, len(body)
    while pos < end:
        if pos + 4 > end:
            raise IngestError(f"corrupt HWP: truncated record header in {name}")
        (header,) = struct.unpack_from("<I", body, pos)
        pos += 4
        tag, level, size = header & 0x3FF, (header >> 10) & 0x3FF, header >> 20
        if size == 0xFFF:
            if pos + 4 > end:
                raise IngestError(f"corrupt HWP: truncated record header in {name}")
            (size,) = struct.unpack_from("<I", body, pos)
            pos += 4
        if pos + size > end:
            raise IngestError(f"corrupt HWP: record runs past the end of {name}")
        records.append(_Record(tag, level, body[pos : pos + size]))
        pos += size
    return records


def _tree(records: list[_Record]) -> list[_Record]:
    """Nest records by level: each record's children are the following records one level deeper."""
    roots: list[_Record] = []
    stack: list[_Record] = []
    for record in records:
        while stack and stack[-1].level >= record.level:
            stack.pop()
        (stack[-1].children if stack else roots).append(record)
        stack.append(record)
    return roots


def _para_text(data: bytes) -> str:
    """PARA_TEXT → text: line breaks kept, tabs as tabs, every other control dropped."""
    units = struct.unpack(f"<{len(data) // 2}H", data[: len(data) // 2 * 2])
    out: list[str] = []
    i, n = 0, len(units)
    while i < n:
        code = units[i]
        if code >= 32:
            out.append(chr(code))
            i += 1
            continue
        if code in _CHAR_CONTROLS:
            if code == 10:
                out.append("\n")
            elif code in (30, 31):  # bound space, fixed-width space
                out.append(" ")
            elif code == 24:
                out.append("-")
            i += 1
            continue
        if code == 9:
            out.append("\t")
        i += 8  # inline/extended control: the code, 12 bytes of parameters, the code again
    # Surrogate pairs were appended as two halves; joining them back gives the real character.
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _ctrl_id(data: bytes) -> str:
    # The id is a DWORD whose bytes read backwards as ASCII: b" lbt" → "tbl ".
    return data[:4][::-1].decode("latin-1") if len(data) >= 4 else ""


class _Writer(LineBuffer):
    def paragraphs(self, records: list[_Record], depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise RecursionError
        for record in records:
            if record.tag == _TAG_PARA_HEADER:
                self.paragraph(record, depth)

    def paragraph(self, para: _Record, depth: int) -> None:
        text = "".join(_para_text(c.data) for c in para.children if c.tag == _TAG_PARA_TEXT)
        text = text.replace("\r", "")
        if text.strip():
            self.lines.extend(line.rstrip() for line in text.split("\n"))
        else:
            self.lines.append("")
        for child in para.children:
            if child.tag == _TAG_CTRL_HEADER:
                self.control(child, depth)

    def control(self, ctrl: _Record, depth: int) -> None:
        cid = _ctrl_id(ctrl.data)
        if cid in _SKIP_CONTROLS:
            return
        if cid == "tbl ":
            self.table(ctrl, depth)
            return
        # Text boxes (gso), footnotes (fn/en) …: whatever paragraphs the control holds.
        inner = _Writer()
        inner._collect(ctrl.children, depth + 1)
        text = inner.text()
        if text:
            self.blank()
            self.lines.extend(text.split("\n"))
            self.blank()

    def _collect(self, records: list[_Record], depth: int) -> None:
        """Paragraphs anywhere below a control (drawing objects nest them under shape records)."""
        if depth > _MAX_DEPTH:
            raise RecursionError
        for record in records:
            if record.tag == _TAG_PARA_HEADER:
                self.paragraph(record, depth)
            elif record.tag == _TAG_CTRL_HEADER:
                self.control(record, depth)
            else:
                self._collect(record.children, depth + 1)

    def table(self, ctrl: _Record, depth: int) -> None:
        # Cells are LIST_HEADER records; each cell's paragraphs follow it at the same level
        # (the spec nests them by order, not by level), up to the next LIST_HEADER.
        cells: list[tuple[int, int, list[_Record]]] = []
        for record in ctrl.children:
            if record.tag == _TAG_LIST_HEADER:
                col, row = _cell_address(record.data)
                cells.append((row, col, []))
            elif record.tag == _TAG_PARA_HEADER and cells:
                cells[-1][2].append(record)
        rows: dict[int, list[tuple[int, str]]] = {}
        for row, col, paras in cells:
            inner = _Writer()
            inner.paragraphs(paras, depth + 1)
            rows.setdefault(row, []).append((col, self.cell_text(inner)))
        lines = []
        for row in sorted(rows):
            texts = [t for _c, t in sorted(rows[row])]
            if any(texts):
                lines.append(" | ".join(texts).rstrip())
        self.add_table(lines)


def _cell_address(data: bytes) -> tuple[int, int]:
    """(column, row) of a table cell's LIST_HEADER: after the paragraph count and list flags (8 bytes)."""
    if len(data) >= 12:
        col, row = struct.unpack_from("<HH", data, 8)
        return col, row
    return 0, 0


def _summary_title(ole: Any) -> str | None:
    """Title from the ``\\x05HwpSummaryInformation`` property set (PIDSI_TITLE), when set."""
    try:
        if not ole.exists("\x05HwpSummaryInformation"):
            return None
        props = ole.getproperties("\x05HwpSummaryInformation", convert_time=False)
    except Exception:  # the summary is optional metadata; a damaged one is ignored
        return None
    title = props.get(2)  # PIDSI_TITLE
    if isinstance(title, bytes):
        title = title.decode("utf-16-le", "replace")
    if isinstance(title, str):
        # olefile reads Hancom's VT_LPWSTR values past their end (into the next properties):
        # the real value stops at the first NUL.
        return collapse_spaces(title.split("\x00", 1)[0]) or None
    return None
