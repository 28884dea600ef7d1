"""Over a handful of real Jeju regulations from ../shared/corpus (ingested once, ~20 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from civicrag.settings import load_settings

pytestmark = pytest.mark.corpus

DOCS = ("2179433", "2117319", "2229316")  # 4·3 holiday; duty rules (shifted headings); 1회용품 (제7조의2..7)


@pytest.fixture(scope="module")
def corpus_service(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from civicrag.ingest.pipeline import ingest_paths
    from civicrag.rag.service import RagService

    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("rag-corpus"))
    report = ingest_paths(settings, [shared_corpus / "ko" / "jeju" / f"{doc}.md" for doc in DOCS])
    assert not report.failed, report.failed
    svc = RagService(settings)
    yield svc
    svc.close()


def _cited(result: Any) -> set[tuple[str, str]]:
    return {(c.doc_id, c.article) for c in result.citations}


def test_the_43_holiday_question_cites_article_4(corpus_service: Any) -> None:
    result = corpus_service.ask("4·3 지방공휴일은 언제야?")
    assert not result.refused
    assert _cited(result) == {("2179433", "제4조")}
    assert "4월 3일" in result.answer


def test_duty_allowance_despite_shifted_headings(corpus_service: Any) -> None:
    result = corpus_service.ask("당직 서면 수당 얼마야?")
    assert _cited(result) == {("2117319", "제5조")}
    assert "6만원" in result.answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("제7조의6", ("2229316", "제7조의6")),
        ("1회용품 조례 7조의 2", ("2229316", "제7조의2")),
        ("4·3 지방공휴일 조례 제5조", ("2179433", "제5조")),
        ("당직 규칙 제29조", ("2117319", "제29조")),
    ],
)
def test_exact_article_numbers_hit(corpus_service: Any, question: str, expected: tuple[str, str]) -> None:
    result = corpus_service.ask(question)
    assert (result.retrieved[0].doc_id, result.retrieved[0].article) == expected
