"""상위법 links in the browser: a 근거 법령 question answered from structure, its sources panel linking each
cited statute to law.go.kr and a cited ordinance that is in the index to its original in the app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from tests.ui.conftest import CHROMIUM, Server, make_settings, running_server
from tests.ui.test_browser import _ask, _login

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statutes"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")


@pytest.fixture(scope="module")
def statute_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from civicrag.ingest.pipeline import ingest_paths

    sources = tmp_path_factory.mktemp("statute-sources")
    for path in FIXTURES.glob("*.md"):
        shutil.copy(path, sources / path.name)
    settings = make_settings(tmp_path_factory.mktemp("statute-data"), sources)
    report = ingest_paths(settings, [sources])
    assert not report.failed, report.failed
    with running_server(settings) as srv:
        yield srv



def test_basis_answer_links_statutes_and_indexed_ordinances(
    browser: Any, statute_server: Server, artifacts: Path
) -> None:
    context, page, outside = _login(browser, statute_server, "bob")
    answer = _ask(page, "가상특별자치도 주차장 조례는 어느 법에 따른 거야?", 0)
    assert "「가상특별자치도 주차장 설치 및 관리 조례」의 근거 법령" in answer.inner_text()
    assert "「주차장법」 (법률) 제2조, 제9조" in answer.inner_text()

    purpose = page.locator("#cr-sources #cr-src-1")
    assert "제1조" in purpose.inner_text()
    links = purpose.locator("a.cr-ref")
    assert [links.nth(i).inner_text() for i in range(links.count())] == [
        "「주차장법」", "「주차장법 시행령」", "「주차장법 시행규칙」",
    ]
    assert unquote(links.first.get_attribute("href")) == "https://www.law.go.kr/법령/주차장법"
    assert links.first.get_attribute("target") == "_blank"

    # 제4조 cites the outsourcing ordinance, which is indexed: its link opens the original here.
    outsourcing = page.locator("#cr-sources #cr-src-4 a.cr-ref")
    assert outsourcing.inner_text() == "「가상특별자치도 사무의 민간위탁 조례」 제10조"
    assert outsourcing.get_attribute("href") == "/doc?id=9200004&version=2022-05-01"
    page.screenshot(path=str(artifacts / "statute-links.png"), full_page=True)
    with context.expect_page() as opened:
        outsourcing.click()
    original = opened.value
    original.wait_for_load_state()
    assert "가상특별자치도 사무의 민간위탁 조례" in original.inner_text("body")
    assert "수탁기관의 선정" in original.inner_text("body")
    assert outside == []  # nothing was fetched from outside the server
    context.close()
