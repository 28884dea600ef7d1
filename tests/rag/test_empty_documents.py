"""Questions about registered documents whose text could not be read: a clear refusal, no citations."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.empty_documents import EmptyDocuments
from civicrag.rag.language import phrase
from civicrag.rag.references import DocumentNames
from civicrag.rag.types import ChunkRecord

from civicrag.settings import load_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rag"

KO_TITLE = "가상특별자치도공유재산심의회설치운영조례"  # unspaced, as the published jeju placeholders are
KO_NO_BODY = f"""---
자치법규ID: '9100099'
자치법규명: '{KO_TITLE}'
자치법규종류: '조례'
지자체기관명: '가상특별자치도'
시행일자: '2004-01-16'
본문출처: 'parsing-failed'
---

# {KO_TITLE}

본문은 첨부파일 또는 원문을 참조하세요.
"""
EN_TITLE = "Harbor Mooring Ordinance"
EN_NO_BODY = f"---\ntitle: {EN_TITLE}\nkind: ordinance\n---\n"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The fixture regulations, a service loaded over them, then an ingest that adds two bodiless files."""
    from civicrag.ingest.pipeline import ingest_paths
    from civicrag.rag.service import RagService

    root = tmp_path_factory.mktemp("empty-docs")
    docs = root / "docs"
    shutil.copytree(FIXTURES, docs)
    settings = load_settings(None, data_dir=root / "data")
    assert not ingest_paths(settings, [docs]).failed
    svc = RagService(settings)
    loaded = svc.load()
    assert len(loaded.empty_docs) == 0

    # Added while the service is running: it must notice without a restart.
    (docs / "ko" / "9100099.md").write_text(KO_NO_BODY, encoding="utf-8")
    (docs / "en" / "harbor.md").write_text(EN_NO_BODY, encoding="utf-8")
    report = ingest_paths(settings, [docs])
    assert {f["title"] for f in report.failed} == {KO_TITLE, EN_TITLE}
    yield svc
    svc.close()


@pytest.mark.parametrize(
    "question",
    ["가상특별자치도 공유재산심의회 위원장은 누가 맡아?", "공유재산심의회 위원은 몇 명이야?", f"{KO_TITLE} 제3조"],
)
def test_question_naming_an_empty_document_is_refused_with_the_reason(service: Any, question: str) -> None:
    result = service.ask(question)
    assert result.refused and result.citations == [] and result.related == []
    assert result.answerability is not None and not result.answerability.answerable
    assert result.answerability.reason == phrase("empty_document", "ko", title=KO_TITLE)
    assert KO_TITLE in result.answer and "본문을 읽을 수 없" in result.answer
    assert result.mode == "none"


def test_english_question_gets_the_english_reason(service: Any) -> None:
    result = service.ask("What berth fees does the Harbor Mooring Ordinance set?")
    assert result.refused and result.citations == [] and result.language == "en"
    assert result.answerability.reason == phrase("empty_document", "en", title=EN_TITLE)
    assert "could not be read" in result.answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("경차는 주차요금을 감면받나요?", ("9100001", "제7조")),
        ("How long is the mayor's term?", ("town-code", "SECTION 3-1")),
    ],
)
def test_questions_about_indexed_documents_are_unaffected(
    service: Any, question: str, expected: tuple[str, str]
) -> None:
    result = service.ask(question)
    assert not result.refused and result.answerability.answerable
    assert [(c.doc_id, c.article) for c in result.citations] == [expected]
    assert "본문을 읽을 수 없" not in result.answer


# -- the matching alone, over hand-made titles ------------------------------------------------------


def _names(titles: dict[str, str]) -> DocumentNames:
    records = [ChunkRecord(f"{doc}#0", "본문", {"doc_id": doc, "title": title}) for doc, title in titles.items()]
    return DocumentNames(Catalogue.from_records(records), str.split)


INDEXED = {
    "P": "샘플시 주차장 설치 운영 조례",
    "W": "샘플시 폐기물 관리 조례",
    "A": "샘플시 예술의전당 설치 운영 조례",
}


def test_an_indexed_document_named_more_strongly_wins() -> None:
    empty = EmptyDocuments.build([("E", "샘플시 공유재산 심의회 설치 운영 조례", "e.md")], _names(INDEXED), str.split)
    named = empty.named("공유재산 심의회 위원장", ["공유재산", "심의회", "위원장"])
    assert named is not None and (named.doc_id, named.title) == ("E", "샘플시 공유재산 심의회 설치 운영 조례")
    # The full title of an indexed ordinance outweighs a passing mention of the empty one's words.
    question = "샘플시 주차장 설치 운영 조례 에서 심의회 는?"
    assert empty.named(question, question.split()) is None
    assert empty.named("주차장 요금", ["주차장", "요금"]) is None


def test_documents_indexed_from_another_file_are_not_empty() -> None:
    names = _names(INDEXED)
    empty = EmptyDocuments.build([("P", INDEXED["P"], "old.md"), ("", "샘플시 공유재산 심의회 조례", "x.md")],
                                 names, str.split)
    assert [(d.doc_id, d.title) for d in empty.documents.values()] == [("x.md", "샘플시 공유재산 심의회 조례")]
    assert EmptyDocuments.build([], names, str.split).named("아무 질문", ["아무", "질문"]) is None



def test_a_few_shared_words_do_not_override_an_answer() -> None:
    """"의료급여 수급자" in a question the 간병비 ordinance answers is not a question about the fund ordinance."""
    empty = EmptyDocuments.build([("E", "샘플시 의료급여 기금 특별회계 조례", "e.md")], _names(INDEXED), str.split)
    question = "의료급여 수급자 지원"
    tokens = question.split()
    care = "샘플시 간병비 지원 조례\n제2조(대상) 의료급여 수급자에게 간병비를 지원한다."
    assert empty.named(question, tokens, answered_from=care) is None
    # An answer from a provision that never mentions 의료급여 is the unrelated answer this replaces.
    fund = empty.documents["E"]
    assert empty.named(question, tokens, answered_from="샘플시 주차장 조례\n주차요금은 600원") == fund
    assert empty.named(question, tokens) == fund  # a refusal anyway: give the real reason
    # The whole name is asked for: even a provision that mentions its words does not answer for it.
    full = "샘플시 의료급여 기금 특별회계 조례 의 관리자는?"
    assert empty.named(full, full.split(), answered_from=care + " 기금 특별회계") == fund
