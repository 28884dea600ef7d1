from pathlib import Path

import pytest
from civicrag.ingest.store.lexical import LexicalIndex, Tokenizer


@pytest.fixture(scope="module")
def tokenize() -> Tokenizer:
    return Tokenizer()


def test_korean_particles_are_dropped(tokenize: Tokenizer) -> None:
    assert tokenize("주차장을 이용하려면") == ["주차장", "이용"]
    assert tokenize("주차장의 이용 시간") == ["주차장", "이용", "시간"]


def test_spacing_variants_share_tokens(tokenize: Tokenizer) -> None:
    assert tokenize("공영주차장 요금") == tokenize("공영 주차장의 요금은") == ["공영", "주차장", "요금"]


def test_noun_suffix_compounds_are_kept_whole(tokenize: Tokenizer) -> None:
    # Kiwi reads 경형자동차 as 경 + 형(suffix) + 자동차; staff's 경형/경차 must still meet the text.
    assert tokenize("1. 경형자동차") == ["경", "경형", "자동차"]
    assert tokenize("공공형 어린이집") == ["공공", "공공형", "어린이집"]


def test_prefixed_nouns_are_kept_whole(tokenize: Tokenizer) -> None:
    # Kiwi reads 재활용 as 재(prefix) + 활용: without the whole word 재활용 and 활용 are one token.
    assert tokenize("재활용에 관한 시책") == ["재활용", "활용", "관하", "시책"]
    assert tokenize("비매품이면") == ["비매품", "매품"]


def test_multi_word_names_are_indexed_word_by_word(tokenize: Tokenizer) -> None:
    # Kiwi's dictionary has "제주 성읍마을" as one name; the question says 성읍마을.
    assert tokenize("제주 성읍마을 보존 및 지원 조례") == ["제주", "성읍", "마을", "보존", "지원", "조례"]
    assert tokenize("성읍마을 시설") == ["성읍", "마을", "시설"]


def test_english_is_stemmed_and_stopwords_dropped(tokenize: Tokenizer) -> None:
    assert tokenize("The Mayor shall serve terms of office") == ["mayor", "shall", "serv", "term", "offic"]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # The whole number first, then its parts as the analyser reads them.
        ("제7조의2(세척센터의 설치 등)", ["제7조의2", "7", "조", "2", "세척", "센터", "설치", "등"]),
        ("제 29 조의 2에 따라", ["제29조의2", "29", "조", "2", "따르"]),
        ("See § 2-537 of the code", ["§2-537", "see", "2-537", "code"]),
        ("SECTION 3-1: Term of office", ["section3-1", "section", "3-1", "term", "offic"]),
        ("Sec. 3-1. Definitions", ["sec3-1", "sec", "3-1", "definit"]),
    ],
)
def test_provision_numbers_become_single_tokens(tokenize: Tokenizer, text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_charter_section_and_ordinance_sec_stay_distinct(tokenize: Tokenizer) -> None:
    assert tokenize("SECTION 3-1") == ["section3-1", "section", "3-1"]
    assert tokenize("Sec. 3-1") == ["sec3-1", "sec", "3-1"]


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
