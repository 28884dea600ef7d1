"""Retrieval legs (dense, lexical, a second dense model) and the hybrid retriever that fuses them.

Every leg ranks a ``Query`` (its text, or the tokens worked out for it) over the same catalogue
rows and applies the same mask (filters + versions in force on the query's date), so the legs
are interchangeable in tests and in the evaluation.
"""

from __future__ import annotations

import tomllib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.fusion import FusionMethod, fuse
from civicrag.rag.query import Query
from civicrag.rag.references import loose_key
from civicrag.rag.types import ScoredChunk

from civicrag.legal.language import HANGUL_WORD

# Words of asking, dropped from the query's tokens: data, with the source of each group.
QUESTION_WORDS_PATH = Path(__file__).parent / "data" / "question_words.toml"


def question_words(path: Path = QUESTION_WORDS_PATH) -> frozenset[str]:
    groups = tomllib.loads(path.read_text(encoding="utf-8")).get("group", [])
    return frozenset(w for g in groups for w in g.get("words", []))


class QueryTokenizer:
    """Query-side tokens: the index's own tokenizer, plus each Hangul word analysed alone.

    Kiwi reads "당직 서면 수당" as 서(VV)+면 and loses 수당 in context; analysing each
    space-separated word on its own recovers such nouns. Question words go, and so do
    one-syllable Hangul morphemes (받, 오, 쓰, 주: verbs of asking) when the question has
    longer words to search with (``rag/data/question_words.toml`` lists the words of asking, each
    group with its source). This changes only the query side, so the persisted index (and
    PIPELINE_VERSION) stay as they are. A question is tokenized once, into ``Query.tokens``
    (``rag.query.QueryBuilder``), and the legs read them there.
    """

    def __init__(self, tokenize: Callable[[str], list[str]], per_word: bool = True, drop_single: bool = False):
        self._tokenize = tokenize
        self._drop = question_words()
        self.per_word = per_word
        self.drop_single = drop_single

    def __call__(self, text: str) -> list[str]:
        tokens = list(self._tokenize(text))
        if self.per_word:
            for word in HANGUL_WORD.findall(text):
                if len(word) >= 2:
                    tokens.extend(self._tokenize(word))
        out: list[str] = []
        seen: set[str] = set()
        for t in tokens:
            if t in seen or t in self._drop:
                continue
            seen.add(t)
            out.append(t)
        if self.drop_single:
            longer = [t for t in out if not (len(t) == 1 and HANGUL_WORD.fullmatch(t))]
            if len(longer) >= 2:
                out = longer
        return out


class DenseRetriever:
    """Exact cosine search over an in-memory matrix aligned with the catalogue rows.

    The vectors are the ones ingest wrote to Chroma (read once at start-up). Brute force is
    exact, filters and as-of become a mask, and 10x this corpus is a few ms of matrix work.
    """

    def __init__(self, name: str, catalogue: Catalogue, matrix: np.ndarray, embed_query: Callable[[str], np.ndarray]):
        if matrix.shape[0] != len(catalogue):
            raise ValueError(f"{name}: {matrix.shape[0]} vectors for {len(catalogue)} chunks")
        self.name = name
        self.catalogue = catalogue
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self._embed = _memoise(embed_query)

    def vector(self, text: str) -> np.ndarray:
        """The embedding of a question's text (memoised, see ``_memoise``)."""
        return self._embed(text)

    def rank(self, query: Query, mask: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not mask.any():
            return []
        q = self._embed(query.text)
        scores = self.matrix @ q
        return _top(scores, mask, k)

    def retrieve(self, query: Query, filters: Mapping[str, str] | None, k: int) -> list[ScoredChunk]:
        return _as_scored(self.catalogue, self.rank(query, self.catalogue.mask(filters, query.as_of), k), self.name)


class ChromaDenseRetriever:
    """Dense search through Chroma's HNSW index, for indexes too large to hold in memory.

    Chroma knows nothing of versions' validity, so it over-fetches and the mask filters.
    """

    def __init__(self, catalogue: Catalogue, vectors: object, embed_query: Callable[[str], np.ndarray]):
        self.name = "dense"
        self.catalogue = catalogue
        self._vectors = vectors
        self._embed = _memoise(embed_query)

    def vector(self, text: str) -> np.ndarray:
        return self._embed(text)

    def rank(self, query: Query, mask: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not mask.any():
            return []
        q = self._embed(query.text)
        fetch = min(len(self.catalogue), max(k * 4, 50))
        hits = self._vectors.query(q, fetch)  # type: ignore[attr-defined]
        out: list[tuple[int, float]] = []
        for chunk_id, score in hits:
            row = self.catalogue.row_of.get(chunk_id)
            if row is not None and mask[row]:
                out.append((row, float(score)))
        return out[:k]

    def retrieve(self, query: Query, filters: Mapping[str, str] | None, k: int) -> list[ScoredChunk]:
        return _as_scored(self.catalogue, self.rank(query, self.catalogue.mask(filters, query.as_of), k), self.name)


class LexicalRetriever:
    """BM25 over the tokens ingest persisted, searched with the query's own tokens (``Query.tokens``);
    scores come for every chunk, the mask selects."""

    def __init__(self, catalogue: Catalogue, index: object):
        self.name = "lexical"
        self.catalogue = catalogue
        self._index = index
        ids: list[str] = list(index.chunk_ids)  # type: ignore[attr-defined]
        # Index position -> catalogue row; chunks the catalogue does not know (stale index) map to -1.
        self._rows = np.array([catalogue.row_of.get(cid, -1) for cid in ids], dtype=np.int64)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score per catalogue row."""
        raw = self._index.scores(tokens)  # type: ignore[attr-defined]
        out = np.zeros(len(self.catalogue), dtype=np.float32)
        known = self._rows >= 0
        out[self._rows[known]] = raw[known]
        return out

    def rank(self, query: Query, mask: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not mask.any():
            return []
        scores = self.scores(query.tokens)
        return [(r, s) for r, s in _top(scores, mask, k) if s > 0]

    def retrieve(self, query: Query, filters: Mapping[str, str] | None, k: int) -> list[ScoredChunk]:
        return _as_scored(self.catalogue, self.rank(query, self.catalogue.mask(filters, query.as_of), k), self.name)


class Leg:
    """What the hybrid retriever needs of a leg: a ranking over masked rows."""

    name: str

    def rank(self, query: Query, mask: np.ndarray, k: int) -> list[tuple[int, float]]: ...  # pragma: no cover


@dataclass
class HybridConfig:
    fusion: FusionMethod = "rrf"
    rrf_k: int = 60
    weights: Mapping[str, float] | None = None
    candidates: int = 50  # per leg, before fusion
    doc_boost: float = 1.0  # weight of the legs re-run within a named document
    article_boost: float = 1.0  # a chunk whose article the question names (any document)
    neighbours: int = 0  # add the articles next to the top hits (0 = off)


class HybridRetriever:
    """Fuses the legs, then applies what the question names exactly (``Query.refs``: documents, provisions)."""

    name = "hybrid"

    def __init__(
        self,
        catalogue: Catalogue,
        legs: Sequence[Leg],
        config: HybridConfig,
        reranker: Callable[[str, list[ScoredChunk]], list[ScoredChunk]] | None = None,
    ):
        self.catalogue = catalogue
        self.legs = list(legs)
        self.config = config
        self.reranker = reranker
        # Loose article key -> rows: "ko:5" finds 제5조 of every document at once.
        self._rows_by_article: dict[str, list[int]] = {}
        for i, r in enumerate(catalogue.records):
            self._rows_by_article.setdefault(loose_key(r.article), []).append(i)

    def retrieve(self, query: Query, filters: Mapping[str, str] | None, k: int) -> list[ScoredChunk]:
        """The ``k`` best chunks in force on the query's date that match ``filters`` (the caller's, perhaps
        narrowed to the jurisdictions the question names)."""
        mask = self.catalogue.mask(filters, query.as_of)
        if not mask.any():
            return []
        refs = query.refs
        rankings = {leg.name: leg.rank(query, mask, self.config.candidates) for leg in self.legs}
        weights = dict(self.config.weights or {})
        named_docs = set(refs.docs)
        if named_docs:
            # A named document votes for its own chunks, ranked within it by each leg: its best
            # chunk may sit below the corpus-wide candidate cut ("…조례 시행일은?").
            doc_mask = mask & self.catalogue.doc_mask(named_docs)
            for leg in self.legs:
                rankings[f"{leg.name}@doc"] = leg.rank(query, doc_mask, 10)
                weights[f"{leg.name}@doc"] = self.config.doc_boost * weights.get(leg.name, 1.0)
        fused = {f.row: f for f in fuse(rankings, self.config.fusion, weights, self.config.rrf_k)}
        vote = 1.0 / (self.config.rrf_k + 1) if self.config.fusion == "rrf" else 1.0
        bonus: dict[int, float] = {}
        pinned: set[int] = set()
        for ref in refs.articles:
            exact_rows = [
                r for r in self._rows_by_article.get(ref.loose, [])
                if mask[r] and self.catalogue.records[r].article == ref.label
            ]
            provisions = {
                (self.catalogue.records[r].doc_id, str(self.catalogue.records[r].metadata.get("article_title", "")))
                for r in exact_rows
            }
            # (One document may hold two provisions of one label: Somerville's charter SECTION 3-1 and
            # its traffic rules' "Section 3-1". Then the legs decide between them.)
            if not named_docs and len(provisions) == 1:
                # Only one document has a provision spelled exactly so ("§ 2-537", "SECTION 3-11"):
                # the question names it as surely as if it had named the document.
                pinned.update(exact_rows)
                continue
            for row in self._rows_by_article.get(ref.loose, []):
                if not mask[row]:
                    continue
                record = self.catalogue.records[row]
                exact = record.article == ref.label
                if named_docs and record.doc_id in named_docs:
                    # "4·3 지방공휴일 조례 제5조": the named article of the named document.
                    if exact or not any(
                        self.catalogue.records[r].article == ref.label
                        for r in self._rows_by_article.get(ref.loose, [])
                        if self.catalogue.records[r].doc_id == record.doc_id
                    ):
                        pinned.add(row)
                elif not named_docs:
                    # "§ 2-537" alone: every document's article of that number gets a vote; an exact
                    # spelling (SECTION vs Sec.) gets a full one, a loose match half.
                    bonus[row] = bonus.get(row, 0.0) + self.config.article_boost * vote * (1.0 if exact else 0.5)
        scored: list[ScoredChunk] = []
        for row in set(fused) | set(bonus) | pinned:
            f = fused.get(row)
            base = f.score if f else 0.0
            score = base + bonus.get(row, 0.0) + (1.0 if row in pinned else 0.0)
            scored.append(
                ScoredChunk(
                    chunk=self.catalogue.records[row],
                    score=score,
                    legs=dict(f.legs) if f else {},
                    ranks=dict(f.ranks) if f else {},
                    pinned=row in pinned,
                )
            )
        scored.sort(key=lambda s: (-s.score, s.chunk.chunk_id))
        if self.reranker is not None and scored:
            scored = self.reranker(query.text, scored)
        if self.config.neighbours > 0:
            scored = self._expand(scored, mask, k)
        return scored[: max(k, 1)]

    def _expand(self, scored: list[ScoredChunk], mask: np.ndarray, k: int) -> list[ScoredChunk]:
        """Insert the neighbouring articles of the top hits just after them (context for the answer)."""
        present = {s.chunk.chunk_id for s in scored}
        out: list[ScoredChunk] = []
        for s in scored[: max(1, k // 2)]:
            out.append(s)
            row = self.catalogue.row_of[s.chunk.chunk_id]
            for n in self.catalogue.neighbours(row, self.config.neighbours):
                record = self.catalogue.records[n]
                if mask[n] and record.chunk_id not in present:
                    present.add(record.chunk_id)
                    out.append(ScoredChunk(record, s.score * 0.5, legs={"neighbour": 1.0}))
        out.extend(s for s in scored[max(1, k // 2) :] if s not in out)
        return out


def _top(scores: np.ndarray, mask: np.ndarray, k: int) -> list[tuple[int, float]]:
    masked = np.where(mask, scores, -np.inf)
    n = int(mask.sum())
    k = min(k, n)
    if k <= 0:
        return []
    idx = np.argpartition(-masked, k - 1)[:k] if k < len(masked) else np.arange(len(masked))
    idx = idx[np.argsort(-masked[idx], kind="stable")]
    return [(int(i), float(masked[i])) for i in idx if np.isfinite(masked[i])]


def _as_scored(catalogue: Catalogue, ranked: list[tuple[int, float]], leg: str) -> list[ScoredChunk]:
    return [
        ScoredChunk(catalogue.records[row], score, legs={leg: score}, ranks={leg: i})
        for i, (row, score) in enumerate(ranked, start=1)
    ]


def _memoise(embed: Callable[[str], np.ndarray], size: int = 256) -> Callable[[str], np.ndarray]:
    """The same text is embedded once: within a question, the corpus-wide ranking, the ranking within the
    named documents and the reranker's features read one vector; across questions, a question asked again
    (the evaluation's retrieval pass and then its answer pass, a common question on the server) is not
    embedded again. Embedding (tens of ms) is the costliest step of a question, so this memo stays."""
    cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def wrapped(text: str) -> np.ndarray:
        hit = cache.get(text)
        if hit is None:
            hit = np.asarray(embed(text), dtype=np.float32)
            cache[text] = hit
            if len(cache) > size:
                cache.popitem(last=False)
        return hit

    return wrapped
