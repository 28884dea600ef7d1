from pathlib import Path

import pytest
from civicrag.ingest.store.lexical import LexicalIndex, Tokenizer


@pytest.fixture(scope="module")
def tokenize() -> Tokenizer:
    return Tokenizer()


def test_korean_particles_are_dropped(tokenize: Tokenizer) -> None:
    assert "주차장" in tokenize("주차장을 이용하려면")
    assert "주차장" in tokenize("주차장의 이용 시간")
    assert "을" not in tokenize("주차장을 이용하려면")


def test_spacing_variants_share_tokens(tokenize: Tokenizer) -> None:
    assert set(tokenize("공영주차장 요금")) & set(tokenize("공영 주차장의 요금은"))


def test_noun_suffix_compounds_are_kept_whole(tokenize: Tokenizer) -> None:
    # Kiwi reads 경형자동차 as 경 + 형(suffix) + 자동차; staff's 경형/경차 must still meet the text.
    assert "경형" in tokenize("1. 경형자동차")
    assert "공공형" in tokenize("공공형 어린이집")


def test_english_is_stemmed_and_stopwords_dropped(tokenize: Tokenizer) -> None:
    tokens = tokenize("The Mayor shall serve terms of office")
    assert "term" in tokens and "mayor" in tokens and "the" not in tokens


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("제7조의2(세척센터의 설치 등)", "제7조의2"),
        ("제 29 조의 2에 따라", "제29조의2"),
        ("See § 2-537 of the code", "§2-537"),
        ("SECTION 3-1: Term of office", "section3-1"),
        ("Sec. 3-1. Definitions", "sec3-1"),
    ],
)
def test_provision_numbers_become_single_tokens(tokenize: Tokenizer, text: str, token: str) -> None:
    assert token in tokenize(text)


def test_charter_section_and_ordinance_sec_stay_distinct(tokenize: Tokenizer) -> None:
    assert "sec3-1" not in tokenize("SECTION 3-1")
    assert "section3-1" not in tokenize("Sec. 3-1")


def test_bm25_ranks_particle_variant_and_survives_save_load(tokenize: Tokenizer, tmp_path: Path) -> None:
    docs = {
        "a": "공영주차장의 이용 시간은 오전 7시부터 오후 10시까지로 한다.",
        "b": "대형폐기물을 배출하려는 자는 신고하여야 한다.",
        "c": "당직 근무자에게는 당직비를 지급한다.",
    }
    index = LexicalIndex.build(list(docs), [tokenize(t) for t in docs.values()], generation=7)
    scores = index.scores(tokenize("주차장을 언제 이용할 수 있나요?"))
    assert index.chunk_ids[int(scores.argmax())] == "a"
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert loaded is not None and loaded.generation == 7
    assert loaded.chunk_ids[int(loaded.scores(tokenize("폐기물 신고")).argmax())] == "b"


def test_unknown_query_terms_score_zero(tokenize: Tokenizer) -> None:
    index = LexicalIndex.build(["a"], [tokenize("주차장 요금")], generation=1)
    assert float(index.scores(tokenize("quantum chromodynamics")).max()) == 0.0
    assert LexicalIndex.build([], [], 1).scores(["x"]).shape == (0,)
