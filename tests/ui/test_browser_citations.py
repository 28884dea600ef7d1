"""In Debian's chromium: copy-ready citations, the whole-answer copy, departments and attachments (별표).

Its own server over a small index: the fixture ordinance 9100001 listing its [별표 1] in the front matter,
with that attachment as a DOCX beside it (written here with python-docx), and the English town code.
Screenshots go to test-artifacts/ui/.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from civicrag.settings import Settings
from tests.ui.conftest import CHROMIUM, PASSWORDS, RAG_FIXTURES, Server, make_settings, running_server

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")

TIMEOUT_MS = 30_000
TITLE = "가상특별자치도 주차장 설치 및 관리 조례"
ATTACHMENTS = """담당부서: '교통정책과'
첨부파일:
  - 별표번호: '0001'
    별표가지번호: '00'
    별표구분: '별표'
    제목: '[별표 1] 정기주차권 요금'
    파일형식: 'docx'
    파일링크: ''
  - 별표번호: '0002'
    별표가지번호: '00'
    별표구분: '서식'
    제목: '[별표 2] 주차장 표지'
    파일형식: 'hwp'
    파일링크: 'http://www.law.go.kr/flDownload.do?flSeq=2'
"""
FEES = [
    ["구분", "주간 정기주차권", "야간 정기주차권"],
    ["노외주차장", "월 50,000원", "월 30,000원"],
    ["노상주차장", "월 40,000원", "월 20,000원"],
]


def fee_table_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("[별표 1] 정기주차권 요금(제7조의2제2항 관련)")
    grid = document.add_table(rows=len(FEES), cols=len(FEES[0]))
    for r, row in enumerate(FEES):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def citations_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from civicrag.ingest.pipeline import ingest_paths

    sources = tmp_path_factory.mktemp("citation-sources")
    ordinance = (RAG_FIXTURES / "ko" / "9100001.md").read_text(encoding="utf-8")
    (sources / "9100001.md").write_text(ordinance.replace("담당부서: '교통정책과'\n", ATTACHMENTS), encoding="utf-8")
    (sources / "9100001.별표1.docx").write_bytes(fee_table_docx())
    shutil.copy(RAG_FIXTURES / "en" / "town-code.md", sources / "town-code.md")
    settings: Settings = make_settings(tmp_path_factory.mktemp("citation-data"), sources)
    report = ingest_paths(settings, [sources])
    assert not report.failed, report.failed
    with running_server(settings) as srv:
        yield srv



def _login(browser: Any, server: Server) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(server.url + "/")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", PASSWORDS["bob"])
    page.click("button[type=submit]")
    page.wait_for_selector("#cr-question textarea")
    return context, page


def _ask(page: Any, question: str, answers_before: int) -> Any:
    page.locator("#cr-question textarea").fill(question)
    page.click("#cr-send")
    page.wait_for_function(
        "n => document.querySelectorAll('#cr-chatbot [data-testid=bot]').length > n", arg=answers_before
    )
    page.wait_for_function(
        "() => { const s = document.querySelector('#cr-sources'); return s && !s.querySelector('.cr-empty')"
        " && document.querySelector('#cr-question textarea').value === '' }"
    )
    page.wait_for_timeout(300)
    return page.locator("#cr-chatbot [data-testid=bot]").nth(answers_before)


def _clipboard(page: Any) -> str:
    return str(page.evaluate("() => navigator.clipboard.readText()"))


def test_copy_buttons_department_and_attachment(browser: Any, citations_server: Server, artifacts: Path) -> None:
    context, page = _login(browser, citations_server)

    _ask(page, "제7조의2 제2항 정기주차권 요금", 0)
    source = page.locator("#cr-sources #cr-src-1")
    formal = f"「{TITLE}」 제7조의2제2항 (시행 2024. 1. 1.)"
    assert source.locator(".cr-formal-text").inner_text() == formal
    assert "문의: 교통정책과" in source.inner_text()
    attachments = source.locator(".cr-attachments")
    assert attachments.inner_text() == "첨부: [별표 1] 정기주차권 요금 (DOCX)"

    # One click copies the citation as official documents write it.
    button = source.locator("button.cr-copy")
    button.click()
    page.wait_for_function("() => document.querySelector('#cr-src-1 button.cr-copy').innerText.includes('복사됨')")
    assert _clipboard(page) == formal
    page.screenshot(path=str(artifacts / "11-citation-copied.png"), full_page=True)

    # The whole answer, with its numbered citations.
    page.locator("#cr-sources button.cr-copy-all").click()
    copied = _clipboard(page)
    answer = page.locator("#cr-chatbot [data-testid=bot]").nth(0).inner_text()
    assert copied.splitlines()[0] in answer
    assert f"\n\n출처:\n[1] {formal}" in copied

    # The attachment link serves the DOCX that was ingested beside the ordinance.
    href = attachments.locator("a.cr-attachment").get_attribute("href")
    assert href == "/doc?id=9100001&version=2024-01-01&part=%EB%B3%84%ED%91%9C+1"
    got = page.request.get(citations_server.url + href)
    assert got.status == 200 and got.body() == (citations_server.sources / "9100001.별표1.docx").read_bytes()
    page.screenshot(path=str(artifacts / "12-attachment-with-citation.png"), full_page=True)

    # The fee table itself answers, cited as 별표 1, and its original is the attachment file.
    _ask(page, "별표 1 노외주차장 야간 정기주차권 요금은?", 1)
    table = page.locator("#cr-sources #cr-src-1")
    assert table.locator(".cr-formal-text").inner_text() == f"「{TITLE}」 별표 1 (시행 2024. 1. 1.)"
    quoted = table.locator(".cr-text mark").inner_text()
    assert " | 주간 정기주차권: 월 " in quoted and " | 야간 정기주차권: 월 " in quoted  # a row that reads alone
    assert table.locator("a.cr-original").get_attribute("href") == href
    page.screenshot(path=str(artifacts / "13-attachment-answers.png"), full_page=True)

    # An English code: the code's name and the quoted subsection; no department, so no contact line.
    mayor = "SECTION 3-1: how long is the mayor's term of office?"
    _ask(page, mayor, 2)
    charter = page.locator("#cr-sources #cr-src-1")
    assert charter.locator(".cr-formal-text").inner_text() == "Fixtureville City Charter, Section 3-1(b)"
    assert charter.locator(".cr-dept").count() == 0

    # The department filter: a dropdown like the jurisdiction one, listing the departments of the index.
    page.locator("#cr-filters").get_by_text("검색 범위").click()
    page.locator("#cr-department input").click()
    options = page.get_by_role("option").all_inner_texts()
    assert [o.replace("✓", "").strip() for o in options] == ["(전체 / all)", "교통정책과"]  # ✓ marks the chosen
    page.get_by_role("option", name="교통정책과").click()
    _ask(page, mayor, 3)  # the charter is no 교통정책과 document
    assert page.locator("#cr-sources .cr-notfound").count() == 1
    _ask(page, "불법주차 견인 비용은 누가 부담하나요?", 4)
    assert "문의: 교통정책과" in page.locator("#cr-sources #cr-src-1").inner_text()
    page.screenshot(path=str(artifacts / "14-department-filter.png"), full_page=True)
    context.close()
