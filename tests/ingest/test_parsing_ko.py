"""Korean regulation parser and the Office-HTML table converter.

Hand-written fixtures under tests/fixtures/ko imitate each real corpus defect in a
few lines; the ``corpus`` tests run the same checks over ../shared/corpus/ko.
"""

from __future__ import annotations

from pathlib import Path

import frontmatter
import pytest
from civicrag.ingest.documents import Document, Provision
from civicrag.ingest.parsing.korean import canonical_article, parse
from civicrag.ingest.parsing.tables import html_tables_to_text
from pypdf import PdfReader

# ---------------------------------------------------------------------------
# helpers


def _markdown_doc(path: Path) -> Document:
    """A Document as the loader builds it: front matter stripped, metadata from it."""
    post = frontmatter.loads(path.read_text(encoding="utf-8"))
    return Document(
        doc_id=str(post.get("자치법규ID", path.stem)),
        title=str(post.get("자치법규명", "")),
        text=post.content,
        source=str(path),
        format="markdown",
        language="ko",
        kind=str(post.get("자치법규종류", "")),
        extra={"본문출처": post.get("본문출처", "")},
    )


def _pdf_doc(path: Path, title: str = "") -> Document:
    """PDF text as a loader gives it: pages joined with "\\n", page_starts recorded."""
    pages = [page.extract_text() or "" for page in PdfReader(str(path)).pages]
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 1
    return Document(
        doc_id=path.stem,
        title=title,
        text="\n".join(pages),
        source=str(path),
        format="pdf",
        language="ko",
        page_starts=starts,
    )


def _by_article(provisions: list[Provision]) -> dict[str, Provision]:
    return {p.article: p for p in provisions if p.kind == "article"}


def _articles(provisions: list[Provision]) -> list[str]:
    return [p.article for p in provisions if p.kind == "article"]


def _assert_well_formed(doc: Document, provisions: list[Provision]) -> None:
    """Invariants every parse must keep: order, no overlap, contiguous units, clean headers."""
    previous_end = 0
    for p in provisions:
        assert previous_end <= p.start < p.end <= len(doc.text), p.article
        previous_end = p.end
        assert p.text and "#####" not in p.text
        if p.kind == "article":
            header = p.text.split("\n", 1)[0]
            assert header.startswith(p.article), (p.article, header)
            body = p.text.split("\n", 1)[1] if "\n" in p.text else ""
            # The body never repeats the header's own label line.
            assert not body.startswith(p.article + "("), p.article
        if p.units:
            assert p.units[0].start == 0
            assert p.units[-1].end == len(p.text)
            for unit, following in zip(p.units, p.units[1:], strict=False):
                assert unit.end == following.start
            assert "".join(p.text[u.start : u.end] for u in p.units) == p.text


@pytest.fixture(scope="module")
def ko_fixtures(fixtures_dir: Path) -> Path:
    return fixtures_dir / "ko"


@pytest.fixture(scope="module")
def defects(ko_fixtures: Path) -> tuple[Document, list[Provision]]:
    doc = _markdown_doc(ko_fixtures / "heading_defects.md")
    return doc, parse(doc)


# ---------------------------------------------------------------------------
# heading defects (fixture heading_defects.md)


def test_fixture_parses_well_formed(defects: tuple[Document, list[Provision]]) -> None:
    doc, provisions = defects
    _assert_well_formed(doc, provisions)
    assert _articles(provisions) == [
        "제1조",
        "제2조",
        "제3조",
        "제3조의2",
        "제3조의3",
        "제4조",
        "제5조",
        "제6조",
    ]


def test_n0m_heading_takes_label_from_body(defects: tuple[Document, list[Provision]]) -> None:
    _, provisions = defects
    articles = _by_article(provisions)
    # "##### 제302조 (운영위원회)" is 제3조의2; its heading title is also shifted, the body's wins.
    assert articles["제3조의2"].article_title == "세척센터의 설치 등"
    assert articles["제3조의2"].text.startswith("제3조의2(세척센터의 설치 등)\n① 시장은")
    assert articles["제3조의3"].article_title == "사용료"
    assert "제302조" not in " ".join(p.text for p in provisions)


def test_shifted_heading_titles_lose_to_the_body(defects: tuple[Document, list[Provision]]) -> None:
    _, provisions = defects
    articles = _by_article(provisions)
    assert articles["제1조"].article_title == "목적"  # heading said (정의)
    assert articles["제2조"].article_title == "정의"  # heading said (적용범위)
    # No body label: the heading is all there is (제3조, 제6조), and a title-less heading
    # ("##### 제5조") gets its title from the body.
    assert articles["제3조"].article_title == "운영위원회"
    assert articles["제3조"].text.startswith("제3조(운영위원회)\n① 시장은")
    assert articles["제5조"].article_title == "위원회"
    assert articles["제6조"].text == "제6조(시행규칙)\n이 조례의 시행에 필요한 사항은 규칙으로 정한다."


def test_header_is_not_duplicated(defects: tuple[Document, list[Provision]]) -> None:
    _, provisions = defects
    first = _by_article(provisions)["제1조"]
    assert (
        first.text == "제1조(목적)\n이 조례는 다회용기 세척센터의 운영에 필요한 사항을 정함을 목적으로 한다."
    )


def test_fake_zero_articles_are_chapters(defects: tuple[Document, list[Provision]]) -> None:
    _, provisions = defects
    assert all(p.article != "제0조" for p in provisions)
    articles = _by_article(provisions)
    assert articles["제1조"].heading_path == ["제1장 총칙"]
    assert articles["제3조"].heading_path == ["제1장 총칙"]
    assert articles["제3조의2"].heading_path == ["제2장 세척센터"]
    assert "제2장 세척센터" not in articles["제3조"].text  # the chapter line is not article text


def test_deleted_article_is_kept(defects: tuple[Document, list[Provision]]) -> None:
    _, provisions = defects
    deleted = _by_article(provisions)["제4조"]
    assert deleted.article_title == "삭제"
    assert deleted.text == "제4조 삭제 <2019.4.11.>"


def test_amendment_notes_stay_verbatim(defects: tuple[Document, list[Provision]]) -> None:
    _, provisions = defects
    articles = _by_article(provisions)
    assert "다음과 같다. <개정 2019.4.11.>" in articles["제2조"].text
    assert "<신설 2021.12.31.>" in articles["제2조"].text
    assert "3. 삭제<2021.12.31.>" in articles["제2조"].text
    assert "[본조신설 2023. 11. 20.]" in articles["제3조의2"].text
    assert "[전문개정 2020.1.13.]" in articles["제5조"].text
    # A moved article's note is plain text, not a new article.
    assert "[제5조에서 이동 <2023. 11. 20.>]" in articles["제3조의3"].text


def test_paragraph_units_include_eleven_and_up(defects: tuple[Document, list[Provision]]) -> None:
    _, provisions = defects
    article = _by_article(provisions)["제5조"]
    labels = [u.label for u in article.units]
    assert labels == ["", "①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨", "⑩", "⑪"]
    last = article.units[-1]
    assert article.text[last.start : last.end].startswith("⑪ 그 밖에")
    assert article.text[last.start : last.end].rstrip().endswith("[전문개정 2020.1.13.]")


def test_item_units_when_no_paragraphs(defects: tuple[Document, list[Provision]]) -> None:
    _, provisions = defects
    article = _by_article(provisions)["제2조"]
    assert [u.label for u in article.units] == ["", "1.", "2.", "2의2.", "3."]
    lead = article.units[0]
    assert (
        article.text[lead.start : lead.end] == "제2조(정의)\n"
        "이 조례에서 사용하는 용어의 뜻은 다음과 같다. <개정 2019.4.11.>\n"
    )
    item = article.units[3]
    # 목 (가., 나.) stay inside their 호.
    assert article.text[item.start : item.end].startswith("2의2.")
    assert "가. 공공기관\n나. 행사 주최자" in article.text[item.start : item.end]


def test_article_without_units_has_none(defects: tuple[Document, list[Provision]]) -> None:
    _, provisions = defects
    assert _by_article(provisions)["제1조"].units == []


def test_supplementary_blocks(defects: tuple[Document, list[Provision]]) -> None:
    _, provisions = defects
    supplements = [p for p in provisions if p.kind == "supplementary"]
    assert [p.article for p in supplements] == ["부칙", "부칙", "부칙"]
    assert [p.article_title for p in supplements] == ["", "<제2240호, 2019.4.11.>", ""]
    first, second, third = supplements
    # Its own 제1조/제2조 stay inside the 부칙 and never collide with the main 제1조.
    assert first.text.startswith("부칙\n제1조(시행일) 이 조례는 공포한 날부터 시행한다.\n제2조(경과조치)")
    assert [u.label for u in first.units] == ["", "제1조", "제2조"]
    assert second.text == "부칙 <제2240호, 2019.4.11.>\n이 조례는 공포한 날부터 시행한다."
    assert third.text.startswith("부칙\n①(시행일)")  # "부 칙" spelled with a space
    assert [u.label for u in third.units] == ["", "①", "②"]
    assert all(p.heading_path == [] for p in supplements)
    assert _articles(provisions).count("제1조") == 1


def test_appendix_block(defects: tuple[Document, list[Provision]]) -> None:
    doc, provisions = defects
    appendix = provisions[-1]
    assert appendix.kind == "appendix"
    assert appendix.article == "별표 1"
    assert appendix.article_title == "세척센터의 명칭과 위치(제3조의2 관련)"
    assert appendix.text.startswith("[별표 1] 세척센터의 명칭과 위치")
    assert "2. 위치: 가상시 중앙로 1" in appendix.text
    assert doc.text[appendix.start : appendix.end].endswith("가상시 중앙로 1")
    # The 부칙 before it ends where the 별표 starts.
    assert "별표" not in provisions[-2].text


def test_offsets_point_at_raw_headings(defects: tuple[Document, list[Provision]]) -> None:
    doc, provisions = defects
    articles = _by_article(provisions)
    assert doc.text[articles["제3조의2"].start :].startswith("##### 제302조 (운영위원회)")
    assert doc.text[articles["제1조"].start :].startswith("##### 제1조 (정의)")
    supplement = next(p for p in provisions if p.kind == "supplementary")
    assert doc.text[supplement.start :].startswith("## 부칙")  # the heading and its first line are one 부칙
    # The title line is not a provision.
    assert provisions[0].article == "제1조"


def test_heading_n0m_without_body_label_is_decoded() -> None:
    text = (
        "# 조례\n\n##### 제7조 (설치)\n\n센터를 둔다.\n\n"
        "##### 제702조 (위탁)\n\n센터를 위탁할 수 있다.\n\n##### 제8조 (시행규칙)\n\n규칙으로 정한다.\n"
    )
    provisions = parse(Document(doc_id="t", title="조례", text=text, source="t", format="markdown"))
    assert _articles(provisions) == ["제7조", "제7조의2", "제8조"]
    assert _by_article(provisions)["제7조의2"].text == "제7조의2(위탁)\n센터를 위탁할 수 있다."


def test_deleted_body_without_label() -> None:
    text = "##### 제1조 (목적)\n\n목적으로 한다.\n\n##### 제2조 (정의)\n\n삭제 <2019.4.11.>\n"
    provisions = parse(Document(doc_id="t", title="", text=text, source="t", format="markdown"))
    deleted = _by_article(provisions)["제2조"]
    assert (deleted.article_title, deleted.text) == ("삭제", "제2조 삭제 <2019.4.11.>")


def test_reference_at_body_start_is_not_a_label() -> None:
    # "제4조제1항에 따른 …" and "제5조(정의)에 따른 …" begin bodies in the corpus: references, not labels.
    text = (
        "##### 제5조 (작성부수)\n\n제4조제1항에 따른 사무인계서는 3부를 작성한다.\n\n"
        "##### 제6조 (지원대상)\n\n제5조(정의)에 따른 지원대상은 다음과 같다.\n"
    )
    provisions = parse(Document(doc_id="t", title="", text=text, source="t", format="markdown"))
    articles = _by_article(provisions)
    assert list(articles) == ["제5조", "제6조"]
    assert articles["제5조"].text == "제5조(작성부수)\n제4조제1항에 따른 사무인계서는 3부를 작성한다."
    assert articles["제6조"].article_title == "지원대상"


def test_letter_spaced_chapter_titles() -> None:
    text = "##### 제0조 (목적)\n\n제 1 장  총     칙\n\n##### 제1조 (목적)\n\n목적으로 한다.\n"
    provisions = parse(Document(doc_id="t", title="", text=text, source="t", format="markdown"))
    assert provisions[0].heading_path == ["제1장 총칙"]


# ---------------------------------------------------------------------------
# MS-Office HTML tables


def test_office_table_inside_article(ko_fixtures: Path) -> None:
    doc = _markdown_doc(ko_fixtures / "office_table.md")
    provisions = parse(doc)
    _assert_well_formed(doc, provisions)
    article = _by_article(provisions)["제7조"]
    lines = article.text.split("\n")
    assert lines[:6] == [
        "제7조(사용시간 및 사용료)",
        "① 시설의 1회 사용시간과 사용료는 다음과 같다. <개정 2021.11.23.>",
        "구 분 | 1회 사용시간 | 사용료(원)",
        "대공연장 | 오 전 | 09:00부터 12:00까지 | 150,000",
        # The rowspan cell is carried down; spans split inside "200,000" join up again;
        # an escaped amendment note inside a cell survives as text.
        "대공연장 | 야 간 | 18:00부터 22:00까지 | 200,000 <개정 2021.11.23.>",
        "전시실 | 1일 | 50,000",
    ]
    for markup in ("<TABLE", "<TD", "<P", "<SPAN", "<o:p>", "xml:namespace", "&nbsp;", "STYLE="):
        assert markup.lower() not in article.text.lower()
    assert "<개정 2016.6.22., 2019.4.11.>" in article.text
    assert "2. 삭제<2021.11.23.>" in article.text
    assert [u.label for u in article.units] == ["", "①", "②", "③"]


@pytest.mark.parametrize(
    "text",
    [
        "① 도지사는 정한다. <개정 2019.4.11.>",
        "3. 삭제<2021.12.31.>",
        "부칙 <제123호, 2019.4.11.> 이 조례는 공포한 날부터 시행한다.",
        "② 위원을 둔다. <신설 2021.12.31.>\n[전문개정 2020.1.13.]",
        "부칙 <2008. 11. 19> 이 규칙은 시행한다.",
        "plain English with a < b and c > d",
    ],
)
def test_tables_leave_legal_notes_alone(text: str) -> None:
    assert html_tables_to_text(text) == text


def test_tables_strip_stray_office_markup_and_entities() -> None:
    text = (
        "<p class=조문 style='layout-grid-mode: char'>  <?xml:namespace prefix = 'o' /><o:p></o:p></p>\n"
        "① 사용료는&nbsp;<span lang=en-us>300</span>원으로 한다. <개정 2019.4.11.>\n"
        "임신&#183;출산 지원"
    )
    assert html_tables_to_text(text) == "① 사용료는 300원으로 한다. <개정 2019.4.11.>\n임신·출산 지원"


def test_tables_inline_table_gets_its_own_lines() -> None:
    text = "요금은 다음과 같다.<table><tr><td>최초 30분</td><td>무료</td></tr></table>다만, 예외가 있다."
    assert html_tables_to_text(text) == "요금은 다음과 같다.\n최초 30분 | 무료\n다만, 예외가 있다."


def test_tables_unclosed_table_is_still_converted() -> None:
    text = (
        "요금:\n<table>\n<tr><td>1시간</td><td>1,000원</td></tr>\n"
        "<tr><td>2시간</td><td>1,500원</td></tr>\n다음 항"
    )
    assert html_tables_to_text(text) == "요금:\n1시간 | 1,000원\n2시간 | 1,500원\n다음 항"


def test_tables_colspan_and_empty_rows() -> None:
    text = (
        "<TABLE><TR><TD COLSPAN=2>구분</TD><TD>금액</TD></TR>"
        "<TR><TD>&nbsp;</TD><TD></TD><TD></TD></TR>"
        "<TR><TD>성인</TD><TD>1인</TD><TD>5,000원</TD></TR></TABLE>"
    )
    assert html_tables_to_text(text) == "구분 | 금액\n성인 | 1인 | 5,000원"


def test_tables_text_without_markup_is_untouched() -> None:
    text = "제1조(목적) 이 조례는 …\n\n1. 첫째\n"
    assert html_tables_to_text(text) is text


# ---------------------------------------------------------------------------
# PDF-style text (no Markdown headings)


def test_pdf_layout_text(ko_fixtures: Path) -> None:
    text = (ko_fixtures / "pdf_layout.txt").read_text(encoding="utf-8")
    doc = Document(doc_id="pdf", title="", text=text, source="pdf_layout.txt", format="pdf", language="ko")
    provisions = parse(doc)
    _assert_well_formed(doc, provisions)
    # The wrapped two-line title is neither an article nor a preamble.
    assert [p.kind for p in provisions].count("preamble") == 0
    assert _articles(provisions) == ["제1조", "제2조", "제7조의2", "제7조의3", "제8조"]
    articles = _by_article(provisions)
    assert articles["제1조"].article_title == "목적"
    assert articles["제1조"].heading_path == ["제1장 총칙"]
    # "제702조 (…)" followed by "제7조의2(…)": one article, labelled by the body.
    merged = articles["제7조의2"]
    assert merged.article_title == "세척센터의 설치 등"
    assert merged.heading_path == ["제2장 세척센터"]
    assert doc.text[merged.start :].startswith("제702조 (세척센터의 설치 등)")
    assert merged.text.startswith("제7조의2(세척센터의 설치 등)\n① 시장은")
    # A wrapped line that happens to start with "제2조(정의) " is text, not a second 제2조.
    assert "제2조(정의) 에 따른 다회용기" in merged.text
    assert [u.label for u in merged.units] == ["", "①", "②"]
    # "2023. 11. 20.>" starting a wrapped line is not a 호.
    assert [u.label for u in articles["제2조"].units] == ["", "1.", "2."]
    assert articles["제7조의3"].text.startswith("제7조의3(기능)\n세척센터의 기능은")
    assert articles["제8조"].text == "제8조 삭제 <2019.4.11.>"
    supplements = [p for p in provisions if p.kind == "supplementary"]
    assert [p.article_title for p in supplements] == ["", "<제123호, 2023. 11. 20.>"]
    assert "제2조(경과조치)" in supplements[1].text


def test_preamble_kept_when_it_has_content() -> None:
    text = (
        "가상시 시민헌장 조례\n우리 시민은 서로 돕고 아끼는 공동체를 만들기 위하여 이 헌장을 정한다.\n"
        "제1조 (목적)\n이 조례는 헌장을 정함을 목적으로 한다.\n"
    )
    provisions = parse(
        Document(doc_id="t", title="가상시 시민헌장 조례", text=text, source="t", format="pdf")
    )
    assert [p.kind for p in provisions] == ["preamble", "article"]
    assert provisions[0].text.startswith("우리 시민은")
    assert provisions[0].end <= provisions[1].start


# ---------------------------------------------------------------------------
# no structure → []


def test_placeholder_document_yields_nothing(ko_fixtures: Path) -> None:
    assert parse(_markdown_doc(ko_fixtures / "placeholder.md")) == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# 제목만 있는 조례\n",
        "이 조례는 공포한 날부터 시행한다.\n",
        "## SECTION 3-1: Purpose\n\nThe city council shall meet monthly.\n",
    ],
)
def test_text_without_articles_yields_nothing(text: str) -> None:
    assert parse(Document(doc_id="t", title="", text=text, source="t", format="markdown")) == []


def test_parse_handles_large_inputs() -> None:
    # ~2 MB of English (the fallback path) and a 2 MB Korean-shaped text; how fast is for benchmarks to measure.
    english = "Sec. 2-1. Definitions. The following words shall have the meanings given.\n" * 27000
    assert parse(Document(doc_id="en", title="", text=english, source="en", format="markdown")) == []
    korean_lines = "".join(
        f"제{n}조(제목{n}) 내용이다. <개정 2019.4.11.>\n"
        "① 첫째 항이다.\n1. 첫째 호\n부칙 제2조의 규정에 따른다.\n"
        for n in range(1, 20001)
    )
    provisions = parse(Document(doc_id="ko", title="", text=korean_lines, source="ko", format="pdf"))
    assert len(provisions) == 20000


# ---------------------------------------------------------------------------
# canonical_article


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("제7조의6", "제7조의6"),
        ("7조의6", "제7조의6"),
        ("제7조의 6", "제7조의6"),
        ("제 7 조의 6", "제7조의6"),
        ("제 7 조 의 6", "제7조의6"),
        ("제29조", "제29조"),
        ("29조", "제29조"),
        ("제7조의2(세척센터의 설치 등)", "제7조의2"),
        ("제706조", "제706조"),  # without heading_defect a big number is taken at its word
        ("제0조", None),
        ("제7항", None),
        ("부칙", None),
        ("", None),
    ],
)
def test_canonical_article(label: str, expected: str | None) -> None:
    assert canonical_article(label) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("제706조", "제7조의6"),
        ("##### 제702조", "제7조의2"),
        ("제1502조", "제15조의2"),
        ("제29조", "제29조"),
        ("제100조", "제100조"),
        ("제7조의6", "제7조의6"),
    ],
)
def test_canonical_article_heading_defect(label: str, expected: str) -> None:
    assert canonical_article(label, heading_defect=True) == expected


# ---------------------------------------------------------------------------
# the real corpus (../shared/corpus/ko)


def _corpus_files(shared_corpus: Path) -> list[Path]:
    return sorted((shared_corpus / "ko" / "jeju").glob("*.md"))


@pytest.mark.corpus
def test_corpus_2229316_branch_articles(shared_corpus: Path) -> None:
    provisions = parse(_markdown_doc(shared_corpus / "ko" / "jeju" / "2229316.md"))
    articles = _by_article(provisions)
    expected = {
        "제7조의2": "세척센터의 설치 등",
        "제7조의3": "기능",
        "제7조의4": "시설",
        "제7조의5": "관리ㆍ운영의 위탁",
        "제7조의6": "사용료",
        "제7조의7": "사용료의 감면",
    }
    assert {label: articles[label].article_title for label in expected} == expected
    labels = _articles(provisions)
    assert labels[labels.index("제7조") + 1 : labels.index("제8조")] == list(expected)
    assert "[본조신설 2023. 11. 20.]" in articles["제7조의6"].text
    # 제1조's body does not repeat its label: the heading gives it.
    assert articles["제1조"].text.startswith("제1조(목적)\n이 조례는")


@pytest.mark.corpus
def test_corpus_2117319_titles_follow_the_body(shared_corpus: Path) -> None:
    provisions = parse(_markdown_doc(shared_corpus / "ko" / "jeju" / "2117319.md"))
    articles = _by_article(provisions)
    assert articles["제1조"].article_title == "목적"
    assert articles["제2조"].article_title == "적용범위"
    assert articles["제3조"].article_title == "정의"
    assert articles["제7조의2"].article_title == "당직근무자의 편성 제외대상"
    assert articles["제16조"].article_title == "삭제"
    assert "제0조" not in articles
    assert articles["제4조"].heading_path == ["제2장 당직근무"]
    assert articles["제35조"].heading_path == ["제4장 연락체계의 유지"]


@pytest.mark.corpus
def test_corpus_2071701_tables_become_rows(shared_corpus: Path) -> None:
    provisions = parse(_markdown_doc(shared_corpus / "ko" / "jeju" / "2071701.md"))
    article = _by_article(provisions)["제7조"]
    assert "구 분 | 1회 사용시간" in article.text
    assert "공연장 | 오 전 | 09:00부터 12:00까지" in article.text
    assert "공연장 | 야 간 | 18:00부터 22:00까지" in article.text
    assert "야외공연장 | 3시간" in article.text
    assert "<개정 2021.11.23.>" in article.text
    for p in provisions:
        assert "<td" not in p.text.lower() and "<span" not in p.text.lower() and "o:p" not in p.text
    first_supplement = next(p for p in provisions if p.kind == "supplementary")
    assert "29 | 1. 개관시간 및 휴관 | 「서귀포 예술의전당 설치ㆍ운영 조례」제3조" in first_supplement.text
    assert _by_article(provisions)["제2조의2"].article_title == "운영위원회 설치 등"


@pytest.mark.corpus
def test_corpus_every_document_parses(shared_corpus: Path) -> None:
    files = _corpus_files(shared_corpus)
    assert len(files) == 54
    body_less, duplicates = [], {}
    for path in files:
        doc = _markdown_doc(path)
        provisions = parse(doc)
        if doc.extra["본문출처"] == "parsing-failed":
            body_less.append(doc.doc_id)
            assert provisions == [], doc.doc_id
            continue
        _assert_well_formed(doc, provisions)
        labels = _articles(provisions)
        assert labels, doc.doc_id
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            duplicates[doc.doc_id] = repeated
        # Every 부칙 line of the source became its own provision.
        supplement_lines = sum(
            1 for line in doc.text.splitlines() if line.startswith(("부칙", "부 칙")) and len(line) > 2
        )
        assert sum(p.kind == "supplementary" for p in provisions) == supplement_lines, doc.doc_id
    assert body_less == ["2168593", "2168602"]
    assert duplicates == {}  # none in the corpus today; a new one must be looked at, not hidden


@pytest.mark.corpus
@pytest.mark.parametrize("doc_id", ["2229316", "2117319", "2071701", "2117686"])
def test_corpus_pdf_matches_markdown(shared_corpus: Path, doc_id: str) -> None:
    markdown = _markdown_doc(shared_corpus / "ko" / "jeju" / f"{doc_id}.md")
    pdf = _pdf_doc(shared_corpus / "ko" / "pdf" / f"{doc_id}.pdf", title=markdown.title)
    md_provisions, pdf_provisions = parse(markdown), parse(pdf)
    _assert_well_formed(pdf, pdf_provisions)

    def outline(provisions: list[Provision]) -> list[tuple[str, str, str]]:
        return [(p.kind, p.article, p.article_title) for p in provisions]

    assert outline(pdf_provisions) == outline(md_provisions)
    # Offsets stay in the PDF text, so every provision maps to real pages.
    assert all(pdf.page_at(p.start) is not None for p in pdf_provisions)


def test_repeated_paragraph_mark_is_not_a_new_unit() -> None:
    # An amending article quotes another regulation's "① …" after its own ②: still inside ②.
    text = (
        "##### 제2조 (다른 조례의 개정)\n\n① 가상시 조례 일부를 다음과 같이 개정한다.\n"
        "② 제3조를 다음과 같이 한다.\n① 시장은 위원회를 둔다.\n"
    )
    provisions = parse(Document(doc_id="t", title="", text=text, source="t", format="markdown"))
    assert [u.label for u in provisions[0].units] == ["", "①", "②"]


def test_supplement_heading_with_its_own_text_stays_separate() -> None:
    text = (
        "##### 제1조 (목적)\n\n목적으로 한다.\n\n## 부칙\n\n이 조례는 공포한 날부터 시행한다.\n"
        "부칙 <제12호, 2020.1.1.> 이 조례는 2020년 1월 1일부터 시행한다.\n\n## 부칙\n"
    )
    provisions = parse(Document(doc_id="t", title="", text=text, source="t", format="markdown"))
    supplements = [p for p in provisions if p.kind == "supplementary"]
    assert [p.text for p in supplements] == [
        "부칙\n이 조례는 공포한 날부터 시행한다.",
        "부칙 <제12호, 2020.1.1.>\n이 조례는 2020년 1월 1일부터 시행한다.",
    ]  # and the trailing bare "## 부칙" with nothing under it is no provision
