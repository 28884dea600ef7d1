"""The chat tab: a question with filters and an as-of date, the streamed answer with its sources, 👍/👎 feedback.

``build_chat_tab`` lays the components out (a ``ChatTab``), ``ChatHandlers`` holds the events as methods over
the app context (testable without a browser), and ``wire_chat`` connects the two.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr
from civicrag.rag.request import MAX_TURNS, AskRequest, RequestError, TextError, clean_text
from civicrag.ui.context import AppContext
from civicrag.ui.events import user_of
from civicrag.ui.feedback import answer_config
from civicrag.ui.render import (
    COPY_JS,
    EXAMPLES,
    answer_markdown,
    chat_message,
    escape_markdown_text,
    sources_html,
    t,
)

from civicrag.legal.citation import department_names

ALL_LABEL = "(전체 / all)"


@dataclass
class ChatTab:
    """The chat tab's components and the per-browser-session state its events share."""

    tab: Any
    chatbot: Any
    question: Any
    send: Any
    examples: Any
    filters_box: Any
    jurisdiction: Any
    department: Any
    document: Any
    as_of: Any
    feedback_box: Any
    feedback_hint: Any
    comment: Any
    send_comment: Any
    feedback_status: Any
    new_chat: Any
    sources_title: Any
    sources: Any
    history: Any  # raw turns [{role, content}] for follow-ups (the chatbot holds escaped text)
    results: Any  # result dicts, one per assistant message, for feedback
    feedback_target: Any  # id of the feedback row a comment will attach to
    feedback_rows: Any  # answer number -> feedback row, so changing one's mind updates the row


def build_chat_tab(question_max_chars: int) -> ChatTab:
    """The tab in Korean (the language switch relabels it): the conversation on the left, sources on the right."""
    with gr.Tab(t("ko", "chat"), id="chat", elem_id="cr-chat-tab") as tab, gr.Row():
        # inside the tab: a component put straight into gr.Tabs would get a tab of its own
        states = [gr.State([]), gr.State([]), gr.State(None), gr.State({})]
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label=t("ko", "chat"), show_label=False, elem_id="cr-chatbot", height=460, sanitize_html=True,
                allow_tags=False, latex_delimiters=[], render_markdown=True, feedback_options=("Like", "Dislike"),
            )
            with gr.Row():
                question = gr.Textbox(show_label=False, placeholder=t("ko", "placeholder"), scale=5, lines=1,
                                      max_length=question_max_chars, elem_id="cr-question")
                send = gr.Button(t("ko", "send"), variant="primary", scale=1, elem_id="cr-send")
            examples = gr.Dataset(components=[question], samples=[[q] for q in EXAMPLES["ko"]],
                                  label=t("ko", "examples"), elem_id="cr-examples")
            with gr.Accordion(t("ko", "filters"), open=False, elem_id="cr-filters") as filters_box, gr.Row():
                jurisdiction = gr.Dropdown([(ALL_LABEL, "")], label=t("ko", "jurisdiction"), value="",
                                           allow_custom_value=False, elem_id="cr-jurisdiction")
                department = gr.Dropdown([(ALL_LABEL, "")], label=t("ko", "department"), value="",
                                         allow_custom_value=False, elem_id="cr-department")
                document = gr.Dropdown([(ALL_LABEL, "")], label=t("ko", "document"), value="", elem_id="cr-document")
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
    return ChatTab(tab, chatbot, question, send, examples, filters_box, jurisdiction, department, document, as_of,
                   feedback_box, feedback_hint, comment, send_comment, feedback_status, new_chat, sources_title,
                   sources, *states)


class ChatHandlers:
    """The chat's events over one app context; each looks its user up from the request again."""

    def __init__(self, ctx: AppContext):
        self.ctx = ctx

    def sources_panel(self, result: dict[str, Any] | None, code: str) -> str:
        """The sources panel: cited regulations linked (in the index: here; else law.go.kr), and the amendment
        comparison linked for documents with several versions."""
        if not result:
            return sources_html(result, code)
        from civicrag.rag.statutes import indexed_documents

        documents = indexed_documents(self.ctx.service.load().catalogue)
        return sources_html(result, code, documents=documents,
                            compare_url=lambda c: self.ctx.comparisons.url(c, code))

    # -- page load: who is this, what can they filter on ------------------------------------------
    def on_load(self, request: gr.Request) -> tuple[Any, ...]:
        user = user_of(self.ctx.users, request)
        rows = self.ctx.service.document_versions()
        jurisdictions = sorted({r.jurisdiction for r in rows if r.jurisdiction})
        departments = sorted({d for r in rows for d in department_names(_department(r.meta_json))})
        docs = {r.doc_id: r.title for r in rows}
        logout = "" if self.ctx.users.open_demo else " · <a href='/logout'>로그아웃 / Log out</a>"
        badge = f"<span>{_esc(user.name)} ({user.role}){logout}</span>"
        return (
            badge,
            gr.update(choices=[(ALL_LABEL, ""), *[(j, j) for j in jurisdictions]], value=""),
            gr.update(choices=[(ALL_LABEL, ""), *[(d, d) for d in departments]], value=""),
            gr.update(choices=[(ALL_LABEL, ""), *[(f"{title} ({d})", d) for d, title in sorted(docs.items())]],
                      value=""),
            gr.update(visible=user.is_admin),
        )

    # -- language switch ------------------------------------------------------------------------------
    def switch_language(self, code: str, result_list: list[dict[str, Any]]) -> tuple[Any, ...]:
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
            self.sources_panel(last, code),
            gr.update(label=t(code, "chat")),
        )

    @staticmethod
    def pick_example(sample: list[str]) -> str:
        return sample[0]

    # -- asking -----------------------------------------------------------------------------------
    def respond(
        self, text: str, chat: list[dict[str, Any]], turns: list[dict[str, str]], result_list: list[dict[str, Any]],
        juris: str | None, dept: str | None, doc: str | None, day: str | None, code: str, request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        ctx = self.ctx
        user = user_of(ctx.users, request)
        if not (text or "").strip():
            return  # an empty box sent: nothing to ask
        try:
            # pydantic turns a lone surrogate away before AskRequest's own check can name it ("not a valid
            # string"); clean_text, the rule AskRequest applies, names it (and a NUL) for the user.
            text = clean_text(text)
            filters = {k: v for k, v in (("jurisdiction", juris), ("department", dept), ("doc", doc)) if v}
            # The chat's own history grows without end; the most recent turns are what a follow-up reads.
            ask = AskRequest.build(text, max_chars=ctx.settings.server.question_max_chars, history=turns[-MAX_TURNS:],
                                   as_of=(day or "").strip() or None, filters=filters)
        except (RequestError, TextError) as exc:
            raise gr.Error(t(code, "bad_request", e=str(exc))) from None
        chat = [*chat, {"role": "user", "content": escape_markdown_text(ask.question)},
                {"role": "assistant", "content": "…"}]
        last = result_list[-1] if result_list else None
        yield chat, "", turns, result_list, gr.update()
        streamed = ""
        result: dict[str, Any] | None = None
        history = [turn.model_dump() for turn in ask.history]
        try:
            for event in ctx.service.stream(ask.question, history=history or None, k=ask.k, as_of=ask.as_of,
                                            filters=ask.filters):
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
            yield chat, "", turns, [*result_list, None], self.sources_panel(last, code)
            return
        if result is None:
            return
        # One id per answer: its refusal (logged now) and a later 👎 of it are one row of the gap log.
        result["gap_event"] = uuid.uuid4().hex
        if ctx.gaps is not None:
            ctx.gaps.refused(result, user.name, "chat", event=result["gap_event"])  # enqueue only
        chat[-1] = {"role": "assistant", "content": chat_message(result, code)}
        turns = [*turns, {"role": "user", "content": ask.question}, {"role": "assistant", "content": result["answer"]}]
        result_list = [*result_list, result]
        yield chat, "", turns, result_list, self.sources_panel(result, code)

    def clear(self, code: str) -> tuple[Any, ...]:
        return [], [], [], None, {}, "", sources_html(None, code)

    # -- feedback ------------------------------------------------------------------------------------
    def on_like(
        self, result_list: list[dict[str, Any]], rows: dict[int, int], code: str, data: gr.LikeData,
        request: gr.Request,
    ) -> tuple[Any, dict[int, int], str]:
        ctx = self.ctx
        user = user_of(ctx.users, request)
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

    def on_comment(self, target: int | None, text: str, code: str, request: gr.Request) -> tuple[str, str]:
        user = user_of(self.ctx.users, request)
        if target is None:
            return t(code, "no_answer_yet"), text
        try:
            text = clean_text(text or "").strip()
        except TextError as exc:
            raise gr.Error(str(exc)) from None
        if text:
            self.ctx.feedback.set_comment(int(target), user.name, text)
        return t(code, "thanks"), ""


def wire_chat(tab: ChatTab, lang: Any, lang_radio: Any, header: Any, handlers: ChatHandlers) -> None:
    """The chat's events: the language switch (with the page header), asking, a new chat, feedback."""
    lang_radio.change(
        handlers.switch_language, [lang_radio, tab.results],
        [lang, header, tab.chatbot, tab.question, tab.send, tab.examples, tab.filters_box, tab.jurisdiction,
         tab.department, tab.document, tab.as_of, tab.feedback_box, tab.feedback_hint, tab.comment, tab.send_comment,
         tab.new_chat, tab.sources_title, tab.sources, tab.tab],
    )
    tab.examples.click(handlers.pick_example, [tab.examples], [tab.question])
    ask_inputs = [tab.question, tab.chatbot, tab.history, tab.results, tab.jurisdiction, tab.department,
                  tab.document, tab.as_of, lang]
    ask_outputs = [tab.chatbot, tab.question, tab.history, tab.results, tab.sources]
    tab.send.click(handlers.respond, ask_inputs, ask_outputs, concurrency_limit=None)
    tab.question.submit(handlers.respond, ask_inputs, ask_outputs, concurrency_limit=None)
    tab.new_chat.click(handlers.clear, [lang], [tab.chatbot, tab.history, tab.results, tab.feedback_target,
                                               tab.feedback_rows, tab.feedback_status, tab.sources])
    tab.chatbot.like(handlers.on_like, [tab.results, tab.feedback_rows, lang],
                     [tab.feedback_target, tab.feedback_rows, tab.feedback_status])
    tab.send_comment.click(handlers.on_comment, [tab.feedback_target, tab.comment, lang],
                           [tab.feedback_status, tab.comment])


def _department(meta_json: str) -> str:
    """담당부서 of a document version, from the metadata the index keeps."""
    import json

    try:
        return str(json.loads(meta_json or "{}").get("department") or "")
    except ValueError:
        return ""


def _esc(text: str) -> str:
    import html

    return html.escape(text)
