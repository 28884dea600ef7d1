"""Article labels as the metrics compare them, and article headers as the naive baseline finds them.

Gold sets are written by people, so the same provision arrives spelled several ways
(``제7조의6``, ``7조의6``, ``제7조의 6``; ``§ 2-537``, ``2-537``). Everything is mapped to the
parsers' canonical spelling before comparison, using the parsers' own normalisers so the
evaluation and the index can never disagree about what a label means. The English
normaliser deliberately keeps ``SECTION 3-1`` (Somerville's charter) and ``Sec. 3-1`` (its
ordinances) apart: they are different provisions in the same file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from civicrag.legal import grammar
from civicrag.legal.grammar import canonical_article, canonical_section

Key = tuple[str, str]  # (doc_id, canonical article)


@lru_cache(maxsize=4096)
def normalise_article(label: str) -> str:
    """Canonical spelling of an article label; unknown shapes keep their text with spacing collapsed."""
    text = unicodedata.normalize("NFKC", label or "").strip()
    if not text:
        return ""
    korean = canonical_article(text)
    if korean:
        return korean
    english = canonical_section(text)
    if english:
        return english
    return re.sub(r"\s+", " ", text)


def article_key(doc_id: str, article: str) -> Key:
    return (str(doc_id), normalise_article(article))


def gold_keys(gold: Iterable[dict[str, str] | Sequence[str]]) -> list[Key]:
    """Distinct (doc_id, article) keys of gold provisions, in their given order."""
    keys: list[Key] = []
    for g in gold:
        doc, art = (g["doc_id"], g.get("article", "")) if isinstance(g, dict) else (g[0], g[1])
        key = article_key(doc, art)
        if key not in keys:
            keys.append(key)
    return keys


# -- headers in raw text (naive baseline) ---------------------------------------------------------

# Korean headers (grammar.KO_HEADER: "##### 제5조 (제목)" headings and body lines "제7조의2(제목) …"; the corpus's
# defective headings ("##### 제702조" for 제7조의2) add a wrong extra label, but the body repeats the true one),
# English ones (grammar.EN_HEADER: "###### SECTION 3-1: …", "###### Sec. 3-1. …", "# § 2-537. …") and "## 2.1.3 …".
_DOTTED_HEADER = re.compile(r"^\s*#+\s*(\d+(?:\.\d+)+)(?=\s)", re.M)


def headers_in(text: str) -> list[str]:
    """Canonical labels of the article headers a raw text contains, in order of appearance."""
    found: list[tuple[int, str]] = []
    for pattern in (grammar.KO_HEADER, grammar.EN_HEADER, _DOTTED_HEADER):
        for m in pattern.finditer(text):
            label = normalise_article(m.group(1))
            if label:
                found.append((m.start(), label))
    found.sort()
    return list(dict.fromkeys(label for _, label in found))


def contains_header(text: str, article: str) -> bool:
    """Whether ``text`` contains the header of ``article`` (generous baseline scoring)."""
    return normalise_article(article) in headers_in(text)
