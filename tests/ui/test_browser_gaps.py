"""The content-gap section of the admin console, end to end in Debian's chromium.

Staff ask in the chat on a server that refuses every question (``gap_server``) and give one
answer a 👎; the admin then finds the questions, the attachment they need and the counts in the
console, without user names until she ticks the box. Screenshot: test-artifacts/ui/11-content-gaps.png.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from civicrag.ui.gaps import gap_log_path

from tests.ui.conftest import CHROMIUM, Server

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")

from tests.ui.test_browser import _ask, _login  # noqa: E402 - needs playwright, checked above

SLOPE_Q = "경사도 산정방법은 어떻게 되나요?"
HOURS_Q = "주차장 운영시간은 몇 시부터 몇 시까지인가요?"



def test_admin_sees_what_staff_could_not_get_answered(browser: Any, gap_server: Server, artifacts: Path) -> None:
    gaps = gap_server.app.state.ctx.gaps
    gaps.flush()
    db = sqlite3.connect(gap_log_path(gap_server.settings))
    db.execute("DELETE FROM gaps")
    db.commit()
    db.close()

    context, page, outside = _login(browser, gap_server, "bob")
    first = _ask(page, SLOPE_Q, 0)
    assert "[별표 2] 경사도 산정방법" in first.inner_text()  # the refusal names the attachment
    _ask(page, HOURS_Q, 1)
    page.locator("#cr-chatbot button[aria-label='Dislike']").first.click()  # 👎 on the slope answer
    page.wait_for_selector("#cr-feedback-status:has-text('감사합니다')")
    gaps.flush()
    rows = gaps.rows()
    assert [(r["source"], r["user"], r["question"], r["refused"], r["disliked"]) for r in rows] == [
        ("chat", "bob", SLOPE_Q, 1, 1), ("chat", "bob", HOURS_Q, 1, 0)]
    context.close()

    context, page, outside = _login(browser, gap_server, "alice")
    page.locator("button[role=tab]:has-text('관리')").click()
    page.wait_for_selector("#cr-gaps-summary:has-text('2')")
    summary = page.locator("#cr-gaps-summary").inner_text()
    assert "2 questions" in summary and "2 refused" in summary and "1 disliked" in summary
    assert "[별표 2] 경사도 산정방법 — 가상특별자치도 개발행위허가 규칙" in summary
    page.wait_for_selector("#cr-gaps-missing:has-text('경사도 산정방법')")
    assert "가상특별자치도 개발행위허가 규칙" in page.locator("#cr-gaps-docs").inner_text()
    topics = page.locator("#cr-gaps-topics").inner_text()
    assert "가상특별자치도 개발행위허가 규칙 제5조" in topics and SLOPE_Q in topics
    assert "W" in page.locator("#cr-gaps-weeks").inner_text()
    section = ("#cr-gaps-summary, #cr-gaps-missing, #cr-gaps-docs, #cr-gaps-topics, #cr-gaps-weeks, "
               "#cr-gaps-entries")
    assert "bob" not in " ".join(page.locator(section).all_inner_texts())  # no names by default

    page.locator("#cr-gaps-users input").check()
    page.click("#cr-gaps-show")
    page.wait_for_selector("#cr-gaps-entries:has-text('bob')")
    assert "bob" in page.locator("#cr-gaps-topics").inner_text()

    # Since tomorrow: nothing.
    page.locator("#cr-gaps-since textarea, #cr-gaps-since input").first.fill("2999-01-01")
    page.click("#cr-gaps-show")
    page.wait_for_selector("#cr-gaps-summary:has-text('0 questions')")
    page.locator("#cr-gaps-since textarea, #cr-gaps-since input").first.fill("")
    page.locator("#cr-gaps-users input").uncheck()
    page.click("#cr-gaps-show")
    page.wait_for_selector("#cr-gaps-summary:has-text('2 questions')")
    page.wait_for_function("() => !document.querySelector('#cr-gaps-entries').innerText.includes('bob')")

    # The CSV export of what is shown.
    page.click("#cr-gaps-export")
    link = page.locator("#cr-gaps-file a").first
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("topic,document,doc_id,article") and "bob" not in text
    assert "[별표 2] 경사도 산정방법 — 가상특별자치도 개발행위허가 규칙" in text

    page.screenshot(path=str(artifacts / "11-content-gaps-console.png"), full_page=True)
    page.locator("#cr-gaps").screenshot(path=str(artifacts / "11-content-gaps.png"))
    assert outside == [], f"the page fetched from outside: {outside}"
    context.close()
