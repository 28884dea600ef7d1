"""End to end in Debian's chromium, driven by Playwright: what staff and admins actually click.

Screenshots go to test-artifacts/ui/. The tests share one server and run in file order: the
admin test at the end sees the feedback the staff test left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import CHROMIUM, PASSWORDS, Server

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")

TIMEOUT_MS = 30_000
UPLOADED_DOC = """---
자치법규ID: 'UP-0001'
자치법규명: '가상특별자치도 반려견 놀이터 운영 조례'
자치법규종류: '조례'
지자체기관명: '가상특별자치도'
시행일자: '2025-03-01'
---

# 가상특별자치도 반려견 놀이터 운영 조례

##### 제4조 (이용시간)

반려견 놀이터의 이용시간은 오전 9시부터 오후 6시까지로 한다.
"""



def _login(browser: Any, server: Server, user: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    outside: list[str] = []
    # The page must work offline: record any request that leaves the server.
    local = (server.url, "data:", "blob:")
    page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
    page.goto(server.url + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_selector("#cr-question textarea")
    page.wait_for_selector(f"#cr-user:has-text('{user}')")
    return context, page, outside


def _ask(page: Any, question: str, answers_before: int) -> Any:
    page.locator("#cr-question textarea").fill(question)
    page.click("#cr-send")
    bot = page.locator("#cr-chatbot [data-testid=bot]")
    page.wait_for_function(
        "n => document.querySelectorAll('#cr-chatbot [data-testid=bot]').length > n", arg=answers_before
    )
    # streaming is over when the sources panel shows this answer's provisions
    page.wait_for_function(
        "q => { const s = document.querySelector('#cr-sources'); return s && !s.querySelector('.cr-empty')"
        " && document.querySelector('#cr-question textarea').value === '' }", arg=question,
    )
    page.wait_for_timeout(300)
    return bot.nth(answers_before)


def test_staff_asks_reads_sources_opens_original_follows_up_and_gives_feedback(
    browser: Any, server: Server, artifacts: Path
) -> None:
    context, page, outside = _login(browser, server, "bob")
    # Korean interface by default, with example questions for a first visit.
    assert page.locator("#cr-send").inner_text().strip() == "질문하기"
    assert page.locator("#cr-examples").get_by_text("경차는 공영주차장 주차요금을 감면받나요?").count() == 1

    answer = _ask(page, "경차는 공영주차장 주차요금을 감면받나요?", 0)
    assert "제7조" in answer.inner_text() and "[1]" in answer.inner_text()
    source = page.locator("#cr-sources #cr-src-1")
    assert "가상특별자치도 주차장 설치 및 관리 조례" in source.inner_text()
    assert "주차요금의 감면" in source.inner_text() and "시행 2024-01-01" in source.inner_text()
    mark = source.locator(".cr-text mark").first
    assert "100분의 50" in mark.inner_text()
    page.screenshot(path=str(artifacts / "01-answer-with-sources.png"), full_page=True)

    # One click opens the original document, rendered by the app.
    with context.expect_page() as opened:
        source.locator("a.cr-original").click()
    original = opened.value
    original.wait_for_load_state()
    assert "/doc?id=9100001" in original.url
    assert "주차요금의 감면" in original.locator("main").inner_text()
    original.screenshot(path=str(artifacts / "02-original-document.png"), full_page=True)
    original.close()

    # A follow-up keeps the conversation.
    follow = _ask(page, "그럼 장애인은?", 1)
    assert "장애인" in follow.inner_text()
    assert page.locator("#cr-sources .cr-rewritten").count() == 1  # read in the light of the first question
    assert page.locator("#cr-chatbot [data-testid=user]").count() == 2
    page.screenshot(path=str(artifacts / "03-follow-up.png"), full_page=True)

    # 👎 on the first answer, with a comment.
    page.locator("#cr-chatbot button[aria-label='Dislike']").first.click()
    page.wait_for_selector("#cr-feedback-status:has-text('감사합니다')")
    page.locator("#cr-comment textarea").fill("감면 대상 표가 더 필요합니다")
    page.click("#cr-send-comment")
    page.wait_for_function("() => document.querySelector('#cr-comment textarea').value === ''")
    rows = server.app.state.ctx.feedback.rows()
    assert rows, "no feedback stored"
    last = rows[-1]
    assert last["user"] == "bob" and last["rating"] == -1 and last["comment"] == "감면 대상 표가 더 필요합니다"
    assert last["question"] == "경차는 공영주차장 주차요금을 감면받나요?" and "제7조" in last["citations"]
    # ...and the content-gap log has it, as a 👎 of an answer (ui.gaps).
    gaps = server.app.state.ctx.gaps
    gaps.flush()
    disliked = [(r["source"], r["user"], r["refused"], r["doc_id"], r["article"]) for r in gaps.rows()
                if r["question"] == "경차는 공영주차장 주차요금을 감면받나요?" and r["disliked"]]
    assert disliked == [("chat", "bob", 0, "9100001", "제7조")]

    # Staff never see the admin console, and the admin API refuses their session too.
    assert page.locator("button[role=tab]:has-text('관리')").count() == 0
    refused = page.request.post(server.url + "/api/ingest", data={}, headers={"Origin": server.url})
    assert refused.status == 403 and "admin role required" in refused.text()
    page.screenshot(path=str(artifacts / "04-staff-feedback.png"), full_page=True)
    assert outside == [], f"the page fetched from outside: {outside}"
    context.close()


def test_not_found_state_english_switch_and_escaping(browser: Any, server: Server, artifacts: Path) -> None:
    context, page, _ = _login(browser, server, "bob")
    page.locator("#cr-lang").get_by_text("English").click()
    page.wait_for_function("() => document.querySelector('#cr-send').innerText.trim() === 'Ask'")
    assert page.locator("#cr-question textarea").get_attribute("placeholder").startswith("e.g.")

    # A question no provision shares a topic word with: refused by the topic rule, whatever the model.
    answer = _ask(page, "How many moons does Jupiter have?", 0)
    assert "Not found in the regulations" in answer.inner_text()
    assert page.locator("#cr-sources .cr-notfound").count() == 1
    page.screenshot(path=str(artifacts / "05-not-found-english.png"), full_page=True)

    # A document with <script> and a javascript: link shows them as text, nothing runs.
    evil = _ask(page, "What must billboards display in every window?", 1)
    panel = page.locator("#cr-sources")
    assert "evil-doc" in page.content() or "Evil" in panel.inner_text()
    text = panel.inner_text() + evil.inner_text()
    assert "<script>window.__pwned = 1</script>" in text or "javascript:window.__pwned=2" in text
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator("#cr-sources script, #cr-chatbot script").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    page.screenshot(path=str(artifacts / "06-escaped-markup.png"), full_page=True)

    # Filters: one document, and an as-of date.
    page.locator("#cr-filters").get_by_text("Search scope").click()
    page.locator("#cr-document input").click()
    page.get_by_role("option", name="Sampleton Noise Control Ordinance (noise.pdf)").click()
    page.locator("#cr-asof input, #cr-asof textarea").first.fill("2025-06-01")
    _ask(page, "When are the quiet hours?", 2)
    panel_text = page.locator("#cr-sources").inner_text()
    assert "Sampleton Noise Control Ordinance" in panel_text and "Fixtureville" not in panel_text
    link = page.locator("#cr-sources a.cr-original").first.get_attribute("href")
    assert link.startswith("/doc?id=noise.pdf") and "#page=" in link  # the PDF opens at the cited page
    page.screenshot(path=str(artifacts / "07-filtered-pdf-source.png"), full_page=True)
    context.close()


def test_admin_uploads_reingests_with_progress_and_sees_tables(
    browser: Any, server: Server, artifacts: Path, tmp_path: Path
) -> None:
    context, page, _ = _login(browser, server, "alice")
    page.locator("button[role=tab]:has-text('관리')").click()
    page.wait_for_selector("#cr-docs:has-text('9100001')")
    # the 👎 left by staff is in the feedback table
    page.wait_for_selector("#cr-feedback-table:has-text('감면 대상 표가 더 필요합니다')")
    page.wait_for_selector("#cr-sessions:has-text('alice')")  # her own login session is listed

    upload = tmp_path / "반려견-놀이터.md"
    upload.write_text(UPLOADED_DOC, encoding="utf-8")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    page.locator("#cr-upload input[type=file]").set_input_files([str(upload), str(broken)])
    page.wait_for_selector("#cr-upload :text('반려견-놀이터.md')")
    page.click("#cr-upload-btn")
    page.wait_for_selector("#cr-admin-status:has-text('✅')")
    assert (server.settings.data_dir / "uploads" / "반려견-놀이터.md").is_file()

    page.click("#cr-ingest-btn")
    page.wait_for_selector("#cr-progress progress")  # the live bar appears while it runs
    page.screenshot(path=str(artifacts / "08-ingest-progress.png"), full_page=True)
    page.wait_for_selector("#cr-admin-status:has-text('색인 완료')", timeout=120_000)
    status = page.locator("#cr-admin-status").inner_text()
    assert "added 1" in status and "failed 1" in status and "broken.pdf" in status
    page.wait_for_selector("#cr-docs:has-text('UP-0001')")
    page.wait_for_selector("#cr-failures:has-text('broken.pdf')")  # the failed file, with its reason
    page.screenshot(path=str(artifacts / "09-ingest-done.png"), full_page=True)

    # The new document answers questions.
    page.locator("button[role=tab]:has-text('대화')").click()
    answer = _ask(page, "반려견 놀이터 이용시간은?", 0)
    assert "오전 9시" in answer.inner_text()

    # Delete it again from the console.
    page.locator("button[role=tab]:has-text('관리')").click()
    page.wait_for_selector("#cr-docs:has-text('UP-0001')")
    page.locator("#cr-delete-id input").click()
    page.get_by_role("option", name="가상특별자치도 반려견 놀이터 운영 조례 (UP-0001)").click()
    page.click("#cr-delete-btn")
    page.wait_for_selector("#cr-admin-status:has-text('UP-0001')")
    page.wait_for_function("() => !document.querySelector('#cr-docs').innerText.includes('UP-0001')")
    assert not (server.settings.data_dir / "uploads" / "반려견-놀이터.md").exists()
    page.screenshot(path=str(artifacts / "10-deleted.png"), full_page=True)

    # Feedback export as CSV.
    page.click("#cr-export")
    link = page.locator("#cr-export-file a[download]").first
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert csv_text.startswith("id,at,user,rating,comment") and "감면 대상 표가 더 필요합니다" in csv_text
    (server.settings.data_dir / "uploads" / "broken.pdf").unlink(missing_ok=True)
    context.close()
