"""PDF → text with page offsets, via pypdf; pages without a text layer through OCR.

pypdf raises many exception types on damaged files; every one of them becomes
a one-line ``IngestError`` here, so a bad PDF never shows a traceback.

A page whose text layer is (nearly) empty but which holds an image is a scan:
with Tesseract installed and OCR enabled it is rendered and read (``ocr.py``),
keeping its page number; the document is then marked ``ocr`` and the pages read
that way are listed in ``extra["ocr_pages"]``. Without Tesseract a fully scanned
file is reported as needing OCR, and a mixed one keeps its text pages.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Iterator
from typing import Any

from civicrag.ingest.documents import IngestError
from civicrag.ingest.loaders.common import (
    Extracted,
    LoadLimits,
    collapse_spaces,
    normalise_language,
    normalise_newlines,
)
from civicrag.ingest.loaders.ocr import OcrOptions, choose_languages, open_pdf, read_page, render_page
from civicrag.ingest.loaders.reflow import Spacer, rejoin_hyphenated, rejoin_korean_wraps
from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from civicrag.legal.language import detect_language

# Fewer non-space characters than this in the whole file: no usable text layer.
MIN_TEXT_CHARS = 20
# A page with fewer non-space characters than this (a stamped page number, a Bates label) and an
# image on it is a scan: OCR reads it when available.
MIN_PAGE_TEXT_CHARS = 20
SCANNED_MESSAGE = "no text layer on any page (scanned PDF?): needs OCR"
# Non-space characters of text pages enough to tell a mixed PDF's language (a short paragraph).
_LANGUAGE_SAMPLE_CHARS = 100
# Producers whose text layer is OCR output (citations then tell staff to check the original).
_OCR_PRODUCERS = re.compile(r"paper capture|ocr|abbyy|finereader|tesseract|omnipage|readiris|clearscan", re.I)
_WORD_TITLE_PREFIX = re.compile(r"^Microsoft (?:Word|PowerPoint|Excel) - ", re.I)
_OFFICE_SUFFIX = re.compile(r"\.(?:docx?|rtf|odt|xlsx?|pptx?)$", re.I)
# Titles that scanners and printers write instead of a real one.
_JUNK_TITLES = {"", "untitled", "cpy document", "document", "(anonymous)", "(unspecified)"}


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs warnings ("EOF marker not found", font notes) for files it then reads fine;
    the maintainer gets our one-line error instead, so silence them while loading."""
    logger = logging.getLogger("pypdf")
    previous = logger.level
    logger.setLevel(logging.ERROR + 1)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _short(exc: BaseException) -> str:
    message = collapse_spaces(str(exc)) or type(exc).__name__
    return message if len(message) <= 120 else message[:117] + "..."


def extract_pdf(
    data: bytes,
    sidecar: dict[str, Any],
    limits: LoadLimits,
    spacer: Spacer | None = None,
    ocr: OcrOptions | None = None,
) -> Extracted:
    """``ocr`` None means the defaults (OCR on, ``kor+eng``, when Tesseract is installed)."""
    with _quiet_pypdf():
        return _extract(data, sidecar, limits, spacer, ocr or OcrOptions())


def _extract(
    data: bytes, sidecar: dict[str, Any], limits: LoadLimits, spacer: Spacer | None, ocr: OcrOptions
) -> Extracted:
    if b"%PDF-" not in data[:1024]:  # the header may follow some junk, within the first 1 KB
        raise IngestError("corrupt PDF: no %PDF header (not a PDF file?)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Many PDFs are "encrypted" only to set permissions, with an empty user password.
            try:
                decrypted = reader.decrypt("")
            except DependencyError:
                raise IngestError("encrypted PDF needs the 'cryptography' package to decrypt (AES)") from None
            if not decrypted:
                raise IngestError("encrypted PDF (password protected)")
        n_pages = len(reader.pages)
    except IngestError:
        raise
    except FileNotDecryptedError:
        raise IngestError("encrypted PDF (password protected)") from None
    except Exception as exc:  # pypdf has no single base class for damaged files
        raise IngestError(f"corrupt PDF: {_short(exc)}") from None

    if n_pages == 0:
        raise IngestError("corrupt PDF: no pages")
    if n_pages > limits.max_pdf_pages:
        raise IngestError(f"PDF has {n_pages} pages, over the {limits.max_pdf_pages}-page limit")

    pages: list[str] = []
    failed: list[int] = []
    for number in range(n_pages):
        try:
            page_text = reader.pages[number].extract_text() or ""
        except Exception:  # one damaged page should not lose the others
            page_text = ""
            failed.append(number + 1)
        pages.append(normalise_newlines(page_text).strip("\n"))
    if len(failed) == n_pages:
        raise IngestError("corrupt PDF: text extraction failed on every page")
    hint = normalise_language(sidecar.get("language"))
    ocr_pages, ocr_languages = _ocr_textless_pages(data, pages, failed, hint, ocr)
    if sum(len("".join(p.split())) for p in pages) < MIN_TEXT_CHARS:
        if ocr_pages:
            raise IngestError(f"OCR found no text on any page ({len(ocr_pages)} scanned pages read)")
        raise IngestError(SCANNED_MESSAGE)

    info = _info(reader)
    language = hint or detect_language("\n".join(pages), empty="en")
    pages = [rejoin_hyphenated(p) for p in pages]
    if language == "ko":
        pages = rejoin_korean_wraps(pages, spacer)
    pages = ["\n".join(line.rstrip() for line in p.split("\n")) for p in pages]

    page_starts: list[int] = []
    offset = 0
    for page_text in pages:
        page_starts.append(offset)
        offset += len(page_text) + 1  # the "\n" that joins pages
    extra: dict[str, Any] = {"pages": n_pages}
    if failed:
        extra["unreadable_pages"] = failed
    blank = [i + 1 for i, p in enumerate(pages) if not p.strip() and i + 1 not in failed]
    if blank:
        extra["pages_without_text"] = blank  # scanned pages that OCR could not (or did not) read
    if ocr_pages:
        extra["ocr_pages"] = ocr_pages
        extra["ocr_languages"] = ocr_languages
    producer = " ".join(v for v in (info.get("/Producer"), info.get("/Creator")) if v)
    text_layer_ocr = bool(_OCR_PRODUCERS.search(producer))
    if text_layer_ocr and ocr_pages:
        # Both kinds in one file: per-page flags must not read the text layer as original text.
        extra["ocr_text_layer"] = True
    return Extracted(
        text="\n".join(pages),
        format="pdf",
        meta=sidecar,
        title_hint=_clean_title(info.get("/Title")),
        language_hint=language,
        page_starts=page_starts,
        ocr=bool(ocr_pages) or text_layer_ocr,
        extra=extra,
    )


def _textless(page_text: str) -> bool:
    return len("".join(page_text.split())) < MIN_PAGE_TEXT_CHARS


def _ocr_textless_pages(
    data: bytes, pages: list[str], failed: list[int], hint: str | None, ocr: OcrOptions
) -> tuple[list[int], str]:
    """OCR, in place in ``pages``, every textless page that holds an image; ``(1-based pages read, languages)``.

    Nothing happens when OCR is off or Tesseract is missing: a fully scanned file
    is then reported by the caller, a mixed one keeps its text pages.
    """
    candidates = [i for i, text in enumerate(pages) if _textless(text) and i + 1 not in failed]
    binary = ocr.binary() if ocr.enabled else None
    if not candidates or binary is None:
        return [], ""
    if len(candidates) > ocr.max_pages:
        raise IngestError(
            f"{len(candidates)} pages need OCR, over the {ocr.max_pages}-page OCR limit (setting ocr_max_pages)"
        )
    # The text pages, when there are enough, tell the language better than the settings can.
    text_pages = "\n".join(p for p in pages if not _textless(p))
    if hint is None and len("".join(text_pages.split())) >= _LANGUAGE_SAMPLE_CHARS:
        hint = detect_language(text_pages, empty="en")
    languages = choose_languages(ocr, binary, hint)
    # Still unknown (a wholly scanned file, no sidecar): the first page read decides. kor+eng on an
    # English scan turns smudges into stray Hangul ("으아 이 으ㄴㄴㄴ" on a Rivergrove page), so an
    # English first page is read again with eng alone, and so are the pages after it.
    narrow = hint is None and languages != "eng" and "eng" in languages.split("+")
    try:
        document = open_pdf(data)
    except IngestError:
        if len(candidates) == len(pages):
            raise  # nothing else to read: say why
        return [], ""  # PDFium refuses what pypdf read: keep the text pages
    read: list[int] = []
    try:
        for index in candidates:
            try:
                image = render_page(document, index, ocr.dpi)
            except Exception:  # a page PDFium cannot draw stays textless, like a page pypdf cannot read
                continue
            if image is None:
                continue  # no image, or no ink: a blank page, nothing to read
            text = read_page(image, binary, languages)
            if narrow and len("".join(text.split())) >= MIN_PAGE_TEXT_CHARS:
                narrow = False
                if detect_language(text, empty="en") == "en":
                    languages = "eng"
                    text = read_page(image, binary, languages)
            text = normalise_newlines(text).strip("\n")
            if len("".join(text.split())) > len("".join(pages[index].split())):
                pages[index] = text
                read.append(index + 1)
    finally:
        document.close()
    return read, languages


def _info(reader: Any) -> dict[str, str]:
    try:
        metadata = reader.metadata or {}
        return {str(k): str(v) for k, v in metadata.items() if v is not None}
    except Exception:  # a broken /Info dictionary is not worth refusing the text for
        return {}


def _clean_title(raw: str | None) -> str | None:
    if raw is None:
        return None
    title = _OFFICE_SUFFIX.sub("", _WORD_TITLE_PREFIX.sub("", collapse_spaces(raw)))
    return None if title.lower() in _JUNK_TITLES else title
