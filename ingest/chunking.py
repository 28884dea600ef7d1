"""Provisions → chunks: one article per chunk when it fits the embedder's window.

A longer article is split at its unit boundaries (항/호, or (a)/(b) subsections),
each part repeating the article's header line so it still reads (and embeds) as
that article. Every chunk carries the metadata a citation needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from civicrag.legal.references import document_aliases, extract, to_json
from civicrag.legal.types import Chunk, Document, Provision, sha256_text
from civicrag.legal.types import UnitSpan as Unit
from civicrag.legal.units import chunk_embed_text, context_line

TokenCounter = Callable[[str], int]

# When a single unit is still too long, cut it at sentence ends (Korean 다. / English . ! ?).
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|(?<=다\.)\s*|\n+")


def chunk_document(
    doc: Document,
    provisions: list[Provision],
    count_tokens: TokenCounter,
    max_tokens: int,
    version: str,
    version_hash: str,
) -> list[Chunk]:
    """Chunks for one document version, in document order, with stable ids."""
    chunks: list[Chunk] = []
    # The short names the document defines ("법", "영", "조례") resolve every provision's references.
    aliases = document_aliases(doc.text, doc.title) if doc.language == "ko" else {}
    for provision in provisions:
        # Document title and enclosing headings: embedded with the text so "이 조례" has a referent.
        context = context_line(doc.title, provision.heading_path)
        parts = _split(provision, context, count_tokens, max_tokens)
        for part_text, paragraph in parts:
            seq = len(chunks)
            metadata = _metadata(doc, provision, part_text, paragraph, seq, version)
            metadata["references"] = _references(doc, provision, part_text, aliases, len(parts) > 1)
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}@{version}#{version_hash[:12]}-{seq:04d}",
                    text=part_text,
                    embed_text=chunk_embed_text(doc.title, provision.heading_path, part_text),
                    metadata=metadata,
                )
            )
    return chunks


def _references(doc: Document, provision: Provision, text: str, aliases: dict[str, str], split: bool) -> str:
    """The statutes and regulations the chunk cites, as the JSON string chunk metadata holds (Korean only).

    A part of a split article is read after the text before it, so its "같은 법" finds the Act named there.
    """
    if doc.language != "ko":
        return to_json([])
    preceding = ""
    if split:
        body = text.split("\n", 1)[-1].strip()
        at = provision.text.find(body[:80]) if body else -1
        preceding = provision.text[:at] if at > 0 else ""
    return to_json(extract(text, aliases, doc.title, preceding))


def _split(
    provision: Provision, context: str, count_tokens: TokenCounter, max_tokens: int
) -> list[tuple[str, str]]:
    """(text, paragraph label) parts of a provision, each within ``max_tokens`` with its context."""
    text = provision.text.strip()
    budget = max_tokens - (count_tokens(context) if context else 0)
    if count_tokens(text) <= budget or not text:
        return [(text, "")]
    header, _, _ = text.partition("\n")
    units = _units_or_lines(provision)
    # Budget for the body of each part: the header is repeated on every part.
    body_budget = max(32, budget - count_tokens(header))
    pieces: list[tuple[str, str]] = []  # (unit text, unit label), each within body_budget
    for unit in units:
        unit_text = provision.text[unit.start : unit.end].strip()
        if unit.start == 0 and unit_text.startswith(header):
            unit_text = unit_text[len(header) :].strip()  # the lead-in unit carries the header itself
        if not unit_text:
            continue
        if count_tokens(unit_text) <= body_budget:
            pieces.append((unit_text, unit.label))
        else:
            pieces.extend((s, unit.label) for s in _split_long(unit_text, count_tokens, body_budget))
    parts: list[tuple[str, str]] = []
    current: list[tuple[str, str]] = []
    for piece in pieces:
        candidate = [*current, piece]
        if current and count_tokens("\n".join(t for t, _ in candidate)) > body_budget:
            parts.append(_assemble(header, current))
            current = [piece]
        else:
            current = candidate
    if current:
        parts.append(_assemble(header, current))
    return parts


def _assemble(header: str, pieces: list[tuple[str, str]]) -> tuple[str, str]:
    labels = [label for _, label in pieces if label]
    if not labels:
        paragraph = ""
    elif labels[0] == labels[-1]:
        paragraph = labels[0]
    else:
        paragraph = f"{labels[0]}–{labels[-1]}"
    return header + "\n" + "\n".join(t for t, _ in pieces), paragraph


def _units_or_lines(provision: Provision) -> list[Unit]:
    """The parser's units, or one unit per line when it found none."""
    if provision.units:
        return provision.units
    units, offset = [], 0
    for line in provision.text.splitlines(keepends=True):
        units.append(Unit(label="", start=offset, end=offset + len(line)))
        offset += len(line)
    return units


def _split_long(text: str, count_tokens: TokenCounter, budget: int) -> list[str]:
    """Greedy sentence packing; a sentence longer than the budget is cut by characters."""
    sentences = [s for s in _SENTENCE_END.split(text) if s and s.strip()]
    out: list[str] = []
    current = ""
    for sentence in sentences:
        while count_tokens(sentence) > budget:
            # Halve by characters until it fits: rare (tables, run-on lists), keeps every character.
            cut = max(1, len(sentence) // 2)
            while cut > 1 and count_tokens(sentence[:cut]) > budget:
                cut //= 2
            if current:
                out.append(current)
                current = ""
            out.append(sentence[:cut])
            sentence = sentence[cut:]
        candidate = f"{current} {sentence}".strip() if current else sentence
        if current and count_tokens(candidate) > budget:
            out.append(current)
            current = sentence
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def _metadata(
    doc: Document, provision: Provision, text: str, paragraph: str, seq: int, version: str
) -> dict[str, str | int | float | bool]:
    page_start = doc.page_at(provision.start) or 0
    page_end = doc.page_at(max(provision.start, provision.end - 1)) or 0
    ocr = doc.ocr
    ocr_pages = doc.extra.get("ocr_pages")
    if ocr_pages and not doc.extra.get("ocr_text_layer"):
        # In a mixed PDF only the chunks on OCR'd pages carry the "check the original" warning.
        ocr = any(page_start <= int(p) <= page_end for p in ocr_pages)
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "kind": doc.kind,
        "jurisdiction": doc.jurisdiction,
        "language": doc.language,
        "article": provision.article,
        "article_title": provision.article_title,
        "provision_kind": provision.kind,
        "heading_path": " > ".join(provision.heading_path),
        "paragraph": paragraph,
        "page_start": page_start,
        "page_end": page_end,
        "effective_date": doc.effective_date or "",
        "promulgated": doc.promulgated or "",
        "department": doc.department or "",
        "source": doc.source,
        "source_url": doc.source_url or "",
        "format": doc.format,
        "ocr": ocr,
        "version": version,
        "seq": seq,
        "content_hash": sha256_text(text),
    }
