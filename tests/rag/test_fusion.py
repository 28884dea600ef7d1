"""``rag.fusion.fuse``: reciprocal rank fusion and the weighted (min-max) fusion, each score worked out by hand."""

from __future__ import annotations

import pytest
from civicrag.rag.fusion import fuse


def test_rrf_adds_one_over_k_plus_rank_from_every_leg() -> None:
    fused = fuse({"dense": [(1, 0.9), (2, 0.8), (3, 0.7)], "lexical": [(3, 12.0), (2, 5.0)]}, "rrf", rrf_k=60)
    # row 3: dense rank 3, lexical rank 1 -> 1/63 + 1/61 = 0.0322664
    # row 2: dense rank 2, lexical rank 2 -> 1/62 + 1/62 = 0.0322581
    # row 1: dense rank 1 only             -> 1/61        = 0.0163934
    assert [f.row for f in fused] == [3, 2, 1]
    assert [f.score for f in fused] == pytest.approx([1 / 63 + 1 / 61, 2 / 62, 1 / 61])
    assert fused[0].ranks == {"dense": 3, "lexical": 1} and fused[0].legs == {"dense": 0.7, "lexical": 12.0}
    assert fused[2].ranks == {"dense": 1} and fused[2].legs == {"dense": 0.9}


def test_rrf_weights_scale_each_leg() -> None:
    fused = fuse({"dense": [(1, 0.9)], "lexical": [(2, 3.0)]}, "rrf", weights={"lexical": 2.0}, rrf_k=60)
    # row 2: 2 / 61 beats row 1: 1 / 61.
    assert [(f.row, f.score) for f in fused] == [(2, pytest.approx(2 / 61)), (1, pytest.approx(1 / 61))]


def test_weighted_fusion_normalises_each_leg() -> None:
    # A tiny cosine gap and a large BM25 gap: after min-max, the lexical preference decides.
    fused = fuse({"dense": [(1, 0.90), (2, 0.89), (3, 0.5)], "lexical": [(2, 30.0), (1, 1.0), (3, 0.5)]}, "weighted")
    # dense span 0.4:    row 1 -> 1.0, row 2 -> 0.39 / 0.4 = 0.975, row 3 -> 0
    # lexical span 29.5: row 2 -> 1.0, row 1 -> 0.5 / 29.5 = 0.016949, row 3 -> 0
    assert [f.row for f in fused] == [2, 1, 3]
    assert [f.score for f in fused] == pytest.approx([1.975, 1.0 + 0.5 / 29.5, 0.0])


def test_a_leg_whose_scores_all_tie_gives_each_half_its_weight() -> None:
    fused = fuse({"dense": [(1, 0.7), (2, 0.7)]}, "weighted", weights={"dense": 0.8})
    # span 0: every row gets 0.8 * 0.5; equal scores are ordered by row.
    assert [(f.row, f.score) for f in fused] == [(1, pytest.approx(0.4)), (2, pytest.approx(0.4))]


def test_an_empty_leg_or_a_zero_weight_adds_nothing() -> None:
    fused = fuse({"dense": [(5, 0.9)], "lexical": [], "use": [(6, 0.8)]}, "rrf", weights={"use": 0.0}, rrf_k=60)
    assert [(f.row, f.legs, f.ranks) for f in fused] == [(5, {"dense": 0.9}, {"dense": 1})]
    assert fuse({}, "rrf") == []
