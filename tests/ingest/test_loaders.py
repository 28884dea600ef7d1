"""Loaders: files → Document, and one-line IngestErrors for bad input.

PDFs are generated here with pypdf's low-level objects (a Helvetica text page
needs no font file), so no binary fixtures are committed.
"""

from __future__ import annotations

import difflib
import io
import logging
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest
from civicrag.ingest.documents import Document, IngestError
from civicrag.ingest.loaders import SUPPORTED_SUFFIXES, LoadLimits, OcrOptions, iter_candidate_files, load_file
from civicrag.ingest.loaders.common import decode_text, human_size
from civicrag.ingest.loaders.metadata import iso_date
from civicrag.ingest.loaders.reflow import _space_at, rejoin_hyphenated, rejoin_korean_wraps
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from civicrag.legal.language import detect_language

LIMITS = LoadLimits(max_file_bytes=10 * 1024 * 1024, max_pdf_pages=50)
SCANNED = "no text layer on any page (scanned PDF?): needs OCR"
# Rivergrove scans with no text layer at all (checked with pypdf: 0 characters on every page).
IMAGE_ONLY_RIVERGROVE = [
    "1974-City-Charter.pdf",
    "1974-Ord-No16-Parks.pdf",
    "1976-Res-No22-PC.pdf",
    "1978-Ord-No28-Parks.pdf",
    "1984-Res-No72-Municipal-Services.pdf",
    "2011-Ord-No80-2011-Park-Hours.pdf",
]


@pytest.fixture()
def loader_fixtures(fixtures_dir: Path) -> Path:
    return fixtures_dir / "loaders"


def make_pdf(pages: Sequence[Sequence[str]], title: str | None = None, producer: str | None = None) -> bytes:
    """A text PDF: each page draws its lines in Helvetica (Latin-1 text only)."""
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    info = {}
    if title is not None:
        info["/Title"] = title
    if producer is not None:
        info["/Producer"] = producer
    if info:
        writer.add_metadata(info)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def encrypt(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


ORDINANCE_PAGES = [
    ["Sec. 1. Purpose.", "This ordinance regulates the hyphen-", "ated parking of vehicles on streets."],
    ["Sec. 2. Penalties.", "A violation is punishable by a fine of fifty dollars."],
]


def load_error(path: Path, limits: LoadLimits = LIMITS) -> str:
    with pytest.raises(IngestError) as info:
        load_file(path, path.parent, limits)
    message = str(info.value)
    assert "\n" not in message and str(path) not in message
    return message


# -- Markdown / text ----------------------------------------------------------------


def test_korean_markdown_front_matter(loader_fixtures: Path) -> None:
    doc = load_file(loader_fixtures / "ko_ordinance.md", loader_fixtures, LIMITS)
    assert (doc.doc_id, doc.title, doc.kind, doc.jurisdiction) == (
        "9000001",
        "가상특별자치도 공원 관리 조례",
        "조례",
        "가상특별자치도",
    )
    assert (doc.effective_date, doc.promulgated) == ("2024-01-01", "2023-11-20")
    assert doc.department == "공원녹지과"
    assert doc.source_url == "https://www.law.go.kr/자치법규/가상특별자치도공원관리조례"
    assert doc.language == "ko" and doc.format == "markdown" and doc.page_starts == []
    assert doc.extra["공포번호"] == "1234"
    assert doc.extra["자치법규일련번호"] == "1000001"
    assert doc.extra["attachments"] == ["[별표 1] 공원 사용료"]
    assert "첨부파일" not in doc.extra and "제개정구분" not in doc.extra  # replaced / empty
    # The body is passed on untouched: amendment notes and raw HTML tables are the parsers' business.
    assert doc.text.startswith("\n# 가상특별자치도 공원 관리 조례\n")
    assert "<개정 2019.4.11.>" in doc.text
    assert '<TABLE STYLE="width:100%">' in doc.text
    assert "자치법규ID" not in doc.text


def test_parsing_failed_body_is_refused(loader_fixtures: Path) -> None:
    assert load_error(loader_fixtures / "ko_no_body.md") == "document has no body (본문출처: parsing-failed)"


def test_english_markdown_front_matter(loader_fixtures: Path) -> None:
    doc = load_file(loader_fixtures / "en_section.md", loader_fixtures, LIMITS)
    assert doc.doc_id == "dc-code-9-101"
    assert doc.title == "Definitions."
    assert doc.language == "en"
    assert doc.kind == "code"
    assert doc.jurisdiction == "District of Columbia"  # from the D.C. Code citation
    assert doc.effective_date == "2016-03-01"
    assert doc.source_url == "https://example.org/sections/9-101"
    assert doc.extra["citation"] == "D.C. Code § 9-101"
    assert doc.extra["hierarchy"] == ["Chapter 1. General Provisions."]


def test_plain_text_without_front_matter(loader_fixtures: Path) -> None:
    doc = load_file(loader_fixtures / "notes.txt", loader_fixtures.parent, LIMITS)
    assert doc.doc_id == "loaders/notes.txt"  # path relative to the root, forward slashes
    assert doc.title == "notes"
    assert doc.format == "text" and doc.language == "en" and doc.kind == "document"
    assert doc.text == "Parking rules for the municipal garage.\n\nVehicles must display a permit.\n"
    assert doc.source == str(loader_fixtures / "notes.txt")


def test_markdown_title_from_heading_bom_and_generic_keys(tmp_path: Path) -> None:
    body = "# Zoning Map Amendments\n\nSection text.\r\n"
    front = "---\nkind: resolution\nlanguage: en-US\npromulgated: '2021. 3. 4.'\n---\n"
    path = tmp_path / "a.md"
    path.write_bytes(b"\xef\xbb\xbf" + (front + body).encode())
    doc = load_file(path, tmp_path, LIMITS)
    assert doc.title == "Zoning Map Amendments"
    assert doc.kind == "resolution" and doc.language == "en"
    assert doc.promulgated == "2021-03-04"
    assert doc.text == "# Zoning Map Amendments\n\nSection text.\n"


def test_cp949_korean_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("제1조(목적) 이 규칙은 공원 관리에 관한 사항을 정한다.\n".encode("cp949"))
    doc = load_file(path, tmp_path, LIMITS)
    assert doc.text.startswith("제1조(목적)")
    assert doc.language == "ko" and doc.extra["encoding"] == "cp949"


def test_euc_kr_korean_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "old.md"
    path.write_bytes("# 과태료 규칙\n\n제1조(과태료) 과태료는 10만원으로 한다.\n".encode("euc-kr"))
    doc = load_file(path, tmp_path, LIMITS)
    assert doc.title == "과태료 규칙" and "10만원" in doc.text
    assert doc.extra["encoding"] == "cp949"  # CP949 is EUC-KR's superset: the same text


def test_latin1_and_windows_1252_english_text_is_decoded(tmp_path: Path) -> None:
    # Finding 8: refused before as "not valid UTF-8 ... not clean CP949 either".
    latin1 = tmp_path / "fees.txt"
    latin1.write_bytes(b"caf\xe9 license fee\n")
    doc = load_file(latin1, tmp_path, LIMITS)
    # Windows-1252 reads every Latin-1 letter the same; it is the name charset-normalizer gives.
    assert (doc.text, doc.language, doc.extra["encoding"]) == ("café license fee\n", "en", "cp1252")
    text = "# Notice\n\nThe \u201cannual\u201d fee \u2013 \u20ac50 \u2013 is due in M\u00e4rz.\n"
    word = tmp_path / "notice.md"
    word.write_bytes(text.encode("cp1252"))  # curly quotes, dashes and the euro sign live in 0x80-0x9F
    doc = load_file(word, tmp_path, LIMITS)
    assert doc.text == text
    assert doc.extra["encoding"] == "cp1252"


def test_undecodable_text_is_still_an_error(tmp_path: Path) -> None:
    # Bytes that no legacy encoding reads as text (accented letters and C1 controls in a row).
    path = tmp_path / "junk.txt"
    path.write_bytes(b"abc \xff\xfa\x80\x81 def")
    assert load_error(path) == (
        "not valid UTF-8 text (byte 0xff at offset 4), nor clean text in CP949/EUC-KR, Windows-1252, "
        "Latin-1 or Latin-9"
    )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.md", b"", "empty file"),
        ("blank.md", b" \n\t\n", "empty file"),
        ("fm_only.md", "---\n자치법규ID: '1'\n---\n\n".encode(), "document has no body"),
        ("bad.txt", b"abc \xff\xfa\x80 def", None),
        ("nul.txt", b"abc\x00def", "not valid UTF-8 text (NUL bytes: a binary file?)"),
        ("bad_fm.md", b"---\ntitle: [unclosed\n---\nbody\n", None),
        (
            "list_fm.md",
            b"---\n- a\n- b\n---\nbody\n",
            "invalid YAML front matter: expected a mapping of keys, got list",
        ),
        ("doc.odt", b"PK\x03\x04", "unsupported file type '.odt'"),
        ("README", b"text", "unsupported file type (no extension)"),
    ],
)
def test_bad_text_input(tmp_path: Path, name: str, content: bytes, expected: str | None) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    message = load_error(path)
    if name == "bad.txt":
        assert message.startswith("not valid UTF-8 text")
    elif name == "bad_fm.md":
        assert message.startswith("invalid YAML front matter: ") and "(line " in message
    else:
        assert message == expected


def test_missing_and_oversized_files(tmp_path: Path) -> None:
    assert load_error(tmp_path / "nope.md") == "file not found"
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * 2048)
    assert load_error(big, LoadLimits(max_file_bytes=1024, max_pdf_pages=5)) == ("file is 2 KB, over the 1 KB limit")
    assert human_size(73.2 * 1024 * 1024) == "73.2 MB" and human_size(50 * 1024 * 1024) == "50 MB"


def test_limits_from_settings() -> None:
    limits = LoadLimits.from_settings(SimpleNamespace(limits=SimpleNamespace(file_mb=50.0, pdf_pages=2000)))
    assert limits == LoadLimits(max_file_bytes=50 * 1024 * 1024, max_pdf_pages=2000)


# -- PDF -------------------------------------------------------------------------------


def test_pdf_text_pages_and_hyphen_rejoin(tmp_path: Path) -> None:
    path = tmp_path / "ord.pdf"
    path.write_bytes(make_pdf(ORDINANCE_PAGES, title="Microsoft Word - Parking Ordinance.docx"))
    doc = load_file(path, tmp_path, LIMITS)
    assert doc.format == "pdf" and doc.language == "en" and not doc.ocr
    assert doc.title == "Parking Ordinance" and doc.kind == "ordinance"
    assert doc.doc_id == "ord.pdf"
    assert "hyphenated parking" in doc.text
    assert len(doc.page_starts) == 2 and doc.page_starts[0] == 0
    assert doc.text[doc.page_starts[1] :].startswith("Sec. 2. Penalties.")
    assert doc.page_at(doc.text.index("fifty")) == 2 and doc.page_at(0) == 1
    assert doc.extra["pages"] == 2


def test_pdf_sidecar_supplies_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "2229316.pdf"
    path.write_bytes(make_pdf(ORDINANCE_PAGES, producer="Adobe Acrobat 11.0.0 Paper Capture Plug-in"))
    (tmp_path / "2229316.pdf.meta.yaml").write_text(
        "자치법규ID: '2229316'\n자치법규명: 주차 조례\n시행일자: 2023-11-20\nlanguage: en\n", encoding="utf-8"
    )
    doc = load_file(path, tmp_path, LIMITS)
    assert (doc.doc_id, doc.title, doc.kind, doc.effective_date) == (
        "2229316",
        "주차 조례",
        "조례",
        "2023-11-20",
    )
    assert doc.language == "en"
    assert doc.ocr  # Acrobat Paper Capture wrote the text layer


def test_bad_sidecar_yaml(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(make_pdf(ORDINANCE_PAGES))
    (tmp_path / "a.pdf.meta.yaml").write_text("id: [oops\n", encoding="utf-8")
    assert load_error(path).startswith("invalid YAML in sidecar a.pdf.meta.yaml: ")


def test_encrypted_pdf_with_empty_user_password_loads(tmp_path: Path) -> None:
    path = tmp_path / "perm.pdf"
    path.write_bytes(encrypt(make_pdf(ORDINANCE_PAGES), user_password=""))
    assert "Penalties" in load_file(path, tmp_path, LIMITS).text


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda: encrypt(make_pdf(ORDINANCE_PAGES), user_password="secret"),
            "encrypted PDF (password protected)",
        ),
        (lambda: make_pdf([[]]), SCANNED),
        (lambda: make_pdf([["p. 1"], [" "]]), SCANNED),  # under 20 characters in total
        (lambda: make_pdf(ORDINANCE_PAGES * 3), "PDF has 6 pages, over the 5-page limit"),
        (lambda: b"<html>not a pdf</html>", "corrupt PDF: no %PDF header (not a PDF file?)"),
    ],
)
def test_bad_pdf(tmp_path: Path, make, expected: str) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(make())
    assert load_error(path, LoadLimits(max_file_bytes=10**6, max_pdf_pages=5)) == expected


def test_truncated_pdf_is_corrupt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = make_pdf(ORDINANCE_PAGES)
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING):
        message = load_error(path)
    assert message.startswith("corrupt PDF: ")
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]  # no pypdf noise either


def test_rejoin_hyphenated() -> None:
    assert rejoin_hyphenated("the hyphen-\nated word") == "the hyphenated word"
    assert rejoin_hyphenated("Anti-\nTrust and 1990-\n91") == "Anti-\nTrust and 1990-\n91"


def _filler(n: int) -> str:
    return " ".join(["가나다라마바사"] * n)


def test_rejoin_korean_wraps_joins_mid_word_and_keeps_short_lines() -> None:
    full = _filler(6)  # a full line: 47 characters, nearly all Hangul
    page = "\n".join(
        [
            "제1조 (목적)",  # short heading: stays
            full + " 자",  # full line ending mid-word
            "원을 절약하고 " + _filler(2) + ".",
            "제2조 (정의)",
            full + " 위탁할",  # full line ending at a word boundary (the spacer says so)
            "수 있다.",
            full + " 다음과 같",  # "…같" / "다. <개정 …>": a sentence end, not the 목 "다."
            "다. <개정 2019.4.11.>",
            "① " + _filler(5),
            "② 다음 각 호와 같다.",
            "1. 첫째",
        ]
    )

    def spacer(questions: Sequence[tuple[str, str]]) -> list[bool]:
        return [right.startswith("수") for _left, right in questions]

    (out,) = rejoin_korean_wraps([page], spacer)
    lines = out.split("\n")
    assert lines[0] == "제1조 (목적)"
    assert lines[1] == full + " 자원을 절약하고 " + _filler(2) + "."
    assert lines[2] == "제2조 (정의)"
    assert lines[3] == full + " 위탁할 수 있다."
    assert lines[4] == full + " 다음과 같다. <개정 2019.4.11.>"
    assert lines[5:] == ["① " + _filler(5), "② 다음 각 호와 같다.", "1. 첫째"]


def test_rejoin_korean_wraps_never_crosses_pages() -> None:
    pages = [_filler(6) + " 자", "원을 " + _filler(6), _filler(6), _filler(6), _filler(6)]
    assert rejoin_korean_wraps(pages, lambda qs: [False] * len(qs)) == pages


# -- HTML ------------------------------------------------------------------------------


def test_html_to_markdown_like_text(loader_fixtures: Path) -> None:
    doc = load_file(loader_fixtures / "code.html", loader_fixtures, LIMITS)
    assert doc.format == "html"
    assert doc.doc_id == "sample-code"  # from the sidecar
    assert doc.kind == "code" and doc.jurisdiction == "City of Sample, Massachusetts (US)"
    assert doc.effective_date == "2025-01-31"
    assert doc.title == "Sample Code (Readable Edition)"  # <title>
    assert doc.extra["doc_type"] == "municipal code"
    assert doc.text == (
        "# Sample Code\n\n"
        "##### ARTICLE 3. EXECUTIVE BRANCH\n\n"
        "###### SECTION 3-1: MAYOR: ROLE; TERM OF OFFICE\n\n"
        "1. (a) Role - The chief executive officer of the city shall be a mayor.\n\n"
        "2. (b) Term of Office - The term of office for mayor shall be 2 years.\n\n"
        "###### Sec. 2-1. Equal opportunity policy.\n\n"
        "It shall be the policy of the city to afford equal access.\n\n"
        "Offense | Fine\n"
        "Feeding animals | $25.00"
    )


def test_html_without_text(tmp_path: Path) -> None:
    path = tmp_path / "x.htm"
    path.write_text("<html><head><title>T</title></head><body><script>x()</script><!-- c --></body></html>")
    assert load_error(path) == "no text in HTML document"


# -- discovery, helpers --------------------------------------------------------------


def test_iter_candidate_files(tmp_path: Path) -> None:
    for rel in [
        "b/z.md",
        "a.pdf",
        "a.pdf.meta.yaml",
        "notes.odt",
        ".hidden.md",
        ".git/config.md",
        "b/.x/y.md",
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    given_file = tmp_path / "b" / "z.md"
    found = list(iter_candidate_files([tmp_path, given_file]))
    assert [(f.relative_to(tmp_path).as_posix(), root) for f, root in found] == [
        ("a.pdf", tmp_path),
        ("notes.odt", tmp_path),  # unsupported files are yielded for the caller to report
        ("b/z.md", tmp_path),  # once, although also given directly
    ]
    assert list(iter_candidate_files([given_file])) == [(given_file, given_file.parent)]
    assert {".md", ".markdown", ".txt", ".pdf", ".html", ".htm", ".hwpx", ".hwp", ".docx"} == SUPPORTED_SUFFIXES
    assert load_error(tmp_path / "a.pdf.meta.yaml").startswith("sidecar metadata file")


def test_small_helpers() -> None:
    assert iso_date("20231120") == iso_date("2023-11-20") == iso_date(20231120) == "2023-11-20"
    assert iso_date("2023. 11. 20.") == "2023-11-20"
    assert iso_date("2023-02-30") is None and iso_date("soon") is None
    assert detect_language("제1조(목적) 이 조례는 Seoul 시의 조례이다.", empty="en") == "ko"
    assert detect_language("Section 1. The 조례 word is quoted here in English text.", empty="en") == "en"
    assert detect_language("1. 2. 3.", empty="en") == "en"  # no letter: a document is read as English
    assert decode_text(b"a\r\nb\rc") == ("a\nb\nc", "utf-8")
    assert _space_at("위탁할 수 있다", 3) and not _space_at("자원을 절약", 1)


# -- the real corpus ---------------------------------------------------------------------


def _ws_gaps(text: str) -> tuple[str, list[str]]:
    """Non-space characters, and for each the whitespace before it: '', ' ' or '\\n'."""
    chars: list[str] = []
    gaps: list[str] = []
    pending = ""
    for ch in text:
        if ch.isspace():
            pending += ch
        else:
            chars.append(ch)
            gaps.append("\n" if "\n" in pending else (" " if pending else ""))
            pending = ""
    return "".join(chars), gaps


@pytest.mark.corpus
def test_corpus_korean_markdown_all_load(shared_corpus: Path) -> None:
    ko = shared_corpus / "ko"
    files = sorted((ko / "jeju").glob("*.md")) + sorted((ko / "versions").glob("*/*.md"))
    refused = {}
    docs: list[Document] = []
    for path in files:
        try:
            docs.append(load_file(path, ko, LIMITS))
        except IngestError as exc:
            refused[path.stem] = str(exc)
    assert refused == {
        "2168593": "document has no body (본문출처: parsing-failed)",
        "2168602": "document has no body (본문출처: parsing-failed)",
    }
    assert len(docs) == len(files) - 2
    # 자치법규종류 of the 60 readable files (54 current + 8 past versions, 2 refused): 33 조례 and 27 규칙.
    assert Counter(doc.kind for doc in docs) == {"조례": 33, "규칙": 27}
    for doc in docs:
        assert doc.language == "ko" and doc.doc_id.isdigit()
        assert doc.effective_date and len(doc.effective_date) == 10
        assert not doc.text.startswith("---")
    older = load_file(ko / "versions" / "2117284" / "2019-03-20.md", ko, LIMITS)
    assert older.doc_id == "2117284" and older.effective_date == "2019-03-20"
    assert "재구성" in older.extra


@pytest.mark.corpus
def test_corpus_english_markdown(shared_corpus: Path) -> None:
    en = shared_corpus / "en"
    dc = load_file(en / "dc-code" / "title-02" / "2-1001.md", en, LIMITS)
    assert dc.doc_id == "dc-code-2-1001" and dc.kind == "code"
    assert dc.extra["citation"] == "D.C. Code § 2-1001" and dc.extra["hierarchy"]
    zoning = load_file(en / "somerville" / "somerville-zoning.md", en, LIMITS)
    assert zoning.kind == "zoning" and zoning.language == "en"


def _raw_pdf_text(pdf: Path) -> str:
    logging.disable(logging.WARNING)  # pypdf's font notes
    try:
        return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    finally:
        logging.disable(logging.NOTSET)


def _headings(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.split("\n") if line.startswith("#")]


@pytest.mark.corpus
def test_corpus_korean_pdfs_and_wrap_accuracy(shared_corpus: Path) -> None:
    """Korean PDFs load with page offsets; wrap joins are checked against each Markdown twin."""
    ko = shared_corpus / "ko"
    wraps = right = line_breaks = false_joins = 0
    kinds: Counter[str] = Counter()
    for pdf in sorted((ko / "pdf").glob("*.pdf")):
        doc = load_file(pdf, ko, LIMITS)
        assert doc.format == "pdf" and doc.language == "ko"
        kinds[doc.kind] += 1
        n_pages = doc.extra["pages"]
        assert len(doc.page_starts) == n_pages and doc.page_starts == sorted(doc.page_starts)
        if pdf.stem == "2229316":
            assert "자원을 절약하고" in doc.text
            assert "\n제1조 (목적)\n" in doc.text  # headings keep their own line
            assert doc.title == "제주특별자치도 1회용품 사용 줄이기 조례"

        # Every line break pypdf produced is either a wrap (the twin has '' or ' ' there)
        # or a real break; the loader must have chosen the same whitespace as the twin.
        raw = _raw_pdf_text(pdf)
        twin = (ko / "jeju" / f"{pdf.stem}.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]
        raw_chars, raw_gaps = _ws_gaps(raw)
        out_chars, out_gaps = _ws_gaps(doc.text)
        twin_chars, twin_gaps = _ws_gaps(twin)
        assert out_chars == raw_chars  # reflow only changes whitespace
        matcher = difflib.SequenceMatcher(None, raw_chars, twin_chars, autojunk=False)
        to_twin = {a + i: b + i for a, b, n in matcher.get_matching_blocks() for i in range(n)}
        for k in range(1, len(raw_chars)):
            if raw_gaps[k] != "\n" or k not in to_twin or to_twin.get(k - 1) != to_twin[k] - 1:
                continue
            truth = twin_gaps[to_twin[k]]
            if truth == "\n":
                line_breaks += 1
                false_joins += out_gaps[k] != "\n"
            else:
                wraps += 1
                right += out_gaps[k] == truth
    assert kinds == {"조례": 8, "규칙": 4}  # the 12 PDFs: 8 ordinances, 4 rules
    accuracy = right / wraps
    print(f"Korean PDF wraps: {right}/{wraps} right ({accuracy:.1%}); {false_joins}/{line_breaks} false joins")
    assert wraps > 500 and accuracy >= 0.9
    assert false_joins <= 0.01 * line_breaks


@pytest.mark.corpus
def test_corpus_rivergrove_image_only_pdfs_are_reported(shared_corpus: Path) -> None:
    folder = shared_corpus / "en" / "rivergrove" / "pdf"
    results: dict[str, str] = {}
    for pdf in sorted(folder.glob("*.pdf")):
        try:
            # Without OCR (off, or no Tesseract) scans are reported; OCR itself: test_loaders_formats.py.
            doc = load_file(pdf, folder, LIMITS, ocr=OcrOptions(enabled=False))
            results[pdf.name] = "ok"
            assert doc.language == "en" and doc.page_starts
        except IngestError as exc:
            results[pdf.name] = str(exc)
    assert sorted(name for name, result in results.items() if result == SCANNED) == IMAGE_ONLY_RIVERGROVE
    assert all(result in ("ok", SCANNED) for result in results.values())
    ocr = load_file(folder / "1989-Ord-No54-89C-Land-Development.pdf", folder, LIMITS)
    assert ocr.ocr and ocr.kind == "ordinance"


@pytest.mark.corpus
def test_corpus_somerville_html(shared_corpus: Path, tmp_path: Path) -> None:
    html = shared_corpus / "en" / "html" / "somerville-law-non-zoning.readable.html"
    doc = load_file(html, html.parent, LIMITS)
    assert doc.language == "en" and doc.format == "html"
    assert "\n###### SECTION 3-1: MAYOR: ROLE; TERM OF OFFICE; ELIGIBILITY\n" in doc.text
    assert "\n###### Sec. 2-1. Equal opportunity policy.\n" in doc.text
    assert "secid" not in doc.text and "<!--" not in doc.text
    # Same headings, in the same order, as the Markdown edition of the code.
    md = (shared_corpus / "en" / "somerville" / "somerville-law-non-zoning.md").read_text(encoding="utf-8")
    assert _headings(doc.text) == _headings(md.split("\n---\n", 1)[1])


@pytest.mark.corpus
def test_corpus_directory_walk(shared_corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / "pdf"
    shutil.copytree(shared_corpus / "ko" / "pdf", copy)
    (copy / "2229316.pdf.meta.yaml").write_text("자치법규ID: '2229316'\n시행일자: '2023-11-20'\n", encoding="utf-8")
    found = list(iter_candidate_files([tmp_path]))
    assert all(root == tmp_path for _f, root in found)
    assert [f.name for f, _r in found] == sorted(p.name for p in (shared_corpus / "ko" / "pdf").glob("*.pdf"))
    doc = load_file(copy / "2229316.pdf", tmp_path, LIMITS)
    assert doc.doc_id == "2229316" and doc.effective_date == "2023-11-20"
    other = load_file(copy / "2117284.pdf", tmp_path, LIMITS)
    assert other.doc_id == "pdf/2117284.pdf"
