"""Helpers shared by the format loaders: limits, reading, decoding, language, sidecars.

Everything that can fail raises ``IngestError`` with a one-line reason and no
path: the caller prefixes the path when it reports the file.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.documents import IngestError, Language

# ``limit_file_mb`` in the settings counts binary megabytes, like most upload limits.
MB = 1024 * 1024

# Sidecars carry front matter for formats that cannot hold it (PDF, HTML): ``x.pdf.meta.yaml``.
SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml")

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LETTER = re.compile(r"[^\W\d_]")
# Control characters that never occur in real text files (tab, newlines and form feed do).
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Enough of a long document to tell its language; counting megabytes would only cost time.
_LANGUAGE_SAMPLE = 200_000


@dataclass(frozen=True)
class LoadLimits:
    """What a single file may cost: bytes on disk and, for PDFs, pages."""

    max_file_bytes: int
    max_pdf_pages: int

    @classmethod
    def from_settings(cls, settings: Any) -> LoadLimits:
        """Limits from a ``civicrag.settings.Settings`` (``limit_file_mb``, ``limit_pdf_pages``)."""
        return cls(
            max_file_bytes=int(settings.limit_file_mb * MB),
            max_pdf_pages=int(settings.limit_pdf_pages),
        )


@dataclass
class Extracted:
    """What a format loader hands to ``metadata.build_document``: text plus hints."""

    text: str
    format: str  # markdown | text | pdf | html
    meta: dict[str, Any] = field(default_factory=dict)  # front matter / sidecar, merged
    title_hint: str | None = None  # first heading, PDF /Title, HTML <title>
    language_hint: str | None = None  # e.g. <html lang="en">
    page_starts: list[int] = field(default_factory=list)
    ocr: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def human_size(n: float) -> str:
    """``73.2 MB``, ``50 MB``, ``1.5 KB``, ``100 bytes``: short and readable in an error line."""
    for unit, scale in (("MB", MB), ("KB", 1024)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{int(n)} bytes"


def is_sidecar(path: Path) -> bool:
    return path.name.lower().endswith(SIDECAR_SUFFIXES)


def sidecar_paths(path: Path) -> list[Path]:
    """Where the sidecar of ``path`` may be (``NAME.EXT.meta.yaml`` first)."""
    return [path.with_name(path.name + suffix) for suffix in SIDECAR_SUFFIXES]


def read_limited(path: Path, limits: LoadLimits) -> bytes:
    """The file's bytes, refusing missing, empty and oversized files before reading them wholly."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise IngestError("file not found") from None
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from None
    if path.is_dir():
        raise IngestError("is a directory, not a file")
    _check_size(st.st_size, limits)
    try:
        with path.open("rb") as fh:
            # Read one byte past the limit: a file that grew after stat() is still caught.
            data = fh.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from None
    _check_size(len(data), limits)
    return data


def _check_size(size: int, limits: LoadLimits) -> None:
    if size == 0:
        raise IngestError("empty file")
    if size > limits.max_file_bytes:
        raise IngestError(f"file is {human_size(size)}, over the {human_size(limits.max_file_bytes)} limit")


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a text file: UTF-8 (BOM stripped), UTF-16 with BOM, else clean CP949/EUC-KR.

    Returns ``(text, encoding)`` with newlines normalised to ``\\n``.
    """
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise IngestError("not valid UTF-16 text (has a UTF-16 byte-order mark)") from None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            legacy = _decode_korean_legacy(data)
            if legacy is None:
                bad = data[exc.start : exc.start + 1].hex()
                raise IngestError(
                    f"not valid UTF-8 text (byte 0x{bad} at offset {exc.start}; not clean CP949 either)"
                ) from None
            text, encoding = legacy, "cp949"
    if "\x00" in text:
        raise IngestError("not valid UTF-8 text (NUL bytes: a binary file?)")
    return normalise_newlines(text.removeprefix("\ufeff")), encoding


def _decode_korean_legacy(data: bytes) -> str | None:
    """Korean text saved by older Windows tools (CP949 ⊇ EUC-KR), accepted only when it reads cleanly.

    CP949 maps many random byte pairs to Hanja, so a successful decode is not
    enough: the result must have no stray control characters and its non-ASCII
    characters must be mostly Hangul.
    """
    try:
        text = data.decode("cp949")
    except UnicodeDecodeError:
        return None
    if _BAD_CONTROL.search(text):
        return None
    non_ascii = sum(1 for ch in text if ord(ch) > 0x7F)
    hangul = len(_HANGUL.findall(text))
    if hangul == 0 or hangul < 0.5 * non_ascii:
        return None
    return text


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def detect_language(text: str) -> Language:
    """``ko`` when Hangul is a substantial share of the letters, else ``en``."""
    sample = text[:_LANGUAGE_SAMPLE]
    letters = len(_LETTER.findall(sample))
    if letters == 0:
        return "en"
    hangul = len(_HANGUL.findall(sample))
    # Korean regulations quote Latin names and numbers, English ones rarely quote
    # Hangul; a fifth of the letters is far beyond either kind of quoting.
    return "ko" if hangul / letters >= 0.2 else "en"


def normalise_language(value: Any) -> Language | None:
    """``ko``/``en`` from front-matter spellings such as ``ko-KR``, ``Korean``, ``한국어``; else None."""
    if not isinstance(value, str):
        return None
    v = value.strip().lower()
    if v.startswith(("ko", "한국")):
        return "ko"
    if v.startswith(("en", "영어")):
        return "en"
    return None


def collapse_spaces(text: str) -> str:
    return " ".join(text.split())


class LineBuffer:
    """Lines of text extracted from a word-processor file, assembled like the Markdown the parsers read.

    ``""`` entries are blank lines: runs of them (empty paragraphs used as spacing) collapse into one,
    and a table is one row per line with a blank line before and after.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def add_table(self, rows: list[str]) -> None:
        if rows:
            self.blank()
            self.lines.extend(rows)
            self.blank()

    def text(self) -> str:
        out: list[str] = []
        for line in self.lines:
            if line == "" and (not out or out[-1] == ""):
                continue
            out.append(line)
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out)

    @staticmethod
    def cell_text(inner: LineBuffer) -> str:
        """A table cell's own paragraphs read as one cell: the row must stay one line."""
        return collapse_spaces(inner.text().replace(" | ", " / "))

