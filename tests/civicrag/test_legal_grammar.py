"""The provision grammar (civicrag.legal.grammar): circled 항 marks, article and section labels, attachments,
reference tokens, and that the parser and the question side read ①–㊿ alike."""

from __future__ import annotations

import pytest
from civicrag.ingest.loaders.reflow import rejoin_korean_wraps
from civicrag.ingest.parsing.korean import parse
from civicrag.rag.references import article_refs

from civicrag.legal import grammar
from civicrag.legal.types import Document


@pytest.mark.parametrize(("number", "mark"), [(1, "①"), (20, "⑳"), (21, "㉑"), (35, "㉟"), (36, "㊱"), (50, "㊿")])
def test_circled_numbers_both_ways(number: int, mark: str) -> None:
    assert grammar.circled(number) == mark
    assert grammar.circled_number(mark) == number


def test_circled_numbers_outside_one_to_fifty() -> None:
    assert grammar.circled(0) == "" and grammar.circled(51) == ""
    assert grammar.circled_number("1") is None and grammar.circled_number("①②") is None
    assert len(grammar.CIRCLED) == 50


def test_paragraph_21_on_the_parser_side() -> None:
    marks = grammar.CIRCLED[:21]
    body = "\n".join(f"{m} 제{i + 1}항의 내용이다." for i, m in enumerate(marks))
    doc = Document("t", "시험 조례", f"제1조(목적)\n{body}\n", "t.md", "markdown")
    [provision] = parse(doc)
    labels = [u.label for u in provision.units]
    assert labels[-1] == "㉑" and len(labels) == 22  # the lead-in (header line), then ① … ㉑
    assert grammar.circled_number(labels[-1]) == 21


@pytest.mark.parametrize(("question", "mark"), [("제5조제2항 내용", "②"), ("제5조 제21항 내용", "㉑"),
                                                ("5조 50항", "㊿"), ("제5조제51항", "")])
def test_paragraph_on_the_question_side(question: str, mark: str) -> None:
    [ref] = article_refs(question)
    assert (ref.label, ref.paragraph) == ("제5조", mark)


def test_a_pdf_line_starting_with_a_late_paragraph_mark_is_not_a_wrap() -> None:
    # The 항 marks past ㉟ (U+32B1 …) start a unit like ① does; before, the PDF rejoiner knew ① … ㉟ only.
    full = "가" * 30
    page = "\n".join([full, full, full, full, "㊱ 다음 항의 본문이다", full])
    assert "\n㊱ 다음" in rejoin_korean_wraps([page], lambda qs: [False] * len(qs))[0]
    assert grammar.UNIT_START.match("㊿ 항") and grammar.MOK_RESET.match("㊿ 항")


@pytest.mark.parametrize(
    ("label", "heading_defect", "canonical"),
    [("제7조의6", False, "제7조의6"), ("7조의 6", False, "제7조의6"), ("제 7 조의 6(사용료)", False, "제7조의6"),
     ("##### 제706조", True, "제7조의6"), ("제706조", False, "제706조"), ("제0조", False, None), ("부칙", False, None)],
)
def test_canonical_article(label: str, heading_defect: bool, canonical: str | None) -> None:
    assert grammar.canonical_article(label, heading_defect=heading_defect) == canonical


def test_article_labels_and_order() -> None:
    assert grammar.article_label(7) == "제7조" and grammar.article_label(7, 2) == "제7조의2"
    assert grammar.decode_heading_number(702) == (7, 2) and grammar.decode_heading_number(700) == (700, 0)
    assert grammar.item_label(2) == "2." and grammar.item_label(2, 2) == "2의2."
    cited = ["별표 1", "제12조의3", "제2조", "제12조"]
    assert sorted(cited, key=grammar.article_order) == ["제2조", "제12조", "제12조의3", "별표 1"]


@pytest.mark.parametrize(
    ("label", "canonical"),
    [("§2-537", "§ 2-537"), ("D.C. Code § 2-537(a)(1)", "§ 2-537"), ("section 2-537", "§ 2-537"),
     ("SECTION 3-1", "SECTION 3-1"), ("Section 3-1:", "SECTION 3-1"), ("sec 3-1", "Sec. 3-1"),
     ("Secs. 2-11-2-20", "Secs. 2-11-2-20"), ("2.1.3", "2.1.3"), ("2–537", "§ 2-537"), ("38", None)],
)
def test_canonical_section(label: str, canonical: str | None) -> None:
    assert grammar.canonical_section(label) == canonical


def test_section_line_and_label() -> None:
    m = grammar.SECTION_LINE.match("Sec. 9-121. Fees.")
    assert m is not None
    assert grammar.section_label(m.group("sym"), m.group("word"), m.group("num"), m.group("range")) == "Sec. 9-121"
    assert grammar.canonical_section_candidates("section 5.010") == ["§ 5.010", "SECTION 5.010", "Sec. 5.010", "5.010"]


def test_reference_tokens() -> None:
    text = "제7조의2 및 제 12 조, § 2-537, Section 3-1 and Sec. 9-121."
    assert grammar.reference_tokens(text) == ["제7조의2", "제12조", "§2-537", "section3-1", "sec9-121"]
    assert grammar.NUMBERED_TOKEN.match("sec9-121") and not grammar.NUMBERED_TOKEN.match("주차")


def test_attachment_labels() -> None:
    assert grammar.table_label(5) == "별표 5" and grammar.table_label(2, 3) == "별표 2의3"
    assert grammar.table_label(None) == "별표"
    assert grammar.form_label(1) == "별지 제1호서식" and grammar.form_label(2, 2) == "별지 제2호의2서식"
    assert grammar.title_label("[별표 5] 공영주차장 요금") == ("별표 5", "공영주차장 요금")
    assert grammar.title_label("[별지 제2호의2서식] 신청서") == ("별지 제2호의2서식", "신청서")
    assert grammar.title_label("공영주차장 요금") is None


def test_question_side_patterns() -> None:
    refs = article_refs("주차장 조례 제29조의2와 별표 3, 부칙은?")
    assert [r.label for r in refs] == ["제29조의2", "별표 3", "부칙"]
    assert [r.loose for r in refs] == ["ko:29-2", "ko:별표3", "ko:부칙"]
    assert not grammar.ARTICLE_IN_QUESTION.search("5조례")  # 조례 is not an article
    assert grammar.CITED_ARTICLE.findall("「주차장법」 제12조에 따라") == [("주차장법", "제12조")]
