"""The amendment comparison (신구조문 대비) in the web app: a page laying two versions of a document side by side.

``GET /diff?id=DOC[&from=DATE][&to=DATE][&all=1][&lang=en]`` — the law.go.kr 신구법 비교 layout: the older
version on the left, the newer on the right, article by article; added, deleted and changed 조/항/호 marked,
and inside a changed 항 the words that changed (``<del>`` left, ``<ins>`` right). Unchanged 항/호 of a changed
article fold into "(생략) | (현행과 같음)" unless ``all=1``. ``GET /api/diff`` returns the same comparison as
``civicrag diff --json``. Both routes are in ``ui.api.amendments``; this module builds what they show.

The page is reached from a citation in the sources panel (``ComparisonLinks``: only for documents with two
or more versions) and from the admin console's documents list (``compare_cell``). Everything shown from a
document is escaped; the page runs no script (its Content-Security-Policy allows none).
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlencode

from civicrag.rag.amendments import (
    ArticleChange,
    Comparison,
    Hunk,
    UnitChange,
    Version,
)
from civicrag.ui.originals import CSP

# The page may submit its own version picker (GET /diff) and nothing else.
PAGE_CSP = CSP.replace("form-action 'none'", "form-action 'self'")

STRINGS: dict[str, dict[str, str]] = {
    "ko": {
        "title": "신구조문 대비", "old": "종전", "new": "개정", "effective": "시행", "current": "현행",
        "superseded": "개정 전", "added": "신설", "deleted": "삭제", "changed": "개정", "unchanged": "변경 없음",
        "omitted": "(생략)", "same": "(현행과 같음)", "none": "(없음)", "compare": "비교", "all": "전체 조문 보기",
        "summary": "바뀐 조문 {n}개 (신설 {a} · 개정 {c} · 삭제 {d}) · 항/호 신설 {ua} · 개정 {uc} · 삭제 {ud}",
        "no_change": "두 판의 본문에 차이가 없습니다.",
        "legend": "표시: <ins>추가된 글자</ins> · <del>삭제된 글자</del> · 행 색: 신설 / 삭제 / 개정",
        "from": "종전 판", "to": "개정 판", "link": "신구조문 대비",
    },
    "en": {
        "title": "Amendment comparison", "old": "Before", "new": "After", "effective": "in force from",
        "current": "current", "superseded": "superseded", "added": "added", "deleted": "deleted",
        "changed": "amended", "unchanged": "unchanged", "omitted": "(omitted)", "same": "(unchanged)",
        "none": "(none)", "compare": "Compare", "all": "Show every article",
        "summary": "{n} provisions changed ({a} added · {c} amended · {d} deleted) · 항/호: {ua} added · "
        "{uc} amended · {ud} deleted",
        "no_change": "The two versions' texts do not differ.",
        "legend": "Marks: <ins>inserted words</ins> · <del>deleted words</del> · row colour: added / deleted / amended",
        "from": "Older version", "to": "Newer version", "link": "Compare versions",
    },
}


def s(lang: str, key: str, **values: Any) -> str:
    text = STRINGS.get(lang, STRINGS["ko"])[key]
    return text.format(**values) if values else text


# -- data --------------------------------------------------------------------------------------------------
class VersionedIndex(Protocol):
    """What the comparison reads of the index; ``RagService`` answers all three."""

    def index_generation(self) -> int: ...

    def document_versions(self, doc_id: str | None = None) -> list[Any]: ...

    def current_catalogue(self) -> Any: ...


class CatalogueCache:
    """The catalogue (every live chunk) of the index's current generation, loaded once per generation."""

    def __init__(self, index: VersionedIndex):
        self._index = index
        self._lock = threading.Lock()
        self._loaded: tuple[int, Any] | None = None

    def get(self) -> Any:
        generation = self._index.index_generation()
        with self._lock:
            if self._loaded is None or self._loaded[0] != generation:
                self._loaded = (generation, self._index.current_catalogue())
            return self._loaded[1]


class ComparisonLinks:
    """Where a citation's document can be compared: ``url(citation)`` for a document with two or more indexed
    versions (the cited version against the one before it, or, for the earliest, the one after), else None."""

    def __init__(self, index: VersionedIndex):
        self._index = index
        self._lock = threading.Lock()
        self._loaded: tuple[int, dict[str, list[str]]] | None = None

    def _versions(self) -> dict[str, list[str]]:
        generation = self._index.index_generation()
        with self._lock:
            if self._loaded is None or self._loaded[0] != generation:
                by_doc: dict[str, list[str]] = {}
                for row in self._index.document_versions():  # ordered by validity within each document
                    by_doc.setdefault(row.doc_id, []).append(row.version)
                self._loaded = (generation, by_doc)
            return self._loaded[1]

    def url(self, citation: Mapping[str, Any], lang: str = "ko") -> str | None:
        doc_id = str(citation.get("doc_id") or "")
        found = self._versions().get(doc_id, [])
        if len(found) < 2:
            return None
        cited = str(citation.get("effective_date") or "") or "undated"
        at = found.index(cited) if cited in found else len(found) - 1
        params = {"id": doc_id, "to": found[at]} if at > 0 else {"id": doc_id, "from": found[0], "to": found[1]}
        if lang != "ko":
            params["lang"] = lang
        article = str(citation.get("article") or "")
        return diff_url(params) + (f"#{anchor(article)}" if article else "")

    def count(self, doc_id: str) -> int:
        return len(self._versions().get(doc_id, []))


def diff_url(params: Mapping[str, str]) -> str:
    return "/diff?" + urlencode(params)


def compare_cell(doc_id: str, version_count: int) -> str:
    """The admin documents list's cell: a Markdown link to the comparison, for a document with several versions."""
    if version_count < 2:
        return ""
    return f"[{s('ko', 'link')} ↗]({diff_url({'id': doc_id})})"


def anchor(key: str) -> str:
    """An element id for an article: ``art-제4조``, ``art-부칙-제885호-2025-6-13``."""
    return "art-" + (re.sub(r"[^\w]+", "-", key).strip("-") or "x")


# -- page --------------------------------------------------------------------------------------------------
def comparison_page(c: Comparison, lang: str = "ko", show_all: bool = False) -> str:
    """The whole page: header with the version picker and summary, then the two-column table."""
    e = html.escape
    summary = c.summary()
    rows: list[str] = []
    articles = c.articles if show_all else c.changed
    for article in articles:
        rows.extend(_article_rows(article, lang, show_all))
    table = (
        "<table class='cmp'><colgroup><col><col></colgroup><thead><tr>"
        f"<th scope='col'>{e(s(lang, 'old'))} · {e(_version_label(c.old, lang))}</th>"
        f"<th scope='col'>{e(s(lang, 'new'))} · {e(_version_label(c.new, lang))}</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if articles else f"<p class='nochange' role='status'>{e(s(lang, 'no_change'))}</p>"
    )
    summary_text = s(
        lang, "summary", n=summary["articles_added"] + summary["articles_changed"] + summary["articles_deleted"],
        a=summary["articles_added"], c=summary["articles_changed"], d=summary["articles_deleted"],
        ua=summary["units_added"], uc=summary["units_changed"], ud=summary["units_deleted"],
    )
    return (
        f"<!doctype html><html lang='{e(lang)}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(s(lang, 'title'))} — {e(c.title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{e(s(lang, 'title'))} <span class='doc'>{e(c.title)}</span></h1>"
        f"<p class='ids'>{e(c.doc_id)} · {e(s(lang, 'old'))} {e(_version_label(c.old, lang))} ↔ "
        f"{e(s(lang, 'new'))} {e(_version_label(c.new, lang))}</p>"
        f"{_picker(c, lang, show_all)}"
        f"<p class='summary' id='summary'>{e(summary_text)}</p>"
        f"<p class='legend'>{s(lang, 'legend')}</p></header>"
        f"<main>{table}</main></body></html>"
    )


def error_page(doc_id: str, message: str, lang: str = "ko") -> str:
    e = html.escape
    return (
        f"<!doctype html><html lang='{e(lang)}'><head><meta charset='utf-8'><title>{e(s(lang, 'title'))}</title>"
        f"<style>{CSS}</style></head><body><header><h1>{e(s(lang, 'title'))}</h1></header>"
        f"<p class='error' role='alert'>{e(doc_id)}: {e(message)}</p></body></html>"
    )


def _version_label(v: Version, lang: str) -> str:
    state = s(lang, "superseded") if v.superseded else s(lang, "current")
    if lang == "ko":
        return f"{v.label} {s(lang, 'effective')} ({state})"
    return f"{s(lang, 'effective')} {v.label} ({state})"


def _picker(c: Comparison, lang: str, show_all: bool) -> str:
    e = html.escape

    def select(name: str, label: str, chosen: Version) -> str:
        options = "".join(
            f"<option value='{e(v.version, quote=True)}'{' selected' if v == chosen else ''}>"
            f"{e(_version_label(v, lang))}</option>"
            for v in c.versions
        )
        return f"<label>{e(label)} <select name='{name}'>{options}</select></label>"

    checked = " checked" if show_all else ""
    hidden_lang = f"<input type='hidden' name='lang' value='{e(lang, quote=True)}'>" if lang != "ko" else ""
    return (
        "<form class='picker' method='get' action='/diff'>"
        f"<input type='hidden' name='id' value='{e(c.doc_id, quote=True)}'>{hidden_lang}"
        f"{select('from', s(lang, 'from'), c.old)} {select('to', s(lang, 'to'), c.new)} "
        f"<label><input type='checkbox' name='all' value='true'{checked}> {e(s(lang, 'all'))}</label> "
        f"<button type='submit'>{e(s(lang, 'compare'))}</button></form>"
    )


def _article_rows(article: ArticleChange, lang: str, show_all: bool) -> list[str]:
    e = html.escape
    status = article.status
    shown = "deleted" if article.repealed else status  # "제5조 삭제 <…>": marked as the deletion it is
    badge = f"<span class='badge b-{shown}'>{e(s(lang, shown))}</span>" if status != "unchanged" else ""
    if article.header_words is not None:
        old_head, new_head = _hunks_html(article.header_words, "old"), _hunks_html(article.header_words, "new")
    else:
        old_head = e(article.old.header) if article.old else ""
        new_head = e(article.new.header) if article.new else ""
    if article.old is None:
        old_head = f"<span class='absent'>{e(s(lang, 'none'))}</span>"
    if article.new is None:
        new_head = f"<span class='absent'>{e(s(lang, 'none'))}</span>"
    rows = [
        f"<tr class='art a-{status}' id='{e(anchor(article.key), quote=True)}' data-status='{status}'>"
        f"<th class='old'>{old_head}</th><th class='new'>{new_head} {badge}</th></tr>"
    ]
    folded = 0
    for unit in article.units:
        if unit.status == "unchanged" and not show_all:
            folded += 1
            continue
        if folded:
            rows.append(_folded_row(lang))
            folded = 0
        rows.append(_unit_row(unit, lang))
    if folded:
        rows.append(_folded_row(lang))
    return rows


def _folded_row(lang: str) -> str:
    e = html.escape
    return (f"<tr class='u u-folded'><td class='old'>{e(s(lang, 'omitted'))}</td>"
            f"<td class='new'>{e(s(lang, 'same'))}</td></tr>")


def _unit_row(unit: UnitChange, lang: str) -> str:
    e = html.escape
    status = unit.status
    label = e(unit.label)
    if status == "changed":
        old, new = _hunks_html(unit.words, "old"), _hunks_html(unit.words, "new")
    else:
        old = e(unit.old.text) if unit.old else f"<span class='absent'>〈{e(s(lang, 'added'))}〉</span>"
        new = e(unit.new.text) if unit.new else f"<span class='absent'>〈{e(s(lang, 'deleted'))}〉</span>"
    return (f"<tr class='u u-{status}' data-status='{status}' data-label='{label}'>"
            f"<td class='old'>{old}</td><td class='new'>{new}</td></tr>")


def _hunks_html(hunks: Sequence[Hunk], side: str) -> str:
    """One side of a word diff: equal text as it reads, the side's changed words in ``<del>``/``<ins>``."""
    e = html.escape
    out: list[str] = []
    for h in hunks:
        text = h.old if side == "old" else h.new
        if not h.changed:
            out.append(e(text))
        elif text:
            tag = "del" if side == "old" else "ins"
            out.append(f"<{tag}>{e(text)}</{tag}>")
    return "".join(out)


CSS = """
body{font-family:system-ui,-apple-system,'Noto Sans KR','Malgun Gothic',sans-serif;margin:1.2rem auto;
max-width:90rem;padding:0 1rem;line-height:1.55;color:#111}
h1{font-size:1.35rem;margin:.2rem 0}h1 .doc{font-weight:600;color:#1f3a8a;margin-left:.4rem}
.ids,.summary,.legend{margin:.25rem 0;font-size:.92rem}.ids{color:#555}.summary{font-weight:600}
.picker{margin:.5rem 0;display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;font-size:.92rem}
table.cmp{border-collapse:collapse;width:100%;table-layout:fixed;margin-top:.6rem}
table.cmp th,table.cmp td{border:1px solid #cbd5e1;padding:.35rem .55rem;vertical-align:top;text-align:left;
white-space:pre-wrap;word-break:keep-all;overflow-wrap:anywhere}
thead th{background:#1f3a8a;color:#fff;position:sticky;top:0}
tr.art th{background:#eef2ff;font-weight:700}
tr.a-added th.new,tr.u-added td.new{background:#e6ffec}
tr.a-deleted th.old,tr.u-deleted td.old{background:#ffebe9}
tr.u-changed td{background:#fffbea}
tr.u-folded td{color:#64748b;text-align:center;font-size:.88rem}
.absent{color:#64748b;font-style:italic}
ins{background:#abf2bc;text-decoration:underline;text-decoration-thickness:2px}
del{background:#ffc0c0;text-decoration:line-through}
.badge{display:inline-block;font-size:.78rem;font-weight:700;border-radius:4px;padding:0 .35rem;margin-left:.3rem}
.b-added{background:#16a34a;color:#fff}.b-deleted{background:#dc2626;color:#fff}.b-changed{background:#d97706;color:#fff}
.nochange,.error{font-size:1rem;padding:.6rem;border-left:4px solid #64748b;background:#f1f5f9}
"""

__all__ = ["CatalogueCache", "ComparisonLinks", "compare_cell", "comparison_page", "diff_url", "error_page"]
