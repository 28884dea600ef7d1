"""The admin console follows the language switch, as the chat does (Debian chromium through Playwright)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import CHROMIUM, PASSWORDS, Server

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")

# What the console shows in each language: a heading, buttons, a checkbox, input and table labels.
SHOWN = {
    "ko": ["문서", "업로드", "다시 색인", "색인된 문서", "삭제할 문서", "새로 고침", "실패한 파일", "CSV 내보내기",
           "답하지 못한 질문", "시작일 (YYYY-MM-DD)", "사용자 이름 포함", "주제(조문)별", "로그인 세션", "세션 끝내기"],
    "en": ["Documents", "Upload", "Re-ingest", "Indexed documents", "Document to delete", "Refresh", "Failed files",
           "Export CSV", "Content gaps", "Since (YYYY-MM-DD)", "Include user names", "By topic", "Login sessions",
           "End session"],
}


def _console_text(page: Any) -> str:
    return str(page.locator("#cr-admin-tab").inner_text())


def test_console_labels_follow_the_language_switch(browser: Any, server: Server, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORDS["alice"])
    page.click("button[type=submit]")
    page.wait_for_selector("#cr-user:has-text('alice')")
    page.locator("button[role=tab]:has-text('관리')").click()
    page.wait_for_selector("#cr-docs:has-text('9100001')")
    korean = _console_text(page)
    assert all(label in korean for label in SHOWN["ko"]), [x for x in SHOWN["ko"] if x not in korean]
    assert page.locator("#cr-delete-btn").inner_text().strip() == "삭제"

    page.locator("#cr-lang").get_by_text("English").click()
    page.wait_for_function("() => document.querySelector('#cr-delete-btn').innerText.trim() === 'Delete'")
    english = _console_text(page)
    assert all(label in english for label in SHOWN["en"]), [x for x in SHOWN["en"] if x not in english]
    assert "색인된 문서" not in english and "로그인 세션" not in english
    assert page.locator("button[role=tab]:has-text('Admin')").count() == 1  # the tab's own label too
    page.screenshot(path=str(artifacts / "console-english.png"), full_page=True)

    page.locator("#cr-lang").get_by_text("한국어").click()
    page.wait_for_function("() => document.querySelector('#cr-delete-btn').innerText.trim() === '삭제'")
    assert all(label in _console_text(page) for label in SHOWN["ko"])
    context.close()
