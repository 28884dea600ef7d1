"""The amendment comparison page and API (ui/amendments.py) over a real server, and its links."""

from __future__ import annotations

import re

import httpx
import pytest
from civicrag.ui.amendments import ComparisonLinks, anchor, compare_cell, comparison_page
from civicrag.ui.render import sources_html

from tests.ui.conftest import Server


def test_the_page_needs_a_login(amend_server: Server) -> None:
    assert httpx.get(f"{amend_server.url}/diff", params={"id": "9100050"}).status_code == 401
    assert httpx.get(f"{amend_server.url}/api/diff", params={"id": "9100050"}).status_code == 401


def test_the_page_lays_the_versions_side_by_side(amend_server: Server) -> None:
    response = httpx.get(f"{amend_server.url}/diff", params={"id": "9100050"}, auth=amend_server.auth("bob"))
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "form-action 'self'" in csp
    page = response.text
    assert ("<th scope='col'>종전 · 2020-01-01 시행 (개정 전)</th>"
            "<th scope='col'>개정 · 2024-07-01 시행 (현행)</th>") in page
    statuses = re.findall(r"<tr class='(?:art|u) [^']+'[^>]*data-status='(\w+)'", page)
    assert statuses == [
        "changed", "changed", "added",  # 제3조: ① words changed, (② the same: folded), ③ added
        "changed", "changed",  # 제4조: heading and text
        "changed", "deleted",  # 제5조 repealed in place
        "added", "added",  # the new 부칙
    ]
    assert "① 주차요금은 30분에 <del>500</del>원으로 한다." in page
    assert "① 주차요금은 30분에 <ins>1천</ins>원으로 한다. <ins>&lt;개정 2024.7.1.&gt;</ins>" in page
    assert "제4조(<del>운영</del>시간)" in page and "제4조(<ins>이용</ins>시간)" in page
    assert "<span class='badge b-deleted'>삭제</span>" in page  # 제5조 삭제 <2024.7.1.>
    assert "<td class='old'>(생략)</td><td class='new'>(현행과 같음)</td>" in page  # ② folded
    assert "<개정" not in page  # every note is escaped text
    everything = httpx.get(f"{amend_server.url}/diff", params={"id": "9100050", "all": "true"},
                           auth=amend_server.auth("bob")).text
    assert "제1조(목적)" in everything and "(생략)" not in everything


def test_the_api_returns_the_cli_json(amend_server: Server) -> None:
    data = httpx.get(f"{amend_server.url}/api/diff", params={"id": "9100050"}, auth=amend_server.auth("bob")).json()
    assert (data["from"]["version"], data["to"]["version"]) == ("2020-01-01", "2024-07-01")
    assert data["summary"] == {
        "articles_added": 1, "articles_deleted": 0, "articles_changed": 3, "articles_unchanged": 2,
        "units_added": 1, "units_deleted": 1, "units_changed": 2,
    }
    assert [(a["key"], a["status"], a["repealed"]) for a in data["articles"]] == [
        ("제3조", "changed", False), ("제4조", "changed", False), ("제5조", "changed", True),
        ("부칙 <제200호, 2024.7.1.>", "added", False),
    ]
    assert data["articles"][0]["units"][0]["words"][1] == ["replace", "500", "1천"]


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"id": "nope"}, 404, "no indexed document 'nope'"),
        ({"id": "9100001"}, 422, "only one indexed version"),
        ({"id": "9100050", "from": "someday"}, 422, "neither a version"),
        ({"id": "9100050", "from": "2024-07-01", "to": "2024-07-01"}, 422, "same version"),
    ],
)
def test_what_cannot_be_compared_is_said(amend_server: Server, params: dict[str, str], status: int,
                                         detail: str) -> None:
    api = httpx.get(f"{amend_server.url}/api/diff", params=params, auth=amend_server.auth("bob"))
    assert api.status_code == status and detail in api.json()["detail"]
    page = httpx.get(f"{amend_server.url}/diff", params=params, auth=amend_server.auth("bob"))
    assert page.status_code == status and detail.replace("'", "&#x27;") in page.text


def test_links_only_for_documents_with_several_versions(amend_server: Server) -> None:
    links = ComparisonLinks(amend_server.app.state.ctx.service)
    assert links.url({"doc_id": "9100050", "effective_date": "2024-07-01", "article": "제3조"}) == (
        "/diff?id=9100050&to=2024-07-01#art-제3조"
    )
    # the earliest version is compared with the one after it
    assert links.url({"doc_id": "9100050", "effective_date": "2020-01-01"}, "en") == (
        "/diff?id=9100050&from=2020-01-01&to=2024-07-01&lang=en"
    )
    assert links.url({"doc_id": "9100001", "effective_date": "2024-01-01"}) is None
    assert compare_cell("9100050", 2) == "[신구조문 대비 ↗](/diff?id=9100050)" and compare_cell("9100001", 1) == ""
    result = {"citations": [
        {"n": 1, "doc_id": "9100050", "title": "t", "article": "제3조", "effective_date": "2024-07-01", "text": "x"},
        {"n": 2, "doc_id": "9100001", "title": "u", "article": "제1조", "text": "y"},
    ]}
    panel = sources_html(result, "ko", compare_url=links.url)
    assert panel.count("class='cr-compare'") == 1
    assert "href='/diff?id=9100050&amp;to=2024-07-01#art-제3조'" in panel
    assert "cr-compare" not in sources_html(result, "ko")


def test_page_text_is_escaped() -> None:
    from civicrag.rag.amendments import Comparison, Version, compare_provisions, provisions, regex_words

    from tests.rag.test_amendments import record

    old = provisions([record("2020-01-01", 0, "제1조", "제1조(목적)\n<script>alert(1)</script> 목적")])
    new = provisions([record("2024-01-01", 0, "제1조", "제1조(목적)\n<script>alert(2)</script> 목적")])
    comparison = Comparison("d<1>", "제목 <b>", Version("2020-01-01", "2020-01-01", "2020-01-01", "2024-01-01", "t"),
                            Version("2024-01-01", "2024-01-01", "2024-01-01", None, "t"), [],
                            compare_provisions(old, new, regex_words))
    comparison.versions = [comparison.old, comparison.new]
    page = comparison_page(comparison)
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(<del>1</del>)&lt;/script&gt; 목적" in page
    assert anchor("부칙 <제885호, 2025. 6. 13.>") == "art-부칙-제885호-2025-6-13"
