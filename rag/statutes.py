"""상위법 links: which statutes a regulation rests on, and which regulations cite a statute.

Ingest stores each chunk's references (``civicrag.legal.references``) in its metadata. ``StatuteIndex``
reads them once per catalogue, both ways: from a document or provision to the regulations it cites, and
from a regulation's name to the provisions citing it (the reverse index behind ``civicrag refs``).
``statute_answerer`` is the structured answerer (``rag.structured``) for "이 조례의 근거 법령은?",
"주차장 조례는 어느 법에 따른 거야?" and "이 조항은 어느 법에 따른 거야?": its answer lists the
statutes with the provisions citing them, and its citations come from chunk metadata only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from civicrag.rag.catalogue import Catalogue
from civicrag.rag.query import Query
from civicrag.rag.types import Answer, Citation, ScoredChunk

from civicrag.legal import grammar
from civicrag.legal.references import KIND_LABELS_KO, Reference, base_ordinance, base_statute, from_json, name_key

#: Provisions an answer cites at most (the rest are named in its text).
MAX_CITATIONS = 6
#: Articles and citing provisions listed on one line of an answer at most.
MAX_LISTED = 8

# "근거 법령", "상위법", "모법", "위임한 법": the question asks what a regulation rests on.
_BASIS = re.compile(
    r"근거\s*(?:가\s*되는\s*)?(?:법령|법률|법규|법)(?!인)|법적\s*근거|상위\s*(?:법령|법률|법규|법)(?!인)|모법(?!인)"
    r"|위임\s*(?:한|하는|된)\s*법"
)
# "어느 법에 따른", "무슨 법 근거", "어떤 법령에 의해": a which-law question with a verb of basing.
_WHICH_LAW = re.compile(
    r"(?:어느|어떤|무슨|무엇|어떠한)\s*(?:법령|법률|법규|법)\s*(?:에|을|를|이|의|에서)?\s*"
    r"(?:따른|따라|따르|근거|의한|의해|의거|위임|기반|바탕|정해|만들|제정)"
)
_PURPOSE = re.compile(r"^\s*목\s*적\s*$")


def asks_for_basis(question: str) -> bool:
    """Whether a Korean question asks which statute a regulation or provision rests on (conservatively)."""
    return bool(_BASIS.search(question) or _WHICH_LAW.search(question))


def asks_about_provision(question: str) -> bool:
    return bool(grammar.PROVISION_WORDS.search(question))


@dataclass
class Cited:
    """One regulation cited by a document: its articles, and the document's provisions (catalogue rows) citing it."""

    name: str
    kind: str
    articles: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    in_purpose: bool = False  # named in the document's 목적 article: what the document says it carries out

    @property
    def label(self) -> str:
        return f"「{self.name}」"


@dataclass
class CitingProvision:
    """One provision citing a regulation (the reverse index's row)."""

    doc_id: str
    title: str
    doc_kind: str
    article: str
    article_title: str
    name: str  # the regulation cited, as the provision names it
    kind: str
    articles: list[str]  # its articles cited there ("" when cited as a whole)
    version: str
    chunk_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id, "title": self.title, "doc_kind": self.doc_kind, "article": self.article,
            "article_title": self.article_title, "name": self.name, "kind": self.kind,
            "articles": self.articles, "version": self.version, "chunk_id": self.chunk_id,
        }


class StatuteIndex:
    """The references of every chunk of a catalogue, indexed by citing row and by cited name."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self.refs: dict[int, list[Reference]] = {}
        self._by_name: dict[str, list[tuple[int, Reference]]] = defaultdict(list)
        self.titles: dict[str, str] = {}
        for row, record in enumerate(catalogue.records):
            self.titles.setdefault(record.doc_id, record.title)
            refs = from_json(record.metadata.get("references"))
            if refs:
                self.refs[row] = refs
                for ref in refs:
                    self._by_name[name_key(ref.name)].append((row, ref))
        self._doc_by_title = {name_key(t): d for d, t in self.titles.items() if t}

    # -- lookups -------------------------------------------------------------------------
    def doc_of_title(self, name: str) -> str | None:
        """The indexed document a regulation's name is (spacing and middle dots aside), if any."""
        return self._doc_by_title.get(name_key(name))

    def names(self) -> list[str]:
        """Every cited name (as first spelt), for look-ups by part of a name."""
        return [pairs[0][1].name for pairs in self._by_name.values()]

    def in_force(self, as_of: str | None) -> Any:
        return self.catalogue.mask(None, as_of or date.today().isoformat())

    def rows_of(self, doc_id: str, as_of: str | None = None, article: str | None = None) -> list[int]:
        """The document's rows in force on ``as_of``, in document order (one article's when given)."""
        live = self.in_force(as_of)
        rows = [
            r for (d, _v), rs in self.catalogue.rows_by_version.items() if d == doc_id for r in rs if live[r]
        ]
        rows.sort(key=lambda r: self.catalogue.records[r].seq)
        if article is not None:
            rows = [r for r in rows if self.catalogue.records[r].article == article]
        return rows

    # -- one document's (or provision's) references -------------------------------------------------
    def cited_by(self, rows: Iterable[int]) -> list[Cited]:
        """The regulations cited by these rows: those the 목적 article names first, then by how many provisions
        cite them, then by first mention; supplementary provisions (부칙) count only when nothing else cites."""
        rows = list(rows)
        main = [r for r in rows if self.catalogue.records[r].metadata.get("provision_kind") != "supplementary"]
        if any(r in self.refs for r in main):
            rows = main
        cited: dict[str, Cited] = {}
        order: dict[str, int] = {}
        for row in rows:
            record = self.catalogue.records[row]
            purpose = bool(_PURPOSE.match(str(record.metadata.get("article_title", ""))))
            for ref in self.refs.get(row, []):
                key = name_key(ref.name)
                entry = cited.get(key)
                if entry is None:
                    entry = cited[key] = Cited(ref.name, ref.kind)
                    order[key] = len(order)
                if ref.article and ref.article not in entry.articles:
                    entry.articles.append(ref.article)
                if row not in entry.rows:
                    entry.rows.append(row)
                entry.in_purpose = entry.in_purpose or purpose
        for entry in cited.values():
            entry.articles.sort(key=grammar.article_order)

        def rank(kv: tuple[str, Cited]) -> tuple[bool, int, int]:
            key, entry = kv
            # The 목적 article's regulations in its own order; the others by how many provisions cite them.
            return (not entry.in_purpose, 0 if entry.in_purpose else -_provisions(self, entry), order[key])

        return [entry for _, entry in sorted(cited.items(), key=rank)]

    # -- the reverse index -------------------------------------------------------------------------
    def citing(self, name: str, as_of: str | None = None, family: bool = True) -> list[CitingProvision]:
        """Provisions in force that cite ``name`` (with ``family``, also its 시행령 and 시행규칙, or a 조례's
        시행규칙), grouped by document in title order, each document's in article order."""
        wanted = name_key(name.strip().strip("「」"))
        live = self.in_force(as_of)
        found: dict[tuple[int, str], CitingProvision] = {}
        for key, pairs in self._by_name.items():
            if not _matches(key, pairs[0][1].name, wanted, family):
                continue
            for row, ref in pairs:
                if not live[row]:
                    continue
                record = self.catalogue.records[row]
                entry = found.get((row, key))
                if entry is None:
                    meta = record.metadata
                    entry = found[(row, key)] = CitingProvision(
                        record.doc_id, record.title, str(meta.get("kind", "")), record.article,
                        str(meta.get("article_title", "")), ref.name, ref.kind, [], record.version, record.chunk_id,
                    )
                if ref.article and ref.article not in entry.articles:
                    entry.articles.append(ref.article)
        return sorted(
            found.values(),
            key=lambda c: (c.title, c.doc_id, self.catalogue.records[self.catalogue.row_of[c.chunk_id]].seq, c.name),
        )

    def suggest(self, name: str, limit: int = 10) -> list[str]:
        """Cited names holding ``name`` (spacing aside): what to try when nothing cites it exactly."""
        wanted = name_key(name.strip().strip("「」"))
        return sorted({n for n in self.names() if wanted and wanted in name_key(n)})[:limit]


def indexed_documents(catalogue: Catalogue, as_of: str | None = None) -> dict[str, tuple[str, str]]:
    """Indexed regulations by name (``name_key`` of the title) -> (doc_id, the version in force on ``as_of``):
    what a cited 「name」 opens in the app."""
    day = as_of or date.today().isoformat()
    out: dict[str, tuple[str, str]] = {}
    for record in catalogue.records:
        if record.title and record.in_force(day):
            out.setdefault(name_key(record.title), (record.doc_id, record.version))
    return out


def _provisions(index: StatuteIndex, cited: Cited) -> int:
    return len({index.catalogue.records[r].article for r in cited.rows})


def _matches(key: str, spelt: str, wanted: str, family: bool) -> bool:
    if key == wanted:
        return True
    if not family:
        return False
    parent = base_statute(spelt) or base_ordinance(spelt)
    return parent is not None and name_key(parent) == wanted


# -- the structured answerer ----------------------------------------------------------------------
def statute_answerer(
    catalogue: Catalogue, store: Any, tokenize: Callable[[str], list[str]]
) -> Callable[[Query], Answer | None]:
    """``rag.structured`` factory: answers which statutes a regulation or one of its provisions rests on."""
    index = StatuteIndex(catalogue)

    def answer(query: Query) -> Answer | None:
        if query.language != "ko" or not asks_for_basis(query.question):
            return None
        if asks_about_provision(query.question) or query.refs.articles:
            target = _provision_target(index, query)
            if target is not None:
                return _provision_answer(index, query, *target)
        doc_id = _document_target(index, query)
        if doc_id is None:
            return None  # no regulation to read: retrieval answers (or asks which one) as usual
        return _document_answer(index, query, doc_id)

    return answer


def _document_target(index: StatuteIndex, query: Query) -> str | None:
    """The regulation asked about: the one the filter names, else the one the question (or conversation) names."""
    filtered = _filtered_docs(query.filters)
    if len(filtered) == 1:
        return filtered[0] if filtered[0] in index.titles else None
    candidates = [d for d in [*query.named_docs, *query.refs.docs]
                  if d in index.titles and (not filtered or d in filtered)]
    if not candidates:
        return None
    # "주차장 조례" names the ordinance and its 시행규칙 equally well (both titles hold every word): the kind
    # word the question uses decides between them.
    wants_rule = bool(re.search(r"규칙", query.question))
    wants_ordinance = "조례" in query.question and not wants_rule

    def rank(doc_id: str) -> tuple[float, int, int]:
        title = index.titles[doc_id].strip()
        is_rule = title.endswith("규칙")
        fits = (wants_rule and is_rule) or (wants_ordinance and not is_rule)
        return (-round(query.named_docs.get(doc_id, 0.0), 6), 0 if fits else 1, candidates.index(doc_id))

    return min(dict.fromkeys(candidates), key=rank)


def _provision_target(index: StatuteIndex, query: Query) -> tuple[str, str] | None:
    """(doc_id, article) of the provision asked about: named in the question, or the one the last answer cited."""
    doc_id = _document_target(index, query)
    if query.refs.articles and doc_id is not None:
        article = query.refs.articles[0].label
        if index.rows_of(doc_id, query.as_of, article):
            return doc_id, article
    for message in reversed(query.history):
        if message.role != "assistant":
            continue
        for title, article in grammar.CITED_ARTICLE.findall(message.content):
            cited = index.doc_of_title(title)
            if cited is not None and index.rows_of(cited, query.as_of, article):
                return cited, article
        break
    return None


def _filtered_docs(filters: Mapping[str, str]) -> list[str]:
    for key, value in filters.items():
        if key.strip().lower() in ("doc", "doc_id", "document"):
            return [v.strip() for v in re.split(r"[,|]", str(value)) if v.strip()]
    return []


def _document_answer(index: StatuteIndex, query: Query, doc_id: str) -> Answer:
    """The regulations the 목적 article says the document carries out, with the provisions citing each; then,
    briefly, the other statutes and the ordinances its provisions cite. Without a 목적 article naming any, the
    statutes cited most."""
    title = index.titles[doc_id]
    rows = index.rows_of(doc_id, query.as_of)
    cited = index.cited_by(rows)
    purpose = [c for c in cited if c.in_purpose]
    notes: list[str] = []
    statutes = [c for c in cited if not c.in_purpose and c.kind != "ordinance"]
    ordinances = [c for c in cited if not c.in_purpose and c.kind == "ordinance"]
    if purpose:
        heading = next(_row_heading(index, r) for c in purpose for r in c.rows if _is_purpose(index, r))
        lines = [f"「{title}」의 근거 법령 ({heading}에서 밝힌 법령):"]
        lines += [_cited_line(index, c) for c in purpose]
        if statutes:
            notes.append(f"그 밖에 조문이 인용한 법령: {_brief_listing(statutes)}")
        shown = purpose + statutes
    elif statutes:
        lines = [f"「{title}」은(는) 목적 조항에서 근거 법령을 밝히지 않았습니다. 조문이 인용한 법령:"]
        lines += [_cited_line(index, c) for c in statutes[:MAX_LISTED]]
        if len(statutes) > MAX_LISTED:
            notes.append(f"그 밖에: {_brief_listing(statutes[MAX_LISTED:])}")
        shown = statutes
    else:
        text = f"「{title}」의 조문에서 인용한 상위 법령을 찾지 못했습니다."
        return Answer(text=text, refused=True, citations=[], reason=text)
    if ordinances:
        notes.append(f"함께 인용한 자치법규: {_brief_listing(ordinances)}")
    citations = _citations(index, shown + ordinances)
    # A blank line ends the list, so the notes do not read as part of its last item.
    text = "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "")
    return Answer(text=text, refused=False, citations=citations, reason="statutes cited by the document")


def _provision_answer(index: StatuteIndex, query: Query, doc_id: str, article: str) -> Answer:
    title = index.titles[doc_id]
    rows = index.rows_of(doc_id, query.as_of, article)
    record = index.catalogue.records[rows[0]]
    heading = _heading(record.article, str(record.metadata.get("article_title", "")))
    cited = index.cited_by(rows)
    if cited:
        lines = [f"「{title}」 {heading}이(가) 인용한 법령:"]
        lines += [f"- {c.label} ({KIND_LABELS_KO.get(c.kind, c.kind)}) {_listing(c.articles)}".rstrip() for c in cited]
        citations = _citations(index, cited, first=rows)
        return Answer(text="\n".join(lines), refused=False, citations=citations,
                      reason="statutes cited by the provision")
    # The provision cites nothing itself: what the whole regulation rests on answers instead.
    whole = _document_answer(index, query, doc_id)
    text = f"「{title}」 {heading}은(는) 다른 법령을 인용하지 않습니다.\n{whole.text}"
    provision = Citation.from_chunk(1, ScoredChunk(record, 1.0))
    citations = [provision, *[_renumber(c, i + 2) for i, c in enumerate(whole.citations[: MAX_CITATIONS - 1])]]
    return Answer(text=text, refused=whole.refused, citations=citations, reason=whole.reason)


def _cited_line(index: StatuteIndex, cited: Cited) -> str:
    """- 「주차장법」 (법률) 제7조, 제12조 … — 제1조(목적), 제2조(정의) … 에서 인용"""
    kind = KIND_LABELS_KO.get(cited.kind, cited.kind)
    head = f"- {cited.label} ({kind}) {_listing(cited.articles)}".rstrip()
    provisions = list(dict.fromkeys(_row_heading(index, r) for r in cited.rows))
    return f"{head} — {_listing(provisions)}에서 인용"


def _brief_listing(cited: list[Cited]) -> str:
    """「건축법」 제2조, 「지방공기업법」, … 외 N개"""
    return _listing([f"{c.label} {', '.join(c.articles[:3])}".rstrip() for c in cited])


def _row_heading(index: StatuteIndex, row: int) -> str:
    record = index.catalogue.records[row]
    return _heading(record.article, str(record.metadata.get("article_title", "")))


def _is_purpose(index: StatuteIndex, row: int) -> bool:
    return bool(_PURPOSE.match(str(index.catalogue.records[row].metadata.get("article_title", ""))))


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return f"{shown} 외 {len(items) - MAX_LISTED}개" if len(items) > MAX_LISTED else shown


def _heading(article: str, article_title: str) -> str:
    return f"{article}({article_title})" if article_title and not article_title.startswith("<") else article


def _citations(index: StatuteIndex, cited: list[Cited], first: list[int] | None = None) -> list[Citation]:
    """The provisions citing the listed regulations, from chunk metadata: the 목적 article (or ``first``) first,
    then each regulation's first citing provision, one citation per provision."""
    rows: list[int] = list(first or [])
    rows += [r for c in cited if c.in_purpose for r in c.rows if _is_purpose(index, r)][:1]
    for c in cited:
        rows += [r for r in c.rows if not _is_purpose(index, r)][:1] or c.rows[:1]
    out: list[Citation] = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        record = index.catalogue.records[row]
        if record.key in seen:
            continue
        seen.add(record.key)
        names = [r.name for r in index.refs.get(row, [])]
        out.append(Citation.from_chunk(len(out) + 1, ScoredChunk(record, 1.0), quote=_quote(record.text, names)))
        if len(out) >= MAX_CITATIONS:
            break
    return out


def _quote(text: str, names: list[str]) -> str:
    """The first line of the provision naming one of the regulations it cites (the line that grounds it)."""
    for line in text.splitlines()[1:] or text.splitlines():
        if any(n in line for n in names) or grammar.ALIAS_ARTICLE.search(line):
            return line.strip()
    return ""


def _renumber(citation: Citation, n: int) -> Citation:
    citation.n = n
    return citation
