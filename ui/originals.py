"""The original documents behind citations, served by the app.

Only files the index records as the source of an ingested document can be served:
the request names a document id (and version), never a path. PDFs are sent as they are
(the browser opens them at ``#page=N``); Markdown, HTML and text are rendered to
sanitised HTML, so nothing in a document can run in the staff's browser.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from civicrag.ingest.attachments import attachment_files

# Tags and attributes an original may keep after sanitising (nh3 = the Ammonia sanitiser).
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
_ALLOWED_ATTRS = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}

RENDERED_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm"})

# The rendered page may load nothing and run nothing.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'"


def original_file(files: Sequence[Any], version: str | None) -> Path | None:
    """The recorded source file of a document (``RagService.source_files``), the given version first, that
    still exists."""
    rows = sorted(files, key=lambda r: (r.version != version, r.version))
    for row in rows:
        path = Path(row.path)
        if path.is_file():
            return path
    return None


def attachment_file(versions: Sequence[Any], files: Sequence[Any], version: str | None, label: str) -> Path | None:
    """The ingested attachment file (별표 5) of a document version, as the index recorded it in the version's
    metadata (``RagService.document_versions``), else found beside the document's file."""
    rows = sorted(versions, key=lambda r: (r.version != version, r.version))
    for row in rows:
        try:
            attached = json.loads(row.meta_json or "{}").get("attachment_files") or []
        except ValueError:
            continue
        for item in attached:
            if isinstance(item, dict) and item.get("label") == label:
                path = Path(str(item.get("path", "")))
                if path.is_file():
                    return path
    # Moved with its document since it was ingested (same bytes, so not re-ingested): look beside the document.
    document = original_file(files, version)
    if document is not None:
        for found, path in attachment_files(document):
            if found == label:
                return path
    return None


def document_title(versions: Sequence[Any], doc_id: str) -> str:
    return versions[-1].title if versions else doc_id


def sanitise_html(fragment: str) -> str:
    import nh3

    return nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


@cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # html=False: raw HTML in a document is shown as text; markdown-it refuses javascript: links itself.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str) -> str:
    import frontmatter

    try:
        post = frontmatter.loads(text)
        meta, body = dict(post.metadata), post.content
    except Exception:  # a malformed header is still shown, as part of the text
        meta, body = {}, text
    table = ""
    if meta:
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in meta.items()
        )
        table = f"<table class='meta'>{rows}</table>"
    return table + sanitise_html(_markdown().render(body))


def render_original(path: Path, title: str) -> str:
    """A standalone HTML page showing a Markdown, HTML or text original, sanitised."""
    raw = path.read_bytes().decode("utf-8", errors="replace")
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        body = render_markdown(raw)
    elif suffix in (".html", ".htm"):
        body = sanitise_html(raw)
    else:
        body = f"<pre class='plain'>{html.escape(raw)}</pre>"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,-apple-system,'Noto Sans KR','Malgun Gothic',sans-serif;max-width:52rem;"
        "margin:2rem auto;padding:0 1rem;line-height:1.6}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}"
        "table.meta{font-size:.85em;margin-bottom:1.5rem}pre.plain{white-space:pre-wrap}"
        "header{font-size:.85em;color:#555;border-bottom:1px solid #ddd;margin-bottom:1rem}"
        f"</style></head><body><header>{html.escape(path.name)}</header>"
        f"<main>{body}</main></body></html>"
    )
