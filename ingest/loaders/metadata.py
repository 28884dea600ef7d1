"""Front matter (inline or sidecar) → ``Document`` fields, with fallbacks from the file itself.

Korean ordinance front matter (legalize-kr) and the English corpora use
different keys; both map onto the same ``Document`` fields, and whatever is
not a field goes to ``Document.extra`` as JSON-friendly values.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml
from civicrag.ingest.attachments import front_matter_entries
from civicrag.ingest.documents import Document, IngestError, Language
from civicrag.ingest.loaders.common import Extracted, collapse_spaces, normalise_language

from civicrag.legal.language import HANGUL_SYLLABLES, detect_language

# C loader when libyaml is present: the English corpus has a thousand small files.
_YamlLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# ``---`` fence, YAML, ``---`` (or ``...``) fence, each on its own line, at the very start.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?:(.*?)\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FIRST_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)

# Document field ← front-matter keys, Korean (legalize-kr) first, then generic.
_FIELD_KEYS: dict[str, tuple[str, ...]] = {
    "doc_id": ("자치법규ID", "doc_id", "id"),
    "title": ("자치법규명", "title"),
    "kind": ("자치법규종류", "kind"),
    "jurisdiction": ("지자체기관명", "jurisdiction"),
    "effective_date": ("시행일자", "effective_date"),
    "promulgated": ("공포일자", "promulgated"),
    "department": ("담당부서", "department"),
    "source_url": ("출처", "source_url"),
    "language": ("language", "lang"),
}
_CONSUMED = {key for keys in _FIELD_KEYS.values() for key in keys}
# Redundant with fields already kept (the raw 공포일자 and whether it was corrected).
_DROPPED = {"공포일자보정", "공포일자원문", "첨부파일"}

_BODY_SOURCE = "본문출처"
_PARSING_FAILED = "parsing-failed"

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DOTTED_DATE = re.compile(r"^(\d{4})\s*[./]\s*(\d{1,2})\s*[./]\s*(\d{1,2})\.?$")

_KOREAN_KIND = re.compile(r"(조례|규칙)\s*$")
# English kind words (and the abbreviations file names use: 1989-Ord-No54, 2018-Res-No259).
# The earliest word in a text wins: "Code of Ordinances and Charter" is a code.
_ENGLISH_KIND = re.compile(
    r"(?<![A-Za-z])(?<!non-)(zoning|charter|resolutions?|res|ordinances?|ord|code)(?![A-Za-z])", re.IGNORECASE
)
_KIND_OF_WORD = {
    "zoning": "zoning",
    "charter": "charter",
    "resolution": "resolution",
    "resolutions": "resolution",
    "res": "resolution",
    "ordinance": "ordinance",
    "ordinances": "ordinance",
    "ord": "ordinance",
    "code": "code",
}
# Korean regulation titles open with the enacting government: "제주특별자치도 …", "서귀포시 …".
_KOREAN_JURISDICTION = re.compile(
    rf"^([{HANGUL_SYLLABLES}]{{2,12}}(?:특별자치도|특별자치시|특별시|광역시|도|시|군|구))\s"
)
_DC_CITATION = re.compile(r"^\s*D\.\s?C\.\s+(?:Official\s+)?Code\b")


def split_front_matter(text: str) -> tuple[dict[str, Any], str, bool]:
    """``(front matter, body, had_front_matter)``; the body is the text after the closing fence, untouched."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text, False
    meta = parse_yaml_mapping(match.group(1) or "", what="YAML front matter", line_offset=1)
    return meta, text[match.end() :], True


def parse_yaml_mapping(source: str, *, what: str, line_offset: int = 0) -> dict[str, Any]:
    """A YAML mapping or ``IngestError("invalid <what>: <short reason>")``."""
    try:
        data = yaml.load(source, Loader=_YamlLoader)  # a safe loader (CSafeLoader/SafeLoader)
    except yaml.YAMLError as exc:
        raise IngestError(f"invalid {what}: {_yaml_reason(exc, line_offset)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise IngestError(f"invalid {what}: expected a mapping of keys, got {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def _yaml_reason(exc: yaml.YAMLError, line_offset: int) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1 + line_offset})" if mark is not None else ""
    return collapse_spaces(f"{problem}{where}")


def first_markdown_heading(body: str) -> str | None:
    match = _FIRST_H1.search(body)
    return collapse_spaces(match.group(1)) if match else None


def iso_date(value: Any) -> str | None:
    """``YYYY-MM-DD`` from a YAML date, ``'2023-11-20'``, ``'20231120'`` or ``'2023. 11. 20.'``; else None."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    s = value.strip()
    for pattern in (_ISO_DATE, _COMPACT_DATE, _DOTTED_DATE):
        match = pattern.match(s)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups())).isoformat()
            except ValueError:
                return None
    return None


def jsonable(value: Any) -> Any:
    """Extra values as JSON types only (dates → ISO strings), so any store can keep them."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _first(meta: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = meta.get(key)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return value
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = collapse_spaces(str(value))
    return s or None


def _guess_english_kind(*texts: str | None) -> str | None:
    for text in texts:
        if text:
            match = _ENGLISH_KIND.search(text)
            if match:
                return _KIND_OF_WORD[match.group(1).lower()]
    return None


def _fallback_doc_id(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.name


def build_document(ex: Extracted, path: Path, root: Path | None) -> Document:
    """Assemble the ``Document``; refuses placeholder bodies and empty texts."""
    meta = ex.meta
    # Known before the body is checked: a document without a body is still remembered by name.
    title = _text(_first(meta, _FIELD_KEYS["title"])) or _text(ex.title_hint) or path.stem
    doc_id = _text(_first(meta, _FIELD_KEYS["doc_id"])) or _fallback_doc_id(path, root)
    if str(meta.get(_BODY_SOURCE, "")).strip() == _PARSING_FAILED:
        # The published file holds a placeholder sentence instead of the law: indexing it would
        # make the ordinance look answerable when it is not.
        raise IngestError(f"document has no body ({_BODY_SOURCE}: {_PARSING_FAILED})", doc_id=doc_id, title=title)
    if not ex.text.strip():
        if meta:
            raise IngestError("document has no body", doc_id=doc_id, title=title)
        raise IngestError("empty file")  # nothing names a document: there is nothing to remember

    extra: dict[str, Any] = {}
    raw_dates: dict[str, Any] = {}
    for key, value in meta.items():
        if key in _CONSUMED or key in _DROPPED or value is None or value == "":
            continue  # empty values ('제개정구분': '') tell nobody anything
        extra[key] = jsonable(value)
    attachments = meta.get("첨부파일")
    if isinstance(attachments, list):
        titles = [str(a["제목"]) for a in attachments if isinstance(a, dict) and a.get("제목")]
        if titles:
            extra["attachments"] = titles
        entries = front_matter_entries(attachments)
        if entries:  # label, title, kind, format and link of each, for citations ("첨부: [별표 5] …")
            extra["attachment_entries"] = [e.to_json() for e in entries]

    language: Language = (
        normalise_language(_first(meta, _FIELD_KEYS["language"]))
        or normalise_language(ex.language_hint)
        or detect_language(ex.text, empty="en")  # a text with no letter is read as English
    )

    kind = _text(_first(meta, _FIELD_KEYS["kind"]))
    if not kind:
        korean = _KOREAN_KIND.search(title)
        kind = korean.group(1) if korean else None
    if not kind:
        kind = _guess_english_kind(
            title,
            _text(meta.get("doc_type")),
            _text(meta.get("citation")),
            _text(_first(meta, _FIELD_KEYS["doc_id"])),
            path.stem,
        )

    jurisdiction = _text(_first(meta, _FIELD_KEYS["jurisdiction"]))
    if not jurisdiction:
        citation = _text(meta.get("citation")) or ""
        korean_jurisdiction = _KOREAN_JURISDICTION.match(title)
        if _DC_CITATION.match(citation):
            jurisdiction = "District of Columbia"
        elif language == "ko" and korean_jurisdiction:
            jurisdiction = korean_jurisdiction.group(1)

    dates: dict[str, str | None] = {}
    for name in ("effective_date", "promulgated"):
        raw = _first(meta, _FIELD_KEYS[name])
        dates[name] = iso_date(raw)
        if raw is not None and dates[name] is None:
            raw_dates[name] = jsonable(raw)  # keep what could not be read, for the maintainer
    if raw_dates:
        extra["unparsed_dates"] = raw_dates

    extra.update(ex.extra)
    return Document(
        doc_id=doc_id,
        title=title,
        text=ex.text,
        source=str(path),
        format=ex.format,
        language=language,
        kind=kind or "document",
        jurisdiction=jurisdiction or "",
        effective_date=dates["effective_date"],
        promulgated=dates["promulgated"],
        department=_text(_first(meta, _FIELD_KEYS["department"])),
        source_url=_text(_first(meta, _FIELD_KEYS["source_url"])),
        page_starts=list(ex.page_starts),
        ocr=ex.ocr,
        extra=extra,
    )
