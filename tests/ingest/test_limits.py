"""Finding 6, in the loaders: files that unpack or expand far beyond their size are refused early, by name.

The bombs are built here, small on disk but over a lowered cap: a 533 KB HWPX once expanded to 30 MB of
text, and zip parts of 250 MB were unpacked whole before being found to hold no text.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from civicrag.ingest.documents import IngestError
from civicrag.ingest.loaders import LoadLimits, load_file
from civicrag.ingest.loaders.common import DEFAULT_MAX_CHARS, DEFAULT_MAX_PART_BYTES, MB

from civicrag.settings import Settings
from tests.ingest.test_loaders_formats import (
    hp,
    hwp_paragraph,
    hwpx_package,
    make_docx,
    make_hwp,
    record,
)

# Caps lowered so that the bombs stay small: 1 MB a part, 100,000 characters a file.
SMALL = LoadLimits(max_file_bytes=10 * MB, max_pdf_pages=50, max_chars=100_000, max_part_bytes=1 * MB)


def load_error(path: Path, limits: LoadLimits = SMALL) -> IngestError:
    with pytest.raises(IngestError) as info:
        load_file(path, path.parent, limits)
    assert "\n" not in str(info.value) and str(path) not in str(info.value)
    return info.value


def peak_bytes(path: Path, limits: LoadLimits = SMALL) -> tuple[str, int]:
    """The error loading ``path`` gives, and the most memory Python held meanwhile."""
    tracemalloc.start()
    try:
        message = str(load_error(path, limits))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return message, peak


def empty_paragraphs(n_bytes: int) -> str:
    """Section XML of empty paragraphs: what spacing looks like, and no text at all."""
    return "<hp:p/>" * (n_bytes // len("<hp:p/>"))


def test_limits_default_to_the_settings_defaults() -> None:
    assert LoadLimits.from_settings(Settings()) == LoadLimits(
        max_file_bytes=50 * MB, max_pdf_pages=2000, max_chars=DEFAULT_MAX_CHARS, max_part_bytes=DEFAULT_MAX_PART_BYTES
    )
    assert (DEFAULT_MAX_CHARS, DEFAULT_MAX_PART_BYTES) == (8_000_000, 32 * MB)


def test_hwpx_part_bomb_is_refused_without_unpacking_it(tmp_path: Path) -> None:
    # 64 MB of XML in a 64 KB file: unpacking it to find out would take 64 MB.
    path = tmp_path / "bomb.hwpx"
    path.write_bytes(hwpx_package([hp("제1조(목적) 본문") + empty_paragraphs(64 * MB)]))
    assert path.stat().st_size < 200_000
    message, peak = peak_bytes(path)
    assert message == "HWPX part Contents/section0.xml unpacks to over 1 MB (setting limit_part_mb)"
    assert peak < 2 * MB  # refused from the size the zip declares, before inflating anything


def test_hwpx_parts_without_text_are_refused_while_unpacking(tmp_path: Path) -> None:
    # Five text-less sections under the part cap each, 4.5 MB together: over the 4 MB all parts may take.
    # Before, such parts were unpacked whole and only then reported as "no text", on every ingest.
    path = tmp_path / "hollow.hwpx"
    path.write_bytes(hwpx_package([empty_paragraphs(900 * 1024)] * 5))
    assert str(load_error(path)) == "HWPX parts unpack to over 4 MB together (4 x setting limit_part_mb)"


def test_hwpx_expanding_to_too_much_text_stops_at_the_section_that_passes_the_cap(tmp_path: Path) -> None:
    # Finding 6 as reported: a small HWPX whose repeated paragraphs make far more text than any regulation.
    line = "제1조(목적) 이 조례는 공영주차장의 설치와 운영에 필요한 사항을 정함을 목적으로 한다."
    section = hp(line) * 1000  # about 50,000 characters each
    path = tmp_path / "runaway.hwpx"
    path.write_bytes(hwpx_package([section] * 20))
    assert path.stat().st_size < 100_000
    assert str(load_error(path)) == "extracted text is over the 100,000-character limit (setting limit_chars)"
    # Under a cap it fits, the same file is read.
    roomy = LoadLimits(max_file_bytes=10 * MB, max_pdf_pages=50, max_chars=2_000_000, max_part_bytes=1 * MB)
    assert len(load_file(path, tmp_path, roomy).text) > 1_000_000


def test_text_over_the_character_cap_names_the_document(tmp_path: Path) -> None:
    path = tmp_path / "long.md"
    body = "제1조(목적) 본문.\n" * 10_000
    path.write_text(f"---\n자치법규ID: 'L-1'\n자치법규명: '긴 조례'\n---\n\n{body}", encoding="utf-8")
    error = load_error(path)
    # The body and the blank line after the front matter.
    assert str(error) == "extracted text is 120,001 characters, over the 100,000-character limit (setting limit_chars)"
    assert (error.doc_id, error.title) == ("L-1", "긴 조례")


def test_hwp_deflate_bomb_is_cut_off_at_the_cap(tmp_path: Path) -> None:
    # One BodyText section whose records inflate to 16 MB; HWP streams declare no unpacked size.
    filler = record(0, 0, bytes(MB - 8))
    body = hwp_paragraph("제1조(목적) 본문") + filler * 16
    path = tmp_path / "bomb.hwp"
    path.write_bytes(make_hwp([body]))
    assert path.stat().st_size < 200_000
    message, peak = peak_bytes(path)
    assert message == "HWP part BodyText/Section0 unpacks to over 1 MB (setting limit_part_mb)"
    assert peak < 6 * MB  # inflated no further than the cap, not to 16 MB


def test_hwp_text_over_the_character_cap(tmp_path: Path) -> None:
    line = "제1조(목적) 이 조례는 공영주차장의 설치와 운영에 필요한 사항을 정함을 목적으로 한다."
    sections = [b"".join(hwp_paragraph(line) for _ in range(1000))] * 4
    path = tmp_path / "runaway.hwp"
    path.write_bytes(make_hwp(sections))
    assert str(load_error(path)) == "extracted text is over the 100,000-character limit (setting limit_chars)"


def test_docx_part_bomb_is_refused_by_its_declared_size(tmp_path: Path) -> None:
    # A real Word package whose document part is padded to 8 MB of XML (a few KB compressed).
    package = make_docx([(0, "Section 1. Fees.")])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"</w:body>", b"<!--" + b" " * (8 * MB) + b"--></w:body>")
            dst.writestr(info.filename, data)
    path = tmp_path / "bomb.docx"
    path.write_bytes(out.getvalue())
    assert path.stat().st_size < 100_000
    message, peak = peak_bytes(path)
    assert message == "DOCX part word/document.xml unpacks to over 1 MB (setting limit_part_mb)"
    assert peak < 2 * MB  # refused before python-docx reads the package


def test_the_same_files_under_the_default_caps_are_read(tmp_path: Path) -> None:
    docx_path = tmp_path / "fine.docx"
    docx_path.write_bytes(make_docx([(1, "Fees"), (0, "Section 1. The fee is $50.")]))
    hwp_path = tmp_path / "fine.hwp"
    hwp_path.write_bytes(make_hwp([hwp_paragraph("제1조(목적) 본문") + record(0, 0, bytes(4096))]))
    defaults = LoadLimits.from_settings(Settings())
    assert "The fee is $50." in load_file(docx_path, tmp_path, defaults).text
    assert load_file(hwp_path, tmp_path, defaults).text.startswith("제1조(목적) 본문")

