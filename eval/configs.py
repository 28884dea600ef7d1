"""Named evaluation configurations: a configuration is a name plus Settings overrides.

Retrieval-only differences (fusion, the reranker artefact) share one index; a configuration that
changes what ingest produces (embedder, chunking: ``INDEX_FIELDS``) gets its own index. A
``scoped`` configuration asks as a user who chose the jurisdiction of each question's document.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civicrag.settings import FLAT_NAMES, ConfigError, Settings, flatten_tables, load_settings

#: Settings that change what ingest writes; configurations differing here need separate indexes.
INDEX_FIELDS = ("embedder_kind", "embedder_model", "embedder_passage_prefix", "chunk_max_tokens")
BASELINE = "naive-llamaindex"


@dataclass(frozen=True)
class Configuration:
    name: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    # Ask as a user who chose the jurisdiction of each question's document (the API's ``filters``);
    # unscoped (the default) is the hard case: the question alone must tell Somerville from D.C.
    scoped: bool = False

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
        return {"name": self.name, "overrides": {k: str(v) if isinstance(v, Path) else v
                                                 for k, v in self.overrides.items()},
                "description": self.description, "scoped": self.scoped}


BUILTIN: dict[str, Configuration] = {
    c.name: c
    for c in (
        Configuration("shipped", {}, "the shipped defaults: hybrid retrieval, then the learned reranker, unit "
                      "selector and answerability of the shipped artefact; the question alone sets the scope"),
        Configuration("shipped-scoped", {}, "the same, asked as a user who chose the question's jurisdiction",
                      scoped=True),
        Configuration("hybrid-rrf", {"retrieval_fusion": "rrf"}, "reciprocal rank fusion instead of convex scores "
                      "under the same reranker (it was trained on convex-fused features)"),
    )
}
# Other artefacts (the feature model alone, the neural reranker alone, a site's own) are TOML
# configurations naming them: ``rerank_artefact = "civicrag-data/artefacts/features"``.
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
    scoped = bool(data.pop("scoped", False))
    overrides = flatten_tables(data)
    unknown = sorted(set(overrides) - set(FLAT_NAMES))
    if unknown:
        raise ConfigError(f"configuration file {path}: unknown setting(s) {', '.join(unknown)}")
    return Configuration(name, overrides, description or f"from {path}", scoped)


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
    values = {f: settings.flat_dump()[f] for f in INDEX_FIELDS}
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:10]
    return f"{settings.embedder.key}-{settings.ingest.chunk_max_tokens}-{digest}"
