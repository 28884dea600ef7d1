from __future__ import annotations

import pytest
from civicrag.eval.metrics.citation import citation_scores

G1, G2, X = ("d", "제5조"), ("d", "제7조"), ("d", "제9조")


def test_exact_citation() -> None:
    assert citation_scores([G1], [G1]) == {"citation_precision": 1.0, "citation_recall": 1.0, "citation_f1": 1.0}


def test_partial_precision_and_recall_with_two_gold() -> None:
    s = citation_scores([G1, X], [G1, G2])
    assert s["citation_precision"] == 0.5 and s["citation_recall"] == 0.5 and s["citation_f1"] == 0.5


def test_duplicate_citations_count_once() -> None:
    s = citation_scores([G1, G1, X], [G1])
    assert s["citation_precision"] == 0.5 and s["citation_recall"] == 1.0
    assert s["citation_f1"] == pytest.approx(2 / 3)


def test_nothing_cited_is_zero_not_undefined() -> None:
    assert citation_scores([], [G1]) == {"citation_precision": 0.0, "citation_recall": 0.0, "citation_f1": 0.0}


def test_prefix() -> None:
    assert "citation_doc_recall" in citation_scores(["d"], ["d"], prefix="citation_doc")
