"""The admin console tab: uploads, re-ingest with progress, the documents and failures, feedback, content gaps,
login sessions.

``build_console_tab`` lays it out (a ``ConsoleTab``), its labels in the page's language (``console_labels``
relabels it when the language switch moves); ``ConsoleHandlers`` holds the events as methods over the app
context, each refusing anyone but an admin; ``wire_console`` connects them. The index changes through
``AdminOps`` (``Ingestor.run`` / ``Ingestor.delete``) and is read through ``RagService``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr
from civicrag.ingest.loaders import SUPPORTED_SUFFIXES
from civicrag.ui.admin import UploadError, documents_table, failures_table, save_upload
from civicrag.ui.amendments import compare_cell
from civicrag.ui.context import AppContext
from civicrag.ui.events import admin_of
from civicrag.ui.gaps import GapReport, missing_label, report_csv
from civicrag.ui.render import escape_markdown_text, t

# Whatever the ingester reads, plus metadata sidecars (NAME.EXT.meta.yaml).
UPLOAD_TYPES = [*sorted(SUPPORTED_SUFFIXES), ".yaml", ".yml"]
DOC_COLUMNS = ["doc_id", "title", "kind", "jurisdiction", "versions", "effective_dates", "compare", "chunks",
               "last_ingest"]
FEEDBACK_COLUMNS = ["id", "at", "user", "rating", "comment", "question", "answer"]
SESSION_COLUMNS = ["id", "user", "created", "last_seen", "expires", "client", "user_agent"]
GAP_MISSING_COLUMNS = ["questions", "kind", "missing", "last_seen"]
GAP_DOC_COLUMNS = ["questions", "refused", "disliked", "document", "doc_id", "top_missing", "weeks"]
GAP_TOPIC_COLUMNS = ["questions", "refused", "disliked", "topic", "top_missing", "weeks", "examples"]
GAP_WEEK_COLUMNS = ["week", "questions", "refused", "disliked"]
GAP_ENTRY_COLUMNS = ["at", "source", "language", "question", "refused", "disliked", "missing", "topic"]
GAP_ENTRIES_SHOWN = 200


@dataclass
class ConsoleTab:
    """The console's components (hidden until the page load finds an admin)."""

    tab: Any
    documents_title: Any
    uploads: Any
    upload_btn: Any
    prune: Any
    ingest_btn: Any
    admin_status: Any
    progress: Any
    docs_table: Any
    delete_id: Any
    delete_btn: Any
    refresh_btn: Any
    failures: Any
    feedback_title: Any
    feedback_table: Any
    export_btn: Any
    export_file: Any
    gaps_title: Any
    gaps_hint: Any
    gaps_since: Any
    gaps_users: Any
    gaps_btn: Any
    gaps_export_btn: Any
    gaps_summary: Any
    gaps_missing: Any
    gaps_docs: Any
    gaps_topics: Any
    gaps_weeks: Any
    gaps_entries: Any
    gaps_file: Any
    sessions_title: Any
    sessions_table: Any
    revoke_id: Any
    revoke_btn: Any

    def labelled(self) -> list[Any]:
        """The components ``console_labels`` relabels, in its order."""
        return [self.tab, self.documents_title, self.uploads, self.upload_btn, self.prune, self.ingest_btn,
                self.docs_table, self.delete_id, self.delete_btn, self.refresh_btn, self.failures, self.feedback_title,
                self.export_btn, self.gaps_title, self.gaps_hint, self.gaps_since, self.gaps_users, self.gaps_btn,
                self.gaps_export_btn, self.gaps_missing, self.gaps_docs, self.gaps_topics, self.gaps_weeks,
                self.gaps_entries, self.gaps_file, self.sessions_title, self.revoke_id, self.revoke_btn]

    def tables(self) -> list[Any]:
        """What ``admin_tables`` fills."""
        return [self.docs_table, self.delete_id, self.failures, self.feedback_table, self.sessions_table,
                self.revoke_id]

    def gap_tables(self) -> list[Any]:
        """What ``show_gaps`` fills."""
        return [self.gaps_summary, self.gaps_missing, self.gaps_docs, self.gaps_topics, self.gaps_weeks,
                self.gaps_entries]


def console_labels(code: str) -> tuple[Any, ...]:
    """Every label of the console in language ``code``, for ``ConsoleTab.labelled()``."""
    code = code if code in ("ko", "en") else "ko"

    def label(key: str) -> Any:
        return gr.update(label=t(code, key))

    def value(key: str) -> Any:
        return gr.update(value=t(code, key))

    def heading(key: str) -> str:
        return f"### {t(code, key)}"

    return (
        label("admin"), heading("console_documents"), label("console_upload"), value("console_upload"),
        label("console_prune"), value("console_reingest"), label("console_indexed"), label("console_delete_id"),
        value("console_delete"), value("console_refresh"), label("console_failures"), heading("console_feedback"),
        value("console_export"), heading("console_gaps"), t(code, "console_gaps_hint"), label("console_since"),
        label("console_with_users"), value("console_show"), value("console_export"), label("console_missing"),
        label("console_by_document"), label("console_by_topic"), label("console_by_week"),
        label("console_questions"), label("console_gaps_csv"), heading("console_sessions"),
        label("console_revoke_id"), value("console_revoke"),
    )


# -- layout ----------------------------------------------------------------------------------------------
def build_console_tab() -> ConsoleTab:
    """The tab, hidden and in Korean until the page load and the language switch say otherwise."""
    with gr.Tab(t("ko", "admin"), id="admin", visible=False, elem_id="cr-admin-tab") as tab:
        documents = _documents_section()
        feedback = _feedback_section()
        gaps = _gaps_section()
        sessions = _sessions_section()
    return ConsoleTab(tab, *documents, *feedback, *gaps, *sessions)


def _documents_section() -> tuple[Any, ...]:
    title = gr.Markdown(f"### {t('ko', 'console_documents')}")
    with gr.Row():
        uploads = gr.File(label=t("ko", "console_upload"), file_count="multiple", file_types=UPLOAD_TYPES,
                          elem_id="cr-upload")
        with gr.Column():
            upload_btn = gr.Button(t("ko", "console_upload"), elem_id="cr-upload-btn")
            prune = gr.Checkbox(False, label=t("ko", "console_prune"))
            ingest_btn = gr.Button(t("ko", "console_reingest"), variant="primary", elem_id="cr-ingest-btn")
    admin_status = gr.Markdown("", elem_id="cr-admin-status")
    progress = gr.HTML("", elem_id="cr-progress")
    docs_table = gr.Dataframe(headers=DOC_COLUMNS, label=t("ko", "console_indexed"), interactive=False,
                              elem_id="cr-docs", wrap=True,
                              datatype=["markdown" if c == "compare" else "str" for c in DOC_COLUMNS])
    with gr.Row():
        delete_id = gr.Dropdown([], label=t("ko", "console_delete_id"), elem_id="cr-delete-id")
        delete_btn = gr.Button(t("ko", "console_delete"), variant="stop", elem_id="cr-delete-btn")
        refresh_btn = gr.Button(t("ko", "console_refresh"), elem_id="cr-refresh")
    failures = gr.Dataframe(headers=["path", "error"], label=t("ko", "console_failures"), interactive=False,
                            elem_id="cr-failures", wrap=True)
    return (title, uploads, upload_btn, prune, ingest_btn, admin_status, progress, docs_table, delete_id, delete_btn,
            refresh_btn, failures)


def _feedback_section() -> tuple[Any, ...]:
    title = gr.Markdown(f"### {t('ko', 'console_feedback')}")
    table = gr.Dataframe(headers=FEEDBACK_COLUMNS, interactive=False, elem_id="cr-feedback-table", wrap=True)
    with gr.Row():
        export_btn = gr.Button(t("ko", "console_export"), elem_id="cr-export")
        export_file = gr.File(label="CSV", interactive=False, elem_id="cr-export-file")
    return title, table, export_btn, export_file


def _gaps_section() -> tuple[Any, ...]:
    with gr.Column(elem_id="cr-gaps"):
        title = gr.Markdown(f"### {t('ko', 'console_gaps')}", elem_id="cr-gaps-title")
        hint = gr.Markdown(t("ko", "console_gaps_hint"))
        with gr.Row():
            since = gr.Textbox(label=t("ko", "console_since"), max_length=10, elem_id="cr-gaps-since")
            users = gr.Checkbox(False, label=t("ko", "console_with_users"), elem_id="cr-gaps-users")
            show = gr.Button(t("ko", "console_show"), elem_id="cr-gaps-show")
            export = gr.Button(t("ko", "console_export"), elem_id="cr-gaps-export")
        summary = gr.Markdown("", elem_id="cr-gaps-summary")
        tables = [
            gr.Dataframe(headers=columns, label=t("ko", key), interactive=False, elem_id=elem_id, wrap=True)
            for columns, key, elem_id in (
                (GAP_MISSING_COLUMNS, "console_missing", "cr-gaps-missing"),
                (GAP_DOC_COLUMNS, "console_by_document", "cr-gaps-docs"),
                (GAP_TOPIC_COLUMNS, "console_by_topic", "cr-gaps-topics"),
                (GAP_WEEK_COLUMNS, "console_by_week", "cr-gaps-weeks"),
                (GAP_ENTRY_COLUMNS, "console_questions", "cr-gaps-entries"),
            )
        ]
        file = gr.File(label=t("ko", "console_gaps_csv"), interactive=False, elem_id="cr-gaps-file")
    return (title, hint, since, users, show, export, summary, *tables, file)


def _sessions_section() -> tuple[Any, ...]:
    title = gr.Markdown(f"### {t('ko', 'console_sessions')}")
    table = gr.Dataframe(headers=SESSION_COLUMNS, interactive=False, elem_id="cr-sessions", wrap=True)
    with gr.Row():
        revoke_id = gr.Dropdown([], label=t("ko", "console_revoke_id"), elem_id="cr-revoke-id",
                                allow_custom_value=True)  # checked against the store
        revoke_btn = gr.Button(t("ko", "console_revoke"), variant="stop", elem_id="cr-revoke-btn")
    return title, table, revoke_id, revoke_btn


# -- events ----------------------------------------------------------------------------------------------
class ConsoleHandlers:
    """The console's events over one app context; ``blocks`` is the page (its record of uploaded files)."""

    def __init__(self, ctx: AppContext, blocks: gr.Blocks):
        self.ctx = ctx
        self.blocks = blocks

    def admin_tables(self, request: gr.Request) -> tuple[Any, ...]:
        ctx = self.ctx
        admin_of(ctx.users, request)
        docs = documents_table(ctx.service.document_versions())
        fails = failures_table(ctx.service.failed_files())
        feedback_rows = ctx.feedback.rows()
        sessions = ctx.sessions.list()
        return (
            [[d[c] for c in DOC_COLUMNS] for d in ({**d, "compare": compare_cell(d["doc_id"], d["versions"])}
                                                   for d in docs)],
            gr.update(choices=[(f"{d['title']} ({d['doc_id']})", d["doc_id"]) for d in docs], value=None),
            [[f["path"], f["error"]] for f in fails],
            [[r[c] for c in FEEDBACK_COLUMNS] for r in feedback_rows],
            [[s[c] for c in SESSION_COLUMNS] for s in sessions],
            gr.update(choices=[(f"{s['user']} · {s['client']} · {s['created']} ({s['id']})", s["id"])
                               for s in sessions], value=None),
        )

    def do_upload(self, files: list[str] | None, request: gr.Request) -> tuple[str, None]:
        settings = self.ctx.settings
        admin_of(self.ctx.users, request)
        if not files:
            return "No file chosen / 파일을 고르세요", None
        lines = []
        for tmp in files:
            path = Path(tmp)
            try:
                # Only bytes that came with a request to /gradio_api/upload: an API caller may name
                # any path in a FileData, and Gradio would copy that server file into its cache.
                if str(tmp) not in self.blocks.upload_file_set:
                    raise UploadError(f"{path.name}: not uploaded to this server; send the file's bytes")
                if path.stat().st_size > settings.server.upload_max_mb * 1024 * 1024:
                    raise UploadError(f"{path.name}: over the {settings.server.upload_max_mb:g} MB limit")
                saved = save_upload(settings, path.name, path.read_bytes())
                lines.append(f"- ✅ {escape_markdown_text(saved.name)}")
            except UploadError as exc:
                lines.append(f"- ❌ {escape_markdown_text(str(exc))}")
        lines.append("\nRe-ingest to index them / 다시 색인하면 반영됩니다.")
        return "\n".join(lines), None

    def do_ingest(self, prune_gone: bool, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        admin = self.ctx.admin
        admin_of(self.ctx.users, request)
        if not admin.start_ingest(prune=bool(prune_gone)):
            yield "An ingest is already running / 이미 색인 중입니다", gr.update()
            return
        while True:
            snap = admin.job.snapshot()
            yield "Ingesting… / 색인 중…", _progress_html(snap)
            if not snap["running"]:
                break
            time.sleep(0.3)
        snap = admin.job.snapshot()
        yield _report_markdown(snap), _progress_html(snap)

    def do_delete(self, doc_id: str | None, request: gr.Request) -> str:
        admin_of(self.ctx.users, request)
        if not doc_id:
            return "Choose a document / 문서를 고르세요"
        try:
            found = self.ctx.admin.delete_document(doc_id)
        except RuntimeError as exc:
            return escape_markdown_text(str(exc))
        return f"Deleted / 삭제됨: {escape_markdown_text(doc_id)}" if found else "Not indexed / 색인에 없음"

    def do_revoke(self, session_id: str | None, request: gr.Request) -> str:
        admin_of(self.ctx.users, request)
        if not session_id:
            return "Choose a session / 세션을 고르세요"
        if not self.ctx.sessions.revoke_id(session_id):
            return "No such session / 없는 세션"
        return f"Session ended / 세션을 끝냈습니다: {escape_markdown_text(session_id)}"

    def gap_report(self, since: str | None, with_users: bool, request: gr.Request) -> GapReport:
        admin_of(self.ctx.users, request)
        if self.ctx.gaps is None:
            raise gr.Error("The content-gap log is off (setting gap_log) / 질문 기록이 꺼져 있습니다")
        since = (since or "").strip()
        if since:
            try:
                since = date.fromisoformat(since).isoformat()
            except ValueError:
                raise gr.Error("Since wants YYYY-MM-DD / 시작일은 YYYY-MM-DD 형식입니다") from None
        return self.ctx.gaps.report(since or None, with_users=bool(with_users))

    def show_gaps(self, since: str | None, with_users: bool, request: gr.Request) -> tuple[Any, ...]:
        return _gap_tables(self.gap_report(since, with_users, request))

    def export_gaps(self, since: str | None, with_users: bool, request: gr.Request) -> str:
        report = self.gap_report(since, with_users, request)
        return _export("gaps", report_csv(report))

    def do_export(self, request: gr.Request) -> str:
        admin_of(self.ctx.users, request)
        return _export("feedback", self.ctx.feedback.to_csv())


def wire_console(tab: ConsoleTab, lang_radio: Any, handlers: ConsoleHandlers) -> None:
    """The console's events; after anything that changes the index or the logins, the tables again."""
    lang_radio.change(console_labels, [lang_radio], tab.labelled())
    tables = tab.tables()
    tab.tab.select(handlers.admin_tables, None, tables)
    tab.refresh_btn.click(handlers.admin_tables, None, tables)
    tab.upload_btn.click(handlers.do_upload, [tab.uploads], [tab.admin_status, tab.uploads])
    tab.ingest_btn.click(handlers.do_ingest, [tab.prune], [tab.admin_status, tab.progress],
                         concurrency_limit=1).then(handlers.admin_tables, None, tables)
    tab.delete_btn.click(handlers.do_delete, [tab.delete_id], [tab.admin_status]).then(
        handlers.admin_tables, None, tables)
    tab.revoke_btn.click(handlers.do_revoke, [tab.revoke_id], [tab.admin_status]).then(
        handlers.admin_tables, None, tables)
    gap_inputs = [tab.gaps_since, tab.gaps_users]
    tab.gaps_btn.click(handlers.show_gaps, gap_inputs, tab.gap_tables())
    tab.tab.select(handlers.show_gaps, gap_inputs, tab.gap_tables())
    tab.gaps_export_btn.click(handlers.export_gaps, gap_inputs, [tab.gaps_file])
    tab.export_btn.click(handlers.do_export, None, [tab.export_file])


# -- formatting --------------------------------------------------------------------------------------------
def _export(name: str, text: str) -> str:
    """``text`` as a fresh CSV file for download, with a BOM so Excel opens Korean correctly."""
    folder = Path(tempfile.mkdtemp(prefix="civicrag-export-"))
    path = folder / f"civicrag-{name}-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    path.write_text(text, encoding="utf-8-sig")
    return str(path)


def _tally(values: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in values.items())


def _gap_tables(report: GapReport) -> tuple[Any, ...]:
    """The console's gap section: a summary line and five tables (user names only when asked for)."""
    since = f" since {report.since} / {report.since}부터" if report.since else ""
    summary = (
        f"**{report.questions}** questions{since}: **{report.refused}** refused / 답하지 못함, "
        f"**{report.disliked}** disliked / 싫어요"
    )
    if report.missing:
        top = report.missing[0]
        named = escape_markdown_text(missing_label(top.kind, top.missing, top.document))
        summary += f" · most often missing / 가장 자주 없는 것: **{named}** ({top.questions})"
    entry_columns = [*GAP_ENTRY_COLUMNS, "user"] if report.with_users else GAP_ENTRY_COLUMNS
    topic_columns = [*GAP_TOPIC_COLUMNS, "users"] if report.with_users else GAP_TOPIC_COLUMNS
    return (
        summary,
        [[m.questions, m.kind, missing_label(m.kind, m.missing, m.document), m.last_seen] for m in report.missing],
        [[d.questions, d.refused, d.disliked, d.document, d.doc_id, d.top_missing, _tally(d.weeks)]
         for d in report.documents],
        gr.update(
            value=[[t.questions, t.refused, t.disliked, t.topic, t.top_missing, _tally(t.weeks), " | ".join(t.examples),
                    *([_tally(t.users)] if report.with_users else [])] for t in report.topics],
            headers=topic_columns,
        ),
        [[w.week, w.questions, w.refused, w.disliked] for w in report.weeks],
        gr.update(
            value=[[e.at, e.source, e.language, e.question, e.refused, e.disliked, e.missing, e.topic,
                    *([e.user] if report.with_users else [])] for e in report.entries[:GAP_ENTRIES_SHOWN]],
            headers=entry_columns,
        ),
    )


def _progress_html(snap: dict[str, Any]) -> str:
    import html

    total, done = int(snap.get("total") or 0), int(snap.get("done") or 0)
    bar = f"<progress value='{done}' max='{total}'></progress>" if total else "<progress></progress>"
    state = "running" if snap.get("running") else "finished"
    current = html.escape(str(snap.get("current") or ""))
    return (
        f"<div class='cr-progress' data-state='{state}'>{bar}"
        f"<div><span class='cr-progress-count'>{done}/{total}</span> {current} · {snap.get('seconds', 0)} s</div></div>"
    )


def _report_markdown(snap: dict[str, Any]) -> str:
    if snap.get("error"):
        return f"❌ Ingest failed / 색인 실패: {escape_markdown_text(str(snap['error']))}"
    r = snap.get("report") or {}
    text = (
        f"✅ Ingest finished / 색인 완료: added {r.get('added', 0)}, updated {r.get('updated', 0)}, "
        f"unchanged {r.get('unchanged', 0)}, removed {r.get('removed', 0)}, failed {len(r.get('failed') or [])}; "
        f"{r.get('chunks', 0)} chunks in {r.get('seconds', 0)} s"
    )
    for failure in r.get("failed") or []:
        text += f"\n- ❌ {escape_markdown_text(Path(failure['path']).name)}: {escape_markdown_text(failure['error'])}"
    return text
