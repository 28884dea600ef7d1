"""civicrag.legal.references on hand-written provisions: names, kinds, short names, 같은 법, article chains."""

from __future__ import annotations

from civicrag.legal.references import (
    Reference,
    definitions,
    document_aliases,
    extract,
    from_json,
    kind_of,
    law_url,
    name_key,
    to_json,
)


def _refs(
    text: str, aliases: dict[str, str] | None = None, title: str = "", preceding: str = ""
) -> list[tuple[str, str, str]]:
    return [(r.name, r.kind, r.article) for r in extract(text, aliases, title, preceding)]


def test_kinds_follow_the_name_endings() -> None:
    assert kind_of("주차장법") == "statute"
    assert kind_of("공공기관의 정보공개에 관한 법률") == "statute"
    assert kind_of("주차장법 시행령") == "decree"
    assert kind_of("지방공무원 복무규정") == "decree"
    assert kind_of("주차장법 시행규칙") == "rule"
    assert kind_of("소방공무원 복제 규칙") == "rule"
    assert kind_of("표준 개인정보 보호지침") == "rule"
    assert kind_of("제주특별자치도 주차장 설치 및 관리 조례") == "ordinance"
    assert kind_of("제주특별자치도 주차장 설치 및 관리 조례 시행규칙") == "ordinance"
    assert kind_of("제주특별자치도 재무회계 규칙") == "ordinance"
    assert kind_of("주차장 수급 실태조사 계획") is None


def test_definitions_name_regulations_only() -> None:
    text = (
        "제주특별자치도지사(이하 “도지사”라 한다)는 「주차장법」(이하 “법”이라 한다) 제12조에 따라 "
        "「주차장법 시행령」(이하 \"영\"이라 한다)을 따른다.\n"
        "① 감염병의 예방 및 관리에 관한 법률 시행령(이하 “법시행령”이라 한다) 제1조의2에 따라\n"
        "「가상특별자치도 도시계획 조례(이하 “조례”라 한다)」 별표 1"
    )
    assert definitions(text) == {
        "법": "주차장법",
        "영": "주차장법 시행령",
        "법시행령": "감염병의 예방 및 관리에 관한 법률 시행령",
        "조례": "가상특별자치도 도시계획 조례",
    }


def test_document_aliases_add_the_conventions_a_definition_implies() -> None:
    aliases = document_aliases("「폐기물관리법」(이하 “법”이라 한다)", "가상특별자치도 폐기물 관리 조례")
    assert aliases["영"] == "폐기물관리법 시행령"
    assert aliases["시행규칙"] == "폐기물관리법 시행규칙"
    assert aliases["법 시행규칙"] == "폐기물관리법 시행규칙"
    assert aliases.bare == frozenset({"법"})  # 영 is only inferred: it counts before an article only
    rule = document_aliases("이 규칙은 조례 제3조에 따른다.", "가상특별자치도 주차장 조례 시행규칙")
    assert rule["조례"] == "가상특별자치도 주차장 조례"
    assert "조례" in rule.bare


def test_an_article_chain_belongs_to_the_name_before_it() -> None:
    text = (
        "「주차장법」 제7조제1항 및 제12조제1항에 따라 설치하고, "
        "「건축법」 제2조제2항에 따른 용도로 본다. 제5조에 따른다."
    )
    assert _refs(text) == [
        ("주차장법", "statute", "제7조"),
        ("주차장법", "statute", "제12조"),
        ("건축법", "statute", "제2조"),
    ]


def test_ranges_are_expanded() -> None:
    assert [a for _, _, a in _refs("「가상 조례」 제4조부터 제6조까지의 규정")] == ["제4조", "제5조", "제6조"]
    assert [a for _, _, a in _refs("「가상법 시행령」 제12조 내지 제14조에 따라")] == ["제12조", "제13조", "제14조"]


def test_same_act_resolves_to_the_act_named_before() -> None:
    text = (
        "「지방자치법」 제119조 및 같은 법 시행령 제68조에 따른 사무, "
        "「한국환경공단법」에 따른 공단이나 같은 법 제24조"
    )
    assert _refs(text) == [
        ("지방자치법", "statute", "제119조"),
        ("지방자치법 시행령", "decree", "제68조"),
        ("한국환경공단법", "statute", "제24조"),
    ]


def test_each_same_act_distributes_over_the_acts_named() -> None:
    text = (
        "「폐기물관리법」 및 「자원의 절약과 재활용촉진에 관한 법률」, "
        "각각 같은 법 시행령 및 같은 법 시행규칙에서 위임된 사항"
    )
    assert [n for n, _, _ in _refs(text)] == [
        "폐기물관리법",
        "자원의 절약과 재활용촉진에 관한 법률",
        "폐기물관리법 시행령",
        "자원의 절약과 재활용촉진에 관한 법률 시행령",
        "폐기물관리법 시행규칙",
        "자원의 절약과 재활용촉진에 관한 법률 시행규칙",
    ]


def test_same_word_that_is_not_a_regulation_is_not_one() -> None:
    assert _refs("「주차장법」에 따른 같은 법인의 같은 영업소") == [("주차장법", "statute", "")]


def test_short_names_resolve_to_the_document_definitions() -> None:
    aliases = document_aliases(
        "「주차장법」(이하 “법”이라 한다) 「주차장법 시행령」(이하 “영”이라 한다)", "가상특별자치도 주차장 조례"
    )
    text = "① 법 제19조제3항 및 영 제6조제2항에 따른 설치기준은 별표 6과 같다.\n② 영 별표 1의 비고에 따른다."
    assert _refs(text, aliases) == [
        ("주차장법", "statute", "제19조"),
        ("주차장법 시행령", "decree", "제6조"),
        ("주차장법 시행령", "decree", "별표 1"),
    ]


def test_a_defined_short_name_counts_without_an_article_where_it_stands_alone() -> None:
    aliases = document_aliases("「지방공무원법」(이하 \"법\"이라 한다) 「지방공무원 복무규정」(이하 “영”이라 한다)")
    assert _refs("복무에 관한 사항에 대하여는 법 및 영을 따른다.", aliases) == [
        ("지방공무원법", "statute", ""),
        ("지방공무원 복무규정", "decree", ""),
    ]
    # "이 법", a title "(시행규칙)", a longer name ending in the short name: none of them is the short name.
    rule = document_aliases("", "가상특별자치도 음식물 조례 시행규칙")
    assert _refs("이 법 제3조에 따른다.", aliases) == []
    act = document_aliases("「가상법」(이하 “법”이라 한다)")
    assert _refs("제38조(시행규칙)\n이 조례의 시행에 필요한 사항은 규칙으로 정한다.", act) == []
    assert _refs("가상특별자치도 폐기물 관리 조례 시행규칙 일부를 다음과 같이 개정한다.", rule) == []
    assert _refs("조례 제5조제2항에 따라 보급한다.", rule) == [("가상특별자치도 음식물 조례", "ordinance", "제5조")]


def test_an_inferred_short_name_needs_an_article() -> None:
    aliases = document_aliases("「개인정보 보호법」(이하 “법”이라 한다)")
    assert _refs("법 제38조제3항 및 영 제47조에 따라 청구할 수 있다.", aliases) == [
        ("개인정보 보호법", "statute", "제38조"),
        ("개인정보 보호법 시행령", "decree", "제47조"),
    ]
    assert _refs("영에 따른다.", aliases) == []


def test_a_statute_without_brackets_before_an_article() -> None:
    text = "도지사는 환경정책기본법 제12조제3항에 따라 정한다. 이 방법 제3조"
    assert _refs(text) == [("환경정책기본법", "statute", "제12조")]


def test_references_to_the_document_itself_are_left_out() -> None:
    title = "가상특별자치도 강정 지원 조례"
    assert _refs("「가상특별자치도 강정 지원 조례」 제26조제3항 | 「지방재정법」 제17조", title=title) == [
        ("지방재정법", "statute", "제17조")
    ]


def test_a_name_cited_with_an_article_is_not_listed_again_as_a_whole() -> None:
    text = "「하수도법」(이하 “법”이라 한다) 제2조제1호에 따른 하수와 법 제53조의 시설"
    assert _refs(text, document_aliases(text)) == [("하수도법", "statute", "제2조"), ("하수도법", "statute", "제53조")]


def test_the_text_before_a_chunk_resolves_its_same_act() -> None:
    preceding = "제1조(목적)\n① 「119구조ㆍ구급에 관한 법률」 제10조의2에 따라\n"
    assert _refs("② 같은 법 시행령 제13조의2에 따른 세부사항", preceding=preceding) == [
        ("119구조ㆍ구급에 관한 법률 시행령", "decree", "제13조의2")
    ]


def test_metadata_round_trip_and_bad_values() -> None:
    refs = [Reference("주차장법", "statute", "제12조"), Reference("가상 조례", "ordinance", "")]
    value = to_json(refs)
    assert value == (
        '[{"name":"주차장법","kind":"statute","article":"제12조"},'
        '{"name":"가상 조례","kind":"ordinance","article":""}]'
    )
    assert from_json(value) == refs
    assert from_json("") == []
    assert from_json("not json") == []
    assert from_json('[{"name": "x", "kind": "treaty"}]') == []


def test_names_compare_without_spacing_or_middle_dot_variants() -> None:
    assert name_key("제주특별자치도 리·통 및 반 설치 조례") == name_key("제주특별자치도 리ㆍ통 및 반  설치조례")


def test_law_go_kr_links_by_name() -> None:
    assert law_url("주차장법", "statute") == "https://www.law.go.kr/%EB%B2%95%EB%A0%B9/%EC%A3%BC%EC%B0%A8%EC%9E%A5%EB%B2%95"
    assert law_url("가상 조례", "ordinance").startswith("https://www.law.go.kr/%EC%9E%90%EC%B9%98%EB%B2%95%EA%B7%9C/")
    assert law_url("표준 개인정보 보호지침", "rule").startswith("https://www.law.go.kr/%ED%96%89%EC%A0%95%EA%B7%9C%EC%B9%99/")
