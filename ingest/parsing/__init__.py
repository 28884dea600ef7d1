"""Structure-aware parsing: a loaded Document becomes a list of citable Provisions.

Korean regulations split at 조 (with 항/호/목 units), English codes at sections,
and anything without legal structure (manuals, notes) falls back to heading-
and paragraph-aware passages.
"""

from __future__ import annotations

from civicrag.ingest.documents import Document, Provision
from civicrag.ingest.parsing import english, generic, korean


def parse_document(doc: Document) -> list[Provision]:
    """Split ``doc`` into provisions, choosing the parser by language and by what the text contains."""
    provisions = korean.parse(doc) if doc.language == "ko" else english.parse(doc)
    if not provisions:
        provisions = generic.parse(doc)
    return provisions


__all__ = ["parse_document"]
