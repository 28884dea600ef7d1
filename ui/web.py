"""The Gradio Blocks app: staff chat with sources, and the admin console.

Thin: handlers call RagService / AdminOps / FeedbackStore and format with ``ui.render``.
Every handler looks the user up from the request again, so an admin action sent by a
staff user (hidden tab or not) is refused on the server.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from civicrag.ingest.loaders import SUPPORTED_SUFFIXES
from civicrag.rag.request import TextError, clean_text
from civicrag.ui.admin import UploadError, documents_table, failures_table, save_upload
from civicrag.ui.amendments import ComparisonLinks, compare_cell
from civicrag.ui.auth import User
from civicrag.ui.feedback import answer_config
from civicrag.ui.gaps import GapReport, missing_label, report_csv
from civicrag.ui.render import (
    COPY_JS,
    EXAMPLES,
    CompareUrl,
    answer_markdown,
    chat_message,
    escape_markdown_text,
    sources_html,
    t,
)

from civicrag.legal.citation import department_names

if TYPE_CHECKING:
    from civicrag.ui.server import AppContext

LANG_CHOICES = [("한국어", "ko"), ("English", "en")]
ALL_LABEL = "(전체 / all)"
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


def theme() -> gr.themes.Base:
    """System fonts only: nothing is fetched from a font CDN."""
    return gr.themes.Default(
        font=["system-ui", "-apple-system", "Segoe UI", "Noto Sans KR", "Malgun Gothic", "sans-serif"],
        font_mono=["ui-monospace", "Consolas", "monospace"],
    )


def build_blocks(ctx: AppContext) -> gr.Blocks:
    def user_of(request: gr.Request | None) -> User:
        # Gradio resolves the user of every event through the app's auth_dependency (session cookie
        # or HTTP Basic, see ui.server) and hands it over as request.username.
        user = ctx.users.user(request.username) if request is not None and request.username else None
        if user is None:
            raise gr.Error("login required")
        return user

    links = ComparisonLinks(lambda: ctx.service.store.manifest)

    def sources_panel(result: dict[str, Any] | None, code: str) -> str:
        """The sources panel: cited regulations linked (in the index: here; else law.go.kr), and the amendment
        comparison linked for documents with several versions."""
        return _sources(ctx, result, code, compare_url=lambda c: links.url(c, code))

    def admin_of(request: gr.Request | None) -> User:
        user = user_of(request)
        if not user.is_admin:
            raise gr.Error("admin role required / 관리자 권한이 필요합니다")
        return user

    with gr.Blocks(title="civicrag", analytics_enabled=False) as demo:
        lang = gr.State("ko")
        history = gr.State([])  # raw turns [{role, content}] for follow-ups (the chatbot holds escaped text)
        results = gr.State([])  # result dicts, one per assistant message, for feedback
        feedback_target = gr.State(None)  # id of the feedback row a comment will attach to
        feedback_rows = gr.State({})  # answer number -> feedback row, so changing one's mind updates the row

        with gr.Row(equal_height=True):
            header = gr.Markdown(f"## {t('ko', 'title')}\n{t('ko', 'subtitle')}", elem_id="cr-header")
            with gr.Column(scale=0, min_width=220):
                lang_radio = gr.Radio(LANG_CHOICES, value="ko", show_label=False, elem_id="cr-lang")
                who = gr.HTML("", elem_id="cr-user")

        with gr.Tabs():
            with gr.Tab(t("ko", "chat"), id="chat", elem_id="cr-chat-tab") as chat_tab, gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label=t("ko", "chat"), show_label=False, elem_id="cr-chatbot", height=460,
                        sanitize_html=True,
                        allow_tags=False, latex_delimiters=[], render_markdown=True,
                        feedback_options=("Like", "Dislike"),
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            show_label=False, placeholder=t("ko", "placeholder"), scale=5, lines=1,
                            max_length=ctx.settings.server_question_max_chars, elem_id="cr-question",
                        )
                        send = gr.Button(t("ko", "send"), variant="primary", scale=1, elem_id="cr-send")
                    examples = gr.Dataset(
                        components=[question], samples=[[q] for q in EXAMPLES["ko"]],
                        label=t("ko", "examples"), elem_id="cr-examples",
                    )
                    with (
                        gr.Accordion(t("ko", "filters"), open=False, elem_id="cr-filters") as filters_box,
                        gr.Row(),
                    ):
                        jurisdiction = gr.Dropdown([(ALL_LABEL, "")], label=t("ko", "jurisdiction"), value="",
                                                   allow_custom_value=False, elem_id="cr-jurisdiction")
                        department = gr.Dropdown([(ALL_LABEL, "")], label=t("ko", "department"), value="",
                                                 allow_custom_value=False, elem_id="cr-department")
                        document = gr.Dropdown([(ALL_LABEL, "")], label=t("ko", "document"), value="",
                                               elem_id="cr-document")
                        as_of = gr.Textbox(label=t("ko", "as_of"), max_length=10, elem_id="cr-asof")
                    with gr.Accordion(t("ko", "feedback"), open=True, elem_id="cr-feedback") as feedback_box:
                        feedback_hint = gr.Markdown(t("ko", "feedback_hint"))
                        with gr.Row():
                            comment = gr.Textbox(label=t("ko", "comment"), lines=2, scale=4, max_length=4000,
                                                 elem_id="cr-comment")
                            send_comment = gr.Button(t("ko", "send_comment"), scale=1, elem_id="cr-send-comment")
                        feedback_status = gr.Markdown("", elem_id="cr-feedback-status")
                    new_chat = gr.Button(t("ko", "new_chat"), size="sm", elem_id="cr-new-chat")
                with gr.Column(scale=2):
                    sources_title = gr.Markdown(f"### {t('ko', 'sources')}")
                    # js_on_load: the copy buttons (citations, whole answer) of whatever the panel shows.
                    sources = gr.HTML(sources_html(None, "ko"), elem_id="cr-sources", js_on_load=COPY_JS)

            with gr.Tab(t("ko", "admin"), id="admin", visible=False, elem_id="cr-admin-tab") as admin_tab:
                gr.Markdown("### Documents / 문서")
                with gr.Row():
                    uploads = gr.File(label="Upload / 업로드", file_count="multiple", file_types=UPLOAD_TYPES,
                                      elem_id="cr-upload")
                    with gr.Column():
                        upload_btn = gr.Button("Upload / 업로드", elem_id="cr-upload-btn")
                        prune = gr.Checkbox(
                            False, label="Prune documents whose files are gone / 사라진 파일의 문서 삭제"
                        )
                        ingest_btn = gr.Button("Re-ingest / 다시 색인", variant="primary", elem_id="cr-ingest-btn")
                admin_status = gr.Markdown("", elem_id="cr-admin-status")
                progress = gr.HTML("", elem_id="cr-progress")
                docs_table = gr.Dataframe(headers=DOC_COLUMNS, label="Indexed documents / 색인된 문서",
                                          interactive=False, elem_id="cr-docs", wrap=True,
                                          datatype=["markdown" if c == "compare" else "str" for c in DOC_COLUMNS])
                with gr.Row():
                    delete_id = gr.Dropdown([], label="Document to delete / 삭제할 문서", elem_id="cr-delete-id")
                    delete_btn = gr.Button("Delete / 삭제", variant="stop", elem_id="cr-delete-btn")
                    refresh_btn = gr.Button("Refresh / 새로 고침", elem_id="cr-refresh")
                failures = gr.Dataframe(headers=["path", "error"], label="Failed files / 실패한 파일",
                                        interactive=False, elem_id="cr-failures", wrap=True)
                gr.Markdown("### Feedback / 의견")
                feedback_table = gr.Dataframe(headers=FEEDBACK_COLUMNS, interactive=False, elem_id="cr-feedback-table",
                                              wrap=True)
                with gr.Row():
                    export_btn = gr.Button("Export CSV / CSV 내보내기", elem_id="cr-export")
                    export_file = gr.File(label="CSV", interactive=False, elem_id="cr-export-file")
                with gr.Column(elem_id="cr-gaps"):
                    gr.Markdown("### Content gaps / 답하지 못한 질문", elem_id="cr-gaps-title")
                    gr.Markdown(
                        "Refused and disliked questions, grouped by the provision they came closest to: what to "
                        "ingest next. User names only when asked for. / 답하지 못했거나 '싫어요'를 받은 질문을 가장 "
                        "가까운 조문별로 묶었습니다. 사용자 이름은 요청할 때만 보입니다."
                    )
                    with gr.Row():
                        gaps_since = gr.Textbox(label="Since / 시작일 (YYYY-MM-DD)", max_length=10,
                                                elem_id="cr-gaps-since")
                        gaps_users = gr.Checkbox(False, label="Include user names / 사용자 이름 포함",
                                                 elem_id="cr-gaps-users")
                        gaps_btn = gr.Button("Show / 보기", elem_id="cr-gaps-show")
                        gaps_export_btn = gr.Button("Export CSV / CSV 내보내기", elem_id="cr-gaps-export")
                    gaps_summary = gr.Markdown("", elem_id="cr-gaps-summary")
                    gaps_missing = gr.Dataframe(headers=GAP_MISSING_COLUMNS,
                                                label="Most often missing / 자주 없는 첨부·문서", interactive=False,
                                                elem_id="cr-gaps-missing", wrap=True)
                    gaps_docs = gr.Dataframe(headers=GAP_DOC_COLUMNS, label="By document / 문서별", interactive=False,
                                             elem_id="cr-gaps-docs", wrap=True)
                    gaps_topics = gr.Dataframe(headers=GAP_TOPIC_COLUMNS, label="By topic / 주제(조문)별",
                                               interactive=False, elem_id="cr-gaps-topics", wrap=True)
                    gaps_weeks = gr.Dataframe(headers=GAP_WEEK_COLUMNS, label="Per week / 주별", interactive=False,
                                              elem_id="cr-gaps-weeks", wrap=True)
                    gaps_entries = gr.Dataframe(headers=GAP_ENTRY_COLUMNS, label="Questions / 질문 (newest first)",
                                                interactive=False, elem_id="cr-gaps-entries", wrap=True)
                    gaps_file = gr.File(label="Gaps CSV", interactive=False, elem_id="cr-gaps-file")
                gr.Markdown("### Login sessions / 로그인 세션")
                sessions_table = gr.Dataframe(headers=SESSION_COLUMNS, interactive=False, elem_id="cr-sessions",
                                              wrap=True)
                with gr.Row():
                    revoke_id = gr.Dropdown([], label="Session to end / 끝낼 세션", elem_id="cr-revoke-id",
                                            allow_custom_value=True)  # checked against the store
                    revoke_btn = gr.Button("End session / 세션 끝내기", variant="stop", elem_id="cr-revoke-btn")

        # -- page load: who is this, what can they filter on ---------------------------
        def on_load(request: gr.Request) -> tuple[Any, ...]:
            user = user_of(request)
            manifest = ctx.service.store.manifest
            rows = manifest.versions()
            jurisdictions = sorted({r.jurisdiction for r in rows if r.jurisdiction})
            departments = sorted({d for r in rows for d in department_names(_department(r.meta_json))})
            docs = {r.doc_id: r.title for r in rows}
            logout = "" if ctx.users.open_demo else " · <a href='/logout'>로그아웃 / Log out</a>"
            badge = f"<span>{_esc(user.name)} ({user.role}){logout}</span>"
            return (
                badge,
                gr.update(choices=[(ALL_LABEL, ""), *[(j, j) for j in jurisdictions]], value=""),
                gr.update(choices=[(ALL_LABEL, ""), *[(d, d) for d in departments]], value=""),
                gr.update(choices=[(ALL_LABEL, ""), *[(f"{title} ({d})", d) for d, title in sorted(docs.items())]],
                          value=""),
                gr.update(visible=user.is_admin),
            )

        demo.load(on_load, None, [who, jurisdiction, department, document, admin_tab])

        # -- language switch -------------------------------------------------------------------
        def switch_language(code: str, result_list: list[dict[str, Any]]) -> tuple[Any, ...]:
            code = code if code in ("ko", "en") else "ko"
            last = result_list[-1] if result_list else None
            return (
                code,
                f"## {t(code, 'title')}\n{t(code, 'subtitle')}",
                gr.update(label=t(code, "chat")),
                gr.update(placeholder=t(code, "placeholder")),
                gr.update(value=t(code, "send")),
                gr.update(samples=[[q] for q in EXAMPLES[code]], label=t(code, "examples")),
                gr.update(label=t(code, "filters")),
                gr.update(label=t(code, "jurisdiction")),
                gr.update(label=t(code, "department")),
                gr.update(label=t(code, "document")),
                gr.update(label=t(code, "as_of")),
                gr.update(label=t(code, "feedback")),
                t(code, "feedback_hint"),
                gr.update(label=t(code, "comment")),
                gr.update(value=t(code, "send_comment")),
                gr.update(value=t(code, "new_chat")),
                f"### {t(code, 'sources')}",
                sources_panel(last, code),
                gr.update(label=t(code, "chat")),
            )

        lang_radio.change(
            switch_language, [lang_radio, results],
            [lang, header, chatbot, question, send, examples, filters_box, jurisdiction, department, document, as_of,
             feedback_box, feedback_hint, comment, send_comment, new_chat, sources_title, sources, chat_tab],
        )
        examples.click(lambda sample: sample[0], [examples], [question])

        # -- asking ------------------------------------------------------------------------------
        def respond(
            text: str, chat: list[dict[str, Any]], turns: list[dict[str, str]], result_list: list[dict[str, Any]],
            juris: str | None, dept: str | None, doc: str | None, day: str | None, code: str, request: gr.Request,
        ) -> Iterator[tuple[Any, ...]]:
            user = user_of(request)
            try:
                text = clean_text(text or "").strip()
            except TextError as exc:
                raise gr.Error(t(code, "bad_text", e=str(exc))) from None
            if not text:
                return
            if len(text) > ctx.settings.server_question_max_chars:
                raise gr.Error(t(code, "too_long", n=ctx.settings.server_question_max_chars))
            day = (day or "").strip()
            if day:
                try:
                    date.fromisoformat(day)
                except ValueError as exc:
                    raise gr.Error(t(code, "bad_date")) from exc
            filters = {k: v for k, v in (("jurisdiction", juris), ("department", dept), ("doc", doc)) if v}
            chat = [*chat, {"role": "user", "content": escape_markdown_text(text)},
                    {"role": "assistant", "content": "…"}]
            last = result_list[-1] if result_list else None
            yield chat, "", turns, result_list, gr.update()
            streamed = ""
            result: dict[str, Any] | None = None
            try:
                for event in ctx.service.stream(text, history=turns or None, as_of=day or None, filters=filters):
                    if event.type == "delta":
                        streamed += event.text
                        chat[-1] = {"role": "assistant", "content": answer_markdown(streamed)}
                        yield chat, "", turns, result_list, gr.update()
                    elif event.type == "done" and event.result is not None:
                        result = event.result.to_dict()
            except Exception as exc:  # show the failure in the chat; the session goes on
                chat[-1] = {"role": "assistant",
                            "content": escape_markdown_text(t(code, "error", e=f"{type(exc).__name__}: {exc}"))}
                # keep one entry per assistant message so feedback finds the right answer
                yield chat, "", turns, [*result_list, None], sources_panel(last, code)
                return
            if result is None:
                return
            # One id per answer: its refusal (logged now) and a later 👎 of it are one row of the gap log.
            result["gap_event"] = uuid.uuid4().hex
            if ctx.gaps is not None:
                ctx.gaps.refused(result, user.name, "chat", event=result["gap_event"])  # enqueue only
            chat[-1] = {"role": "assistant", "content": chat_message(result, code)}
            turns = [*turns, {"role": "user", "content": text}, {"role": "assistant", "content": result["answer"]}]
            result_list = [*result_list, result]
            yield chat, "", turns, result_list, sources_panel(result, code)

        ask_inputs = [question, chatbot, history, results, jurisdiction, department, document, as_of, lang]
        ask_outputs = [chatbot, question, history, results, sources]
        send.click(respond, ask_inputs, ask_outputs, concurrency_limit=None)
        question.submit(respond, ask_inputs, ask_outputs, concurrency_limit=None)

        def clear(code: str) -> tuple[Any, ...]:
            return [], [], [], None, {}, "", sources_html(None, code)

        new_chat.click(
            clear, [lang], [chatbot, history, results, feedback_target, feedback_rows, feedback_status, sources]
        )

        # -- feedback ------------------------------------------------------------------------------
        def on_like(
            result_list: list[dict[str, Any]], rows: dict[int, int], code: str, data: gr.LikeData,
            request: gr.Request,
        ) -> tuple[Any, dict[int, int], str]:
            user = user_of(request)
            index = data.index if isinstance(data.index, int) else data.index[0]
            turn = index // 2  # user, assistant, user, assistant, ...
            if not (0 <= turn < len(result_list)) or result_list[turn] is None:
                return None, rows, ""
            liked = data.liked
            # True/False from the thumbs; anything else (e.g. un-clicking) is recorded as neutral.
            rating = 1 if liked is True or liked == "Like" else (-1 if liked is False or liked == "Dislike" else 0)
            result = result_list[turn]
            if turn in rows:
                ctx.feedback.set_rating(rows[turn], user.name, rating)
                row = rows[turn]
            else:
                row = ctx.feedback.add(user.name, rating, result, answer_config(ctx.settings, result))
                rows = {**rows, turn: row}
            event = str(result.get("gap_event") or "")
            if ctx.gaps is not None and event:
                if rating < 0:
                    ctx.gaps.disliked(result, user.name, "chat", event)
                else:
                    ctx.gaps.undisliked(event)
            return row, rows, t(code, "thanks")

        chatbot.like(on_like, [results, feedback_rows, lang], [feedback_target, feedback_rows, feedback_status])

        def on_comment(target: int | None, text: str, code: str, request: gr.Request) -> tuple[str, str]:
            user = user_of(request)
            if target is None:
                return t(code, "no_answer_yet"), text
            try:
                text = clean_text(text or "").strip()
            except TextError as exc:
                raise gr.Error(str(exc)) from None
            if text:
                ctx.feedback.set_comment(int(target), user.name, text)
            return t(code, "thanks"), ""

        send_comment.click(on_comment, [feedback_target, comment, lang], [feedback_status, comment])

        # -- admin console ---------------------------------------------------------------------------
        def admin_tables(request: gr.Request) -> tuple[Any, ...]:
            admin_of(request)
            manifest = ctx.service.store.manifest
            docs = documents_table(manifest)
            fails = failures_table(manifest)
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

        table_outputs = [docs_table, delete_id, failures, feedback_table, sessions_table, revoke_id]
        admin_tab.select(admin_tables, None, table_outputs)
        refresh_btn.click(admin_tables, None, table_outputs)

        def do_upload(files: list[str] | None, request: gr.Request) -> tuple[str, None]:
            admin_of(request)
            if not files:
                return "No file chosen / 파일을 고르세요", None
            lines = []
            for tmp in files:
                path = Path(tmp)
                try:
                    # Only bytes that came with a request to /gradio_api/upload: an API caller may name
                    # any path in a FileData, and Gradio would copy that server file into its cache.
                    if str(tmp) not in demo.upload_file_set:
                        raise UploadError(f"{path.name}: not uploaded to this server; send the file's bytes")
                    if path.stat().st_size > ctx.settings.upload_max_mb * 1024 * 1024:
                        raise UploadError(f"{path.name}: over the {ctx.settings.upload_max_mb:g} MB limit")
                    saved = save_upload(ctx.settings, path.name, path.read_bytes())
                    lines.append(f"- ✅ {escape_markdown_text(saved.name)}")
                except UploadError as exc:
                    lines.append(f"- ❌ {escape_markdown_text(str(exc))}")
            lines.append("\nRe-ingest to index them / 다시 색인하면 반영됩니다.")
            return "\n".join(lines), None

        upload_btn.click(do_upload, [uploads], [admin_status, uploads])

        def do_ingest(prune_gone: bool, request: gr.Request) -> Iterator[tuple[Any, ...]]:
            admin_of(request)
            if not ctx.admin.start_ingest(prune=bool(prune_gone)):
                yield "An ingest is already running / 이미 색인 중입니다", gr.update()
                return
            while True:
                snap = ctx.admin.job.snapshot()
                yield "Ingesting… / 색인 중…", _progress_html(snap)
                if not snap["running"]:
                    break
                time.sleep(0.3)
            snap = ctx.admin.job.snapshot()
            yield _report_markdown(snap), _progress_html(snap)

        ingest_btn.click(do_ingest, [prune], [admin_status, progress], concurrency_limit=1).then(
            admin_tables, None, table_outputs
        )

        def do_delete(doc_id: str | None, request: gr.Request) -> str:
            admin_of(request)
            if not doc_id:
                return "Choose a document / 문서를 고르세요"
            try:
                found = ctx.admin.delete_document(doc_id)
            except RuntimeError as exc:
                return escape_markdown_text(str(exc))
            return f"Deleted / 삭제됨: {escape_markdown_text(doc_id)}" if found else "Not indexed / 색인에 없음"

        delete_btn.click(do_delete, [delete_id], [admin_status]).then(admin_tables, None, table_outputs)

        def do_revoke(session_id: str | None, request: gr.Request) -> str:
            admin_of(request)
            if not session_id:
                return "Choose a session / 세션을 고르세요"
            if not ctx.sessions.revoke_id(session_id):
                return "No such session / 없는 세션"
            return f"Session ended / 세션을 끝냈습니다: {escape_markdown_text(session_id)}"

        revoke_btn.click(do_revoke, [revoke_id], [admin_status]).then(admin_tables, None, table_outputs)

        # -- content gaps ---------------------------------------------------------------------------
        def gap_report(since: str | None, with_users: bool, request: gr.Request) -> GapReport:
            admin_of(request)
            if ctx.gaps is None:
                raise gr.Error("The content-gap log is off (setting gap_log) / 질문 기록이 꺼져 있습니다")
            since = (since or "").strip()
            if since:
                try:
                    since = date.fromisoformat(since).isoformat()
                except ValueError:
                    raise gr.Error("Since wants YYYY-MM-DD / 시작일은 YYYY-MM-DD 형식입니다") from None
            return ctx.gaps.report(since or None, with_users=bool(with_users))

        def show_gaps(since: str | None, with_users: bool, request: gr.Request) -> tuple[Any, ...]:
            report = gap_report(since, with_users, request)
            return _gap_tables(report)

        gap_outputs = [gaps_summary, gaps_missing, gaps_docs, gaps_topics, gaps_weeks, gaps_entries]
        gaps_btn.click(show_gaps, [gaps_since, gaps_users], gap_outputs)
        admin_tab.select(show_gaps, [gaps_since, gaps_users], gap_outputs)

        def export_gaps(since: str | None, with_users: bool, request: gr.Request) -> str:
            report = gap_report(since, with_users, request)
            folder = Path(tempfile.mkdtemp(prefix="civicrag-export-"))
            path = folder / f"civicrag-gaps-{time.strftime('%Y%m%d-%H%M%S')}.csv"
            path.write_text(report_csv(report), encoding="utf-8-sig")  # BOM: Excel opens Korean correctly
            return str(path)

        gaps_export_btn.click(export_gaps, [gaps_since, gaps_users], [gaps_file])

        def do_export(request: gr.Request) -> str:
            admin_of(request)
            folder = Path(tempfile.mkdtemp(prefix="civicrag-export-"))
            path = folder / f"civicrag-feedback-{time.strftime('%Y%m%d-%H%M%S')}.csv"
            path.write_text(ctx.feedback.to_csv(), encoding="utf-8-sig")  # BOM: Excel opens Korean correctly
            return str(path)

        export_btn.click(do_export, None, [export_file])

    return demo


def _sources(ctx: AppContext, result: dict[str, Any] | None, code: str, compare_url: CompareUrl | None = None) -> str:
    """The sources panel, its cited regulations linked: those in the index open here, the rest on law.go.kr."""
    if not result:
        return sources_html(result, code)
    from civicrag.rag.statutes import indexed_documents

    return sources_html(result, code, documents=indexed_documents(ctx.service.load().catalogue),
                        compare_url=compare_url)


def _department(meta_json: str) -> str:
    """담당부서 of a document version, from the metadata the manifest keeps."""
    import json

    try:
        return str(json.loads(meta_json or "{}").get("department") or "")
    except ValueError:
        return ""


def _esc(text: str) -> str:
    import html

    return html.escape(text)


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
    total, done = int(snap.get("total") or 0), int(snap.get("done") or 0)
    bar = f"<progress value='{done}' max='{total}'></progress>" if total else "<progress></progress>"
    state = "running" if snap.get("running") else "finished"
    current = _esc(str(snap.get("current") or ""))
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
