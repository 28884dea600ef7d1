"""Exact references in a question: provision numbers (제29조의2, § 2-537, SECTION 3-1) and document names.

A question that names a provision must hit it, whatever the embedder thinks; dense
retrieval is blind to numbers and BM25 alone cannot tell 제5조 of one ordinance from
제5조 of fifty others. So references are resolved against the catalogue here and the
fused ranking pins what they name.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from civicrag.rag.catalogue import Catalogue

from civicrag.legal import grammar
from civicrag.legal.grammar import canonical_article, canonical_section
from civicrag.legal.idf import idf
from civicrag.legal.language import has_hangul

_KIND_WORDS = re.compile(r"조례|규칙|시행규칙|ordinance|charter|code|regulation", re.I)
# A title word used in at most this many documents' text names its document by itself.
_NAME_DF = 1


@dataclass(frozen=True)
class ArticleRef:
    label: str  # canonical label, e.g. "제7조의2", "§ 2-537", "SECTION 3-1", "Sec. 3-1"
    loose: str  # language + number only: "ko:7-2", "en:3-1" (matches SECTION and Sec. alike)
    paragraph: str = ""  # "②" when the question named a 항


@dataclass
class QueryRefs:
    articles: list[ArticleRef] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)  # doc_ids the question names, best first

    @property
    def empty(self) -> bool:
        return not self.articles and not self.docs


def _canonical_ko(label: str) -> str:
    got = canonical_article(label)  # the parser's own normaliser; the regexes below catch what it leaves
    if got:
        return got
    m = grammar.ARTICLE_IN_QUESTION.search(label)
    if m:
        return f"제{m.group(2)}조" + (f"의{m.group(3)}" if m.group(3) else "")
    m = grammar.APPENDIX_IN_QUESTION.search(label)
    if m:
        return f"별표 {m.group(1)}" if m.group(1) else "별표"
    return re.sub(r"\s+", "", label)


def _canonical_en(label: str) -> str:
    got = canonical_section(label)
    if got:
        return got
    m = grammar.SECTION_IN_QUESTION.search(label)
    if not m:
        return label.strip()
    word, number = m.group(1), m.group(2).rstrip(".:")
    if word.startswith("§"):
        return f"§ {number}"
    if word.lower().startswith("section"):
        return f"SECTION {number}"
    return f"Sec. {number}"


def loose_key(label: str) -> str:
    """Language + number of a canonical label; SECTION 3-1 and Sec. 3-1 share it (told apart by ``label``)."""
    label = label.strip()
    m = grammar.ARTICLE_IN_QUESTION.fullmatch(label.replace(" ", ""))
    if m:
        return f"ko:{m.group(2)}" + (f"-{m.group(3)}" if m.group(3) else "")
    if label.startswith("부칙"):
        return "ko:부칙"
    m = grammar.APPENDIX_IN_QUESTION.fullmatch(label)
    if m:
        return f"ko:별표{m.group(1) or ''}"
    m = grammar.SECTION_IN_QUESTION.match(label)
    if m:
        return f"en:{m.group(2).rstrip('.:').lower()}"
    return f"x:{label.casefold()}"


def article_refs(question: str) -> list[ArticleRef]:
    """Provision references in the user's spelling, canonicalised."""
    refs: list[ArticleRef] = []
    for m in grammar.ARTICLE_IN_QUESTION.finditer(question):
        # "5조" alone is a reference only with 제 or a following 의/항/호/space-free context; "3조" in
        # "4·3조례" is excluded by the lookahead above.
        label = _canonical_ko(m.group(0))
        after = question[m.end() : m.end() + 12]
        para = grammar.PARAGRAPH_IN_QUESTION.match(after.lstrip("제 "))
        paragraph = grammar.circled(int(para.group(1))) if para else ""  # 제21항 → ㉑; "" past ㊿
        refs.append(ArticleRef(label, loose_key(label), paragraph))
    for m in grammar.APPENDIX_IN_QUESTION.finditer(question):
        if m.group(1):
            label = _canonical_ko(m.group(0))
            refs.append(ArticleRef(label, loose_key(label)))
    if grammar.SUPPLEMENT_IN_QUESTION.search(question):
        refs.append(ArticleRef("부칙", "ko:부칙"))
    for m in grammar.SECTION_IN_QUESTION.finditer(question):
        label = _canonical_en(m.group(0))
        refs.append(ArticleRef(label, f"en:{m.group(2).rstrip('.:').lower()}"))
    for m in grammar.DOTTED_SECTION.finditer(question):
        # Zoning codes number their sections 2.1.3 / 11.2.1 with no word before them ("section 10.5.1" is
        # read as § 10.5.1 above, and as the bare number here); two dots at least, so an amount ("2.5") or a
        # date is not read as one.
        refs.append(ArticleRef(m.group(1), loose_key(m.group(1))))
    seen: set[str] = set()
    return [r for r in refs if not (r.label in seen or seen.add(r.label))]  # type: ignore[func-returns-value]


class DocumentNames:
    """Finds documents a question names, by IDF-weighted overlap of its tokens with document titles.

    Generic title words (제주특별자치도, 조례, 규칙, 시행) carry little weight, so "4·3 지방공휴일 조례"
    names the 4·3 holiday ordinance and "주차장 조례 시행규칙" prefers the rule over the ordinance.
    """

    def __init__(self, catalogue: Catalogue, tokenize: Callable[[str], list[str]]):
        titles: dict[str, str] = {}
        bodies: dict[str, list[str]] = defaultdict(list)
        articles: dict[str, set[str]] = defaultdict(set)
        for record in catalogue.records:
            titles.setdefault(record.doc_id, record.title)
            bodies[record.doc_id].append(record.text)
            articles[record.doc_id].add(record.article)
        texts = [(has_hangul(titles[doc]), _compact("".join(parts))) for doc, parts in bodies.items()]
        # An English document of one provision is a section of a larger code (each D.C. Code section is a
        # file): its title is a heading ("Hearing.", "Budget.", "Penalty."), not a name staff call it by,
        # and a question using that word names nothing. It is found by its content, or by its number
        # (§ 2-532). (A Korean regulation is always named by its title, however short it is.)
        self._sections = {
            doc for doc, labels in articles.items() if len(labels) <= 1 and not has_hangul(titles[doc])
        }
        self._index(titles, {doc: set(tokenize(title)) for doc, title in titles.items()}, texts)

    def extended(self, titles: Mapping[str, str], tokenize: Callable[[str], list[str]]) -> DocumentNames:
        """These names plus more documents (doc_id -> title), weighted together; only the new titles are tokenized.

        The new documents compete with the indexed ones on the same IDF scale, so a caller can tell
        which kind of document a question names more strongly.
        """
        new = {doc: title for doc, title in titles.items() if doc not in self.titles}
        names = DocumentNames.__new__(DocumentNames)
        names._sections = self._sections
        names._index(
            {**self.titles, **new},
            {**self._tokens, **{doc: set(tokenize(title)) for doc, title in new.items()}},
            self._texts,
            known_df=self._body_df,  # the texts are the same: only the new titles' words need counting
        )
        return names

    def _index(
        self,
        titles: dict[str, str],
        tokens: dict[str, set[str]],
        texts: list[tuple[bool, str]],
        known_df: Mapping[str, int] | None = None,
    ) -> None:
        self.titles = titles
        self._tokens = tokens
        self._texts = texts
        # How specific a title word is, judged by how many documents' *text* use it, not by the titles
        # alone: 시설, 위탁, 근무, 환경 are each in one or two titles but in most regulations' text, so a
        # question using them names no document; 가파도 or 간병 is in one document's text only.
        # Counted among the documents of the word's own script: a thousand D.C. Code sections beside
        # fifty ordinances would otherwise make every Korean word look rare.
        vocabulary = {t for toks in tokens.values() for t in toks}
        korean = {t: has_hangul(t) for t in vocabulary}
        sizes = {script: max(1, sum(1 for k, _ in texts if k == script)) for script in (True, False)}
        known_df = known_df or {}
        self._body_df = {t: known_df[t] if t in known_df else _text_df(t, korean[t], texts) for t in vocabulary}
        self._idf = {t: idf(c, sizes[korean[t]], "plain") for t, c in self._body_df.items()}
        # Only distinctive title words name a document: 제주특별자치도, 조례, 지원, 관하 name nothing, nor
        # do one-character morphemes (비, 시) that any question may contain. Fixed per index, so worked
        # out here rather than on every question.
        top = {
            script: max((v for t, v in self._idf.items() if korean[t] == script), default=1.0)
            for script in (True, False)
        }
        self._distinctive = {t for t in vocabulary if len(t) >= 2 and self._idf[t] >= 0.5 * top[korean[t]]}
        self._by_token: dict[str, list[str]] = defaultdict(list)
        for doc, toks in self._tokens.items():
            for t in toks:
                self._by_token[t].append(doc)
        self._compact = {doc: _compact(title) for doc, title in titles.items()}

    def find(self, question: str, query_tokens: Iterable[str]) -> list[tuple[str, float]]:
        """(doc_id, coverage) of documents the question names, best first; coverage in 0..1."""
        compact_q = _compact(question)
        hits: dict[str, float] = {}
        for doc, compact in self._compact.items():
            if doc not in self._sections and len(compact) >= 6 and compact in compact_q:
                hits[doc] = 1.0  # the full title, spacing aside
        qset = set(query_tokens)
        kind_word = bool(_KIND_WORDS.search(question))
        candidates = {d for t in qset for d in self._by_token.get(t, ())} - self._sections
        for doc in candidates:
            distinctive = self._tokens[doc] & self._distinctive
            total = sum(self._idf[t] for t in distinctive)
            matched = distinctive & qset
            if not matched or total <= 0:
                continue
            coverage = sum(self._idf[t] for t in matched) / total
            unique = [t for t in matched if len(self._by_token[t]) == 1]
            # A title word no other document's text uses (가파도, 간병) names its document even without
            # "조례"; one that other texts share needs the kind word ("당직 … 규칙"). "폐기물 조례" names
            # 폐기물 관리 조례, whose only distinctive title word it is.
            rare = any(self._body_df[t] <= _NAME_DF for t in unique)
            if (
                (len(matched) >= 2 and coverage >= 0.35)
                or (unique and (kind_word or rare))
                or (coverage >= 1.0 and kind_word)
            ):
                hits[doc] = max(hits.get(doc, 0.0), coverage)
        return sorted(hits.items(), key=lambda kv: -kv[1])


def _text_df(token: str, korean: bool, texts: Sequence[tuple[bool, str]]) -> int:
    """How many texts of the token's script contain it (spacing aside); at least 1."""
    needle = _compact(token)
    return max(1, sum(1 for k, text in texts if k == korean and needle in text))


def _compact(text: str) -> str:
    return re.sub(r"[\s·ㆍ・.,'\"「」『』()\-]+", "", text).casefold()
