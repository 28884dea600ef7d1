"""``rag.references``: provision numbers in a question (any spelling staff type) and the documents it names."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.references import ArticleRef, DocumentNames, QueryRefs, article_refs, loose_key
from civicrag.rag.types import ChunkRecord


def test_article_references_in_user_spellings() -> None:
    labels = [r.label for r in article_refs("4·3 지방공휴일 조례 제5조 제2항, 그리고 29조의 2")]
    assert labels == ["제5조", "제29조의2"]
    assert article_refs("이 조례 제5조제2항")[0] == ArticleRef("제5조", "ko:5", "②")
    assert [r.label for r in article_refs("조례와 조치")] == []
    assert [r.label for r in article_refs("What does § 2-537 say?")] == ["§ 2-537"]
    assert [r.label for r in article_refs("Sec. 3-1 vs SECTION 3-1")] == ["Sec. 3-1", "SECTION 3-1"]


def test_attachments_and_supplements_are_references() -> None:
    assert article_refs("별표 2 요금표") == [ArticleRef("별표 2", "ko:별표2")]
    assert article_refs("부칙은 언제 시행돼?") == [ArticleRef("부칙", "ko:부칙")]
    assert article_refs("별표를 보면") == []  # an attachment without a number names none


def test_the_same_reference_twice_is_listed_once() -> None:
    assert [r.label for r in article_refs("제7조와 제 7 조")] == ["제7조"]


def test_loose_keys_join_spellings_of_one_number() -> None:
    assert loose_key("SECTION 3-1") == loose_key("Sec. 3-1") == "en:3-1"
    assert loose_key("§ 2-537") == "en:2-537"
    assert loose_key("제7조의2") == "ko:7-2"
    assert loose_key("제5조") == "ko:5"
    assert loose_key("부칙 <제12호, 2024.7.1.>") == "ko:부칙"
    assert loose_key("별표 3") == "ko:별표3"
    assert loose_key("Preamble") == "x:preamble"


def test_zoning_numbers_are_references_but_amounts_and_dates_are_not() -> None:
    assert [r.label for r in article_refs("what does zoning 11.2.1 say")] == ["11.2.1"]
    assert [r.label for r in article_refs("section 10.5.1 of the zoning ordinance")] == ["§ 10.5.1", "10.5.1"]
    assert article_refs("the fee is $2.50 since 2024.3.1") == []


def test_query_refs_are_empty_without_articles_or_documents() -> None:
    assert QueryRefs().empty
    assert not QueryRefs(docs=["d1"]).empty
    assert not QueryRefs(articles=[ArticleRef("제5조", "ko:5")]).empty


# -- documents named in a question ----------------------------------------------------------------


def _split(text: str) -> list[str]:
    # Whitespace tokens keep these tests independent of Kiwi's analysis.
    return [t for t in text.replace("?", " ").split() if t not in ("및", "누가", "해")]


def _catalogue(docs: Sequence[tuple[str, str, str]]) -> Catalogue:
    records = [
        ChunkRecord(f"{doc}@v#0-{i:04d}", text, {"doc_id": doc, "title": title, "article": "제1조", "seq": i})
        for i, (doc, title, text) in enumerate(docs)
    ]
    return Catalogue.from_records(records)


# Eight regulations: 시설 and 위탁 are title words of one, but the text of all of them uses them.
_DOCS = [
    ("d1", "가파도 섬 조례", "가파도 시설 위탁 사용료"),
    ("d2", "하수처리 시설 위탁 조례", "하수처리 시설 위탁 관리비"),
    ("d3", "폐기물 관리 조례", "폐기물 시설 위탁 배출"),
    ("d4", "음식물류 폐기물 재활용 조례", "음식물류 폐기물 재활용 시설 위탁"),
    *[(f"x{i}", f"기타 규칙 {i}", f"시설 위탁 운영 {i}") for i in range(4)],
]


@pytest.fixture()
def names() -> DocumentNames:
    return DocumentNames(_catalogue(_DOCS), _split)


def _find(names: DocumentNames, question: str) -> list[str]:
    return [doc for doc, _ in names.find(question, _split(question))]


def test_a_word_only_one_text_uses_names_its_document_without_kind_word(names: DocumentNames) -> None:
    # 시설 and 위탁 are title words of d2, but every text uses them: only 가파도 names a document.
    assert _find(names, "가파도 시설 위탁 누가 해?") == ["d1"]


def test_all_distinctive_words_and_kind_word_name_the_document(names: DocumentNames) -> None:
    # 폐기물 is in two titles (not unique), but it is all that distinguishes 폐기물 관리 조례; of 음식물류 폐기물
    # 재활용 조례 it is a smaller part, so d4 comes second.
    assert _find(names, "폐기물 조례 재정") == ["d3", "d4"]


def test_the_full_title_names_its_document_whatever_the_spacing(names: DocumentNames) -> None:
    assert names.find("음식물류폐기물재활용조례 제1조", ["음식물류폐기물재활용조례", "제1조"]) == [("d4", 1.0)]


def test_extended_names_share_the_text_frequencies(names: DocumentNames) -> None:
    more = names.extended({"e1": "가로등 조례"}, _split)
    assert _find(more, "가로등 조례 누가 해?") == ["e1"]
    assert _find(more, "가파도 시설 위탁 누가 해?") == ["d1"]
    assert more.titles["e1"] == "가로등 조례" and "e1" not in names.titles


def test_a_code_section_heading_is_not_a_document_name() -> None:
    """Each D.C. Code section is a file titled by its heading: "budget hearing" names no document."""
    records = [
        ChunkRecord("dc-1@v#0", "The Council shall hold a public hearing on the budget.",
                    {"doc_id": "dc-1", "title": "Hearing.", "article": "§ 2-1", "seq": 0}),
        ChunkRecord("dc-2@v#0", "Penalties for violations.",
                    {"doc_id": "dc-2", "title": "Penalty provisions.", "article": "§ 2-2", "seq": 0}),
        *[
            ChunkRecord(f"town@v#{i}", f"Text of section {i} about hearing and budget.",
                        {"doc_id": "town", "title": "Harbor Town Charter", "article": f"SECTION {i}", "seq": i})
            for i in range(3)
        ],
    ]
    names = DocumentNames(Catalogue.from_records(records), lambda t: t.lower().replace(".", "").split())
    question = "When is the community budget hearing held?"
    assert names.find(question, question.lower().rstrip("?").split()) == []
    question = "What does the Harbor Town Charter say about budget hearings?"
    assert names.find(question, question.lower().rstrip("?").split()) == [("town", 1.0)]
