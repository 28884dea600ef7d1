"""The lexical leg: a Korean- and English-aware tokenizer and a BM25 index built at ingest time.

Generic BM25 tokenizers split on spaces, so 주차장을 ≠ 주차장 and Korean keyword
search silently finds nothing. Korean text goes through Kiwi's morphological
analyser (content morphemes only: particles and endings are dropped); Latin
words are lower-cased and Snowball-stemmed. Provision numbers (제7조의2, § 2-537,
SECTION 3-1, Sec. 3-1) also become single tokens so an exact reference hits
(``civicrag.legal.grammar.reference_tokens``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from civicrag.legal.grammar import reference_tokens
from civicrag.legal.language import has_hangul

# Content-bearing Kiwi tags: nouns, verb/adjective stems, roots, numbers, foreign words, hanja.
_KEEP_TAGS = ("NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "SN", "SL", "SH", "W_SERIAL")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
_EN_STOP = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "how", "in",
        "is", "it", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when", "where",
        "which", "who", "will", "with", "does", "do", "can", "i", "my",
    }
)


class Tokenizer:
    """Tokenizes documents and queries the same way. Kiwi loads lazily (≈1 s) on first Korean text."""

    @cached_property
    def _kiwi(self):  # type: ignore[no-untyped-def]
        from civicrag.ingest.kiwi import shared_kiwi

        return shared_kiwi()

    @cached_property
    def _stemmer(self):  # type: ignore[no-untyped-def]
        import Stemmer

        return Stemmer.Stemmer("english")

    def __call__(self, text: str) -> list[str]:
        tokens = reference_tokens(text)
        if has_hangul(text):
            previous = None
            for token in self._kiwi.tokenize(text):
                tag = token.tag.split("-")[0]
                if (
                    tag == "XSN"
                    and previous is not None
                    and previous.tag in ("NNG", "NNP")
                    and previous.start + previous.len == token.start
                ):
                    # Kiwi splits some compounds at a suffix (경형자동차 → 경 + 형 + 자동차): keep 경형 too.
                    tokens.append(previous.form + token.form)
                if (
                    tag in ("NNG", "NNP")
                    and previous is not None
                    and previous.tag == "XPN"
                    and previous.start + previous.len == token.start
                ):
                    # A prefix is dropped with the other non-content tags, and 재활용 became 활용, 비매품
                    # 매품: keep the prefixed noun whole as well.
                    tokens.append(previous.form + token.form)
                previous = token
                if tag == "NNP" and " " in token.form:
                    # Kiwi's dictionary holds some multi-word names ("제주 성읍마을"); a question spells
                    # them its own way ("성읍마을"), so index their words as analysed one by one.
                    tokens.extend(t for part in token.form.split() for t in self(part))
                    continue
                if tag in _KEEP_TAGS:
                    form = token.form.lower()
                    tokens.append(self._stemmer.stemWord(form) if tag == "SL" else form)
        else:
            words = [w for w in _LATIN_WORD.findall(text.lower()) if w not in _EN_STOP]
            tokens.extend(self._stemmer.stemWords(words))
        return tokens

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        return [self(t) for t in texts]


class LexicalIndex:
    """BM25 over chunk token lists (bm25s); persisted with the manifest generation it reflects."""

    def __init__(self, chunk_ids: list[str], bm25: object | None, generation: int):
        self.chunk_ids = chunk_ids
        self._bm25 = bm25
        self.generation = generation

    @classmethod
    def build(cls, chunk_ids: list[str], token_lists: list[list[str]], generation: int) -> LexicalIndex:
        if not chunk_ids:
            return cls([], None, generation)
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index(token_lists, show_progress=False)
        return cls(list(chunk_ids), bm25, generation)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk (aligned with ``chunk_ids``) for a tokenized query."""
        if self._bm25 is None or not query_tokens:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        vocab = self._bm25.vocab_dict  # type: ignore[attr-defined]
        known = [t for t in query_tokens if t in vocab]
        if not known:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)  # type: ignore[attr-defined]

    def save(self, directory: Path) -> None:
        """Write to a sibling temp dir, then swap it in, so a reader never sees half an index.

        The temporary names are this call's own: a reader's load or another process's save cannot meet them.
        """
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=directory.name + ".tmp-", dir=directory.parent))
        old = Path(tempfile.mkdtemp(prefix=directory.name + ".old-", dir=directory.parent)) / "index"
        if self._bm25 is not None:
            self._bm25.save(str(tmp / "bm25"))  # type: ignore[attr-defined]
        (tmp / "index.json").write_text(
            json.dumps({"generation": self.generation, "chunk_ids": self.chunk_ids}), encoding="utf-8"
        )
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old.parent, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none (or another process swapped it while it was read)."""
        try:
            before = directory.stat().st_ino
            meta_path = directory / "index.json"
            if not meta_path.is_file():
                return None
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            bm25 = None
            if (directory / "bm25").is_dir():
                import bm25s

                bm25 = bm25s.BM25.load(str(directory / "bm25"))
            if directory.stat().st_ino != before:
                return None  # index.json and bm25 may be of different saves
        except (OSError, ValueError):
            return None
        return cls(meta["chunk_ids"], bm25, int(meta["generation"]))
