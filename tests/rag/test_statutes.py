"""rag.statutes over chunks made by the real loader, parser and chunker (no embedder): the reverse index and
the 근거 법령 structured answerer on four small regulations (tests/fixtures/statutes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from civicrag.ingest.chunking import chunk_document
from civicrag.ingest.loaders import LoadLimits, load_file
from civicrag.ingest.parsing import parse_document
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.query import Query
from civicrag.rag.references import ArticleRef, QueryRefs
from civicrag.rag.statutes import StatuteIndex, asks_for_basis, indexed_documents, statute_answerer
from civicrag.rag.structured import FACTORIES
from civicrag.rag.types import ChunkRecord, Message

from civicrag.settings import load_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statutes"
PARKING, PARKING_RULE, WASTE, OUTSOURCING = "9200001", "9200002", "9200003", "9200004"
PARKING_TITLE = "가상특별자치도 주차장 설치 및 관리 조례"


def _catalogue(folder: Path) -> Catalogue:
    limits = LoadLimits.from_settings(load_settings(None))
    records = []
    for path in sorted(folder.glob("*.md")):
        doc = load_file(path, folder, limits)
        version = doc.effective_date or "undated"
        chunks = chunk_document(doc, parse_document(doc), lambda text: len(text) // 2, 400, version, "0" * 64)
        records += [ChunkRecord(c.chunk_id, c.text, c.metadata, valid_from=doc.effective_date) for c in chunks]
    return Catalogue.from_records(records)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return _catalogue(FIXTURES)


@pytest.fixture(scope="module")
def answer(catalogue: Catalogue):  # type: ignore[no-untyped-def]
    return statute_answerer(catalogue, None, lambda text: text.split())


def _query(question: str, *, docs: dict[str, float] | None = None, filters: dict[str, str] | None = None,
           articles: list[str] = (), history: list[Message] | None = None, language: str = "ko") -> Query:
    refs = QueryRefs(articles=[ArticleRef(a, a) for a in articles], docs=list(docs or {}))
    return Query(
        question=question, text=question, language=language, as_of="2025-01-01", filters=filters or {},  # type: ignore[arg-type]
        history=history or [], followup=bool(history), tokens=question.split(), kind="other", refs=refs,
        named_docs=docs or {},
    )


def test_the_answerer_is_registered_in_the_structured_hook() -> None:
    assert statute_answerer in FACTORIES


def test_basis_questions_are_told_conservatively() -> None:
    for question in ("이 조례의 근거 법령은?", "주차장 조례는 어느 법에 따른 거야?", "이 조항은 어느 법에 따른 거야?",
                     "상위법이 뭐야?", "이 규칙의 법적 근거는?", "무슨 법에 근거해서 만든 조례야?"):
        assert asks_for_basis(question), question
    for question in ("주차요금은 얼마야?", "어느 법인이 위탁받을 수 있어?", "법 제9조가 뭐야?",
                     "근거 서류는 뭐가 필요해?"):
        assert not asks_for_basis(question), question


def test_document_basis_lists_statutes_purpose_first_with_citing_provisions(answer) -> None:  # type: ignore[no-untyped-def]
    got = answer(_query("주차장 조례는 어느 법에 따른 거야?", docs={PARKING: 1.0}))
    assert got is not None and not got.refused
    assert got.text.splitlines() == [
        f"「{PARKING_TITLE}」의 근거 법령 (제1조(목적)에서 밝힌 법령):",
        "- 「주차장법」 (법률) 제2조, 제9조 — 제1조(목적), 제2조(정의), 제3조(주차요금)에서 인용",
        "- 「주차장법 시행령」 (대통령령) 제6조 — 제1조(목적), 제3조(주차요금)에서 인용",
        "- 「주차장법 시행규칙」 (부령·행정규칙) — 제1조(목적)에서 인용",
        "",
        "그 밖에 조문이 인용한 법령: 「자동차관리법」",
        "함께 인용한 자치법규: 「가상특별자치도 사무의 민간위탁 조례」 제10조",
    ]
    # Citations from chunk metadata: the 목적 article first, then each regulation's first citing provision.
    assert [(c.n, c.doc_id, c.article) for c in got.citations] == [
        (1, PARKING, "제1조"), (2, PARKING, "제2조"), (3, PARKING, "제3조"), (4, PARKING, "제4조"),
    ]
    assert got.citations[0].quote.startswith("이 조례는 「주차장법」")
    assert got.citations[3].references == [
        {"name": "가상특별자치도 사무의 민간위탁 조례", "kind": "ordinance", "article": "제10조"}
    ]


def test_document_named_by_the_filter(answer) -> None:  # type: ignore[no-untyped-def]
    got = answer(_query("이 조례의 근거 법령은?", filters={"doc": WASTE}))
    assert got is not None
    assert got.text.splitlines()[1:] == [
        "- 「폐기물관리법」 (법률) 제14조 — 제1조(목적), 제2조(대형폐기물)에서 인용",
        "- 「폐기물관리법 시행령」 (대통령령) — 제1조(목적)에서 인용",
    ]


def test_a_rule_rests_on_its_ordinance(answer) -> None:  # type: ignore[no-untyped-def]
    got = answer(_query("이 규칙의 상위법은?", docs={PARKING_RULE: 1.0}))
    assert got is not None
    assert got.text.splitlines()[1] == (
        f"- 「{PARKING_TITLE}」 (자치법규) 제5조 — 제1조(목적), 제2조(감면 신청)에서 인용"
    )


def test_the_provision_the_last_answer_cited(answer) -> None:  # type: ignore[no-untyped-def]
    last = f"「{PARKING_TITLE}」 제3조(주차요금)에서 정하고 있습니다.\n> ① 법 제9조제3항에 따른 …"
    history = [Message("user", "공영주차장 요금은?"), Message("assistant", last)]
    got = answer(_query("이 조항은 어느 법에 따른 거야?", history=history, docs={PARKING: 0.5}))
    assert got is not None
    assert got.text.splitlines() == [
        f"「{PARKING_TITLE}」 제3조(주차요금)이(가) 인용한 법령:",
        "- 「주차장법」 (법률) 제9조",
        "- 「주차장법 시행령」 (대통령령) 제6조",
    ]
    assert [(c.doc_id, c.article) for c in got.citations] == [(PARKING, "제3조")]


def test_a_provision_named_in_the_question_that_cites_nothing(answer) -> None:  # type: ignore[no-untyped-def]
    got = answer(_query("주차장 조례 제5조는 어느 법에 따른 거야?", docs={PARKING: 1.0}, articles=["제5조"]))
    assert got is not None
    lines = got.text.splitlines()
    assert lines[0] == f"「{PARKING_TITLE}」 제5조(경차 감면)은(는) 다른 법령을 인용하지 않습니다."
    assert lines[1] == f"「{PARKING_TITLE}」의 근거 법령 (제1조(목적)에서 밝힌 법령):"
    assert [(c.n, c.article) for c in got.citations] == [(1, "제5조"), (2, "제1조"), (3, "제2조"), (4, "제3조"),
                                                         (5, "제4조")]


def test_other_questions_go_on_to_retrieval(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer(_query("주차요금은 얼마야?", docs={PARKING: 1.0})) is None
    assert answer(_query("근거 법령은?")) is None  # no regulation named, none in the conversation
    assert answer(_query("Which statute is the parking ordinance based on?", docs={PARKING: 1.0},
                         language="en")) is None


def test_a_regulation_citing_no_statute_says_so(tmp_path: Path) -> None:
    (tmp_path / "9200009.md").write_text(
        "---\n자치법규ID: '9200009'\n자치법규명: '가상특별자치도 모범 조례'\n자치법규종류: '조례'\n"
        "시행일자: '2024-01-01'\n본문출처: 'api-text'\n---\n\n# 가상특별자치도 모범 조례\n\n"
        "##### 제1조 (목적)\n\n이 조례는 모범 도민을 지원함을 목적으로 한다.\n",
        encoding="utf-8",
    )
    answer = statute_answerer(_catalogue(tmp_path), None, str.split)
    got = answer(_query("이 조례의 근거 법령은?", docs={"9200009": 1.0}))
    assert got is not None and got.refused
    assert got.text == "「가상특별자치도 모범 조례」의 조문에서 인용한 상위 법령을 찾지 못했습니다."
    assert got.citations == []


def test_reverse_index_lists_the_provisions_citing_a_statute(catalogue: Catalogue) -> None:
    index = StatuteIndex(catalogue)
    rows = [(c.doc_id, c.article, c.name, c.articles) for c in index.citing("주차장법", as_of="2025-01-01")]
    assert rows == [
        (PARKING, "제1조", "주차장법", []),
        (PARKING, "제1조", "주차장법 시행규칙", []),
        (PARKING, "제1조", "주차장법 시행령", []),
        (PARKING, "제2조", "주차장법", ["제2조"]),
        (PARKING, "제3조", "주차장법", ["제9조"]),
        (PARKING, "제3조", "주차장법 시행령", ["제6조"]),
    ]
    exact = index.citing("「주차장법」", as_of="2025-01-01", family=False)
    assert [(c.article, c.name) for c in exact] == [("제1조", "주차장법"), ("제2조", "주차장법"), ("제3조", "주차장법")]
    ordinance = index.citing(PARKING_TITLE, as_of="2025-01-01")
    assert [(c.doc_id, c.article, c.articles) for c in ordinance] == [(PARKING_RULE, "제1조", []),
                                                                     (PARKING_RULE, "제2조", ["제5조"])]
    assert [c.doc_id for c in index.citing("폐기물관리법", as_of="2025-01-01")] == [WASTE, WASTE, WASTE]
    assert index.citing("폐기물관리법", as_of="2023-01-01") == []  # not yet in force then
    assert index.citing("하수도법") == []
    assert index.suggest("주차장") == ["가상특별자치도 주차장 설치 및 관리 조례", "주차장법", "주차장법 시행규칙",
                                    "주차장법 시행령"]


def test_indexed_documents_by_name(catalogue: Catalogue) -> None:
    documents = indexed_documents(catalogue, "2025-01-01")
    assert documents["가상특별자치도사무의민간위탁조례"] == (OUTSOURCING, "2022-05-01")
    assert len(documents) == 4


def test_the_kind_word_decides_between_an_ordinance_and_its_rule(answer) -> None:  # type: ignore[no-untyped-def]
    both = {PARKING_RULE: 1.0, PARKING: 1.0}  # "주차장 조례" names both titles fully
    ordinance = answer(_query("주차장 조례는 어느 법에 따른 거야?", docs=both))
    rule = answer(_query("주차장 조례 시행규칙의 근거 법령은?", docs=both))
    assert ordinance is not None and rule is not None
    assert ordinance.text.startswith(f"「{PARKING_TITLE}」의 근거 법령")
    assert rule.text.startswith(f"「{PARKING_TITLE} 시행규칙」의 근거 법령")
