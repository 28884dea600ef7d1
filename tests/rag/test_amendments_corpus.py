"""The amendment comparison over the real amended pairs in ../shared/corpus/ko/versions (two documents ingested
once, about a minute of embedding).

How the older files were made (../shared/corpus/README.md): from the current text, the lines the latest
amendment marked ``<신설 date>``, the articles it marked ``[본조신설 date]`` and its 부칙 entry were removed,
and wording it changed (``<개정 date>``) was left as it is now. So the comparison must show exactly those
lines as added 항 and the 부칙 entry as an added provision — and nothing changed — which the tests read off
the files themselves rather than trust.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from civicrag.ingest.parsing.korean import canonical_article

from civicrag.settings import load_settings

pytestmark = pytest.mark.corpus

TAXI = "2117284"  # 개인택시운송사업 면허사무 처리 규칙: 2019-03-20 → 2025-06-13
CHIEFS = "2117732"  # 이장·통장·반장 임명 등에 관한 규칙: 2020-06-10 → 2025-07-11
_HEADING = re.compile(r"^#####\s*(제\d+조)")


@pytest.fixture(scope="module")
def versions_index(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from civicrag.ingest.pipeline import ingest_paths
    from civicrag.rag.service import RagService

    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("amendments-corpus"))
    report = ingest_paths(settings, [shared_corpus / "ko" / "versions" / doc for doc in (TAXI, CHIEFS)])
    assert not report.failed, report.failed
    svc = RagService(settings)
    yield svc
    svc.close()


def _files(shared_corpus: Path, doc: str) -> tuple[list[str], list[str]]:
    old, new = sorted((shared_corpus / "ko" / "versions" / doc).glob("*.md"))
    return old.read_text(encoding="utf-8").splitlines(), new.read_text(encoding="utf-8").splitlines()


def _added_lines(shared_corpus: Path, doc: str) -> list[tuple[str, str]]:
    """(article, line) of each line of the newer file that the older lacks, in file order; 부칙 lines as 부칙."""
    old, new = _files(shared_corpus, doc)
    kept = {line.strip() for line in old}
    article = ""
    out = []
    for line in new:
        heading = _HEADING.match(line)
        if heading:
            article = canonical_article(heading.group(1), heading_defect=True) or heading.group(1)
        elif line.startswith("## 부칙"):
            article = "부칙"
        elif line.strip() and line.strip() not in kept and not line.startswith(("공포일자", "시행일자")):
            out.append((article, line.strip()))
    return out


def test_taxi_rule_comparison_marks_exactly_the_added_paragraphs(versions_index: Any, shared_corpus: Path) -> None:
    from civicrag.rag.amendments import compare

    added = _added_lines(shared_corpus, TAXI)
    # What the files say: four 항 marked <신설 2025. 6. 13.>, and the amendment's 부칙 entry.
    assert [(a, line[:1]) for a, line in added] == [("제4조", "⑤"), ("제5조", "②"), ("제5조", "④"), ("제10조", "②"),
                                                    ("부칙", "부")]
    assert all("<신설 2025. 6. 13.>" in line for _a, line in added[:4])
    assert added[4][1] == "부칙 <제885호, 2025. 6. 13.> 이 규칙은 공포한 날부터 시행한다."

    c = compare(versions_index.load().catalogue, TAXI)
    assert (c.old.version, c.new.version) == ("2019-03-20", "2025-06-13")
    changed = {(a.key, a.status) for a in c.changed}
    assert changed == {("제4조", "changed"), ("제5조", "changed"), ("제10조", "changed"),
                       ("부칙 <제885호, 2025. 6. 13.>", "added")}
    units = [(a.article, u.status, u.new.text if u.new else "") for a in c.changed if a.status == "changed"
             for u in a.changed_units]
    assert units == [(a, "added", line) for a, line in added[:4]]  # nothing else changed, deleted or added
    assert all(a.header_words is None for a in c.changed if a.status == "changed")
    supplement = c.article("부칙 <제885호, 2025. 6. 13.>")
    assert supplement is not None and supplement.new is not None
    assert [u.text for u in supplement.new.units] == ["이 규칙은 공포한 날부터 시행한다."]
    assert c.summary()["articles_unchanged"] == 12


def test_chiefs_rule_shows_what_its_reconstruction_left(versions_index: Any, shared_corpus: Path) -> None:
    """2117732's ⑥ is an amendment's new 항 whose ``<신설 2025.7.11.>`` stood on a line of its own: the older file
    lost only that line, so ⑥ shows as changed by exactly that note; ④ is the added 항."""
    from civicrag.rag.amendments import compare, inline_diff

    added = _added_lines(shared_corpus, CHIEFS)
    assert [line for _a, line in added] == [
        "④  제2항에 따라 공개모집 결과 지원자가 없는 경우에는 읍장ㆍ면장ㆍ동장이 성별을 고려하여 직권으로 이장ㆍ통장을 "
        "임명할 수 있다. <신설 2025.7.11.>",
        "<신설 2025.7.11.>",
        "부칙 <제890호, 2025.7.11.> 이 규칙은 공포한 날부터 시행한다.",
    ]
    c = compare(versions_index.load().catalogue, CHIEFS)
    assert [(a.key, a.status) for a in c.changed] == [("제2조의2", "changed"), ("부칙 <제890호, 2025.7.11.>", "added")]
    units = c.changed[0].changed_units
    assert [(u.status, u.label) for u in units] == [("added", "④"), ("changed", "⑥")]
    assert inline_diff(units[1].words).endswith("직권으로 반장을 임명할 수 있다. {+<신설 2025.7.11.>+}")
    assert [h.op for h in units[1].words] == ["equal", "insert"]


def test_what_changed_question_cites_both_versions(versions_index: Any) -> None:
    result = versions_index.ask("개인택시운송사업 면허사무 처리 규칙 최근에 뭐가 바뀌었어?")
    assert result.mode == "structured" and not result.refused
    assert {c.doc_id for c in result.citations} == {TAXI}
    assert {c.effective_date for c in result.citations} == {"2019-03-20", "2025-06-13"}
    assert [c.superseded for c in result.citations] == [c.effective_date == "2019-03-20" for c in result.citations]
    new_quotes = [c.quote for c in result.citations if c.effective_date == "2025-06-13"]
    assert all("<신설 2025. 6. 13.>" in q for q in new_quotes[:4])
    assert "바뀐 조문 4개 (신설 1, 개정 3, 삭제 0):" in result.answer
    assert "- 제10조(거주요건) — ② 신설" in result.answer


def test_when_was_an_article_amended(versions_index: Any) -> None:
    result = versions_index.ask("개인택시 면허사무 처리 규칙 제10조 언제 개정됐어?")
    assert result.mode == "structured"
    assert result.answer.splitlines()[0] == (
        "「제주특별자치도 개인택시운송사업 면허사무 처리 규칙」 제10조(거주요건)의 개정 표시(2025-06-13 시행본): "
        "① <개정 2025. 6. 13.>, ② <신설 2025. 6. 13.> [1]"
    )
    assert [(c.article, c.effective_date) for c in result.citations] == [("제10조", "2025-06-13"),
                                                                         ("제10조", "2019-03-20")]
