"""Where chunks live: Chroma (vectors), a BM25 index (tokens) and the SQLite manifest (truth).

``IndexStore`` opens the three together for a data directory; ingestion writes
through it and retrieval reads through it.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cached_property
from typing import Any

from civicrag.ingest.store.lease import INGEST, live_holder
from civicrag.ingest.store.lexical import LexicalIndex, Tokenizer
from civicrag.ingest.store.manifest import Manifest, VersionRow
from civicrag.ingest.store.vectors import VectorIndex, collection_name, open_chroma_client

from civicrag.settings import ConfigError, Settings


class IndexStore:
    """The manifest, the vector index and the lexical index of one data directory."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.manifest = Manifest(settings.manifest_path)
        built_with = self.manifest.get_state("embedder")
        if built_with and built_with != settings.embedder.key and self.manifest.counts()["chunks"]:
            raise ConfigError(
                f"the index in {settings.data_dir} was built with embedder {built_with!r}, but the settings "
                f"say {settings.embedder.key!r}; use another data directory or the same embedder"
            )
        self.tokenizer = Tokenizer()

    @cached_property
    def vectors(self) -> VectorIndex:
        client = open_chroma_client(self.settings)
        return VectorIndex(client, collection_name(self.settings.chroma.collection, self.settings.embedder.key))

    def recover(self) -> int:
        """Finish what a crash interrupted: drop retired versions, pending versions whose writer is gone (a
        process holding the ingest lease may still be writing its own), and vectors no chunk row owns."""
        writing = live_holder(self.settings.manifest_path, INGEST, self.settings.ingest.lease_ttl_s)
        busy = {writing.token} if writing is not None else set()
        repaired = self.purge(statuses=("pending", "retired"), keep_writers=busy - {self.manifest.writer})
        orphans = self.vectors.all_ids() - self.manifest.all_chunk_ids()
        if orphans:
            self.vectors.delete(sorted(orphans))
            repaired += len(orphans)
        return repaired

    def purge(
        self, statuses: tuple[str, ...] = ("retired",), doc_id: str | None = None, keep_writers: Collection[str] = ()
    ) -> int:
        """Delete the vectors of unfinished versions (retired by default), then forget them; returns how many.

        Pending versions written under a lease token in ``keep_writers`` are left alone. Vectors go first: a
        crash in between leaves a row that the next purge finishes.
        """
        purged = 0
        for row in self.manifest.unfinished():
            if row.status == "pending" and row.writer in keep_writers:
                continue
            if row.status in statuses and (doc_id is None or row.doc_id == doc_id):
                self.vectors.delete(self.manifest.chunk_ids(row.doc_id, row.version, row.content_hash))
                self.manifest.purge(row)
                purged += 1
        return purged

    def lexical(self, snapshot: Manifest | None = None) -> LexicalIndex:
        """The BM25 index matching the manifest's generation, rebuilt and saved if it is stale.

        With a ``snapshot`` (a reader, e.g. the server): the saved index if it is of the snapshot's generation,
        else one built in memory from the snapshot's tokens; a reader never writes the shared files.
        """
        manifest = snapshot or self.manifest
        generation = manifest.generation
        index = LexicalIndex.load(self.settings.lexical_dir)
        if index is None or index.generation != generation:
            if snapshot is not None:
                rows = [(chunk_id, tokens) for chunk_id, _, _, tokens in snapshot.live_chunks()]
                return LexicalIndex.build([c for c, _ in rows], [t for _, t in rows], generation)
            index = self.rebuild_lexical()
        return index

    def rebuild_lexical(self) -> LexicalIndex:
        generation = self.manifest.generation
        ids: list[str] = []
        tokens: list[list[str]] = []
        for chunk_id, _text, _meta, chunk_tokens in self.manifest.live_chunks():
            ids.append(chunk_id)
            tokens.append(chunk_tokens)
        index = LexicalIndex.build(ids, tokens, generation)
        index.save(self.settings.lexical_dir)
        return index

    def status(self) -> dict[str, Any]:
        counts = self.manifest.counts()
        return {
            **counts,
            "embedder": self.settings.embedder.key,
            "chroma": (
                f"http://{self.settings.chroma.host}:{self.settings.chroma.port}"
                if self.settings.chroma.host
                else str(self.settings.chroma_dir)
            ),
            "data_dir": str(self.settings.data_dir),
            "last_ingest": self.manifest.get_state("last_ingest"),
            "failed_files": len(self.manifest.failures()),
        }

    def close(self) -> None:
        self.manifest.close()


__all__ = ["IndexStore", "LexicalIndex", "Manifest", "Tokenizer", "VectorIndex", "VersionRow"]
