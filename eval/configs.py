"""Named evaluation configurations: a configuration is a name plus Settings overrides.

Retrieval-only differences (legs, fusion, boosts) share one index; a configuration that
changes what ingest produces (embedder, chunking: ``INDEX_FIELDS``) gets its own index.

Leg switches: ``RagService`` always runs the hybrid retriever, and ``rag.fusion.fuse``
skips a leg whose weight is 0, so "dense only" is ``retrieval_lexical_weight = 0``.
"Lexical only" cannot be weight 0: the refusal model reads each top chunk's dense cosine
from the fused legs (``rag.refusal``: feature ``dense``), and without the dense leg it
refuses everything. So the dense weight is 1e-9 instead: it cannot reorder BM25's scores
(nor, with RRF, its ranks), so the ranking is BM25's, while the dense leg still runs
and the refusal model still sees cosines. The exact-reference votes (a question naming
``제5조`` or a document) apply in every configuration.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civicrag.settings import ConfigError, Settings, flatten_tables, load_settings

#: Settings that change what ingest writes; configurations differing here need separate indexes.
INDEX_FIELDS = ("embedder_kind", "embedder_model", "embedder_passage_prefix", "chunk_max_tokens")
BASELINE = "naive-llamaindex"


@dataclass(frozen=True)
class Configuration:
    name: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def settings(self, base: Settings, data_dir: Path | None = None) -> Settings:
        """``base`` with this configuration's overrides (and optionally another data directory)."""
        values = base.model_dump()
        values.update(self.overrides)
        if data_dir is not None:
            values["data_dir"] = data_dir
        values.pop("toml_path", None)
        try:
            return load_settings(None, **values)
        except ConfigError as exc:
            raise ConfigError(f"configuration {self.name!r}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "overrides": dict(self.overrides), "description": self.description}


BUILTIN: dict[str, Configuration] = {
    c.name: c
    for c in (
        Configuration("hybrid", {}, "the shipped defaults: dense + lexical (Kiwi BM25), convex fusion, boosts"),
        Configuration("dense", {"retrieval_lexical_weight": 0.0}, "dense leg only (e5 embeddings)"),
        Configuration(
            "lexical", {"retrieval_dense_weight": 1e-9}, "lexical leg ranks alone (Kiwi BM25; dense only feeds refusal)"
        ),
        Configuration("hybrid-rrf", {"retrieval_fusion": "rrf"}, "reciprocal rank fusion instead of convex scores"),
        Configuration("hybrid+neighbours", {"retrieval_neighbours": 1}, "adds the articles next to the top hits"),
        # A third leg: embeds the corpus once more with USE (≈0.07 s a chunk, cached) on first use.
        Configuration("hybrid+use-m3", {"retrieval_second_dense": "use-m3"}, "adds the USE-m3 dense leg"),
        Configuration("hybrid-doc-boost", {"retrieval_doc_boost": 0.0}, "without the named-document vote"),
        Configuration("hybrid-fact-boost", {"retrieval_fact_boost": 0.0}, "without the kind-of-fact vote"),
    )
}
# The cross-encoder reranker needs a local model path, so it is a TOML configuration
# (``retrieval_reranker = "/path/to/model"``), not a built-in.
DEFAULT_NAMES = tuple(BUILTIN)


def load_configuration(spec: str) -> Configuration:
    """A built-in name, or a TOML file of Settings keys (tables allowed, as in civicrag.toml).

    The file may set ``name`` and ``description``; its stem names it otherwise.
    """
    if spec in BUILTIN:
        return BUILTIN[spec]
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(
            f"configuration {spec!r} is neither a built-in ({', '.join(BUILTIN)}) nor a TOML file"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from exc
    name = str(data.pop("name", path.stem))
    description = str(data.pop("description", ""))
    overrides = flatten_tables(data)
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"configuration file {path}: unknown setting(s) {', '.join(unknown)}")
    return Configuration(name, overrides, description or f"from {path}")


def load_configurations(specs: Sequence[str]) -> list[Configuration]:
    configs = [load_configuration(s) for s in (specs or DEFAULT_NAMES)]
    names = [c.name for c in configs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"configuration name(s) used twice: {', '.join(dupes)}")
    if BASELINE in names:
        raise ConfigError(f"{BASELINE!r} is the baseline's name; choose another")
    return configs


def index_key(settings: Settings) -> str:
    """Short stable id of what the index built with ``settings`` contains."""
    values = {f: getattr(settings, f) for f in INDEX_FIELDS}
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:10]
    return f"{settings.embedder_key}-{settings.chunk_max_tokens}-{digest}"
