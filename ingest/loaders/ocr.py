"""OCR of PDF pages that have no text layer: pypdfium2 renders, Tesseract reads.

Only pages without a text layer are rendered (a mixed PDF keeps its real text
pages), and only when they hold an image: a blank separator page costs nothing.
Tesseract is called as a subprocess (``tesseract stdin stdout -l kor+eng``):
no Python wrapper is needed, and a missing binary is a condition to report
("needs OCR"), not an import error. pypdfium2 ships its own PDFium build, so no
Debian poppler is needed to render.

Tesseract is a Debian package (``tesseract-ocr`` plus ``tesseract-ocr-kor`` and
``tesseract-ocr-eng``); ``scripts/system-deps.sh`` installs it.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from civicrag.ingest.documents import IngestError

# 300 dpi is what Tesseract's models are trained around; less loses small print, more only costs time.
DEFAULT_DPI = 300
# One page of a letter-size scan takes 3–8 s on the project's 2-core machines; a minute means a hang.
_PAGE_TIMEOUT_S = 120
# A rendered page whose darkest pixel is this light has no ink: nothing to read.
_INK_THRESHOLD = 200
# Tesseract page segmentation: 4 = "one column of text of variable sizes", which is what a
# regulation page is. Measured with benchmarks/ocr.py: on Korean ordinance pages automatic layout
# analysis (3, Tesseract's default) cut lines into out-of-order fragments and reached 0.83 character
# accuracy against 0.95 with 4; on the Rivergrove scans both gave 0.81-0.82. Automatic analysis also
# reads a sparse clean page as "Empty page!!".
PAGE_SEGMENTATION = 4
# Fewer non-space characters than this from a page with ink: try automatic segmentation as well
# (pages laid out in columns or as a form), and keep whichever read more.
_RETRY_BELOW_CHARS = 20


@dataclass(frozen=True)
class OcrOptions:
    """How (and whether) textless PDF pages are OCR'd. ``from_settings`` reads the ``ocr_*`` settings."""

    enabled: bool = True
    languages: str = "kor+eng"  # Tesseract language codes joined by '+'
    dpi: int = DEFAULT_DPI
    max_pages: int = 200  # more textless pages than this: reported, not OCR'd during ingest
    tesseract: str | None = None  # path of the binary; None = look it up on PATH

    @classmethod
    def from_settings(cls, settings: Any) -> OcrOptions:
        return cls(
            enabled=bool(getattr(settings.ocr, "enabled", True)),
            languages=str(getattr(settings.ocr, "languages", "kor+eng")),
            dpi=int(getattr(settings.ocr, "dpi", DEFAULT_DPI)),
            max_pages=int(getattr(settings.ocr, "max_pages", 200)),
        )

    def binary(self) -> str | None:
        return self.tesseract or shutil.which("tesseract")


@functools.lru_cache(maxsize=8)
def installed_languages(binary: str) -> frozenset[str]:
    """Language data Tesseract has (``tesseract --list-langs``); empty when it cannot run."""
    try:
        done = subprocess.run([binary, "--list-langs"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    # Tesseract 4 prints the list on stderr, 5 on stdout; the first line is a header.
    lines = (done.stdout or done.stderr).decode("utf-8", "replace").splitlines()[1:]
    return frozenset(line.strip() for line in lines if line.strip())


def choose_languages(options: OcrOptions, binary: str, language_hint: str | None) -> str:
    """The configured languages that Tesseract has, narrowed to English for a known-English document.

    ``kor+eng`` reads English nearly as well as ``eng`` alone but slower, and it
    occasionally turns a smudge into a Hangul syllable; when the document is known
    to be English (sidecar, or its text pages) only ``eng`` is used.
    """
    wanted = [code for code in options.languages.split("+") if code.strip()]
    have = installed_languages(binary)
    usable = [code for code in wanted if code in have] if have else wanted
    if not usable:
        missing = "+".join(wanted) or "(none configured)"
        raise IngestError(f"no text layer on some pages: needs OCR, but Tesseract lacks language data {missing}")
    if language_hint == "en" and "eng" in usable:
        return "eng"
    return "+".join(usable)


def render_page(pdf: Any, index: int, dpi: int) -> Any | None:
    """The page as a greyscale PIL image, or None when it holds no image or no ink at all."""
    import pypdfium2.raw as pdfium_c

    page = pdf[index]
    try:
        # Scans are image objects; a page of vector drawing only (or nothing) is left alone.
        has_image = any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3))
        if not has_image:
            return None
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        image = bitmap.to_pil().convert("L")
    finally:
        page.close()
    darkest, _lightest = image.getextrema()
    return None if darkest >= _INK_THRESHOLD else image


def tesseract_image(image: Any, binary: str, languages: str, psm: int | None = None) -> str:
    """Text Tesseract reads in ``image``; ``psm`` None is Tesseract's automatic page segmentation."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    # One Tesseract thread: on the project's 2-core machines OpenMP's threads made a Rivergrove page
    # take 19 s instead of 1.8 s (measured), and an ingest in the background should not take every core.
    env = {**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}
    command = [binary, "stdin", "stdout", "-l", languages]
    if psm is not None:
        command += ["--psm", str(psm)]
    try:
        done = subprocess.run(
            command,
            input=buf.getvalue(),
            capture_output=True,
            timeout=_PAGE_TIMEOUT_S,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise IngestError(f"OCR of a page took over {_PAGE_TIMEOUT_S} s (Tesseract stopped)", transient=True) from None
    except OSError as exc:
        raise IngestError(f"cannot run Tesseract: {exc.strerror or exc}", transient=True) from None
    if done.returncode != 0:
        reason = " ".join(done.stderr.decode("utf-8", "replace").split())[:120]
        raise IngestError(f"Tesseract failed (exit {done.returncode}): {reason}", transient=True)
    # Tesseract ends each page with a form feed; the loader joins pages itself.
    return done.stdout.decode("utf-8", "replace").replace("\f", "").replace("\r\n", "\n")


def read_page(image: Any, binary: str, languages: str) -> str:
    """OCR one page image: as one column of text, then automatic segmentation if that found (almost) nothing."""
    text = tesseract_image(image, binary, languages, psm=PAGE_SEGMENTATION)
    if len("".join(text.split())) < _RETRY_BELOW_CHARS:
        retry = tesseract_image(image, binary, languages)
        if len("".join(retry.split())) > len("".join(text.split())):
            text = retry
    return text


def open_pdf(data: bytes) -> Any:
    """A pypdfium2 document over ``data``; IngestError when PDFium cannot open what pypdf could."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise IngestError(f"cannot render PDF pages for OCR: {exc}") from None
