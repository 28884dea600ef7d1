"""The sources panel's copy buttons, departments and attachments, on hand-made results (no server)."""

from __future__ import annotations

import html
import re

from civicrag.ui.render import copy_text, original_url, sources_html

FORMAL = "「가상특별자치도 주차장 설치 및 관리 조례」 제7조의2제2항 (시행 2024. 1. 1.)"
ARTICLE = {
    "n": 1, "doc_id": "9100001", "title": "가상특별자치도 주차장 설치 및 관리 조례", "article": "제7조의2",
    "article_title": "정기주차권", "paragraph": "②", "effective_date": "2024-01-01", "text": "② 요금은 별표 1과 같다.",
    "quote": "② 요금은 별표 1과 같다.", "formal": FORMAL, "department": "교통정책과", "provision_kind": "article",
    "attachments": [
        {"label": "별표 1", "title": "[별표 1] 정기주차권 요금", "format": "docx", "url": "", "indexed": True},
        {"label": "별표 2", "title": "[별표 2] 주차장 표지", "format": "hwp",
         "url": "http://www.law.go.kr/flDownload.do?flSeq=9", "indexed": False},
        {"label": "별표 3", "title": "[별표 3] <b>표</b>", "format": "hwp", "url": "javascript:alert(1)",
         "indexed": False},
    ],
}
APPENDIX = {
    "n": 2, "doc_id": "9100001", "title": "가상특별자치도 주차장 설치 및 관리 조례", "article": "별표 1",
    "article_title": "정기주차권 요금", "effective_date": "2024-01-01", "text": "[별표 1] 정기주차권 요금",
    "formal": "「가상특별자치도 주차장 설치 및 관리 조례」 별표 1 (시행 2024. 1. 1.)", "department": "교통정책과",
    "provision_kind": "appendix",
    "attachments": [{"label": "별표 1", "title": "[별표 1] 정기주차권 요금", "format": "docx", "url": "",
                     "indexed": True}],
}
RESULT = {"answer": "정기주차권 요금은 별표 1과 같습니다. [1]", "refused": False,
          "citations": [ARTICLE], "related": [APPENDIX]}


def _copies(panel: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r"data-copy='([^']*)'", panel)]


def test_copy_buttons_carry_the_formal_citation_and_the_whole_answer() -> None:
    panel = sources_html(RESULT, "ko")
    copies = _copies(panel)
    assert copies[0] == (
        "정기주차권 요금은 별표 1과 같습니다. [1]\n\n출처:\n"
        f"[1] {FORMAL}\n[2] 「가상특별자치도 주차장 설치 및 관리 조례」 별표 1 (시행 2024. 1. 1.)"
    )
    assert copies[1:] == [FORMAL, APPENDIX["formal"]]  # one per citation, related ones too
    assert copy_text(RESULT, "en").split("\n\n")[1].startswith("Sources:\n[1] ")
    assert panel.count("<button type='button' class='cr-copy") == 3


def test_department_and_attachments_with_their_links() -> None:
    panel = sources_html(RESULT, "ko")
    assert panel.count("문의: 교통정책과") == 2
    assert "<div class='cr-attachments'>첨부: " in panel
    # Indexed: the app serves the attachment file; listed only: the publisher's link; anything else: no link.
    assert "href='/doc?id=9100001&amp;version=2024-01-01&amp;part=%EB%B3%84%ED%91%9C+1'" in panel
    assert "href='http://www.law.go.kr/flDownload.do?flSeq=9'" in panel
    assert "javascript:" not in panel and "&lt;b&gt;표&lt;/b&gt;" in panel
    english = sources_html(RESULT, "en")
    assert "Contact: 교통정책과" in english and "Attachment: " in english


def test_an_attachment_opens_its_own_file() -> None:
    assert original_url(APPENDIX) == "/doc?id=9100001&version=2024-01-01&part=%EB%B3%84%ED%91%9C+1"
    assert original_url(ARTICLE).startswith("/doc?id=9100001&version=2024-01-01#:~:text=")


def test_copy_text_is_escaped_in_the_attribute() -> None:
    hostile = {**ARTICLE, "formal": "「x' onclick='alert(1)」 제1조"}
    panel = sources_html({"answer": "a", "citations": [hostile], "related": []}, "en")
    assert "onclick='alert" not in panel
    assert _copies(panel)[1] == "「x' onclick='alert(1)」 제1조"
