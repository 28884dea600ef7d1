"""The formal citation grammar on hand-made provisions and metadata (no corpus, no index)."""

from __future__ import annotations

from civicrag.legal.citation import formal_citation, korean_date, label_path, labels_of, pinpoint
from civicrag.legal.units import split_units

KO_META = {
    "title": "제주특별자치도 주차장 설치 및 관리 조례",
    "language": "ko",
    "article": "제6조",
    "effective_date": "2024-01-01",
}

KO_TEXT = """제7조(위탁관리 등)
① 도지사는 관리를 위탁할 수 있다.
② 관리수탁자의 자격은 다음 각 호와 같다.
1. 행정기관이 설립한 법인
2. 수입항목
가. 주차요금
나. 그 밖의 수입
2의2. 지방공기업
③ 수탁자는 매 분기 보고하여야 한다."""


def _index(text: str, prefix: str) -> int:
    units = split_units(text)
    return next(u.index for u in units if u.text.startswith(prefix))


def _path(text: str, prefix: str, paragraph: str = "") -> tuple[str, ...]:
    return label_path(split_units(text), _index(text, prefix), paragraph)


def test_label_path_follows_hang_ho_mok() -> None:
    assert _path(KO_TEXT, "①") == ("①",)
    assert _path(KO_TEXT, "1. 행정기관") == ("②", "1.")
    assert _path(KO_TEXT, "나. 그 밖의") == ("②", "2.", "나.")
    assert _path(KO_TEXT, "2의2.") == ("②", "2의2.")  # a 호의N resets the 목 below it
    assert _path(KO_TEXT, "③") == ("③",)


def test_label_path_of_a_chunk_that_continues_a_hang_takes_it_from_the_metadata() -> None:
    continued = "제7조(위탁관리 등)\n3. 지방공기업\n4. 비영리법인"
    assert _path(continued, "4.", paragraph="②") == ("②", "4.")
    assert _path(continued, "4.", paragraph="②–③") == ("4.",)  # a range names no single 항


def test_label_path_in_english_subsections_and_roman_numerals() -> None:
    text = "Sec. 1-1. Fees.\n(a) Fees are due.\n(1) On filing.\n(i) In cash.\n(ii) By check.\n(b) Refunds."
    assert _path(text, "(ii)") == ("(a)", "(1)", "(ii)")
    assert _path(text, "(b)") == ("(b)",)
    letters = "Sec. 1-2. Terms.\n(h) Eighth.\n(i) Ninth term."
    assert _path(letters, "(i)") == ("(i)",)  # the letter after (h), not a roman one


def test_pinpoint_forms() -> None:
    assert pinpoint(("②", "1.", "가."), korean=True) == "제2항제1호가목"
    assert pinpoint(("②", "2의2."), korean=True) == "제2항제2호의2"
    assert pinpoint(("(a)", "(1)"), korean=False) == "(a)(1)"
    assert labels_of("①–③") == () and labels_of("②") == ("②",) and labels_of("(a)–(c)") == ()
    assert korean_date("2024-01-01") == "2024. 1. 1." and korean_date("") == ""


def test_korean_formal_citation() -> None:
    law = "「제주특별자치도 주차장 설치 및 관리 조례」"
    assert formal_citation(KO_META, ("②", "1.")) == f"{law} 제6조제2항제1호 (시행 2024. 1. 1.)"
    branch = {**KO_META, "article": "제7조의2"}
    assert formal_citation(branch, ("①",)) == f"{law} 제7조의2제1항 (시행 2024. 1. 1.)"
    appendix = {**KO_META, "article": "별표 5", "article_title": "공영주차장 요금", "provision_kind": "appendix"}
    assert formal_citation(appendix, ("1.",)) == f"{law} 별표 5 (시행 2024. 1. 1.)"  # no pinpoint in a table
    form = {**KO_META, "article": "별지 제1호서식"}
    assert formal_citation(form) == f"{law} 별지 제1호서식 (시행 2024. 1. 1.)"
    supplement = {**KO_META, "article": "부칙", "article_title": "<제178호, 2024. 3. 1.>"}
    assert formal_citation(supplement) == f"{law} 부칙 <제178호, 2024. 3. 1.> (시행 2024. 1. 1.)"
    undated = {**KO_META, "effective_date": ""}
    assert formal_citation(undated) == f"{law} 제6조"


def test_english_formal_citation_names_the_code() -> None:
    dc = {"title": "Administrative appeals.", "language": "en", "kind": "code",
          "jurisdiction": "District of Columbia (US)", "article": "§ 2-537"}
    assert formal_citation(dc, ("(a)", "(1)")) == "D.C. Code § 2-537(a)(1)"
    somerville = {"title": "Code of Ordinances and Charter of the City of Somerville", "language": "en",
                  "kind": "code", "jurisdiction": "City of Somerville, Massachusetts (US)"}
    code = {**somerville, "article": "Sec. 9-121", "heading_path": "PART II CODE OF ORDINANCES > CHAPTER 9"}
    assert formal_citation(code, ("(a)",)) == "Somerville Code of Ordinances, Sec. 9-121(a)"
    charter = {**somerville, "article": "SECTION 3-1", "heading_path": "PART I CHARTER > DIVISION 1 CHARTER"}
    assert formal_citation(charter, ("(b)",)) == "Somerville City Charter, Section 3-1(b)"
    appendix = {**somerville, "article": "SECTION 1-1 (App. E)",
                "heading_path": "APPENDIX E TRAFFIC COMMISSION REGULATIONS > ARTICLE 1"}
    assert formal_citation(appendix) == "Somerville Code of Ordinances, App. E, Section 1-1"
    zoning = {"title": "Somerville Zoning Ordinance", "language": "en", "kind": "zoning",
              "jurisdiction": "City of Somerville, Massachusetts (US)", "article": "1.1.7"}
    assert formal_citation(zoning) == "Somerville Zoning Ordinance, Sec. 1.1.7"
    ordinance = {"title": "Sampleton Noise Control Ordinance", "language": "en", "kind": "ordinance",
                 "jurisdiction": "", "article": "SECTION 3"}
    assert formal_citation(ordinance, ("(a)",)) == "Sampleton Noise Control Ordinance, Section 3(a)"
    manual = {"title": "Library Staff Manual", "language": "en", "kind": "manual", "article": "", "page_start": 4}
    assert formal_citation(manual) == "Library Staff Manual, p. 4"


def test_no_labels_anywhere() -> None:
    # A provision without 항 or 호 (and a chunk whose paragraph metadata is empty) cites the article alone.
    assert _path("제9조(운영시간)\n운영시간은 도지사가 정한다.", "운영시간은") == ()
    assert _path("제9조(운영시간)\n1. 평일\n2. 주말", "2.", paragraph="") == ("2.",)
    assert pinpoint(("",), korean=True) == ""
