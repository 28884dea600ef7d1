"""The Gradio Blocks app: the page header with the language switch, the staff chat (``ui.chat``) and the admin
console (``ui.console``).

Thin: each tab lays out its components, and its handlers call RagService / AdminOps / FeedbackStore and
format with ``ui.render``. Every handler looks the user up from the request again (``ui.events``), so an admin
action sent by a staff user (hidden tab or not) is refused on the server.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from civicrag.ui.chat import ChatHandlers, build_chat_tab, wire_chat
from civicrag.ui.console import ConsoleHandlers, build_console_tab, wire_console
from civicrag.ui.context import AppContext
from civicrag.ui.render import t

LANG_CHOICES = [("한국어", "ko"), ("English", "en")]


def theme() -> gr.themes.Base:
    """System fonts only: nothing is fetched from a font CDN."""
    return gr.themes.Default(
        font=["system-ui", "-apple-system", "Segoe UI", "Noto Sans KR", "Malgun Gothic", "sans-serif"],
        font_mono=["ui-monospace", "Consolas", "monospace"],
    )


def build_header() -> tuple[Any, Any, Any, Any]:
    """The title, the language switch and who is logged in; ``lang`` holds the page's language for the events."""
    lang = gr.State("ko")
    with gr.Row(equal_height=True):
        title = gr.Markdown(f"## {t('ko', 'title')}\n{t('ko', 'subtitle')}", elem_id="cr-header")
        with gr.Column(scale=0, min_width=220):
            lang_radio = gr.Radio(LANG_CHOICES, value="ko", show_label=False, elem_id="cr-lang")
            who = gr.HTML("", elem_id="cr-user")
    return lang, lang_radio, title, who


def build_blocks(ctx: AppContext) -> gr.Blocks:
    """The page: header, the chat tab, the admin console tab (shown to admins by the page load)."""
    with gr.Blocks(title="civicrag", analytics_enabled=False) as demo:
        lang, lang_radio, title, who = build_header()
        with gr.Tabs():
            chat = build_chat_tab(ctx.settings.server.question_max_chars)
            console = build_console_tab()
        chat_handlers = ChatHandlers(ctx)
        demo.load(chat_handlers.on_load, None, [who, chat.jurisdiction, chat.department, chat.document, console.tab])
        wire_chat(chat, lang, lang_radio, title, chat_handlers)
        wire_console(console, lang_radio, ConsoleHandlers(ctx, demo))
    return demo
