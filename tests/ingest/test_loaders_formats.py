"""HWPX, HWP 5, DOCX and scanned-PDF (OCR) loaders.

Test files are generated here: DOCX with python-docx, HWPX with python-hwpx
(an independent writer) or hand-written OWPML, HWP 5 with a small compound-file
writer below that follows the published format, and scanned PDFs as Pillow
images. Three real Hancom-written files live in ``tests/fixtures/formats``
(see its README). OCR tests need the ``tesseract`` binary and are skipped
without it (CI installs it through scripts/system-deps.sh).
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import pytest
from civicrag.ingest.chunking import chunk_document
from civicrag.ingest.documents import Document, IngestError, Provision
from civicrag.ingest.loaders import SUPPORTED_SUFFIXES, LoadLimits, OcrOptions, load_file
from civicrag.ingest.loaders.pdf import SCANNED_MESSAGE
from civicrag.ingest.parsing import parse_document

LIMITS = LoadLimits(max_file_bytes=10 * 1024 * 1024, max_pdf_pages=50)
FORMATS = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
TESSERACT = shutil.which("tesseract")
needs_tesseract = pytest.mark.skipif(
    TESSERACT is None, reason="tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng)"
)

# 제주특별자치도 간병비 지원에 관한 조례 (자치법규ID 2245094, 시행 2024-07-15), the legalize-kr
# Markdown as published (law.go.kr text; outside copyright, Korean Copyright Act Art. 7), line-end spaces trimmed.
# 항 ①, 호 1., 목 가. and a 부칙: every unit the Korean parser knows.
ORDINANCE_MD = """
# 제주특별자치도 간병비 지원에 관한 조례

##### 제1조 (목적)

이 조례는 간병비 지원에 필요한 사항을 규정함으로써 간병으로 인한 경제적 부담 경감 및 복지증진에 이바지함을 목적으로 한다.

##### 제2조 (정의)

이 조례에서 사용하는 용어의 뜻은 다음과 같다.
  1. “간병인”이란 「의료법」 제3조제2항제3호라목에 따른 요양병원에 입원한 자를 돌보기 위해 간병 노무를 제공하는 「민법」 제777조에 따른 친족 이외의 사람을 말한다. 다만, 「의료법」 제4조의2제1항에 따른 간병지원인력은 제외한다.
2. “간병비”란 제1호의 간병인들에게 지급되는 수당을 말한다.
3. “저소득계층”이란 다음 각 목의 어느 하나에 해당하는 사람을 말한다.
가. 「국민기초생활 보장법」에 따른 생계ㆍ의료ㆍ주거ㆍ교육 급여 수급자
나. 「국민기초생활 보장법」에 따른 차상위계층
다. 「의료급여법」에 따른 의료급여 수급자
라. 「한부모가족지원법」 제5조 및 제5조의2에 따른 지원대상자

##### 제3조 (기본계획의 수립ㆍ시행)

① 제주특별자치도지사(이하 “도지사”라 한다)는 효율적인 간병비 지원을 위하여 간병비 지원 기본계획을 수립할 수 있다.
② 제1항에 따른 기본계획에는 다음 각 호의 사항이 포함되어야 한다.
1. 재원조달에 관한 사항
2. 지급대상 및 지급금액에 관한 사항
3. 홍보와 교육에 관한 사항
4. 그 밖에 간병비 지원에 필요한 사항

##### 제4조 (지원 대상)

① 이 조례에 따른 지원 대상은 제2조제3호에 따른 저소득계층으로 다른 법령 또는 조례를 통해 간병비 지원을 받지 못하는 사람으로 한정한다.
② 제1항에서 정한 사항 외에 지원 대상 선정에 필요한 세부적인 사항은 도지사가 별도로 정한다.

##### 제5조 (재정지원)

도지사는 이 조례에 따라 간병비 지원을 예산의 범위에서 지원할 수 있다.

##### 제6조 (환수조치)

도지사는 다음 각 호의 어느 하나에 해당하는 경우에는 지원금의 전부 또는 일부를 환수하여야 한다.
  1. 지원 대상자가 아닌 사람이 지원을 받은 경우
2. 거짓 또는 부정한 방법으로 지원 받은 사실을 확인한 경우

##### 제7조 (관계 기관 등의 협조)

① 도지사는 사업 수행을 위해 필요한 경우 관계 기관 등에 자료 제출 및 의견 제시 등 협조를 요청할 수 있다.
② 제1항에 따른 요청을 받은 관계 기관 등은 특별한 사유가 없으면 이에 따라야 한다.

##### 제8조 (사업의 위탁)

도지사는 사업의 효율적인 운영을 위하여 필요한 경우에는 관련 사업에 전문성이 있는 제주특별자치도 내 비영리 법인 또는 단체 등에 위탁할 수 있다.

## 부칙

부칙  이 조례는 공포한 날부터 시행한다.
"""  # noqa: E501 (the law's sentences are one line each, as published)
FRONT_MATTER = (
    "---\n자치법규ID: '2245094'\n자치법규명: '제주특별자치도 간병비 지원에 관한 조례'\n시행일자: '2024-07-15'\n---\n"
)
SIDECAR = "자치법규ID: '2245094'\n시행일자: '2024-07-15'\n"
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def load_error(path: Path, ocr: OcrOptions | None = None) -> str:
    with pytest.raises(IngestError) as info:
        load_file(path, path.parent, LIMITS, ocr=ocr)
    message = str(info.value)
    assert "\n" not in message and str(path) not in message
    return message


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- generators ----------------------------------------------------------------------------


def markdown_lines(markdown: str) -> list[tuple[int, str]]:
    """(heading level or 0, text) per Markdown line; blank lines are (0, "")."""
    out = []
    for line in markdown.strip("\n").split("\n"):
        match = _MD_HEADING.match(line)
        out.append((len(match.group(1)), match.group(2)) if match else (0, line))
    return out


def make_docx(lines: Sequence[tuple[int, str]], table: Sequence[Sequence[str]] = (), title: str = "") -> bytes:
    """A Word file as a person types it: Heading N paragraphs, body paragraphs, empty ones for spacing."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for level, text in lines:
        if level:
            document.add_paragraph(text, style=f"Heading {level}")
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_hwpx_with_library(lines: Sequence[tuple[int, str]]) -> bytes:
    """HWPX written by python-hwpx, one paragraph per line as in an HWP-typed 조례 (no Markdown marks)."""
    hwpx = pytest.importorskip("hwpx", reason="python-hwpx (test extra) writes the HWPX twin")
    document = hwpx.HwpxDocument.new()
    for _level, text in lines:
        document.add_paragraph(text, inherit_style=False)
    return bytes(document.to_bytes())


_HP = 'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph" xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section"'


def hwpx_package(sections: Sequence[str], title: str = "", mimetype: str = "application/hwp+zip") -> bytes:
    """A minimal OWPML package around hand-written section bodies (``hp:p`` elements)."""
    items = "".join(
        f'<opf:item id="s{i}" href="Contents/section{i}.xml" media-type="application/xml"/>'
        for i in range(len(sections))
    )
    # The spine lists sections in reverse file order: reading order must follow the spine.
    spine = "".join(f'<opf:itemref idref="s{i}"/>' for i in reversed(range(len(sections))))
    hpf = (
        '<?xml version="1.0" encoding="UTF-8"?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/">'
        f"<opf:metadata><opf:title>{title}</opf:title></opf:metadata>"
        f"<opf:manifest>{items}</opf:manifest><opf:spine>{spine}</opf:spine></opf:package>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        z.writestr("Contents/content.hpf", hpf)
        for i, body in enumerate(sections):
            xml = f'<?xml version="1.0" encoding="UTF-8"?><hs:sec {_HP}>{body}</hs:sec>'
            z.writestr(f"Contents/section{i}.xml", xml)
    return buf.getvalue()


def hp(text: str) -> str:
    return f"<hp:p><hp:run><hp:t>{text}</hp:t></hp:run></hp:p>"


def hp_table(rows: Sequence[Sequence[str]]) -> str:
    trs = "".join(
        "<hp:tr>" + "".join(f"<hp:tc><hp:subList>{hp(cell)}</hp:subList></hp:tc>" for cell in row) + "</hp:tr>"
        for row in rows
    )
    return f"<hp:p><hp:run><hp:t>표 1</hp:t><hp:tbl>{trs}</hp:tbl></hp:run></hp:p>"


# HWP 5 records (spec 4.1): DWORD header = tag | level << 10 | size << 20.
PARA_HEADER, PARA_TEXT, CTRL_HEADER, LIST_HEADER, TABLE = 66, 67, 71, 72, 77


def record(tag: int, level: int, data: bytes) -> bytes:
    if len(data) >= 0xFFF:
        return struct.pack("<II", tag | level << 10 | 0xFFF << 20, len(data)) + data
    return struct.pack("<I", tag | level << 10 | len(data) << 20) + data


def hwp_paragraph(text: str, level: int = 0, controls: bytes = b"", n_controls: int = 0) -> bytes:
    """A paragraph: its text (UTF-16, ending in char 13), one extended-control slot per control."""
    slots = "".join("\x0b" + "\x00" * 6 + "\x0b" for _ in range(n_controls))  # char 11: table/drawing anchor
    units = (slots + text.replace("\n", "\x0a") + "\x0d").encode("utf-16-le")
    return record(PARA_HEADER, level, b"\x00" * 22) + record(PARA_TEXT, level + 1, units) + controls


def hwp_table(rows: Sequence[Sequence[str]], level: int = 1) -> bytes:
    """CTRL_HEADER 'tbl ' + TABLE + per cell a LIST_HEADER (col, row at byte 8) and its paragraph."""
    out = record(CTRL_HEADER, level, b" lbt" + b"\x00" * 40)
    out += record(TABLE, level + 1, struct.pack("<IHH", 0, len(rows), len(rows[0])) + b"\x00" * 20)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            out += record(LIST_HEADER, level + 1, struct.pack("<HHIHHHH", 1, 0, 0, c, r, 1, 1) + b"\x00" * 20)
            out += hwp_paragraph(cell, level + 1)
    return out


def hwp_section(lines: Sequence[str], table: Sequence[Sequence[str]] = ()) -> bytes:
    body = b"".join(hwp_paragraph(line) for line in lines)
    if table:
        body += hwp_paragraph("", 0, hwp_table(table), n_controls=1)
    return body


def make_hwp(
    sections: Sequence[bytes], *, compressed: bool = True, flags: int = 0, version: bytes = b"\x00\x05\x00\x05"
) -> bytes:
    """An HWP 5 compound file: FileHeader + BodyText/SectionN, written as a minimal OLE2 container."""
    header = b"HWP Document File".ljust(32, b"\x00") + version + struct.pack("<I", flags | int(compressed))
    header = header.ljust(256, b"\x00")
    streams = {"FileHeader": header}
    for i, body in enumerate(sections):
        if compressed:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            body = packer.compress(body) + packer.flush()
        else:
            # ole_file pads short streams with zeros; a filler record (tag 0) keeps the records whole.
            body += record(0, 0, bytes(4096))
        streams[f"BodyText/Section{i}"] = body
    return ole_file(streams)


def ole_file(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file (512-byte sectors) holding ``streams`` ("Storage/Name" paths).

    Streams under 4096 bytes belong in the mini stream by the spec; padding them
    to 4096 keeps this writer to regular sectors only (readers ignore the tail:
    HWP's FileHeader is fixed-size and deflate stops at its final block).
    """
    sector = 512
    end, free, fat_sect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    data = {name: blob.ljust(4096, b"\x00") for name, blob in streams.items()}
    storages = sorted({name.split("/")[0] for name in data if "/" in name})
    # Directory: root, then top-level entries (streams and storages), then each storage's streams.
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "children": []}]
    index: dict[str, int] = {}
    for name in [n for n in data if "/" not in n] + storages:
        index[name] = len(entries)
        entries.append({"name": name, "type": 2 if name in data else 1, "children": []})
        entries[0]["children"].append(index[name])
    for name in data:
        if "/" in name:
            parent, leaf = name.split("/", 1)
            index[name] = len(entries)
            entries.append({"name": leaf, "type": 2, "children": []})
            entries[index[parent]]["children"].append(index[name])
    n_dir = (len(entries) * 128 + sector - 1) // sector
    fat: list[int] = [fat_sect]
    fat += [*range(2, 1 + n_dir), end]  # directory chain starts at sector 1
    starts: dict[str, int] = {}
    for name, blob in data.items():
        first = len(fat)
        n = (len(blob) + sector - 1) // sector
        fat += [*range(first + 1, first + n), end]
        starts[name] = first
    assert len(fat) <= 128, "test writer keeps to one FAT sector"
    fat += [free] * (128 - len(fat))

    def entry_bytes(e: dict, name_path: str | None) -> bytes:
        name = e["name"].encode("utf-16-le") + b"\x00\x00"
        kids = e["children"]
        # Siblings as a right-leaning chain hanging off the first child (all black: valid enough).
        child = kids[0] if kids else free
        start = starts.get(name_path, end) if name_path else end
        size = len(data[name_path]) if name_path in data else 0
        return (
            name.ljust(64, b"\x00")
            + struct.pack("<HBB", len(name), e["type"], 1)
            + struct.pack("<III", free, e.get("right", free), child)
            + b"\x00" * 16
            + b"\x00" * 4
            + b"\x00" * 16
            + struct.pack("<IQ", start, size)
        )

    for e in entries:
        for a, b in zip(e["children"], e["children"][1:], strict=False):
            entries[a]["right"] = b
    paths = {i: p for p, i in index.items()}
    directory = b"".join(entry_bytes(e, paths.get(i)) for i, e in enumerate(entries))
    directory = directory.ljust(n_dir * sector, b"\x00")
    head = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", free) * 108
    )
    body = (
        struct.pack("<128I", *fat)
        + directory
        + b"".join(blob.ljust(-(-len(blob) // sector) * sector, b"\x00") for blob in data.values())
    )
    return head + body


def scan_pdf(pages: Sequence[Sequence[str]], font_path: str | None = None, size: int = 44) -> bytes:
    """An image-only PDF: each page a 150-dpi greyscale picture of its lines (what a scanner makes)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size=size)
    images = []
    for lines in pages:
        image = Image.new("L", (1275, 1650), 255)
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(lines):
            draw.text((120, 150 + i * int(size * 1.8)), line, fill=0, font=font)
        images.append(image)
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", resolution=150, save_all=True, append_images=images[1:])
    return buf.getvalue()


# -- comparing with the Markdown twin ------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.replace("#", " ").split())


def provision_keys(provisions: Sequence[Provision]) -> list[tuple[str, str, str, list[str], str]]:
    return [(p.article, p.article_title, p.kind, p.heading_path, _norm(p.text)) for p in provisions]


def chunk_keys(doc: Document) -> list[tuple[object, ...]]:
    chunks = chunk_document(doc, parse_document(doc), lambda t: len(t.split()), 64, "2024-07-15", "0" * 64)
    return [
        (c.metadata["article"], c.metadata["article_title"], c.metadata["paragraph"], _norm(c.text)) for c in chunks
    ]


@pytest.fixture()
def markdown_twin(tmp_path: Path) -> Document:
    path = write(tmp_path, "2245094.md", (FRONT_MATTER + ORDINANCE_MD).encode())
    return load_file(path, tmp_path, LIMITS)


def test_supported_suffixes() -> None:
    assert sorted(SUPPORTED_SUFFIXES) == [".docx", ".htm", ".html", ".hwp", ".hwpx", ".markdown", ".md", ".pdf",
                                          ".txt"]


# -- DOCX ------------------------------------------------------------------------------------


def test_docx_twin_gives_the_same_articles_and_chunks(tmp_path: Path, markdown_twin: Document) -> None:
    path = write(tmp_path, "2245094.docx", make_docx(markdown_lines(ORDINANCE_MD)))
    (tmp_path / "2245094.docx.meta.yaml").write_text(SIDECAR, encoding="utf-8")
    doc = load_file(path, tmp_path, LIMITS)
    assert doc.format == "docx" and doc.language == "ko" and doc.kind == "조례"
    assert doc.doc_id == "2245094" and doc.effective_date == "2024-07-15"
    assert doc.title == "제주특별자치도 간병비 지원에 관한 조례"  # the first heading
    # Word headings come out as the Markdown headings they were made from.
    assert "\n##### 제1조 (목적)\n\n이 조례는 간병비 지원에" in doc.text
    assert provision_keys(parse_document(doc)) == provision_keys(parse_document(markdown_twin))
    assert chunk_keys(doc) == chunk_keys(markdown_twin)


def test_docx_tables_headings_and_order(tmp_path: Path) -> None:
    lines = [(1, "Parking Manual"), (0, "Intro paragraph."), (2, "Fees"), (0, "Line one\nline two")]
    data = make_docx(lines, table=[["Zone", "Fee"], ["A | B", "$2.00"]], title="Staff Parking Manual")
    doc = load_file(write(tmp_path, "m.docx", data), tmp_path, LIMITS)
    assert doc.title == "Staff Parking Manual"  # core properties win over the first heading
    assert doc.text == (
        "# Parking Manual\n\nIntro paragraph.\n\n## Fees\n\nLine one\nline two\n\nZone | Fee\nA / B | $2.00\n"
    )
    assert doc.language == "en" and doc.format == "docx"


def test_docx_merged_cells_are_read_once(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "요금표"
    for c, value in enumerate(["구분", "1시간", "1일"]):
        table.cell(1, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    doc = load_file(write(tmp_path, "t.docx", buf.getvalue()), tmp_path, LIMITS)
    assert doc.text == "요금표\n구분 | 1시간 | 1일\n"


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buf.getvalue()


_XLSX_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.sheet.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: b"not a zip at all", "corrupt DOCX: not a zip archive"),
        (
            lambda: _zip({"hello.txt": "hi"}),
            "corrupt DOCX: not an Office document package (no [Content_Types].xml)",
        ),
        (
            lambda: _zip({"[Content_Types].xml": _XLSX_TYPES, "_rels/.rels": _RELS, "xl/workbook.xml": "<x/>"}),
            "corrupt DOCX: the package is not a Word document (xlsx or pptx?)",
        ),
        (
            lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 100,
            "encrypted DOCX (password protected)",
        ),
        (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, None),
        (lambda: make_docx([(0, ""), (0, "  ")]), "no text in DOCX document"),
    ],
)
def test_broken_docx(tmp_path: Path, make, expected: str | None) -> None:
    message = load_error(write(tmp_path, "bad.docx", make()))
    if expected is None:
        assert message.startswith("corrupt DOCX: an OLE file")
    else:
        assert message == expected


def test_truncated_docx_is_corrupt(tmp_path: Path) -> None:
    data = make_docx(markdown_lines(ORDINANCE_MD))
    assert load_error(write(tmp_path, "cut.docx", data[: len(data) - 300])).startswith("corrupt DOCX: ")


# -- HWPX ------------------------------------------------------------------------------------


def test_hwpx_twin_gives_the_same_articles_and_chunks(tmp_path: Path, markdown_twin: Document) -> None:
    path = write(tmp_path, "2245094.hwpx", make_hwpx_with_library(markdown_lines(ORDINANCE_MD)))
    (tmp_path / "2245094.hwpx.meta.yaml").write_text(SIDECAR, encoding="utf-8")
    doc = load_file(path, tmp_path, LIMITS)
    assert doc.format == "hwpx" and doc.language == "ko" and doc.kind == "조례"
    assert doc.doc_id == "2245094" and doc.title == "제주특별자치도 간병비 지원에 관한 조례"
    # Plain paragraphs, as Hancom users type a 조례: the heading is a line of its own.
    assert "\n제1조 (목적)\n\n이 조례는 간병비 지원에" in doc.text
    assert provision_keys(parse_document(doc)) == provision_keys(parse_document(markdown_twin))
    assert chunk_keys(doc) == chunk_keys(markdown_twin)


def test_hwpx_structure_tables_sections_boxes(tmp_path: Path) -> None:
    first = (
        hp("제1조(목적) 이 규칙은 공원 관리에 관한 사항을 정한다.")
        + "<hp:p><hp:run><hp:t>첫 줄<hp:lineBreak/>둘째 줄<hp:tab/>끝</hp:t></hp:run></hp:p>"
        + "<hp:p><hp:run><hp:t/></hp:run></hp:p><hp:p/>"  # empty paragraphs: one blank line
        + hp_table([["구분", "요금"], ["1시간", "1,000원"]])
        # Page header (repeats on every page) and hidden comment: dropped. Footnote: kept.
        + "<hp:p><hp:run><hp:ctrl><hp:header><hp:subList>"
        + hp("머리말")
        + "</hp:subList></hp:header></hp:ctrl>"
        + "<hp:ctrl><hp:hiddenComment><hp:subList>"
        + hp("메모")
        + "</hp:subList></hp:hiddenComment></hp:ctrl>"
        + "<hp:t>본문</hp:t><hp:ctrl><hp:footNote><hp:subList>"
        + hp("각주 내용")
        + "</hp:subList>"
        + "</hp:footNote></hp:ctrl></hp:run></hp:p>"
    )
    second = hp("제2조(정의) 둘째 구역의 글.")
    data = hwpx_package([second, first], title="가상 공원 규칙")  # the spine reads section1 first
    doc = load_file(write(tmp_path, "r.hwpx", data), tmp_path, LIMITS)
    assert doc.title == "가상 공원 규칙"
    assert doc.text == (
        "제1조(목적) 이 규칙은 공원 관리에 관한 사항을 정한다.\n"
        "첫 줄\n둘째 줄\t끝\n\n"
        "표 1\n\n구분 | 요금\n1시간 | 1,000원\n\n"
        "본문\n\n각주 내용\n\n"
        "제2조(정의) 둘째 구역의 글.\n"
    )
    assert "머리말" not in doc.text and "메모" not in doc.text


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: b"PK\x03\x04 truncated", "corrupt HWPX: not a zip archive"),
        (lambda: b"just text", "corrupt HWPX: not a zip archive"),
        (
            lambda: _zip({"mimetype": "application/hwp+zip", "x.xml": "<a/>"}),
            "corrupt HWPX: no Contents/section*.xml part",
        ),
        (
            lambda: hwpx_package([hp("x")], mimetype="application/epub+zip"),
            "corrupt HWPX: mimetype is 'application/epub+zip', not application/hwp+zip",
        ),
        (
            lambda: _zip(
                {
                    "mimetype": "application/hwp+zip",
                    "META-INF/manifest.xml": "<m><encryption-data/></m>",
                    "Contents/section0.xml": "<x/>",
                }
            ),
            "encrypted HWPX (password protected)",
        ),
        (lambda: hwpx_package(["<hp:p><hp:run><hp:t/></hp:run></hp:p>"]), "no text in HWPX document"),
    ],
)
def test_broken_hwpx(tmp_path: Path, make, expected: str) -> None:
    assert load_error(write(tmp_path, "bad.hwpx", make())) == expected


def test_malformed_hwpx_section(tmp_path: Path) -> None:
    data = _zip({"mimetype": "application/hwp+zip", "Contents/section0.xml": "<hs:sec><hp:p>unclosed"})
    message = load_error(write(tmp_path, "bad.hwpx", data))
    assert message.startswith("corrupt HWPX: Contents/section0.xml is not well-formed XML (")


def test_real_hwpx_written_by_hancom() -> None:
    doc = load_file(FORMATS / "anthem.hwpx", FORMATS, LIMITS)
    assert doc.format == "hwpx" and doc.language == "ko"
    assert doc.title == "동해 물과 백두산이 마르고 닳도록"  # <opf:title>
    assert doc.text.startswith("동해 물과 백두산이 마르고 닳도록\n하느님이 보우하사 우리나라 만세\n\n남산 위의")
    assert "\n\n무궁화 삼천리 화려 강산 대한 사람 대한으로 길이 보전하세\n" in doc.text  # the one-cell table


# -- HWP 5 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("compressed", [True, False])
def test_hwp_twin_gives_the_same_articles(tmp_path: Path, markdown_twin: Document, compressed: bool) -> None:
    lines = [text for _level, text in markdown_lines(ORDINANCE_MD)]
    half = lines.index("부칙")  # the "## 부칙" heading
    # Two sections (the 부칙 in its own, as Hancom users often do): a section break is a blank line.
    data = make_hwp([hwp_section(lines[:half]), hwp_section(lines[half:])], compressed=compressed)
    path = write(tmp_path, "2245094.hwp", data)
    (tmp_path / "2245094.hwp.meta.yaml").write_text(SIDECAR, encoding="utf-8")
    doc = load_file(path, tmp_path, LIMITS)
    assert doc.format == "hwp" and doc.language == "ko" and doc.extra["hwp_version"] == "5.0.5.0"
    assert provision_keys(parse_document(doc)) == provision_keys(parse_document(markdown_twin))


def test_hwp_tables_line_breaks_and_controls(tmp_path: Path) -> None:
    fees = [["구분", "요금"], ["1시간", "500원"]]
    section = hwp_section(["제1조(사용료) 사용료는 다음과 같다.", "첫 줄\n둘째 줄"], table=fees)
    # A page header ('head' control) holds paragraphs that repeat on every page: not running text.
    section += hwp_paragraph("머리말 뒤 본문", 0, record(CTRL_HEADER, 1, b"daeh") + hwp_paragraph("머리말", 2), 1)
    doc = load_file(write(tmp_path, "t.hwp", make_hwp([section])), tmp_path, LIMITS)
    assert doc.text == (
        "제1조(사용료) 사용료는 다음과 같다.\n첫 줄\n둘째 줄\n\n구분 | 요금\n1시간 | 500원\n\n머리말 뒤 본문\n"
    )


def test_real_hwp_written_by_hancom() -> None:
    doc = load_file(FORMATS / "anthem.hwp", FORMATS, LIMITS)
    assert doc.format == "hwp" and doc.language == "ko"
    assert doc.title == "동해 물과 백두산이 마르고 닳도록"  # from HwpSummaryInformation
    hwpx = load_file(FORMATS / "anthem.hwpx", FORMATS, LIMITS)
    assert doc.text == hwpx.text  # the same document saved both ways reads the same


def test_hwpx_named_hwp_is_read_as_hwpx(tmp_path: Path) -> None:
    path = write(tmp_path, "renamed.hwp", (FORMATS / "anthem.hwpx").read_bytes())
    doc = load_file(path, tmp_path, LIMITS)
    assert doc.format == "hwpx" and doc.extra["container"] == "hwpx"


def _patch_flags(data: bytes, flags: int) -> bytes:
    """Set FileHeader's property DWORD in a real file (the stream sits whole in one mini sector run)."""
    at = data.index(b"HWP Document File") + 36
    return data[:at] + struct.pack("<I", flags) + data[at + 4 :]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: (FORMATS / "protected.hwp").read_bytes(), "encrypted HWP (password protected)"),
        (
            lambda: _patch_flags((FORMATS / "anthem.hwp").read_bytes(), 0b101),
            "HWP distribution document (배포용 문서, encrypted): not supported",
        ),
        (lambda: _patch_flags((FORMATS / "anthem.hwp").read_bytes(), 0b10001), "encrypted HWP (DRM protected)"),
        (
            lambda: b"HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05" + b"\x00" * 200,
            "HWP 3.0 or older: not supported (save it as HWP 5 or HWPX in Hancom Office)",
        ),
        (
            lambda: make_hwp([b""], version=b"\x00\x00\x00\x03"),
            "HWP 3.0 or older: not supported (save it as HWP 5 or HWPX in Hancom Office)",
        ),
        (lambda: b"%PDF-1.4 not an hwp", "corrupt HWP: not an HWP 5 compound file"),
        (lambda: ole_file({"WordDocument": b"x"}), "corrupt HWP: no FileHeader stream (not an HWP file?)"),
        (
            lambda: ole_file({"FileHeader": b"HWP Document File".ljust(32, b"\x00") + b"\x00\x00\x00\x05" + bytes(4)}),
            "corrupt HWP: no BodyText/Section stream",
        ),
        (
            lambda: make_hwp([struct.pack("<II", PARA_TEXT | 0xFFF << 20, 10**6) + b"ab"], compressed=False),
            "corrupt HWP: record runs past the end of BodyText/Section0",
        ),
        (lambda: make_hwp([hwp_section(["", " "])]), "no text in HWP document"),
    ],
)
def test_broken_hwp(tmp_path: Path, make, expected: str | None) -> None:
    message = load_error(write(tmp_path, "bad.hwp", make()))
    if expected is None:
        assert message.startswith("corrupt HWP: ")
    else:
        assert message == expected


def test_hwp_bad_deflate_and_truncated_container(tmp_path: Path) -> None:
    data = make_hwp([b"\xff" * 64], compressed=False)
    # The same bytes with the compressed flag set: the section is not a deflate stream.
    assert load_error(write(tmp_path, "z.hwp", _patch_flags(data, 1))).startswith(
        "corrupt HWP: BodyText/Section0 does not inflate ("
    )
    real = (FORMATS / "anthem.hwp").read_bytes()
    assert load_error(write(tmp_path, "cut.hwp", real[:3000])).startswith("corrupt HWP: ")


# -- scanned PDFs (OCR) ----------------------------------------------------------------------

ENGLISH_SCAN = [
    ["ORDINANCE NO. 7", "Section 1. Parks close at dusk.", "Section 2. Dogs must be leashed."],
    ["Section 3. Penalty.", "A violation is punishable by a fine."],
]


def _korean_font() -> str | None:
    for candidate in (
        "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
        "/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    ):
        if Path(candidate).is_file():
            return candidate
    return None


@needs_tesseract
def test_scanned_pdf_is_ocrd_with_page_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "scan.pdf", scan_pdf(ENGLISH_SCAN))
    (tmp_path / "scan.pdf.meta.yaml").write_text("language: en\n", encoding="utf-8")
    doc = load_file(path, tmp_path, LIMITS)
    assert doc.ocr and doc.extra["ocr_pages"] == [1, 2] and doc.extra["ocr_languages"] == "eng"
    assert "Parks close at dusk" in doc.text and "Dogs must be leashed" in doc.text
    assert doc.page_at(doc.text.index("Penalty")) == 2 and doc.page_at(doc.text.index("dusk")) == 1
    # OCR'd documents cite the same way, with the flag that tells staff to check the original.
    chunks = chunk_document(doc, parse_document(doc), lambda t: len(t.split()), 200, "undated", "0" * 64)
    assert chunks and all(c.metadata["ocr"] for c in chunks)
    # Sections 1 and 2 are on the first page, section 3 on the second: one chunk each.
    assert [(c.metadata["page_start"], c.metadata["page_end"]) for c in chunks] == [(1, 1), (1, 1), (2, 2)]


@needs_tesseract
def test_mixed_pdf_keeps_text_pages_and_ocrs_the_scan(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    from tests.ingest.test_loaders import ORDINANCE_PAGES, make_pdf

    writer = PdfWriter()
    for source in (make_pdf(ORDINANCE_PAGES[:1]), scan_pdf(ENGLISH_SCAN[1:]), make_pdf(ORDINANCE_PAGES[1:])):
        for page in PdfReader(io.BytesIO(source)).pages:
            writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    doc = load_file(write(tmp_path, "mixed.pdf", buf.getvalue()), tmp_path, LIMITS)
    assert doc.ocr and doc.extra["ocr_pages"] == [2]
    assert doc.extra["ocr_languages"] == "eng"  # the text pages tell the language
    assert doc.text.startswith("Sec. 1. Purpose.")  # page 1 is its own text layer, untouched
    assert doc.page_at(doc.text.index("punishable by a fine.")) == 2
    assert doc.page_at(doc.text.index("fifty dollars")) == 3


@needs_tesseract
def test_korean_scan(tmp_path: Path) -> None:
    font = _korean_font()
    if font is None:
        pytest.skip("no Korean font to draw the test scan with (fonts-nanum)")
    lines = ["제1조(목적) 이 조례는 공원의", "관리에 필요한 사항을 정한다."]
    doc = load_file(write(tmp_path, "ko.pdf", scan_pdf([lines], font_path=font)), tmp_path, LIMITS)
    assert doc.ocr and doc.language == "ko" and doc.extra["ocr_languages"] == "kor+eng"
    assert "제1조(목적)" in doc.text.replace(" (", "(") and "공원" in doc.text


def test_scan_without_tesseract_or_with_ocr_off_needs_ocr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "scan.pdf", scan_pdf(ENGLISH_SCAN[:1]))
    assert load_error(path, OcrOptions(enabled=False)) == SCANNED_MESSAGE
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on PATH
    assert load_error(path) == SCANNED_MESSAGE


@needs_tesseract
def test_ocr_limits_and_missing_language_data(tmp_path: Path) -> None:
    path = write(tmp_path, "scan.pdf", scan_pdf(ENGLISH_SCAN))
    assert load_error(path, OcrOptions(max_pages=1)) == (
        "2 pages need OCR, over the 1-page OCR limit (setting ocr_max_pages)"
    )
    assert load_error(path, OcrOptions(languages="xxx")) == (
        "no text layer on some pages: needs OCR, but Tesseract lacks language data xxx"
    )


@needs_tesseract
def test_blank_pages_are_not_ocrd(tmp_path: Path) -> None:
    from tests.ingest.test_loaders import make_pdf

    # No image on the page: nothing to read, and no time spent rendering it.
    assert load_error(write(tmp_path, "blank.pdf", make_pdf([[]]))) == SCANNED_MESSAGE
    white = scan_pdf([[]])  # an image, but no ink
    assert load_error(write(tmp_path, "white.pdf", white)) == SCANNED_MESSAGE


@pytest.mark.corpus
@needs_tesseract
def test_corpus_rivergrove_scan_page_is_ocrd(shared_corpus: Path) -> None:
    """One real image-only scan (one page) against its hand transcription (benchmarks/ocr.py does all six)."""
    from collections import Counter

    folder = shared_corpus / "en" / "rivergrove"
    doc = load_file(folder / "pdf" / "1984-Res-No72-Municipal-Services.pdf", folder, LIMITS)
    assert doc.ocr and doc.extra["ocr_pages"] == [1] and doc.language == "en" and doc.kind == "resolution"
    assert doc.extra["ocr_languages"] == "eng"  # the first page read as English: no stray Hangul
    assert not re.search(r"[가-힣ㄱ-ㅎ]", doc.text)
    truth = (folder / "transcripts" / "1984-Res-No72-Municipal-Services.md").read_text(encoding="utf-8")
    truth = re.sub(r"\{\{filled:(.*?)\}\}", r"\1", truth)
    want = Counter(re.findall(r"[a-z0-9]+", re.sub(r"\{\{[^{}]*\}\}|\{[a-z]+\}", " ", truth).lower()))
    have = Counter(re.findall(r"[a-z0-9]+", doc.text.lower()))
    recall = sum(min(n, have[w]) for w, n in want.items()) / sum(want.values())
    assert recall > 0.9, recall  # 0.967 measured: the words of the resolution are there


@pytest.mark.corpus
def test_corpus_korean_ordinances_as_docx_and_hwpx(shared_corpus: Path, tmp_path: Path) -> None:
    """Every Jeju ordinance without raw HTML tables, typed into DOCX and HWPX, parses like its Markdown."""
    checked = 0
    for md in sorted((shared_corpus / "ko" / "jeju").glob("*.md")):
        source = md.read_text(encoding="utf-8")
        if "<table" in source.lower() or "parsing-failed" in source:
            continue  # raw MS-Office tables are Markdown-only; empty bodies are refused anyway
        body = source.split("\n---\n", 1)[1]
        reference = provision_keys(parse_document(load_file(md, md.parent, LIMITS)))
        lines = markdown_lines(body)
        for suffix, data in (("docx", make_docx(lines)), ("hwpx", make_hwpx_with_library(lines))):
            doc = load_file(write(tmp_path, f"{md.stem}.{suffix}", data), tmp_path, LIMITS)
            assert provision_keys(parse_document(doc)) == reference, (md.stem, suffix)
            checked += 1
    assert checked == 2 * 49  # the 54 Jeju files less 3 with raw tables and 2 without a body, in two formats
