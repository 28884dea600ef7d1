"""Files → ``Document``: Markdown/text (YAML front matter), PDF (pypdf, OCR for scanned
pages), HTML, HWPX, HWP 5 and DOCX.

Public surface::

    SUPPORTED_SUFFIXES                      # suffixes load_file can read
    LoadLimits(max_file_bytes, max_pdf_pages, max_chars, max_part_bytes)
    OcrOptions(enabled, languages, dpi, max_pages)   # OcrOptions.from_settings(settings)
    load_file(path, root, limits, ocr=None) -> Document   # raises IngestError(one-line reason)
    extract_file(path, limits, ocr=None) -> Extracted     # the text before it is a Document (attachments)
    iter_candidate_files(paths) -> (file, root) ...  # what to try loading, unsupported files included
    parent_document(path, names=None) -> Path | None  # the document an attachment file (doc.별표5.hwp) belongs to

``IngestError`` messages never contain the path: the caller prefixes it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from civicrag.ingest.attachments import file_label
from civicrag.ingest.documents import Document, IngestError
from civicrag.ingest.loaders.common import MB, Extracted, LoadLimits, is_sidecar, read_limited, sidecar_paths
from civicrag.ingest.loaders.docx import extract_docx
from civicrag.ingest.loaders.html import extract_html
from civicrag.ingest.loaders.hwp import extract_hwp
from civicrag.ingest.loaders.hwpx import extract_hwpx
from civicrag.ingest.loaders.markdown import extract_markdown
from civicrag.ingest.loaders.metadata import build_document, parse_yaml_mapping
from civicrag.ingest.loaders.ocr import OcrOptions
from civicrag.ingest.loaders.pdf import extract_pdf

__all__ = [
    "SUPPORTED_SUFFIXES",
    "LoadLimits",
    "OcrOptions",
    "extract_file",
    "iter_candidate_files",
    "load_file",
    "parent_document",
    "sidecar_paths",
]

_FORMAT_OF_SUFFIX = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".hwpx": "hwpx",
    ".hwp": "hwp",
    ".docx": "docx",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_FORMAT_OF_SUFFIX)


def parent_document(path: Path, names: set[str] | None = None) -> Path | None:
    """The document an attachment file belongs to: ``<stem>.<ext>`` beside it (any format a loader reads).

    It lives with the loaders because it asks which suffixes they read; the attachment grammar
    (``file_label``) is ingest.attachments'."""
    found = file_label(path)
    if found is None:
        return None
    stem = found[0]
    for suffix in sorted(SUPPORTED_SUFFIXES):
        candidate = path.with_name(stem + suffix)
        present = candidate.name in names if names is not None else candidate.is_file()
        if present and file_label(candidate) is None:
            return candidate
    return None

# A sidecar is a few lines of YAML; anything bigger is a mistake, not metadata.
_MAX_SIDECAR_BYTES = 1 * MB


def load_file(path: Path, root: Path | None, limits: LoadLimits, ocr: OcrOptions | None = None) -> Document:
    """Load one file as a ``Document``, or raise ``IngestError`` with a one-line reason.

    ``root`` is the folder the file was found under (``doc_id`` falls back to the
    path relative to it); None uses the file name. ``ocr`` says whether and how
    scanned PDF pages are read (None: the defaults, OCR on when Tesseract is installed).
    """
    if is_sidecar(path):
        raise IngestError("sidecar metadata file (.meta.yaml), not a document")
    doc = build_document(extract_file(path, limits, ocr), path, root)
    # Named in the error: the document is known to exist, it is only too big to index.
    limits.check_chars(len(doc.text), doc_id=doc.doc_id, title=doc.title)
    return doc


def extract_file(path: Path, limits: LoadLimits, ocr: OcrOptions | None = None) -> Extracted:
    """The text of a file in any supported format (and its sidecar's metadata), before it becomes a
    ``Document``: attachments (별표 files) are read through this too.

    The limits on bytes, PDF pages and unpacked parts apply here (characters too, while a HWP/HWPX is
    unpacked); the cap on the whole text is the caller's, which can name what the text belongs to
    (``load_file``: the document; the pipeline: the attachment file)."""
    suffix = path.suffix.lower()
    fmt = _FORMAT_OF_SUFFIX.get(suffix)
    if fmt is None:
        raise IngestError(f"unsupported file type '{suffix}'" if suffix else "unsupported file type (no extension)")
    data = read_limited(path, limits)
    sidecar = _read_sidecar(path)
    if fmt == "pdf":
        return extract_pdf(data, sidecar, limits, ocr=ocr)
    if fmt == "hwpx":
        return extract_hwpx(data, sidecar, limits)
    if fmt == "hwp":
        return extract_hwp(data, sidecar, limits)
    if fmt == "docx":
        return extract_docx(data, sidecar, limits)
    if fmt == "html":
        return extract_html(data, sidecar)
    return extract_markdown(data, fmt, sidecar)


def _read_sidecar(path: Path) -> dict[str, object]:
    """Front matter from ``NAME.EXT.meta.yaml`` (or ``.meta.yml``) beside the file; {} when absent."""
    for sidecar in sidecar_paths(path):
        if not sidecar.is_file():
            continue
        try:
            if sidecar.stat().st_size > _MAX_SIDECAR_BYTES:
                raise IngestError(f"sidecar {sidecar.name} is over {_MAX_SIDECAR_BYTES // MB} MB")
            source = sidecar.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not valid UTF-8"
            transient = isinstance(exc, OSError)
            raise IngestError(f"cannot read sidecar {sidecar.name}: {reason}", transient=transient) from None
        return parse_yaml_mapping(source, what=f"YAML in sidecar {sidecar.name}")
    return {}


def iter_candidate_files(paths: list[Path]) -> Iterator[tuple[Path, Path]]:
    """``(file, root)`` for every file to try, directories expanded recursively in sorted order.

    Hidden files and folders (``.git``, ``.DS_Store``), README files below a given
    folder and sidecar files are skipped; unsupported files are yielded so the caller can
    report them. A path given directly is yielded even when hidden or missing
    (``load_file`` then says why it cannot be read). Each file is yielded once.
    """
    seen: set[Path] = set()

    def once(file: Path) -> bool:
        key = file.resolve()
        if key in seen:
            return False
        seen.add(key)
        return True

    for given in paths:
        if given.is_dir():
            for file in _walk(given):
                if once(file):
                    yield file, given
        elif not is_sidecar(given):
            # An attachment (doc.별표5.hwp) given alone stands for its document, which reads it.
            file = parent_document(given) or given
            if once(file):
                yield file, file.parent


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        # Pruning in place keeps os.walk out of hidden folders; sorting makes the order stable.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        names = set(filenames)
        for name in sorted(filenames):
            # README files describe a folder for people; they are not regulations.
            if name.startswith(".") or name.upper().startswith("README"):
                continue
            file = Path(dirpath, name)
            # Attachments (doc.별표5.hwp) are read with the document beside them, not on their own.
            if not is_sidecar(file) and parent_document(file, names) is None:
                yield file
