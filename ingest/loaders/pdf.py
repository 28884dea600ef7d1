"""PDF → text with page offsets, via pypdf.

pypdf raises many exception types on damaged files; every one of them becomes
a one-line ``IngestError`` here, so a bad PDF never shows a traceback.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Iterator
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from ingest.documents import IngestError
from ingest.loaders.common import (
    Extracted,
    LoadLimits,
    collapse_spaces,
    detect_language,
    normalise_language,
    normalise_newlines,
)
from ingest.loaders.reflow import Spacer, rejoin_hyphenated, rejoin_korean_wraps

# Fewer non-space characters than this in the whole file: no usable text layer.
MIN_TEXT_CHARS = 20
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


def extract_pdf(data: bytes, sidecar: dict[str, Any], limits: LoadLimits, spacer: Spacer | None = None) -> Extracted:
    with _quiet_pypdf():
        return _extract(data, sidecar, limits, spacer)


def _extract(data: bytes, sidecar: dict[str, Any], limits: LoadLimits, spacer: Spacer | None) -> Extracted:
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
    if sum(len("".join(p.split())) for p in pages) < MIN_TEXT_CHARS:
        raise IngestError("no text layer on any page (scanned PDF?): needs OCR")

    info = _info(reader)
    language = normalise_language(sidecar.get("language")) or detect_language("\n".join(pages))
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
        extra["pages_without_text"] = blank  # scanned pages inside a text PDF need OCR too
    producer = " ".join(v for v in (info.get("/Producer"), info.get("/Creator")) if v)
    return Extracted(
        text="\n".join(pages),
        format="pdf",
        meta=sidecar,
        title_hint=_clean_title(info.get("/Title")),
        language_hint=language,
        page_starts=page_starts,
        ocr=bool(_OCR_PRODUCERS.search(producer)),
        extra=extra,
    )


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
