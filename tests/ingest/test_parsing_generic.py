"""Generic passages for text without legal structure: headings, paragraphs, sentence splits."""

from __future__ import annotations

import re

from civicrag.ingest.documents import Document, Provision
from civicrag.ingest.parsing import generic
from civicrag.ingest.parsing.generic import MAX_PASSAGE_CHARS, read_lines


def _doc(text: str, language: str = "en") -> Document:
    return Document(
        doc_id="manual", title="Manual", text=text, source="m.md", format="markdown", language=language
    )


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def _check(doc: Document, provisions: list[Provision], max_chars: int = MAX_PASSAGE_CHARS) -> None:
    prev_end = 0
    for p in provisions:
        assert p.kind == "passage"
        assert p.article == ""
        assert p.units == []
        assert p.text.strip() == p.text and p.text
        assert len(p.text) <= max_chars, len(p.text)
        assert 0 <= p.start <= p.end <= len(doc.text)
        assert p.start >= prev_end
        prev_end = p.end


def test_headings_start_passages_and_build_the_chain() -> None:
    text = """# Permit Desk Manual

Welcome to the permit desk.

## Opening the counter

Unlock the door at 8:30. Turn on the queue display.

### Cash drawer

Count the float before the first customer.

## Closing

Lock the door.
"""
    doc = _doc(text)
    provisions = generic.parse(doc)
    _check(doc, provisions)
    got = [(p.article_title, p.heading_path, p.text) for p in provisions]
    assert got == [
        ("Permit Desk Manual", ["Permit Desk Manual"], "Permit Desk Manual\nWelcome to the permit desk."),
        (
            "Opening the counter",
            ["Permit Desk Manual", "Opening the counter"],
            "Opening the counter\nUnlock the door at 8:30. Turn on the queue display.",
        ),
        (
            "Cash drawer",
            ["Permit Desk Manual", "Opening the counter", "Cash drawer"],
            "Cash drawer\nCount the float before the first customer.",
        ),
        ("Closing", ["Permit Desk Manual", "Closing"], "Closing\nLock the door."),
    ]
    # Raw offsets start at the heading line in the source.
    assert doc.text[provisions[1].start :].startswith("## Opening the counter")


def test_short_paragraphs_are_packed_whole() -> None:
    paragraphs = [f"Paragraph {i} says one short thing about the counter." for i in range(60)]
    doc = _doc("\n\n".join(paragraphs))
    provisions = generic.parse(doc)
    _check(doc, provisions)
    # Paragraphs 0-9 are 51 characters, 10-59 are 52, joined by "\n\n", at most MAX_PASSAGE_CHARS (1200):
    # 10*51 + 12*52 + 21*2 = 1176 (a 23rd would make 1230), 22*52 + 21*2 = 1186, then the last 16.
    assert [p.text.count("\n\n") + 1 for p in provisions] == [22, 22, 16]
    for p in provisions:
        # Never cut mid-paragraph: every piece is a run of whole paragraphs.
        for part in p.text.split("\n\n"):
            assert part in paragraphs
    assert _words(" ".join(p.text for p in provisions)) == _words(doc.text)


def test_long_paragraph_is_cut_at_sentence_ends() -> None:
    sentences = [f"Sentence number {i} explains a step of the procedure in some detail." for i in range(80)]
    doc = _doc("## Procedure\n\n" + " ".join(sentences))
    provisions = generic.parse(doc)
    _check(doc, provisions)
    # Sentences 0-9 are 66 characters, 10-79 are 67, joined by a space; the budget is 1200 - len("Procedure\n")
    # = 1190: 10*66 + 7*67 + 16 = 1145 (an 18th would make 1213), then 17*67 + 16 = 1155 three times, then 12.
    assert [p.text.count("Sentence number") for p in provisions] == [17, 17, 17, 17, 12]
    for p in provisions:
        assert p.text.endswith("detail.")
        assert p.article_title == "Procedure"
    assert provisions[0].text.startswith("Procedure\nSentence number 0")
    assert _words(" ".join(p.text for p in provisions)) == ["Procedure", *_words(" ".join(sentences))]


def test_korean_manual_text() -> None:
    body = " ".join(f"민원인은 {i}번 서류를 작성하여 담당 부서에 제출한다." for i in range(90))
    text = (
        f"# 민원 처리 안내\n\n1. 개요\n\n이 안내서는 민원 접수 절차를 설명한다.\n\n2. 신청 방법\n\n{body}\n"
    )
    doc = _doc(text, language="ko")
    provisions = generic.parse(doc)
    _check(doc, provisions)
    # "1. 개요" and "2. 신청 방법" stand alone before body text: headings.
    assert provisions[0].article_title == "1. 개요"
    assert provisions[0].heading_path == ["민원 처리 안내", "1. 개요"]
    long_part = [p for p in provisions if p.article_title == "2. 신청 방법"]
    # Sentences 0-9 are 29 characters, 10-89 are 30, joined by a space; the budget is 1200 - len("2. 신청 방법\n")
    # = 1191: 10*29 + 28*30 + 37 = 1167 (a 39th would make 1198), 38*30 + 37 = 1177, then the last 14.
    assert [p.text.count("민원인은") for p in long_part] == [38, 38, 14]
    for p in long_part:
        assert p.text.endswith("제출한다.")
    assert long_part[0].heading_path == ["민원 처리 안내", "2. 신청 방법"]


def test_title_like_lines_but_not_signatures() -> None:
    text = """Meetings

Rule 1. The council meets weekly on Tuesdays and the rules apply to all members present.

Rule 2. The clerk keeps the minutes of each meeting and posts them within a week.

Yours truly,

Jane Doe

City Clerk
"""
    doc = _doc(text)
    provisions = generic.parse(doc)
    _check(doc, provisions)
    assert {p.article_title for p in provisions} == {"Meetings"}
    assert "City Clerk" in provisions[-1].text


def test_table_and_unbroken_runs_are_bounded() -> None:
    rows = "\n".join(f"| {i} | Fee item number {i} | $ {i}0.00 |" for i in range(120))
    run = "x" * 3000
    doc = _doc(f"## Fees\n\n{rows}\n\n## Blob\n\n{run}")
    provisions = generic.parse(doc)
    _check(doc, provisions)
    fees = [p for p in provisions if p.article_title == "Fees"]
    # Rows 0-9 are 35 characters, 10-99 are 38, 100-119 are 41, one per line; the budget is 1200 - len("Fees\n")
    # = 1195: 10*35 + 21*38 + 30 = 1178 (a 32nd row would make 1217), 30*38 + 29 = 1169 twice, then
    # 9*38 + 20*41 + 28 = 1190.
    assert [sum(line.startswith("|") for line in p.text.splitlines()) for p in fees] == [31, 30, 30, 29]
    # Tables are cut between rows, not inside one.
    for p in fees:
        for line in p.text.splitlines()[1:]:
            assert line.startswith("|") and line.endswith("|")
    blob = [p for p in provisions if p.article_title == "Blob"]
    assert "".join(p.text.removeprefix("Blob\n") for p in blob) == run


def test_never_empty_for_text() -> None:
    # A heading alone is its own text; a document that is only a comment keeps the comment rather than nothing.
    for text, kept in [("# Only a heading", "Only a heading"), ("<!-- only a comment -->", "<!-- only a comment -->"),
                       ("one line", "one line")]:
        assert [p.text for p in generic.parse(_doc(text))] == [kept], text
    assert generic.parse(_doc("  \n\n ")) == []


def test_comments_and_marks_are_cleaned() -> None:
    doc = _doc("<!-- secid:1 -->\n## **Notes**\n\n> Quoted **bold** text.\n\n---\n\nMore.")
    provisions = generic.parse(doc)
    assert [p.text for p in provisions] == ["Notes\nQuoted bold text.\n\nMore."]


def test_read_lines_offsets() -> None:
    text = "# Head\r\nbody <!-- a\nmultiline --> tail\n"
    lines = read_lines(text)
    assert [ln.text for ln in lines] == ["Head", "body", " tail", ""]
    assert lines[0].level == 1 and lines[1].level == 0
    assert text[lines[2].start : lines[2].end] == "multiline --> tail"
