"""References extracted from real Jeju ordinances (../shared/corpus/ko/jeju), and the hand-checked sample.

``tests/fixtures/legal/reference_sample.jsonl`` holds 102 provisions drawn at random from the corpus (80 from
all articles, 22 from those using a short name: 법, 영, 조례, 시행규칙, 같은 법), every reference extracted from
them with a verdict read against the text, and the references the extractor missed. If extraction changes,
the first test fails and the sample has to be read again.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from civicrag.ingest.chunking import chunk_document
from civicrag.ingest.documents import Document, Provision
from civicrag.ingest.loaders import LoadLimits, load_file
from civicrag.ingest.parsing import parse_document

from civicrag.legal.references import Reference, document_aliases, extract, from_json
from civicrag.settings import load_settings

pytestmark = pytest.mark.corpus

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "legal" / "reference_sample.jsonl"
SPECIAL_ACT = "제주특별자치도 설치 및 국제자유도시 조성을 위한 특별법"


@cache
def _document(path: Path) -> tuple[Document, list[Provision]]:
    doc = load_file(path, path.parent, LoadLimits.from_settings(load_settings(None)))
    return doc, parse_document(doc)


def _provision_refs(jeju: Path, doc_id: str, article: str) -> list[Reference]:
    doc, provisions = _document(jeju / f"{doc_id}.md")
    provision = next(p for p in provisions if p.article == article and p.kind == "article")
    return extract(provision.text, document_aliases(doc.text, doc.title), doc.title)


@pytest.fixture(scope="module")
def jeju(shared_corpus: Path) -> Path:
    return shared_corpus / "ko" / "jeju"


def test_parking_ordinance_purpose_resolves_same_act(jeju: Path) -> None:
    # 제1조: "「…특별법」 제433조ㆍ제433조의2, 「주차장법」, 같은 법 시행령 및 같은 법 시행규칙"
    assert _provision_refs(jeju, "2117853", "제1조") == [
        Reference(SPECIAL_ACT, "statute", "제433조"),
        Reference(SPECIAL_ACT, "statute", "제433조의2"),
        Reference("주차장법", "statute", ""),
        Reference("주차장법 시행령", "decree", ""),
        Reference("주차장법 시행규칙", "rule", ""),
    ]


def test_parking_ordinance_short_names_resolve_to_its_definitions(jeju: Path) -> None:
    # 제22조: "법 제19조제3항 및 영 제6조제2항", "영 제6조제1항 단서 및 영 제6조제3항"
    assert _provision_refs(jeju, "2117853", "제22조") == [
        Reference("주차장법", "statute", "제19조"),
        Reference("주차장법 시행령", "decree", "제6조"),
    ]
    # 제21조: "제주특별법 제433조 및 법 제12조제1항" (제주특별법 is defined in 제5조)
    assert _provision_refs(jeju, "2117853", "제21조") == [
        Reference(SPECIAL_ACT, "statute", "제433조"),
        Reference("주차장법", "statute", "제12조"),
    ]
    # 제32조: "법 시행규칙 제16조의2"
    assert Reference("주차장법 시행규칙", "rule", "제16조의2") in _provision_refs(jeju, "2117853", "제32조")


def test_waste_ordinance_each_same_act(jeju: Path) -> None:
    refs = _provision_refs(jeju, "2117982", "제1조")
    assert [r.name for r in refs] == [
        "폐기물관리법",
        "자원의 절약과 재활용촉진에 관한 법률",
        "폐기물관리법 시행령",
        "자원의 절약과 재활용촉진에 관한 법률 시행령",
        "폐기물관리법 시행규칙",
        "자원의 절약과 재활용촉진에 관한 법률 시행규칙",
    ]
    # 제8조의2: "법 시행규칙 제14조 및 별표 5 제5호마목4)"
    assert _provision_refs(jeju, "2117982", "제8조의2") == [
        Reference("폐기물관리법 시행규칙", "rule", "제14조"),
        Reference("폐기물관리법 시행규칙", "rule", "별표 5"),
    ]


def test_rule_resolves_its_ordinance(jeju: Path) -> None:
    # A 시행규칙 calls its ordinance "조례" once it has defined it.
    assert _provision_refs(jeju, "2117854", "제8조") == [
        Reference("제주특별자치도 주차장 설치 및 관리 조례", "ordinance", "제14조")
    ]


def test_decree_defined_without_brackets(jeju: Path) -> None:
    # "① 감염병의 예방 및 관리에 관한 법률 시행령(이하 “법시행령”이라 한다) 제1조의2에 따라"
    assert _provision_refs(jeju, "2208260", "제6조") == [
        Reference("감염병의 예방 및 관리에 관한 법률 시행령", "decree", "제1조의2")
    ]


def test_chunks_carry_the_references_as_json(jeju: Path) -> None:
    doc, provisions = _document(jeju / "2117853.md")
    chunks = chunk_document(doc, provisions, lambda text: len(text) // 2, 400, "2025-11-19", "0" * 64)
    by_article = {str(c.metadata["article"]): c for c in chunks}
    assert from_json(by_article["제22조"].metadata["references"]) == [
        Reference("주차장법", "statute", "제19조"),
        Reference("주차장법 시행령", "decree", "제6조"),
    ]
    assert all(isinstance(c.metadata["references"], str) for c in chunks)
    # 제15조 is long and split: every part's references are those of its own text.
    parts = [c for c in chunks if c.metadata["article"] == "제15조"]
    per_part = [from_json(c.metadata["references"]) for c in parts]
    assert [len(refs) for refs in per_part] == [3, 8, 9, 0]
    # Together they are the provision's 19 references; 장애인복지법 시행령 제2조 is cited in two parts.
    assert {r for refs in per_part for r in refs} == set(_provision_refs(jeju, "2117853", "제15조"))
    assert len(_provision_refs(jeju, "2117853", "제15조")) == 19


def test_hand_checked_sample_still_extracted_as_reviewed(jeju: Path) -> None:
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 102
    for row in rows:
        got = [r.to_dict() for r in _provision_refs(jeju, row["doc_id"], row["article"])]
        reviewed = [{k: ref[k] for k in ("name", "kind", "article")} for ref in row["extracted"]]
        assert got == reviewed, (row["doc_id"], row["article"])


def test_hand_checked_sample_precision_and_recall() -> None:
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    verdicts = [ref["verdict"] for row in rows for ref in row["extracted"]]
    missed = sum(len(row["missed"]) for row in rows)
    correct = verdicts.count("correct")
    assert (len(verdicts), correct, missed) == (99, 99, 1)
    assert len({row["doc_id"] for row in rows if row["extracted"]}) == 30
    assert correct / len(verdicts) == 1.0  # precision
    assert round(correct / (correct + missed), 3) == 0.99  # recall over the sampled provisions
