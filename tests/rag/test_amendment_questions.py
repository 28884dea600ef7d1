"""Amendment questions: which questions are of the kind, and the answers built from the comparison and the notes."""

from __future__ import annotations

from typing import Any

import pytest
from civicrag.rag.amendment_questions import amendment_answerer, question_kind
from civicrag.rag.query import Query
from civicrag.rag.references import QueryRefs, article_refs
from civicrag.rag.types import Answer

from tests.rag.test_amendments import DOC, NEW, OLD, record, two_versions


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("주차장 조례 최근에 뭐가 바뀌었어?", "what"),
        ("최근 개정 내용 알려줘", "what"),
        ("제5조 바뀌었어?", "what"),
        ("개정된 조문이 뭐야?", "what"),
        ("이 규칙 신구조문 대비 보여줘", "what"),
        ("뭐가 달라졌어?", "what"),
        ("제10조 언제 개정됐어?", "when"),
        ("이 조례는 언제 마지막으로 개정됐나요", "when"),
        ("What changed in the last amendment of the parking ordinance?", "what"),
        ("What changed?", "what"),
        ("When was Article 10 amended?", "when"),
        # not about an amendment of a regulation
        ("변경된 사항을 신고해야 하는 기간은?", None),
        ("조례를 개정하려면 어떤 절차가 필요해?", None),
        ("허가 내용이 변경됐을 때 어떻게 해?", None),
        ("예전 탐라기록물관리소는 지금 뭐로 바뀐 거야?", None),
        ("2019년에 보조금위원회 구성 규정이 바뀌었다는데, 그때 이미 활동하던 위원들한테도 바로 적용됐나요?", None),
        ("이사하면서 전화번호가 바뀌었어요. 어디에 알려야 하나요?", None),
        ("What documents must be added to the application?", None),
        ("When can a permit be changed?", None),
        ("What is the fee after the latest amendment?", None),
        ("경차는 공영주차장 요금을 감면받나요?", None),
    ],
)
def test_question_kind(question: str, kind: str | None) -> None:
    assert question_kind(question) == kind


def ask(question: str, docs: tuple[str, ...] = (DOC,), lang: str = "ko", as_of: str = "2026-01-01",
        filters: dict[str, str] | None = None, catalogue: Any = None) -> Answer | None:
    query = Query(
        question=question, text=question, language=lang, as_of=as_of, filters=filters or {}, history=[],  # type: ignore[arg-type]
        followup=False, tokens=[], kind="other", refs=QueryRefs(article_refs(question), list(docs)),
    )
    return amendment_answerer(catalogue or two_versions(), None, lambda text: text.split())(query)


def _cited(answer: Answer) -> list[tuple[str, str, str, str]]:
    return [(c.article, c.paragraph, c.effective_date, c.quote) for c in answer.citations]


def test_what_changed_lists_the_changes_and_cites_both_versions() -> None:
    answer = ask("주차장 조례 최근에 뭐가 바뀌었어?")
    assert answer is not None and not answer.refused
    lines = answer.text.splitlines()
    assert lines[0] == ("「가상시 주차장 조례」의 최근 개정 내용입니다: 2020-01-01 시행본과 2024-07-01 시행본의 "
                        "신구조문 대비.")
    assert lines[1] == "바뀐 조문 4개 (신설 1, 개정 2, 삭제 1):"
    assert "- 제2조(요금) — ① 개정 (‘1’ → ‘2’; ‘<개정 2024.7.1.>’ 추가), ③ 신설 [1][2][3]" in lines
    assert "- 제3조(이용시간) — 제목 개정 [4][5]" in lines
    assert "- 제4조(위탁) — 삭제 [6]" in lines
    assert "> ③ 장애인 차량은 요금을 면제한다. <신설 2024.7.1.>" in lines
    assert "> (종전) ① 주차요금은 1시간에 1천원으로 한다." in lines
    assert {c.effective_date for c in answer.citations} == {OLD, NEW}
    # ③ is new: the old 제2조's chunk (already [2]) is where the older version lacks it
    assert _cited(answer)[:3] == [
        ("제2조", "①", NEW, "① 주차요금은 1시간에 2천원으로 한다. <개정 2024.7.1.>"),
        ("제2조", "①", OLD, "① 주차요금은 1시간에 1천원으로 한다."),
        ("제2조", "③", NEW, "③ 장애인 차량은 요금을 면제한다. <신설 2024.7.1.>"),
    ]
    catalogue = two_versions()
    texts = {r.chunk_id: r.text for r in catalogue.records}
    assert all(texts[c.chunk_id] == c.text for c in answer.citations)  # every citation is a real chunk
    assert [c.superseded for c in answer.citations] == [c.effective_date == OLD for c in answer.citations]


def test_when_was_an_article_amended_reads_its_notes() -> None:
    answer = ask("주차장 조례 제2조 언제 개정됐어?")
    assert answer is not None
    assert answer.text.splitlines() == [
        "「가상시 주차장 조례」 제2조(요금)의 개정 표시(2024-07-01 시행본): ① <개정 2024.7.1.>, ③ <신설 2024.7.1.> [1]",
        "가장 최근 개정일은 2024-07-01입니다.",
        "색인된 판 비교:",
        "- 2020-01-01 시행본 → 2024-07-01 시행본에서 개정 (① 개정 (‘1’ → ‘2’; ‘<개정 2024.7.1.>’ 추가), ③ 신설) [1][2]",
    ]
    assert [(c.article, c.effective_date) for c in answer.citations] == [("제2조", NEW), ("제2조", OLD)]


def test_an_unchanged_article_says_so_and_cites_it_in_both_versions() -> None:
    answer = ask("주차장 조례 제1조 최근에 바뀌었어?")
    assert answer is not None
    assert answer.text == ("「가상시 주차장 조례」 제1조는 최근 개정(2020-01-01 시행본 → 2024-07-01 시행본)에서 "
                           "바뀌지 않았습니다.")
    assert [(c.article, c.effective_date) for c in answer.citations] == [("제1조", NEW), ("제1조", OLD)]


def test_english_question_gets_an_english_answer() -> None:
    answer = ask("What changed in the last amendment of the parking ordinance?", lang="en")
    assert answer is not None
    assert answer.text.splitlines()[:2] == [
        "What changed in the last amendment of \u201c가상시 주차장 조례\u201d: the version in force from 2020-01-01 "
        "compared with the version in force from 2024-07-01.",
        "4 provisions changed (1 added, 2 amended, 1 deleted):",
    ]
    assert "- 제4조 (위탁) — deleted [6]" in answer.text


@pytest.mark.parametrize(
    ("question", "kwargs"),
    [
        ("주차장 요금은 얼마야?", {}),  # not about an amendment
        ("주차장 조례 최근에 뭐가 바뀌었어?", {"docs": ()}),  # names no document
        ("주차장 조례 최근에 뭐가 바뀌었어?", {"docs": ("9000002",)}),  # a document with one version
        ("주차장 조례 최근에 뭐가 바뀌었어?", {"docs": ("9000002", DOC)}),  # the first named one decides
        ("주차장 조례 최근에 뭐가 바뀌었어?", {"as_of": "2021-01-01"}),  # no version before the one in force then
        ("주차장 조례 제9조 언제 개정됐어?", {}),  # no such article
    ],
)
def test_other_questions_go_on_to_retrieval(question: str, kwargs: dict[str, Any]) -> None:
    catalogue = two_versions()
    catalogue = type(catalogue).from_records(
        [*catalogue.records, record("2022-01-01", 0, "제1조", "제1조(목적)\n목적을 정한다.", doc="9000002")]
    )
    assert ask(question, catalogue=catalogue, **kwargs) is None


def test_the_filtered_document_when_the_question_names_none() -> None:
    answer = ask("최근에 뭐가 바뀌었어?", docs=(), filters={"doc": DOC})
    assert answer is not None and "「가상시 주차장 조례」" in answer.text


# -- through the service, over the fixture index (9100002 has two versions) ----------------------------------
def test_service_answers_what_changed_from_both_versions(service: Any) -> None:
    result = service.ask("가상특별자치도 공무원 당직 규칙 최근에 뭐가 바뀌었어?")
    assert result.mode == "structured" and not result.refused
    assert {(c.doc_id, c.article, c.effective_date) for c in result.citations} == {
        ("9100002", "제5조", "2020-01-01"), ("9100002", "제5조", "2024-07-01"),
    }
    assert "- 제5조(당직수당) — 본문 개정 (‘5’ → ‘7’; ‘<개정 2024.7.1.>’ 추가) [1][2]" in result.answer.splitlines()


def test_service_follow_up_uses_the_conversation_document(service: Any) -> None:
    first = service.ask("당직 서면 수당 얼마야?")
    assert first.mode != "structured"  # an ordinary question is answered by retrieval
    history = [{"role": "user", "content": "당직 서면 수당 얼마야?"}, {"role": "assistant", "content": first.answer}]
    result = service.ask("최근에 뭐가 바뀌었어?", history=history)
    assert result.mode == "structured"
    assert {c.doc_id for c in result.citations} == {"9100002"}
