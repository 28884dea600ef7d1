"""The reverse index and the 근거 법령 answer over the real Jeju ordinances (chunked by the real pipeline's
loader, parser and chunker; no embedder, so it stays fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
from civicrag.ingest.chunking import chunk_document
from civicrag.ingest.documents import IngestError
from civicrag.ingest.loaders import LoadLimits, load_file
from civicrag.ingest.parsing import parse_document
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.query import Query
from civicrag.rag.references import QueryRefs
from civicrag.rag.statutes import StatuteIndex, statute_answerer
from civicrag.rag.types import Answer, ChunkRecord

from civicrag.settings import load_settings

pytestmark = pytest.mark.corpus

AS_OF = "2026-01-01"


@pytest.fixture(scope="module")
def catalogue(shared_corpus: Path) -> Catalogue:
    folder = shared_corpus / "ko" / "jeju"
    limits = LoadLimits.from_settings(load_settings(None))
    records: list[ChunkRecord] = []
    for path in sorted(folder.glob("*.md")):
        try:
            doc = load_file(path, folder, limits)
        except IngestError:
            continue  # the two Seogwipo ordinances without a body
        chunks = chunk_document(doc, parse_document(doc), lambda t: len(t) // 2, 400, str(doc.effective_date),
                                "0" * 64)
        records += [ChunkRecord(c.chunk_id, c.text, c.metadata, valid_from=doc.effective_date) for c in chunks]
    return Catalogue.from_records(records)


def _ask(catalogue: Catalogue, question: str, doc_id: str) -> Answer:
    query = Query(question=question, text=question, language="ko", as_of=AS_OF, filters={}, history=[],
                  followup=False, tokens=question.split(), kind="other", refs=QueryRefs(docs=[doc_id]),
                  named_docs={doc_id: 1.0})
    answer = statute_answerer(catalogue, None, str.split)(query)
    assert answer is not None
    return answer


def test_waste_management_act_is_cited_by_the_waste_ordinance(catalogue: Catalogue) -> None:
    citing = StatuteIndex(catalogue).citing("폐기물관리법", as_of=AS_OF)
    assert {c.doc_id for c in citing} == {"2117982"}
    rows = [(c.article, c.name, c.articles) for c in citing]
    assert rows[:3] == [("제1조", "폐기물관리법", []), ("제1조", "폐기물관리법 시행규칙", []),
                        ("제1조", "폐기물관리법 시행령", [])]
    assert ("제8조의2", "폐기물관리법 시행규칙", ["제14조", "별표 5"]) in rows
    assert ("제10조", "폐기물관리법 시행령", ["제8조"]) in rows
    assert len(rows) == 15


def test_ordinances_citing_the_outsourcing_ordinance(catalogue: Catalogue) -> None:
    citing = StatuteIndex(catalogue).citing("제주특별자치도 사무의 민간위탁 조례", as_of=AS_OF, family=False)
    assert sorted({c.doc_id for c in citing}) == [
        "2117360", "2117853", "2139994", "2160250", "2208257", "2229316", "2229318",
    ]


def test_local_government_act_and_its_decree(catalogue: Catalogue) -> None:
    index = StatuteIndex(catalogue)
    assert sorted({c.doc_id for c in index.citing("지방자치법", as_of=AS_OF)}) == [
        "2071701", "2117289", "2117549", "2117732", "2117982", "2160250",
    ]
    assert sorted({c.doc_id for c in index.citing("지방자치법", as_of=AS_OF, family=False)}) == [
        "2071701", "2117289", "2117549", "2117982", "2160250",
    ]


def test_parking_ordinance_basis(catalogue: Catalogue) -> None:
    answer = _ask(catalogue, "주차장 조례는 어느 법에 따른 거야?", "2117853")
    lines = answer.text.splitlines()
    assert lines[0] == "「제주특별자치도 주차장 설치 및 관리 조례」의 근거 법령 (제1조(목적)에서 밝힌 법령):"
    assert [line.split(" (")[0] for line in lines[1:5]] == [
        "- 「제주특별자치도 설치 및 국제자유도시 조성을 위한 특별법」",
        "- 「주차장법」",
        "- 「주차장법 시행령」",
        "- 「주차장법 시행규칙」",
    ]
    assert lines[1].startswith(
        "- 「제주특별자치도 설치 및 국제자유도시 조성을 위한 특별법」 (법률) 제433조, 제433조의2, 제480조"
    )
    assert lines[5] == ""  # the list ends before the notes
    assert lines[6].startswith("그 밖에 조문이 인용한 법령: 「건축법」 제2조, ")
    assert lines[7].startswith("함께 인용한 자치법규: 「제주특별자치도 사무의 민간위탁 조례」 제13조, 제14조, ")
    assert [c.article for c in answer.citations] == ["제1조", "제5조", "제2조", "제6조", "제3조", "제7조"]
    assert all(c.doc_id == "2117853" and c.references for c in answer.citations)


def test_parking_rule_rests_on_the_parking_ordinance(catalogue: Catalogue) -> None:
    lines = _ask(catalogue, "이 규칙의 근거 법령은?", "2117854").text.splitlines()
    assert lines == [
        "「제주특별자치도 주차장 설치 및 관리 조례 시행규칙」의 근거 법령 (제1조(목적)에서 밝힌 법령):",
        "- 「제주특별자치도 주차장 설치 및 관리 조례」 (자치법규) 제3조, 제14조, 제15조 — 제1조(목적), "
        "제5조(주차요금), 제8조(공영주차장의 운영관리), 제9조(주차장 실태조사 방법 등)에서 인용",
        "",
        "그 밖에 조문이 인용한 법령: 「모자보건법」 제2조, 「주차장법」, 「건축법」 제2조",
        "함께 인용한 자치법규: 「제주특별자치도 공무원 후생복지에 관한 조례」 제4조",
    ]


def test_holiday_ordinance_basis(catalogue: Catalogue) -> None:
    assert _ask(catalogue, "4·3 지방공휴일 조례의 상위법은?", "2179433").text.splitlines() == [
        "「제주특별자치도 4ㆍ3희생자추념일 지방공휴일 지정 조례」의 근거 법령 (제1조(목적)에서 밝힌 법령):",
        "- 「천문법」 (법률) 제5조 — 제1조(목적), 제6조(달력의 표기)에서 인용",
        "- 「지방공휴일에 관한 규정」 (대통령령) 제2조, 제4조 — 제1조(목적), 제2조(정의), "
        "제7조(4·3지방공휴일 참여 확대)에서 인용",
        "",
        "그 밖에 조문이 인용한 법령: 「각종 기념일 등에 관한 규정」 제2조",
    ]


def test_an_ordinance_citing_nothing(catalogue: Catalogue) -> None:
    answer = _ask(catalogue, "이 조례의 근거 법령은?", "2117483")
    assert answer.refused
    assert answer.text == "「제주특별자치도 모범납세자 등 지원 조례」의 조문에서 인용한 상위 법령을 찾지 못했습니다."
