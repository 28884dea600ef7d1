from __future__ import annotations

import pytest
from civicrag.eval.labels import article_key, contains_header, gold_keys, headers_in, normalise_article


@pytest.mark.parametrize("label", ["제7조의6", "7조의6", "제7조의 6", "제 7 조의 6", "제７조의６"])
def test_korean_spellings_are_one_article(label: str) -> None:
    assert normalise_article(label) == "제7조의6"


def test_korean_article_and_branch_differ() -> None:
    assert normalise_article("제7조") != normalise_article("제7조의2")


@pytest.mark.parametrize("label", ["§ 2-537", "§2-537", "2-537", "D.C. Code § 2-537"])
def test_dc_code_spellings_are_one_section(label: str) -> None:
    assert normalise_article(label) == "§ 2-537"


def test_somerville_charter_and_ordinance_stay_apart() -> None:
    charter, ordinance = normalise_article("SECTION 3-1"), normalise_article("Sec. 3-1")
    assert charter == "SECTION 3-1" and ordinance == "Sec. 3-1"
    assert charter != ordinance
    assert normalise_article("Sec 3-1") == ordinance


def test_unknown_labels_keep_their_text() -> None:
    assert normalise_article("  부칙 ") == "부칙"
    assert normalise_article("Article  V") == "Article V"
    assert normalise_article("") == ""


def test_keys() -> None:
    assert article_key("d", "7조의6") == ("d", "제7조의6")
    gold = [{"doc_id": "d", "article": "제5조"}, {"doc_id": "d", "article": "5조"}, {"doc_id": "e", "article": "5조"}]
    assert gold_keys(gold) == [("d", "제5조"), ("e", "제5조")]


def test_headers_in_markdown_regulations() -> None:
    ko = "##### 제702조 (정기주차권)\n\n제7조의2(정기주차권) ① 공영주차장을…\n본문 중 제9조(운영)에 따라\n"
    assert "제7조의2" in headers_in(ko)
    assert "제9조" not in headers_in(ko)  # a reference inside a sentence is not a header
    en = "###### SECTION 3-1: MAYOR\n\ntext\n\n###### Sec. 3-1. Dog licenses.\n# § 2-537. Appeals.\n## 2.1.3 Uses\n"
    assert headers_in(en) == ["SECTION 3-1", "Sec. 3-1", "§ 2-537", "2.1.3"]
    assert contains_header(en, "2-537") and not contains_header("###### Sec. 3-1. Dogs", "SECTION 3-1")
