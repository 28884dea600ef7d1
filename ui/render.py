"""Formatting a Result for the browser: escaped answer Markdown, the sources panel, UI strings.

Everything that came from a document or a model is escaped here before it reaches the
page; the only markup that survives is the markup this module writes itself.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from civicrag.rag.amendments import UNDATED

from civicrag.legal.references import law_url, name_key

Lang = str  # "ko" | "en"
CompareUrl = Callable[[Mapping[str, Any]], str | None]  # a citation -> its document's comparison page, if any

STRINGS: dict[str, dict[str, str]] = {
    "ko": {
        "title": "civicrag — 자치법규 질의응답",
        "subtitle": "질문하면 조문을 인용해 답합니다. 답의 근거는 오른쪽 출처에서 원문과 함께 확인하세요.",
        "chat": "대화",
        "question": "질문",
        "placeholder": "예: 경차는 공영주차장 요금을 감면받나요?",
        "send": "질문하기",
        "new_chat": "새 대화",
        "sources": "출처",
        "sources_empty": "답변의 근거 조문이 여기에 표시됩니다.",
        "filters": "검색 범위",
        "jurisdiction": "지자체",
        "document": "문서",
        "all": "(전체)",
        "as_of": "기준일 (YYYY-MM-DD, 비우면 오늘)",
        "examples": "예시 질문",
        "not_found": "규정에서 찾을 수 없습니다",
        "not_found_hint": "질문과 관련이 있을 수 있는 조문:",
        "open_original": "원문 보기",
        "page": "쪽",
        "effective": "시행",
        "superseded": "폐지·개정 전 조문",
        "until": "까지 시행",
        "current": "현행",
        "feedback": "의견",
        "feedback_hint": "답변 옆의 👍/👎를 누른 뒤 의견을 남길 수 있습니다.",
        "comment": "의견 (선택)",
        "send_comment": "의견 보내기",
        "thanks": "의견이 저장되었습니다. 감사합니다.",
        "no_answer_yet": "먼저 답변에 👍 또는 👎를 눌러 주세요.",
        "admin": "관리",
        "bad_request": "질문을 보낼 수 없습니다: {e}",
        "error": "답변 중 오류가 발생했습니다: {e}",
        "logged_in_as": "로그인: {user} ({role})",
        "logout": "로그아웃",
        "related": "관련 조문",
        "quoted": "인용",
        "rewritten": "앞의 대화를 반영한 질문",
        "cites": "인용 법령",
        "department": "담당부서",
        "contact": "문의",
        "attachment": "첨부",
        "copy": "복사",
        "copied": "복사됨 ✓",
        "copy_failed": "복사 실패",
        "copy_citation": "인용 복사",
        "copy_answer": "답변과 출처 복사",
        "sources_list": "출처",
        "download": "내려받기",
        "on_web": "원문 사이트",
        "compare": "신구조문 대비",
        # the admin console
        "console_documents": "문서",
        "console_upload": "업로드",
        "console_prune": "사라진 파일의 문서 삭제",
        "console_reingest": "다시 색인",
        "console_indexed": "색인된 문서",
        "console_delete_id": "삭제할 문서",
        "console_delete": "삭제",
        "console_refresh": "새로 고침",
        "console_failures": "실패한 파일",
        "console_feedback": "의견",
        "console_export": "CSV 내보내기",
        "console_gaps": "답하지 못한 질문",
        "console_gaps_hint": "답하지 못했거나 '싫어요'를 받은 질문을 가장 가까운 조문별로 묶었습니다: 다음에 색인할 "
        "문서를 고르는 데 쓰세요. 사용자 이름은 요청할 때만 보입니다.",
        "console_since": "시작일 (YYYY-MM-DD)",
        "console_with_users": "사용자 이름 포함",
        "console_show": "보기",
        "console_missing": "자주 없는 첨부·문서",
        "console_by_document": "문서별",
        "console_by_topic": "주제(조문)별",
        "console_by_week": "주별",
        "console_questions": "질문 (최신순)",
        "console_gaps_csv": "답하지 못한 질문 CSV",
        "console_sessions": "로그인 세션",
        "console_revoke_id": "끝낼 세션",
        "console_revoke": "세션 끝내기",
    },
    "en": {
        "title": "civicrag — municipal regulations Q&A",
        "subtitle": "Ask a question; the answer cites the articles it rests on. "
        "Check them, with the original, under Sources.",
        "chat": "Conversation",
        "question": "Question",
        "placeholder": "e.g. How long is the mayor's term?",
        "send": "Ask",
        "new_chat": "New conversation",
        "sources": "Sources",
        "sources_empty": "The provisions an answer rests on appear here.",
        "filters": "Search scope",
        "jurisdiction": "Jurisdiction",
        "document": "Document",
        "all": "(all)",
        "as_of": "As of (YYYY-MM-DD, empty = today)",
        "examples": "Example questions",
        "not_found": "Not found in the regulations",
        "not_found_hint": "Provisions that may be related:",
        "open_original": "Open original",
        "page": "p.",
        "effective": "effective",
        "superseded": "superseded version",
        "until": "in force until",
        "current": "current",
        "feedback": "Feedback",
        "feedback_hint": "Press 👍/👎 beside an answer, then you may add a comment.",
        "comment": "Comment (optional)",
        "send_comment": "Send comment",
        "thanks": "Thank you, your feedback was saved.",
        "no_answer_yet": "Press 👍 or 👎 on an answer first.",
        "admin": "Admin",
        "bad_request": "The question cannot be sent: {e}",
        "error": "The answer failed: {e}",
        "logged_in_as": "Logged in: {user} ({role})",
        "logout": "Log out",
        "related": "Related provisions",
        "quoted": "quoted",
        "rewritten": "Read with the conversation as",
        "cites": "Cites",
        "department": "Department",
        "contact": "Contact",
        "attachment": "Attachment",
        "copy": "Copy",
        "copied": "Copied ✓",
        "copy_failed": "Copy failed",
        "copy_citation": "Copy citation",
        "copy_answer": "Copy answer with sources",
        "sources_list": "Sources",
        "download": "download",
        "on_web": "publisher's site",
        "compare": "Compare versions",
        # the admin console
        "console_documents": "Documents",
        "console_upload": "Upload",
        "console_prune": "Prune documents whose files are gone",
        "console_reingest": "Re-ingest",
        "console_indexed": "Indexed documents",
        "console_delete_id": "Document to delete",
        "console_delete": "Delete",
        "console_refresh": "Refresh",
        "console_failures": "Failed files",
        "console_feedback": "Feedback",
        "console_export": "Export CSV",
        "console_gaps": "Content gaps",
        "console_gaps_hint": "Refused and disliked questions, grouped by the provision they came closest to: what to "
        "ingest next. User names only when asked for.",
        "console_since": "Since (YYYY-MM-DD)",
        "console_with_users": "Include user names",
        "console_show": "Show",
        "console_missing": "Most often missing",
        "console_by_document": "By document",
        "console_by_topic": "By topic",
        "console_by_week": "Per week",
        "console_questions": "Questions (newest first)",
        "console_gaps_csv": "Gaps CSV",
        "console_sessions": "Login sessions",
        "console_revoke_id": "Session to end",
        "console_revoke": "End session",
    },
}

EXAMPLES: dict[str, list[str]] = {
    "ko": [
        "경차는 공영주차장 주차요금을 감면받나요?",
        "낡은 소파는 어떻게 버려요?",
        "대형폐기물 수수료는 얼마인가요?",
    ],
    "en": [
        "How long is the mayor's term?",
        "What does SECTION 3-1 say?",
        "경차는 공영주차장 주차요금을 감면받나요?",
    ],
}


def t(lang: Lang, key: str, **kw: Any) -> str:
    text = STRINGS.get(lang, STRINGS["ko"]).get(key) or STRINGS["ko"][key]
    return text.format(**kw) if kw else text


# -- answer text -------------------------------------------------------------------
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&$:\"'=^])")
# Markup the answerer itself writes at the start of a line: quote marks, then a list marker.
_LINE_PREFIX = re.compile(r"^((?:\s*>)*\s*(?:[-*]\s+)?)")


def escape_markdown_text(text: str) -> str:
    """Backslash-escape every Markdown/HTML special character: the text renders literally."""
    return _MD_PUNCT.sub(r"\\\1", text)


def answer_markdown(answer: str) -> str:
    """The answer as Markdown whose only live markup is the answerer's line structure.

    Block quotes (``> ``) and bullets (``- ``) at the start of a line are what the
    answerer uses to lay out quotes and related provisions; everything after them is
    document or model text and is escaped, so ``<script>`` or ``[x](javascript:...)``
    shows as typed.
    """
    lines = []
    for line in answer.split("\n"):
        match = _LINE_PREFIX.match(line)
        prefix = match.group(1) if match else ""
        lines.append(prefix + escape_markdown_text(line[len(prefix):]))
    return "\n".join(lines)


def chat_message(result: Mapping[str, Any], lang: Lang) -> str:
    """The assistant bubble: a not-found banner when refused, then the escaped answer."""
    body = answer_markdown(str(result.get("answer", "")))
    if result.get("refused"):
        return f"**⚠ {escape_markdown_text(t(lang, 'not_found'))}**\n\n{body}"
    return body


# -- sources panel -----------------------------------------------------------------
def original_url(citation: Mapping[str, Any]) -> str:
    """Link to the original file served by the app: PDFs open at the cited page; an attachment (별표) whose
    file was ingested opens that file."""
    version = str(citation.get("effective_date") or "") or UNDATED
    if citation.get("provision_kind") == "appendix" and _own_attachment(citation):
        return attachment_url(citation, str(citation.get("article") or ""))
    url = "/doc?" + urlencode({"id": str(citation.get("doc_id", "")), "version": version})
    page = citation.get("page")
    if page:
        return f"{url}#page={int(page)}"
    quote_text = str(citation.get("quote") or citation.get("text") or "")
    first = next((line.strip() for line in quote_text.split("\n") if line.strip()), "")
    if first:
        # A text fragment makes Chromium-based browsers scroll to and highlight the cited words.
        return f"{url}#:~:text={quote(first[:60], safe='')}"
    return url


def attachment_url(citation: Mapping[str, Any], label: str) -> str:
    """The app's link to an ingested attachment file of the cited document version."""
    version = str(citation.get("effective_date") or "") or UNDATED
    return "/doc?" + urlencode({"id": str(citation.get("doc_id", "")), "version": version, "part": label})


def _own_attachment(citation: Mapping[str, Any]) -> bool:
    article = str(citation.get("article") or "")
    return any(a.get("label") == article and a.get("indexed") for a in _attachments(citation))


def _attachments(citation: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = citation.get("attachments") or []
    return [a for a in items if isinstance(a, Mapping)] if isinstance(items, list) else []


def copy_text(result: Mapping[str, Any], lang: Lang) -> str:
    """The whole answer and its numbered citations in their formal form, to paste into a document."""
    lines = [str(result.get("answer") or "").rstrip()]
    cited = [*(result.get("citations") or []), *(result.get("related") or [])]
    refs = [f"[{int(c.get('n') or 0)}] {c.get('formal') or c.get('title') or ''}" for c in cited]
    if refs:
        lines += ["", f"{t(lang, 'sources_list')}:", *refs]
    return "\n".join(lines)


def _copy_button(text: str, lang: Lang, label_key: str, extra_class: str = "") -> str:
    """A button whose text to copy is in ``data-copy`` (escaped); ``COPY_JS`` does the copying."""
    e = html.escape
    classes = f"cr-copy {extra_class}".strip()
    label = e(t(lang, label_key), quote=True)
    return (
        f"<button type='button' class='{classes}' data-copy='{e(text, quote=True)}' "
        f"data-done='{e(t(lang, 'copied'), quote=True)}' data-fail='{e(t(lang, 'copy_failed'), quote=True)}' "
        f"title='{label}' aria-label='{label}'>{e(t(lang, 'copy'))}</button>"
    )


def _citation_extras(c: Mapping[str, Any], lang: Lang) -> str:
    """Under a provision: its formal citation with a copy button, whom to ask, and its attachments."""
    e = html.escape
    out = []
    formal = str(c.get("formal") or "")
    if formal:
        out.append(
            f"<div class='cr-formal'><span class='cr-formal-text'>{e(formal)}</span> "
            f"{_copy_button(formal, lang, 'copy_citation')}</div>"
        )
    if c.get("department"):
        out.append(f"<div class='cr-dept'>{e(t(lang, 'contact'))}: {e(str(c['department']))}</div>")
    own = str(c.get("article") or "") if c.get("provision_kind") == "appendix" else ""
    links = []
    for a in _attachments(c):
        if a.get("label") == own:
            continue  # the provision is that attachment: its link is "open original"
        title = e(str(a.get("title") or a.get("label") or ""))
        fmt = str(a.get("format") or "").upper()
        if a.get("indexed"):
            href = attachment_url(c, str(a.get("label") or ""))
            link = f"<a class='cr-attachment' href='{e(href, quote=True)}' target='_blank' rel='noopener noreferrer'>"
            links.append(f"{link}{title}</a>" + (f" ({e(fmt)})" if fmt else ""))
        elif str(a.get("url") or "").lower().startswith(("https://", "http://")):
            link = (f"<a class='cr-attachment' href='{e(str(a['url']), quote=True)}' target='_blank' "
                    "rel='noopener noreferrer nofollow'>")
            links.append(f"{link}{title}</a> ({e(fmt + ', ' if fmt else '')}{e(t(lang, 'on_web'))} ↗)")
        else:
            links.append(f"<span class='cr-attachment'>{title}</span>")
    if links:
        out.append(f"<div class='cr-attachments'>{e(t(lang, 'attachment'))}: {' · '.join(links)}</div>")
    return "".join(out)


def highlight(text: str, quote_text: str) -> str:
    """``text`` escaped, with the quoted sentences wrapped in <mark> (matched line by line)."""
    spans: list[tuple[int, int]] = []
    pieces = [quote_text.strip()] if quote_text.strip() in text else [
        p.strip() for p in re.split(r"\n|(?<=[.!?다])\s+", quote_text) if len(p.strip()) >= 2
    ]
    for piece in pieces:
        if not piece:
            continue
        start = text.find(piece)
        if start >= 0:
            spans.append((start, start + len(piece)))
    spans.sort()
    out: list[str] = []
    pos = 0
    for start, end in spans:
        if start < pos:
            start = pos
        if start >= end:
            continue
        out.append(html.escape(text[pos:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _provision_head(c: Mapping[str, Any], lang: Lang) -> str:
    e = html.escape
    article = " ".join(x for x in (str(c.get("article") or ""), str(c.get("paragraph") or "")) if x)
    parts = [f"<span class='cr-doc'>{e(str(c.get('title') or c.get('doc_id') or ''))}</span>"]
    if article:
        title = f" ({e(str(c['article_title']))})" if c.get("article_title") else ""
        parts.append(f"<span class='cr-art'>{e(article)}{title}</span>")
    meta = []
    if c.get("page"):
        meta.append(f"{t(lang, 'page')} {int(c['page'])}" if lang == "en" else f"{int(c['page'])}{t(lang, 'page')}")
    if c.get("effective_date"):
        meta.append(f"{t(lang, 'effective')} {e(str(c['effective_date']))}")
    if c.get("superseded"):
        until = f" — {e(str(c.get('valid_to') or ''))} {t(lang, 'until')}" if c.get("valid_to") else ""
        meta.append(f"<span class='cr-superseded'>{t(lang, 'superseded')}{until}</span>")
    else:
        meta.append(f"<span class='cr-current'>{t(lang, 'current')}</span>")
    return " · ".join(parts) + f"<div class='cr-meta'>{' · '.join(meta)}</div>"


def references_html(
    references: Sequence[Mapping[str, Any]], documents: Mapping[str, tuple[str, str]] | None, lang: Lang
) -> str:
    """The statutes and regulations a provision cites, one link each: a regulation in the index opens in the app
    (/doc?id=…), any other its page on law.go.kr by name. ``documents``: ``name_key(title)`` -> (doc_id, version)."""
    grouped: dict[str, tuple[str, str, list[str]]] = {}
    for ref in references:
        name = str(ref.get("name") or "").strip()
        if not name:
            continue
        _, kind, articles = grouped.setdefault(name_key(name), (name, str(ref.get("kind") or ""), []))
        article = str(ref.get("article") or "")
        if article and article not in articles:
            articles.append(article)
    if not grouped:
        return ""
    e = html.escape
    links = []
    for key, (name, kind, articles) in grouped.items():
        indexed = (documents or {}).get(key)
        href = "/doc?" + urlencode({"id": indexed[0], "version": indexed[1]}) if indexed else law_url(name, kind)
        label = f"「{name}」" + (f" {', '.join(articles[:6])}" if articles else "")
        links.append(
            f"<a class='cr-ref' data-kind='{e(kind, quote=True)}' href='{e(href, quote=True)}' target='_blank' "
            f"rel='noopener noreferrer'>{e(label)}</a>"
        )
    return f"<div class='cr-refs'><span class='cr-refs-head'>{e(t(lang, 'cites'))}:</span> {' · '.join(links)}</div>"


def sources_html(
    result: Mapping[str, Any] | None,
    lang: Lang,
    documents: Mapping[str, tuple[str, str]] | None = None,
    compare_url: CompareUrl | None = None,
) -> str:
    """The sources panel: each cited provision in full with its quote highlighted, the regulations it cites
    (``references_html``; ``documents`` says which are in the index), a link to the original and, where
    ``compare_url`` gives one, to the amendment comparison of its document (ui/amendments.py)."""
    if not result:
        return f"<div class='cr-sources cr-empty'>{html.escape(t(lang, 'sources_empty'))}</div>"
    e = html.escape
    blocks: list[str] = []
    citations: Sequence[Mapping[str, Any]] = result.get("citations") or []
    related: Sequence[Mapping[str, Any]] = result.get("related") or []
    if result.get("rewritten_question"):
        # A follow-up was read in the light of the conversation: show how, so staff can check it.
        blocks.append(
            f"<div class='cr-rewritten'>{e(t(lang, 'rewritten'))}: <q>{e(str(result['rewritten_question']))}</q></div>"
        )
    if result.get("refused"):
        blocks.append(
            f"<div class='cr-notfound' role='status'><strong>{e(t(lang, 'not_found'))}</strong>"
            + (f"<div>{e(t(lang, 'not_found_hint'))}</div>" if related or citations else "")
            + "</div>"
        )
    if citations or related:
        blocks.append(
            f"<div class='cr-copy-all-row'>{_copy_button(copy_text(result, lang), lang, 'copy_answer', 'cr-copy-all')}"
            f" <span>{e(t(lang, 'copy_answer'))}</span></div>"
        )
    for c in citations:
        n = int(c.get("n") or 0)
        blocks.append(
            f"<details class='cr-source' id='cr-src-{n}' open><summary><span class='cr-n'>[{n}]</span> "
            f"{_provision_head(c, lang)}</summary>{_citation_extras(c, lang)}"
            f"<div class='cr-text'>{highlight(str(c.get('text') or ''), str(c.get('quote') or ''))}</div>"
            f"{references_html(c.get('references') or [], documents, lang)}"
            f"<a class='cr-original' href='{e(original_url(c), quote=True)}' target='_blank' rel='noopener noreferrer'>"
            f"{e(t(lang, 'open_original'))} ↗</a>{_compare_link(c, lang, compare_url)}</details>"
        )
    if related:
        blocks.append(f"<div class='cr-related-head'>{e(t(lang, 'related'))}</div>")
        for c in related:
            blocks.append(
                f"<details class='cr-source cr-related' id='cr-rel-{int(c.get('n') or 0)}'>"
                f"<summary>{_provision_head(c, lang)}</summary>{_citation_extras(c, lang)}"
                f"<div class='cr-text'>{e(str(c.get('text') or ''))}</div>"
                f"<a class='cr-original' href='{e(original_url(c), quote=True)}' target='_blank' "
                f"rel='noopener noreferrer'>{e(t(lang, 'open_original'))} ↗</a></details>"
            )
    return "<div class='cr-sources'>" + "".join(blocks) + "</div>"


def _compare_link(c: Mapping[str, Any], lang: Lang, compare_url: CompareUrl | None) -> str:
    url = compare_url(c) if compare_url is not None else None
    if not url:
        return ""
    return (f" · <a class='cr-compare' href='{html.escape(url, quote=True)}' target='_blank' "
            f"rel='noopener noreferrer'>{html.escape(t(lang, 'compare'))} ↗</a>")


CSS = """
.cr-sources { font-size: 0.95em; }
.cr-source { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
.cr-source summary { cursor: pointer; }
.cr-n { font-weight: 700; }
.cr-doc { font-weight: 600; }
.cr-meta { font-size: 0.85em; opacity: 0.8; margin: 2px 0 4px 0; }
.cr-superseded { color: #b45309; font-weight: 600; }
.cr-text { white-space: pre-wrap; margin: 6px 0; line-height: 1.5; }
.cr-text mark { background: #fde68a; color: inherit; padding: 0 1px; }
.cr-notfound { border-left: 4px solid #b45309; background: rgba(251, 191, 36, 0.12); padding: 8px 10px; margin: 6px 0; }
.cr-rewritten { font-size: 0.85em; opacity: 0.85; margin: 4px 0; }
.cr-related-head { font-weight: 600; margin-top: 10px; }
.cr-refs { font-size: 0.85em; margin: 4px 0; }
.cr-refs-head { font-weight: 600; margin-right: 4px; }
.cr-progress progress { width: 100%; height: 18px; }
.cr-formal { margin: 4px 0; font-size: 0.92em; display: flex; gap: 6px; align-items: baseline; flex-wrap: wrap; }
.cr-formal-text { font-family: inherit; background: rgba(127, 127, 127, 0.08); padding: 1px 4px; border-radius: 3px; }
.cr-copy { font-size: 0.8em; padding: 1px 6px; border: 1px solid var(--border-color-primary); border-radius: 4px;
  cursor: pointer; background: var(--background-fill-secondary); }
.cr-copy.cr-copied { border-color: #15803d; color: #15803d; }
.cr-copy-all-row { margin: 4px 0 8px 0; font-size: 0.9em; display: flex; gap: 6px; align-items: center; }
.cr-dept, .cr-attachments { font-size: 0.85em; margin: 2px 0; }
"""

# Runs once when the sources panel mounts: one delegated listener serves every copy button it will show.
# The Clipboard API needs a secure context (https, or http on localhost); elsewhere the hidden-textarea
# fallback copies.
COPY_JS = """
if (!element.dataset.crCopyReady) {
  element.dataset.crCopyReady = "1";
  element.addEventListener("click", async (event) => {
    const button = event.target.closest("button.cr-copy");
    if (!button || !element.contains(button)) return;
    event.preventDefault();
    event.stopPropagation();
    const text = button.getAttribute("data-copy") || "";
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); ok = true; }
    } catch (err) { ok = false; }
    if (!ok) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
      area.remove();
    }
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = ok ? button.getAttribute("data-done") : button.getAttribute("data-fail");
    button.classList.toggle("cr-copied", ok);
    setTimeout(() => { button.textContent = button.dataset.label; button.classList.remove("cr-copied"); }, 2000);
  });
}
"""
