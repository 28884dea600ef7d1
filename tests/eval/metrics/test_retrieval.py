"""Ranked-retrieval metrics on hand-made rankings with known values."""

from __future__ import annotations

import math

import pytest
from civicrag.eval.metrics.retrieval import dedupe, gold_ranks, hit_at, mrr_at, ndcg_at, recall_at, retrieval_scores

A, B, C, D, E = ("d1", "제1조"), ("d1", "제2조"), ("d2", "제1조"), ("d2", "제5조"), ("d3", "§ 2-1")


def test_single_gold_at_rank_three() -> None:
    s = retrieval_scores([A, B, C, D], [C], "article")
    assert s["article_hit@1"] == 0.0
    assert s["article_hit@3"] == 1.0 and s["article_hit@5"] == 1.0 and s["article_hit@10"] == 1.0
    assert s["article_mrr@10"] == pytest.approx(1 / 3)
    assert s["article_ndcg@10"] == pytest.approx(1 / math.log2(4))  # ideal DCG is 1 (gold at rank 1)
    assert s["article_recall@10"] == 1.0


def test_empty_retrieval_scores_zero() -> None:
    s = retrieval_scores([], [A], "doc")
    assert all(v == 0.0 for v in s.values())
    assert set(s) == {"doc_hit@1", "doc_hit@3", "doc_hit@5", "doc_hit@10", "doc_mrr@10", "doc_ndcg@10",
                      "doc_recall@10"}


def test_multiple_gold_provisions() -> None:
    # Gold A and D; the system finds D at 2 and A at 4.
    ranks = gold_ranks([B, D, C, A], [A, D])
    assert ranks == [2, 4]
    assert mrr_at(ranks, 10) == 0.5  # the first gold found decides MRR
    assert hit_at(ranks, 1) == 0.0 and hit_at(ranks, 3) == 1.0
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranks, 2, 10) == pytest.approx(dcg / ideal)
    assert recall_at(ranks, 2, 3) == 0.5


def test_all_gold_at_top_is_perfect_ndcg() -> None:
    assert ndcg_at(gold_ranks([D, A, B], [A, D]), 2, 10) == pytest.approx(1.0)


def test_more_gold_than_k_caps_ideal() -> None:
    ranks = list(range(1, 11))
    assert ndcg_at(ranks, 12, 10) == pytest.approx(1.0)


def test_duplicates_count_once_and_do_not_push_gold_down() -> None:
    # Three chunks of article B, then gold A: after de-duplication A is rank 2, not 4.
    assert dedupe([B, B, B, A])[0] == [B, A]
    assert gold_ranks([B, B, B, A], [A]) == [2]
    # A gold found twice is one hit, not two (nDCG cannot exceed 1).
    assert ndcg_at(gold_ranks([A, A, B], [A]), 1, 10) == pytest.approx(1.0)


def test_cutoff_excludes_gold_beyond_k() -> None:
    ranking = [("x", str(i)) for i in range(10)] + [A]
    s = retrieval_scores(ranking, [A], "article")
    assert s["article_hit@10"] == 0.0 and s["article_mrr@10"] == 0.0 and s["article_ndcg@10"] == 0.0


def test_ties_keep_order_by_default() -> None:
    scores = [0.5, 0.5, 0.4]
    assert gold_ranks([A, B, C], [A], scores) == [1]
    assert retrieval_scores([A, B, C], [A], "article", scores)["article_hit@1"] == 1.0


def test_ties_pessimistic_put_gold_after_tied_non_gold() -> None:
    scores = [0.5, 0.5, 0.5, 0.4]
    # A is first only by tie-breaking among three equal scores: pessimistically rank 3.
    assert gold_ranks([A, B, C, D], [A], scores, ties="pessimistic") == [3]
    # Two gold keys tied with one non-gold: each moves behind the non-gold only.
    assert gold_ranks([A, C, B, D], [A, C], scores, ties="pessimistic") == [2, 3]
    s = retrieval_scores([A, B, C, D], [A], "article", scores, ties="pessimistic")
    assert s["article_hit@1"] == 0.0 and s["article_mrr@10"] == pytest.approx(1 / 3)


def test_doc_level_from_article_ranking() -> None:
    docs = [doc for doc, _ in [A, B, C, E]]
    s = retrieval_scores(docs, ["d2"], "doc")
    assert s["doc_hit@1"] == 0.0 and s["doc_mrr@10"] == 0.5  # d1 twice counts once, so d2 is rank 2
