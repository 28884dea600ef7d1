"""Attachments (별표, 별지 서식) of a regulation: the front matter's list, and files laid beside the document.

law.go.kr publishes a 조례's fee tables and forms as separate HWP/HWPX/PDF files; the Markdown lists them
in ``첨부파일`` (번호, 구분, 제목, 파일형식, 파일링크) but holds none of their text. When the file itself is
put beside the document under the naming convention below, it is ingested as its own provision of that
document (``별표 5``, provision kind ``appendix``, same ``doc_id`` and version), its tables as rows, so a
fee table is answered and cited as 「…」 별표 5.

Naming convention (documented in corpus/README.md)::

    <document file stem>.<label>.<hwp|hwpx|pdf|docx>

    sample-parking-ordinance.md            the document
    sample-parking-ordinance.별표1.docx     its [별표 1]
    2117853.별표5의2.hwpx                   [별표 5의2] of 2117853.md
    2117853.별지3.hwp                       [별지 제3호서식]
    2117853.별표.pdf                        the only, unnumbered [별표]

Being named after the file (not the document id) ties an attachment to one version: the older version
``versions/2117284/2023-01-01.md`` takes ``versions/2117284/2023-01-01.별표1.hwp``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civicrag.legal import grammar
from civicrag.legal.grammar import form_label as form_label
from civicrag.legal.grammar import table_label as table_label
from civicrag.legal.grammar import title_label as title_label
from civicrag.legal.types import Provision

ATTACHMENT_SUFFIXES = frozenset({".hwp", ".hwpx", ".pdf", ".docx"})
_SAFE_URL = re.compile(r"^https?://", re.IGNORECASE)


def file_label(path: Path) -> tuple[str, str] | None:
    """``(document stem, label)`` of a file named by the convention, or None."""
    if path.suffix.lower() not in ATTACHMENT_SUFFIXES:
        return None
    m = grammar.FILE_LABEL.match(path.name[: -len(path.suffix)])
    if not m:
        return None
    num = int(m.group("num")) if m.group("num") else None
    branch = int(m.group("branch")) if m.group("branch") else None
    if m.group("kind") == "별지":
        if num is None:
            return None
        return m.group("stem"), form_label(num, branch)
    return m.group("stem"), table_label(num, branch)


def attachment_files(document: Path) -> list[tuple[str, Path]]:
    """``(label, path)`` of the attachment files laid beside ``document``, in label order."""
    try:
        siblings = list(document.parent.iterdir())
    except OSError:
        return []
    out = []
    for sibling in siblings:
        found = file_label(sibling)
        if found and found[0] == document.stem and sibling.is_file() and not sibling.name.startswith("."):
            out.append((found[1], sibling))
    return sorted(out, key=lambda item: (_sort_key(item[0]), item[1].name))


def _sort_key(label: str) -> tuple[int, int, int]:
    numbers = [int(n) for n in re.findall(r"\d+", label)] + [0, 0]
    return (0 if label.startswith("별표") else 1, numbers[0], numbers[1])


@dataclass(frozen=True)
class Entry:
    """One attachment the front matter lists (``첨부파일``)."""

    label: str  # "별표 5", "별지 제1호서식", "별표"
    title: str  # "[별표 5] 공영주차장 요금", as listed
    kind: str = ""  # 별표구분: 별표 | 서식
    format: str = ""  # 파일형식: hwp, hwpx, pdf …
    url: str = ""  # 파일링크 (http/https only)

    def to_json(self) -> dict[str, str]:
        return {"label": self.label, "title": self.title, "kind": self.kind, "format": self.format, "url": self.url}


def front_matter_entries(value: Any) -> list[Entry]:
    """The ``첨부파일`` list of legalize-kr front matter as entries; items without a readable label are left out."""
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        if not isinstance(item, dict) or not item.get("제목"):
            continue
        title = " ".join(str(item["제목"]).split())
        found = title_label(title)
        if found is None:
            continue
        url = str(item.get("파일링크") or "").strip()
        out.append(
            Entry(
                label=found[0],
                title=title,
                kind=str(item.get("별표구분") or "").strip(),
                format=str(item.get("파일형식") or "").strip().lower(),
                url=url if _SAFE_URL.match(url) else "",
            )
        )
    return out


def _own(text: str, start: int) -> bool:
    before = text[max(0, start - 12) : start]
    return bool(grammar.THIS_LAW_BEFORE.search(before)) or not grammar.OTHER_LAW_BEFORE.search(before)


def references(text: str, known: set[str]) -> list[str]:
    """Labels of this document's attachments that ``text`` refers to, in order of first mention."""
    found: list[tuple[int, str]] = []
    for m in grammar.TABLE_REF.finditer(text):
        if _own(text, m.start()):
            found.append((m.start(), table_label(int(m.group(1)), int(m.group(2)) if m.group(2) else None)))
    if "별표" in known:
        found.extend((m.start(), "별표") for m in grammar.BARE_TABLE_REF.finditer(text) if _own(text, m.start()))
    for m in grammar.FORM_REF.finditer(text):
        found.append((m.start(), form_label(int(m.group(1)), int(m.group(2)) if m.group(2) else None)))
    out: list[str] = []
    for _, label in sorted(found):
        if label in known and label not in out:
            out.append(label)
    return out


# -- an attachment file as a provision ------------------------------------------------------------

_MD_HEADING = re.compile(r"^\s*#{1,6}\s+")


def appendix_provision(label: str, title: str, text: str, offset: int) -> Provision:
    """The attachment's text as one provision: ``[별표 5] 제목`` then its lines, each table row readable alone.

    ``offset`` is where the provision sits in the document's text (its end: an attachment has no page there).
    """
    lines = [_MD_HEADING.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    header = f"[{label}] {title}".strip()
    if lines and title_label(lines[0]) is not None and title_label(lines[0])[0] == label:  # type: ignore[index]
        lines = lines[1:]  # the file repeats its own "[별표 5] …" line
    body = "\n".join(rows_with_headers(lines))
    return Provision(
        article=label,
        article_title=title,
        text=f"{header}\n{body}" if body else header,
        start=offset,
        end=offset,
        kind="appendix",
    )


def rows_with_headers(lines: list[str]) -> list[str]:
    """Table rows (cells joined by `` | ``) that read alone: each cell after the first is prefixed with its
    column's heading, ``노외주차장 | 최초 30분: 600원 | 1일 주차권: 8,000원``, so a row quoted by itself still
    says what each figure is. The heading row stays as it is; rows with another cell count too."""
    out: list[str] = []
    header: list[str] | None = None
    for line in lines:
        cells = [c.strip() for c in line.split(" | ")] if " | " in line else None
        if cells is None:
            header = None
            out.append(line)
            continue
        if header is None or len(cells) != len(header):
            header = cells if header is None else header
            out.append(line)
            continue
        named = (f"{h}: {c}" if h and c else c for h, c in zip(header[1:], cells[1:], strict=True))
        out.append(" | ".join([cells[0], *named]))
    return out


def chunk_attachments(text: str, entries: dict[str, dict[str, Any]]) -> str:
    """The chunk metadata value (JSON text) naming the attachments ``text`` refers to; "" for none."""
    labels = references(text, set(entries))
    return json.dumps([entries[label] for label in labels], ensure_ascii=False) if labels else ""
