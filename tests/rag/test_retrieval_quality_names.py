"""Document naming, implicit follow-ups and prefixed nouns: the retrieval-quality rules, on tiny hand-made inputs."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from civicrag.ingest.store.lexical import Tokenizer
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.followup import FollowupRewriter
from civicrag.rag.references import DocumentNames
from civicrag.rag.types import ChunkRecord, Message


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


def test_title_words_every_text_uses_name_no_document(names: DocumentNames) -> None:
    # Two title words of d2, but both are everyday words of every regulation's text.
    assert "d2" not in _find(names, "가파도 시설 위탁 누가 해?")


def test_a_word_only_one_text_uses_names_its_document_without_kind_word(names: DocumentNames) -> None:
    assert _find(names, "가파도 시설 위탁 누가 해?") == ["d1"]


def test_all_distinctive_words_and_kind_word_name_the_document(names: DocumentNames) -> None:
    # 폐기물 is in two titles (not unique), but it is all that distinguishes 폐기물 관리 조례.
    assert _find(names, "폐기물 조례 재정")[0] == "d3"


def test_extended_names_share_the_text_frequencies(names: DocumentNames) -> None:
    more = names.extended({"e1": "가로등 조례"}, _split)
    assert _find(more, "가로등 조례 누가 해?") == ["e1"]
    assert _find(more, "가파도 시설 위탁 누가 해?") == ["d1"]


def _rewriter(names: DocumentNames) -> FollowupRewriter:
    return FollowupRewriter(_split, lambda q: [d for d, _ in names.find(q, _split(q))[:1]], names.titles)


def test_short_unanchored_question_in_a_conversation_is_a_follow_up(names: DocumentNames) -> None:
    history = [Message("user", "가파도 시설 위탁 누가 해?"), Message("assistant", "법인에 위탁합니다.")]
    rewrite = _rewriter(names).rewrite("사용료 누가 정해?", history)
    assert rewrite.is_followup
    assert rewrite.docs == ["d1"]
    # The document is preference enough: the last question's words do not pull back to its article.
    assert rewrite.question == "사용료 누가 정해?"


def test_question_naming_its_own_document_stands_alone(names: DocumentNames) -> None:
    history = [Message("user", "가파도 시설 위탁 누가 해?"), Message("assistant", "법인에 위탁합니다.")]
    assert not _rewriter(names).rewrite("폐기물 조례 배출", history).is_followup


def test_without_history_nothing_is_a_follow_up(names: DocumentNames) -> None:
    assert not _rewriter(names).rewrite("사용료 누가 정해?", []).is_followup


@pytest.fixture(scope="module")
def tokenize() -> Tokenizer:
    return Tokenizer()


def test_prefixed_nouns_are_kept_whole(tokenize: Tokenizer) -> None:
    # Kiwi reads 재활용 as 재(prefix) + 활용: without the whole word 재활용 and 활용 are one token.
    assert "재활용" in tokenize("재활용에 관한 시책")
    assert "비매품" in tokenize("비매품이면")


def test_multi_word_names_are_indexed_word_by_word(tokenize: Tokenizer) -> None:
    # Kiwi's dictionary has "제주 성읍마을" as one name; the question says 성읍마을.
    tokens = tokenize("제주 성읍마을 보존 및 지원 조례")
    assert "성읍" in tokens
    assert set(tokenize("성읍마을 시설")) & set(tokens) >= {"성읍", "마을"}


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
    assert [doc for doc, _ in names.find(question, question.lower().rstrip("?").split())] == ["town"]
