"""The sources panel's 상위법 links (ui.render.references_html): indexed regulations open in the app, others
on law.go.kr by name; everything from the document is escaped."""

from __future__ import annotations

import re

from civicrag.ui.render import references_html, sources_html

from civicrag.legal.references import name_key

REFS = [
    {"name": "주차장법", "kind": "statute", "article": "제9조"},
    {"name": "주차장법", "kind": "statute", "article": "제14조"},
    {"name": "가상특별자치도 사무의 민간위탁 조례", "kind": "ordinance", "article": "제10조"},
    {"name": "표준 개인정보 보호지침", "kind": "rule", "article": ""},
    {"name": "가상특별자치도 없는 조례", "kind": "ordinance", "article": ""},
]
DOCUMENTS = {name_key("가상특별자치도 사무의 민간위탁 조례"): ("9200004", "2022-05-01")}


def _links(fragment: str) -> list[tuple[str, str]]:
    return re.findall(r"<a class='cr-ref' data-kind='[a-z]+' href='([^']*)'[^>]*>([^<]*)</a>", fragment)


def test_each_cited_regulation_is_one_link() -> None:
    fragment = references_html(REFS, DOCUMENTS, "ko")
    assert fragment.startswith("<div class='cr-refs'><span class='cr-refs-head'>인용 법령:</span> ")
    assert _links(fragment) == [
        ("https://www.law.go.kr/%EB%B2%95%EB%A0%B9/%EC%A3%BC%EC%B0%A8%EC%9E%A5%EB%B2%95", "「주차장법」 제9조, 제14조"),
        ("/doc?id=9200004&amp;version=2022-05-01", "「가상특별자치도 사무의 민간위탁 조례」 제10조"),
        ("https://www.law.go.kr/%ED%96%89%EC%A0%95%EA%B7%9C%EC%B9%99/"
         "%ED%91%9C%EC%A4%80%20%EA%B0%9C%EC%9D%B8%EC%A0%95%EB%B3%B4%20%EB%B3%B4%ED%98%B8%EC%A7%80%EC%B9%A8",
         "「표준 개인정보 보호지침」"),
        ("https://www.law.go.kr/%EC%9E%90%EC%B9%98%EB%B2%95%EA%B7%9C/"
         "%EA%B0%80%EC%83%81%ED%8A%B9%EB%B3%84%EC%9E%90%EC%B9%98%EB%8F%84%20%EC%97%86%EB%8A%94%20%EC%A1%B0%EB%A1%80",
         "「가상특별자치도 없는 조례」"),
    ]


def test_no_references_no_block() -> None:
    assert references_html([], DOCUMENTS, "ko") == ""
    assert references_html([{"name": "", "kind": "statute"}], None, "en") == ""


def test_names_are_escaped() -> None:
    fragment = references_html([{"name": "<script>x</script>법", "kind": "statute", "article": ""}], None, "en")
    assert "<script>" not in fragment
    assert "&lt;script&gt;x&lt;/script&gt;법" in fragment
    assert fragment.startswith("<div class='cr-refs'><span class='cr-refs-head'>Cites:</span> ")


def test_sources_panel_shows_the_links_under_each_citation() -> None:
    result = {
        "answer": "…", "refused": False,
        "citations": [{"n": 1, "doc_id": "9200001", "title": "가상특별자치도 주차장 설치 및 관리 조례",
                       "article": "제3조", "text": "제3조(주차요금)\n① 법 제9조제3항에 따른 …", "quote": "",
                       "effective_date": "2024-01-01", "references": REFS[:1]},
                      {"n": 2, "doc_id": "9200001", "title": "가상특별자치도 주차장 설치 및 관리 조례",
                       "article": "제5조", "text": "제5조(경차 감면)", "effective_date": "2024-01-01"}],
    }
    panel = sources_html(result, "ko", documents=DOCUMENTS)
    assert panel.count("class='cr-refs'") == 1
    assert [label for _, label in _links(panel)] == ["「주차장법」 제9조"]
    assert panel.index("class='cr-refs'") < panel.index("class='cr-original'")
