"""Helpers shared by the format loaders: limits, reading, decoding, language names, sidecars.

Everything that can fail raises ``IngestError`` with a one-line reason and no
path: the caller prefixes the path when it reports the file.
"""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civicrag.ingest.documents import IngestError, Language

from civicrag.legal.language import HANGUL_LETTER

# ``limits.file_mb`` in the settings counts binary megabytes, like most upload limits.
MB = 1024 * 1024

# Sidecars carry front matter for formats that cannot hold it (PDF, HTML): ``x.pdf.meta.yaml``.
SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml")

# Control characters that never occur in real text files (tab, newlines and form feed do).
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# C1 controls: what Latin-1 makes of bytes 0x80-0x9F, which real Western text files do not hold.
_C1_CONTROL = re.compile(r"[\x80-\x9f]")


# The defaults of the ``limits.chars`` and ``limits.part_mb`` settings (see civicrag/settings.py for why these
# numbers), for callers that build LoadLimits by hand.
DEFAULT_MAX_CHARS = 8_000_000
DEFAULT_MAX_PART_BYTES = 32 * MB
# All the parts one file unpacks together may take this many times the per-part cap: a zip of a thousand
# parts each under the cap is a bomb too.
PARTS_TOTAL_FACTOR = 4


@dataclass(frozen=True)
class LoadLimits:
    """What a single file may cost: bytes on disk, PDF pages, characters of text, and bytes unpacked
    from each compressed part of a container (HWPX/DOCX zip members, HWP streams)."""

    max_file_bytes: int
    max_pdf_pages: int
    max_chars: int = DEFAULT_MAX_CHARS
    max_part_bytes: int = DEFAULT_MAX_PART_BYTES

    @classmethod
    def from_settings(cls, settings: Any) -> LoadLimits:
        """Limits from a ``civicrag.settings.Settings`` (``limits.file_mb``, ``limits.pdf_pages``,
        ``limits.chars``, ``limits.part_mb``)."""
        return cls(
            max_file_bytes=int(settings.limits.file_mb * MB),
            max_pdf_pages=int(settings.limits.pdf_pages),
            max_chars=int(getattr(settings.limits, "chars", DEFAULT_MAX_CHARS)),
            max_part_bytes=int(getattr(settings.limits, "part_mb", DEFAULT_MAX_PART_BYTES / MB) * MB),
        )

    def check_chars(self, n_chars: int, *, partial: bool = False, **names: Any) -> None:
        """Refuse text over ``max_chars``; ``partial`` when only part of the file has been read so far.

        ``names`` (``doc_id``, ``title``) go into the error so the document is known to be unreadable.
        """
        if n_chars <= self.max_chars:
            return
        limit = f"the {self.max_chars:,}-character limit (setting limit_chars)"
        if partial:
            raise IngestError(f"extracted text is over {limit}", **names)
        raise IngestError(f"extracted text is {n_chars:,} characters, over {limit}", **names)


class PartBudget:
    """Bytes the compressed parts of one container file may unpack to, counted while they are unpacked.

    Each part may give at most ``limits.max_part_bytes``; all parts read from one file together at most
    ``PARTS_TOTAL_FACTOR`` times that. A part is refused as soon as it passes its cap, from its declared
    size when the container states one, else while inflating: a bomb is never unpacked to find out.
    """

    _STEP = 1 << 16

    def __init__(self, limits: LoadLimits, fmt: str):
        self.cap = limits.max_part_bytes
        self.total_cap = limits.max_part_bytes * PARTS_TOTAL_FACTOR
        self.fmt = fmt
        self.used = 0

    def _over(self, name: str) -> IngestError:
        return IngestError(
            f"{self.fmt} part {name} unpacks to over {human_size(self.cap)} (setting limit_part_mb)"
        )

    def _spend(self, n: int) -> None:
        self.used += n
        if self.used > self.total_cap:
            raise IngestError(
                f"{self.fmt} parts unpack to over {human_size(self.total_cap)} together "
                f"({PARTS_TOTAL_FACTOR} x setting limit_part_mb)"
            )

    def check_declared(self, name: str, size: int) -> None:
        """Refuse a part by the size its container declares, before unpacking anything."""
        if size > self.cap:
            raise self._over(name)

    def read_zip_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        """A zip member's bytes, read in steps and refused the moment they pass the cap.

        Errors of the archive itself (bad CRC, encrypted members, damaged deflate data) propagate
        for the caller to word as its format's corruption.
        """
        self.check_declared(info.filename, info.file_size)
        out = bytearray()
        with archive.open(info) as member:
            while step := member.read(self._STEP):
                out += step
                self._spend(len(step))
                if len(out) > self.cap:
                    raise self._over(info.filename)
        return bytes(out)

    def inflate_raw(self, raw: bytes, name: str) -> bytes:
        """Raw deflate data (no zlib header) inflated to at most the cap; ``zlib.error`` propagates."""
        inflater = zlib.decompressobj(-15)
        out = inflater.decompress(raw, self.cap + 1)
        if len(out) > self.cap:
            raise self._over(name)
        self._spend(len(out))
        return out

    def take(self, name: str, size: int) -> None:
        """Count a part that is read as stored (not compressed) against the caps."""
        self.check_declared(name, size)
        self._spend(size)


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
        raise IngestError("file not found", transient=True) from None
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}", transient=True) from None
    if path.is_dir():
        raise IngestError("is a directory, not a file")
    _check_size(st.st_size, limits)
    try:
        with path.open("rb") as fh:
            # One byte past the size stat() gave (read() allocates what it is asked for, so not the limit):
            # a file that grew since is read on, one byte past the limit, and still caught.
            data = fh.read(st.st_size + 1)
            if len(data) > st.st_size:
                data += fh.read(limits.max_file_bytes + 1 - len(data))
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}", transient=True) from None
    _check_size(len(data), limits)
    return data


def _check_size(size: int, limits: LoadLimits) -> None:
    if size == 0:
        raise IngestError("empty file")
    if size > limits.max_file_bytes:
        raise IngestError(f"file is {human_size(size)}, over the {human_size(limits.max_file_bytes)} limit")


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a text file: UTF-8 (BOM stripped), UTF-16 with BOM, else a legacy encoding that reads cleanly.

    Returns ``(text, encoding)`` with newlines normalised to ``\\n``; ``encoding`` is the Python codec name
    (``utf-8``, ``utf-16``, ``cp949``, ``cp1252`` …), noted in the document's metadata when not UTF-8.
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
            if b"\x00" in data:
                raise IngestError("not valid UTF-8 text (NUL bytes: a binary file?)") from None
            legacy = _decode_legacy(data)
            if legacy is None:
                bad = data[exc.start : exc.start + 1].hex()
                raise IngestError(
                    f"not valid UTF-8 text (byte 0x{bad} at offset {exc.start}), nor clean text in "
                    f"{_LEGACY_NAMES}"
                ) from None
            text, encoding = legacy
    if "\x00" in text:
        raise IngestError("not valid UTF-8 text (NUL bytes: a binary file?)")
    return normalise_newlines(text.removeprefix("\ufeff")), encoding


# The legacy encodings regulations for Korean and English-speaking staff come in: Korean Windows (CP949, a
# superset of EUC-KR) and Western European (Windows-1252, a superset of Latin-1's printable characters, and
# Latin-9). Detection is limited to these on purpose: over every code page, a short English text with one
# "é" is as likely Baltic (cp775 'ķ') as Western, and a short Korean one Big5.
_LEGACY_ENCODINGS = ("cp949", "euc_kr", "cp1252", "latin_1", "iso8859_15")
_LEGACY_NAMES = "CP949/EUC-KR, Windows-1252, Latin-1 or Latin-9"
_KOREAN_CODECS = frozenset({"cp949", "euc_kr"})
# Western European text is mostly ASCII (accents are a few per cent of French or German letters); bytes
# that decode to a run of accented letters and symbols are binary or a wrong guess.
_MAX_NON_ASCII_SHARE = 0.25


def _decode_legacy(data: bytes) -> tuple[str, str] | None:
    """``(text, codec)`` in the legacy encoding charset-normalizer finds, when the result reads cleanly."""
    from charset_normalizer import from_bytes  # only non-UTF-8 files need it

    for match in from_bytes(data, cp_isolation=list(_LEGACY_ENCODINGS)):
        text = str(match)
        if _reads_cleanly(text, korean=match.encoding in _KOREAN_CODECS):
            return text, match.encoding
    return None


def _reads_cleanly(text: str, *, korean: bool) -> bool:
    """Whether a legacy decoding is text rather than a guess: no stray control characters, and its
    non-ASCII characters mostly Hangul (Korean: CP949 maps many random byte pairs to Hanja) or few
    (Western: random bytes decode to runs of accented letters and C1 controls)."""
    if _BAD_CONTROL.search(text) or _C1_CONTROL.search(text):
        return False
    non_ascii = sum(1 for ch in text if ord(ch) > 0x7F)
    if korean:
        hangul = len(HANGUL_LETTER.findall(text))
        return hangul > 0 and hangul >= 0.5 * non_ascii
    visible = sum(1 for ch in text if not ch.isspace())
    return non_ascii <= _MAX_NON_ASCII_SHARE * visible


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


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

