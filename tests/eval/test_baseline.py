"""The naive llama-index baseline over the small fixture regulations, with a toy embedder."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from civicrag.eval.baseline import DEFAULT_QUERY_TOP_K, NaiveBaseline

from civicrag.settings import load_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rag"


class BagOfWords:
    """Hashed word counts: enough for a word-overlap ranking, no model download."""

    key = "toy-bow"
    dim = 256
    max_tokens = 512

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in text.lower().split():
            v[zlib.crc32(word.strip(".,?").encode()) % self.dim] += 1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)


def test_baseline_builds_and_answers(tmp_path: Path) -> None:
    naive = NaiveBaseline(load_settings(None, data_dir=tmp_path), [FIXTURES], embedder=BagOfWords(), top_k=3)
    stats = naive.build()
    # Each of the 5 fixture documents fits the splitter's chunk size: one node each.
    assert stats["documents"] == 5 and stats["nodes"] == 5 and stats["embedded"] == stats["nodes"]
    result = naive.ask("How long is the mayor's term of office?")
    assert result.retrieved[0].doc_id == "town-code"
    assert len(result.retrieved) == 3 and len(result.cited) == DEFAULT_QUERY_TOP_K
    assert result.answer.startswith(result.cited[0].text) and "four years" in result.answer
    assert set(result.timings_ms) == {"retrieve", "answer", "total"}
    # Rebuilding reuses the embedding cache.
    assert NaiveBaseline(load_settings(None, data_dir=tmp_path), [FIXTURES], embedder=BagOfWords()).build()[
        "embedded"] == 0
