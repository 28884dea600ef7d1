"""The data that flows through ingestion: files → Document → Provision → Chunk.

Plain dataclasses, no behaviour beyond small derived helpers, so every stage
(loaders, parsing, chunking, store) can be tested alone with hand-made values. Only ``IngestError`` is
ingest's own: the data types live in ``civicrag.legal.types``.
"""

from __future__ import annotations

# The data types are defined once in civicrag.legal.types (rag reads what ingest writes); ingest's modules
# and tests may keep importing them from here.
from civicrag.legal.types import Chunk as Chunk
from civicrag.legal.types import Document as Document
from civicrag.legal.types import Language as Language
from civicrag.legal.types import Provision as Provision
from civicrag.legal.types import UnitSpan as UnitSpan
from civicrag.legal.types import sha256_text as sha256_text

Unit = UnitSpan  # the name the parsers' tests know a provision's unit span by


class IngestError(Exception):
    """A file that cannot be ingested. The message is one line for the maintainer.

    ``doc_id`` and ``title`` are set when the file names a document even though it cannot be
    indexed (front matter without a body): the manifest keeps them so a question about that
    document is told why it cannot be answered instead of being answered from another one.

    ``transient`` marks a failure that is not the file's own (it could not be read, Tesseract timed
    out or could not run): the file is tried again next time even when its bytes are unchanged.
    """

    def __init__(
        self, message: str, *, doc_id: str | None = None, title: str | None = None, transient: bool = False
    ):
        super().__init__(message)
        self.doc_id = doc_id
        self.title = title
        self.transient = transient
