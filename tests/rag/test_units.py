"""Small pieces without an index: fusion, references, language, fact kinds, evidence units."""

from __future__ import annotations

from civicrag.rag.facts import defers, question_kind, states_fact
from civicrag.rag.fusion import fuse
from civicrag.rag.language import detect_language
from civicrag.rag.references import article_refs, loose_key

from civicrag.legal.units import split_units


def test_rrf_rewards_agreement_between_legs() -> None:
    fused = fuse({"dense": [(1, 0.9), (2, 0.8), (3, 0.7)], "lexical": [(3, 12.0), (2, 5.0)]}, "rrf", rrf_k=60)
    assert [f.row for f in fused][:1] == [2] or [f.row for f in fused][:1] == [3]
    assert fused[-1].row == 1
    assert fused[0].ranks and set(fused[0].legs) == {"dense", "lexical"}


def test_weighted_fusion_normalises_each_leg() -> None:
    # A tiny cosine gap and a large BM25 gap: after min-max, the lexical preference decides.
    fused = fuse({"dense": [(1, 0.90), (2, 0.89), (3, 0.5)], "lexical": [(2, 30.0), (1, 1.0), (3, 0.5)]}, "weighted")
    assert fused[0].row == 2


def test_article_references_in_user_spellings() -> None:
    labels = [r.label for r in article_refs("4·3 지방공휴일 조례 제5조 제2항, 그리고 29조의 2")]
    assert labels == ["제5조", "제29조의2"]
    assert article_refs("이 조례 제5조제2항")[0].paragraph == "②"
    assert [r.label for r in article_refs("조례와 조치")] == []
    assert [r.label for r in article_refs("What does § 2-537 say?")] == ["§ 2-537"]
    assert [r.label for r in article_refs("Sec. 3-1 vs SECTION 3-1")] == ["Sec. 3-1", "SECTION 3-1"]
    assert loose_key("SECTION 3-1") == loose_key("Sec. 3-1") == "en:3-1"
    assert loose_key("제7조의2") == "ko:7-2"


def test_language_and_fact_kinds() -> None:
    assert detect_language("당직 서면 수당 얼마야?") == "ko"
    assert detect_language("How long does the mayor serve?") == "en"
    assert detect_language("SECTION 3-1 내용이 뭐야?") == "ko"
    assert question_kind("당직 서면 수당 얼마야?") == "amount"
    assert question_kind("How long does the mayor serve?") == "period"
    assert question_kind("4·3 지방공휴일은 언제야?") == "date"
    assert states_fact("amount", "당직근무자에게는 6만원의 당직수당을 지급한다.")
    assert not states_fact("amount", "수수료는 도지사가 따로 정한다.")
    assert defers("정기주차권의 요금은 별표 1과 같다.")


def test_units_keep_items_under_their_lead_in() -> None:
    units = split_units("제7조(감면)\n① 다음 각 호의 자동차는 감면한다.\n1. 경차\n2. 전기자동차\n② 장애인은 면제한다.")
    assert [u.label for u in units] == ["①", "1.", "2.", "②"]
    assert units[1].parent == 0 and units[0].children == (1, 2)


def test_zoning_numbers_are_references_but_amounts_and_dates_are_not() -> None:
    from civicrag.rag.references import article_refs

    assert [r.label for r in article_refs("what does zoning 11.2.1 say")] == ["11.2.1"]
    assert [r.label for r in article_refs("section 10.5.1 of the zoning ordinance")] == ["§ 10.5.1", "10.5.1"]
    assert article_refs("the fee is $2.50 since 2024.3.1") == []
