"""The amendment comparison (신구조문 대비) in Debian's chromium: reached from a citation in the sources panel and
from the admin documents list; its version picker; screenshots in test-artifacts/ui/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import CHROMIUM, Server
from tests.ui.test_browser import _ask, _login

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")


def test_staff_ask_what_changed_and_open_the_comparison(browser: Any, amend_server: Server, artifacts: Path) -> None:
    context, page, outside = _login(browser, amend_server, "bob")
    answer = _ask(page, "가상특별자치도 공영주차장 조례 최근에 뭐가 바뀌었어?", 0)
    text = answer.inner_text()
    assert "2020-01-01 시행본과 2024-07-01 시행본의 신구조문 대비" in text
    assert "제3조(주차요금)" in text and "조문 삭제" in text
    panel = page.locator("#cr-sources")
    assert panel.locator(".cr-superseded").count() >= 1 and panel.locator(".cr-current").count() >= 1
    links = panel.locator("a.cr-compare")
    assert links.count() == panel.locator("details.cr-source").count()  # every citation is of 9100050
    page.screenshot(path=str(artifacts / "amendments-01-answer.png"), full_page=True)

    with context.expect_page() as opened:
        links.first.click()
    diff = opened.value
    diff.wait_for_load_state()
    assert "/diff?id=9100050" in diff.url and "#art-" in diff.url
    assert diff.locator("h1").inner_text().startswith("신구조문 대비")
    headers = diff.locator("table.cmp thead th").all_inner_texts()
    assert headers == ["종전 · 2020-01-01 시행 (개정 전)", "개정 · 2024-07-01 시행 (현행)"]
    changed = diff.locator("tr.u-changed").first
    assert changed.locator("td.old del").inner_text() == "500"
    assert changed.locator("td.new ins").all_inner_texts() == ["1천", "<개정 2024.7.1.>"]
    added = diff.locator("tr.u-added[data-label='③']")
    assert added.locator("td.old").inner_text() == "〈신설〉"
    assert "장애인 자동차는 주차요금을 면제한다." in added.locator("td.new").inner_text()
    repealed = diff.locator("tr.art", has_text="제5조")
    assert repealed.locator("th.new").inner_text().startswith("제5조 삭제 <2024.7.1.>")
    assert diff.locator("tr.u-deleted td.new").inner_text() == "〈삭제〉"
    # Nothing ran: the page carries no script and its policy allows none.
    assert diff.locator("script").count() == 0
    diff.screenshot(path=str(artifacts / "amendments-02-comparison.png"), full_page=True)

    # The version picker: every article, unchanged ones too.
    diff.locator("input[name=all]").check()
    diff.locator("form.picker button[type=submit]").click()
    diff.wait_for_url("**all=true**")
    assert diff.locator("tr.art[data-status='unchanged']", has_text="제1조(목적)").count() == 1
    assert diff.locator("tr.u-folded").count() == 0
    diff.screenshot(path=str(artifacts / "amendments-03-all-articles.png"), full_page=True)
    diff.close()
    assert outside == [], f"the page fetched from outside: {outside}"
    context.close()


def test_admin_documents_list_links_the_comparison(browser: Any, amend_server: Server, artifacts: Path) -> None:
    context, page, _ = _login(browser, amend_server, "alice")
    page.locator("button[role=tab]:has-text('관리')").click()
    page.wait_for_selector("#cr-docs:has-text('9100050')")
    # (the table keeps a hidden copy of its first row for measuring: only visible links count)
    links = page.locator("#cr-docs a:visible", has_text="신구조문 대비")
    assert links.count() == 2  # 9100002 and 9100050 have two versions; 9100001 has one
    hrefs = sorted(links.nth(i).get_attribute("href") or "" for i in range(links.count()))
    assert [h.rsplit("/", 1)[-1] for h in hrefs] == ["diff?id=9100002", "diff?id=9100050"]
    page.locator("#cr-docs").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "amendments-04-admin-documents.png"), full_page=True)
    target = next(i for i in range(links.count()) if (links.nth(i).get_attribute("href") or "").endswith("9100002"))
    with context.expect_page() as opened:
        links.nth(target).click()
    diff = opened.value
    diff.wait_for_load_state()
    assert diff.url.endswith("/diff?id=9100002")
    assert diff.locator("tr.u-changed td.old del").inner_text() == "5"
    assert diff.locator("tr.u-changed td.new ins").all_inner_texts() == ["7", "<개정 2024.7.1.>"]
    diff.close()
    context.close()
