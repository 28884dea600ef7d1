from __future__ import annotations

from pathlib import Path

import pytest

from civicrag.settings import ConfigError, load_settings
from eval.configs import BUILTIN, DEFAULT_NAMES, index_key, load_configuration, load_configurations


def test_builtins_switch_legs_by_weight() -> None:
    base = load_settings(None, data_dir=Path("/tmp/x"))
    dense = BUILTIN["dense"].settings(base)
    lexical = BUILTIN["lexical"].settings(base)
    assert dense.retrieval_lexical_weight == 0 and dense.retrieval_dense_weight > 0
    assert lexical.retrieval_dense_weight < 1e-6 and lexical.retrieval_lexical_weight > 0
    # Retrieval-only configurations share one index; the data directory stays the base one.
    assert {index_key(BUILTIN[n].settings(base)) for n in DEFAULT_NAMES} == {index_key(base)}
    assert dense.data_dir == Path("/tmp/x")
    assert BUILTIN["hybrid"].settings(base, data_dir=Path("/tmp/y")).data_dir == Path("/tmp/y")


def test_toml_configuration(tmp_path: Path) -> None:
    path = tmp_path / "small-chunks.toml"
    path.write_text('description = "short chunks"\nchunk_max_tokens = 128\n[retrieval]\nk = 4\n', encoding="utf-8")
    config = load_configuration(str(path))
    assert config.name == "small-chunks" and config.overrides == {"chunk_max_tokens": 128, "retrieval_k": 4}
    base = load_settings(None)
    assert index_key(config.settings(base)) != index_key(base)  # chunking changes the index


def test_bad_configurations(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neither a built-in"):
        load_configuration("no-such-config")
    bad = tmp_path / "bad.toml"
    bad.write_text("retrieval_kk = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_configuration(str(bad))
    invalid = tmp_path / "invalid.toml"
    invalid.write_text("retrieval_k = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid"):
        load_configuration(str(invalid)).settings(load_settings(None))
    with pytest.raises(ConfigError, match="used twice"):
        load_configurations(["dense", "dense"])
    assert [c.name for c in load_configurations([])] == list(DEFAULT_NAMES)
