"""Markdown and plain text, with optional YAML front matter.

The body is passed on as written: the parsers downstream read headings, raw
HTML tables and amendment notes such as ``<개정 2019.4.11.>`` that only look
like tags, so nothing is stripped here.
"""

from __future__ import annotations

from typing import Any

from civicrag.ingest.documents import IngestError
from civicrag.ingest.loaders.common import Extracted, decode_text
from civicrag.ingest.loaders.metadata import first_markdown_heading, split_front_matter


def extract_markdown(data: bytes, fmt: str, sidecar: dict[str, Any]) -> Extracted:
    text, encoding = decode_text(data)
    if not text.strip():
        raise IngestError("empty file")
    inline, body, _had_front_matter = split_front_matter(text)
    # Inline front matter describes the file most directly, so it wins over a sidecar.
    meta = {**sidecar, **inline}
    extra: dict[str, Any] = {"encoding": encoding} if encoding != "utf-8" else {}
    return Extracted(
        text=body,
        format=fmt,
        meta=meta,
        title_hint=first_markdown_heading(body) if fmt == "markdown" else None,
        extra=extra,
    )
