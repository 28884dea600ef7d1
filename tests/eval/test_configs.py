from __future__ import annotations

from pathlib import Path

import pytest
from civicrag.eval.configs import BUILTIN, DEFAULT_NAMES, index_key, load_configuration, load_configurations

from civicrag.settings import ConfigError, load_settings


def test_builtins_share_one_index_and_one_is_scoped() -> None:
    base = load_settings(None, data_dir=Path("/tmp/x"))
    rrf = BUILTIN["hybrid-rrf"].settings(base)
    assert rrf.retrieval.fusion == "rrf" and base.retrieval.fusion == "weighted"
    # Retrieval-only configurations share one index; the data directory stays the base one.
    assert {index_key(BUILTIN[n].settings(base)) for n in DEFAULT_NAMES} == {index_key(base)}
    assert rrf.data_dir == Path("/tmp/x")
    assert BUILTIN["shipped"].settings(base, data_dir=Path("/tmp/y")).data_dir == Path("/tmp/y")
    assert [n for n in DEFAULT_NAMES if BUILTIN[n].scoped] == ["shipped-scoped"]


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
        load_configurations(["shipped", "shipped"])
    assert [c.name for c in load_configurations([])] == list(DEFAULT_NAMES)
