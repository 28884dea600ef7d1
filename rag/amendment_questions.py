"""Questions about amendments — "주차장 조례 최근에 뭐가 바뀌었어?", "제10조 언제 개정됐어?", "What changed in the
last amendment of …?" — answered from the comparison of two indexed versions (``rag.amendments``) and from the
amendment notes in the text (``<개정 …>``, ``<신설 …>``, ``[본조신설 …]``, ``[전문개정 …]``).

A structured answerer (``rag.structured``): ``amendment_answerer(catalogue, store, tokenize)`` returns a callable
that answers a ``Query`` or returns None, so every other question goes on to retrieval. It answers only when
both hold:

- the question asks what changed or when something was amended, in so many words (a change verb in the past
  tense or a noun such as 개정 내용 / 신구조문, with a question or recency word; "변경된 사항을 신고하려면"
  and "개정 절차" are not such questions);
- the document it names first (or the conversation's, or the one the caller filtered on) has two or more
  indexed versions.

Every citation is built from chunk metadata (``Citation.from_chunk``) of the two versions compared, and each
says its version's 시행일; every sentence is a fixed phrase or a quote of a chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from civicrag.rag.amendments import (
    ArticleChange,
    Comparison,
    Provision,
    UnitChange,
    Version,
    VersionError,
    amendment_notes,
    changed_words,
    compare,
    versions,
)
from civicrag.rag.query import Query
from civicrag.rag.types import Answer, ChunkRecord, Citation, Language, ScoredChunk

from civicrag.legal.grammar import CANONICAL_ARTICLE, PROVISION_NOUNS
from civicrag.legal.language import with_topic_particle

Kind = Literal["what", "when"]

#: Changed articles listed in an answer (the rest are counted); 항/호 quoted per article.
MAX_ARTICLES = 8
MAX_QUOTES_PER_ARTICLE = 3
_QUOTE_CHARS = 300

_NOUN = r"(?:게|것|거|점|내용|부분|조항|조문|사항|적)"
# "변경된 사항", "변경 내용" are how procedures speak of a change being reported (변경신고): only the past verb,
# or a changed article or point, asks about an amendment.
_KO_CHANGE = re.compile(
    r"(?P<verb>바뀌었|바꼈|바뀜|달라졌|변경됐|변경되었|개정됐|개정되었|신설됐|신설되었|추가됐|추가되었|삭제됐|삭제되었)"
    rf"|(?P<noun>(?:바뀐|달라진|개정된|신설된|추가된|삭제된)\s*{_NOUN}|변경된\s*(?:조항|조문|부분|점)"
    r"|개정\s*(?:내용|사항|이력|연혁|전후|내역|일자|날짜|시기)|개정일|신구\s*(?:조문|법)?\s*(?:대비|비교)"
    r"|(?:최근|마지막|직전)\s*개정)"
)
# After a past verb only a sentence ending may follow ("바뀌었어?", "개정됐나요", "바뀌었는지 알려줘"):
# "바뀌었다는데, …", "변경됐을 때", "바뀌었으면" tell of a change in passing or set a condition.
_KO_ENDING = re.compile(
    r"^(?:어|어요|나|나요|니|냐|는지|는가|습니까|을까|을까요|지|죠|지요|음|다)?\s*"
    r"(?:[?？.!]|$|(?:알려|말해|설명|정리|보여|궁금|확인))"
)
# In the sentence that asks, something must say what is asked and that it is about a rule: "뭐가 바뀌었어",
# "제10조 언제 개정됐어", "조례 개정 내용"; "전화번호가 바뀌었어요" is about the asker, not the regulation.
_KO_ASKING = re.compile(
    r"뭐가|뭐\s*바뀌|무엇이|무엇을|뭘|무슨|어떤|어떻게|어디가|어느|언제|몇|최근|요즘|마지막|직전|최신|이전\s*(?:판|버전)|"
    r"종전|차이|비교|알려|설명|정리|보여|요약|있(?:어|나|니|습니까|는지)|[?？]"
)
_KO_SUBJECT = re.compile(
    rf"조례|규칙|규정|법규|{PROVISION_NOUNS}|내용|개정|신구|뭐가|뭐\s*바뀌|무엇이|무엇을|뭘|어떤\s*(?:게|것|거|점|부분)|"
    r"어디가|어느\s*(?:조|부분)"
)
_SENTENCE = re.compile(r"[^.?？!\n]*[.?？!]?")
_KO_WHEN = re.compile(r"언제|날짜|일자|시기|몇\s*(?:년|월|일)|개정일")
_EN_WHAT = re.compile(
    r"\bwhat\b[^?]{0,80}?\b(?:changed|amended|revised)\b"
    r"|\bwhat\b[^?]{0,80}?\b(?:amendment|revision)\b[^?]{0,40}\bchange\b"
    r"|\bwhat(?:'s|\s+is|\s+are)\s+new\b"
    r"|\bwhat\s+(?:are|were)\s+the\s+(?:changes|amendments|differences)\b"
    r"|\b(?:changes|differences)\b[^?]{0,30}\b(?:in|by|of|between)\b[^?]{0,30}\b(?:last|latest|recent|previous)\s+"
    r"(?:amendment|revision|versions?)\b"
    r"|\bcompare\b[^?]{0,40}\bversions\b",
    re.I,
)
_EN_WHEN = re.compile(
    r"\bwhen\s+(?:was|were|did|has|have|had)\b[^?]{0,80}?"
    r"\b(?:amended|changed|revised|added|inserted|introduced|repealed|updated|amend|change|revise)\b", re.I
)
_EN_SUBJECT = re.compile(
    r"\b(?:ordinance|rule|regulation|code|charter|article|section|amendment|revision|version|provision|law|bylaw)s?\b"
    r"|§",
    re.I,
)
_EN_ARTICLE = re.compile(r"\b(?:article|art\.)\s*(\d+)(?:\s*-\s*(\d+))?", re.I)


def question_kind(text: str) -> Kind | None:
    """"what" (what changed) or "when" (when amended) for a question about amendments, else None."""
    if _EN_WHEN.search(text):
        return "when"
    if _EN_WHAT.search(text) and (_EN_SUBJECT.search(text) or len(text.split()) <= 6):
        return "what"
    for sentence in (m.group(0) for m in _SENTENCE.finditer(text) if m.group(0).strip()):
        for m in _KO_CHANGE.finditer(sentence):
            if m.group("verb") and not _KO_ENDING.match(sentence[m.end():]):
                continue
            if _KO_ASKING.search(sentence) and _KO_SUBJECT.search(sentence):
                return "when" if _KO_WHEN.search(sentence) else "what"
    return None


@dataclass
class _Cited:
    """Citations in the order they are first used, one per (chunk, quote)."""

    items: list[Citation] = field(default_factory=list)

    def add(self, chunk: ChunkRecord, quote: str = "", paragraph: str = "") -> int:
        """The citation of ``chunk`` (its quote grown by ``quote``), or a new one when it quotes another 항."""
        for c in self.items:
            if c.chunk_id == chunk.chunk_id and (not paragraph or not c.quote or c.paragraph == paragraph):
                if quote and quote not in c.quote:
                    c.quote = f"{c.quote}\n{quote}" if c.quote else quote
                    c.paragraph = c.paragraph if c.quote != quote else paragraph or c.paragraph
                return c.n
        citation = Citation.from_chunk(len(self.items) + 1, ScoredChunk(chunk, 1.0), quote=quote, paragraph=paragraph)
        self.items.append(citation)
        return citation.n


def amendment_answerer(
    catalogue: Any, store: Any, tokenize: Callable[[str], list[str]]
) -> Callable[[Query], Answer | None]:
    """The structured answerer over ``catalogue`` (``store`` and ``tokenize`` are not needed)."""
    count: dict[str, int] = {}
    for doc_id, _version in catalogue.rows_by_version:  # one pass: most documents have a single version
        count[doc_id] = count.get(doc_id, 0) + 1
    docs = {doc_id: versions(catalogue, doc_id) for doc_id, n in count.items() if n >= 2}

    def answer(query: Query) -> Answer | None:
        if not docs:
            return None
        kind = question_kind(query.question)
        if kind is None:
            return None
        doc_id = _document(query, docs)
        if doc_id is None:
            return None
        found = docs[doc_id]
        current = next((v for v in found if v.in_force(query.as_of)), None)
        if current is None or found.index(current) == 0:
            return None  # nothing indexed before the version in force: no comparison to answer from
        pairs = [(found[i - 1], found[i]) for i in range(found.index(current), 0, -1)]  # newest first
        article = _article(query)
        try:
            comparisons = [compare(catalogue, doc_id, old.version, new.version) for old, new in pairs]
        except VersionError:
            return None
        if article and not any(c.article(article) for c in comparisons):
            return None  # the question names an article the document does not have: let retrieval answer
        lang: Language = query.language
        if kind == "when" and article:
            return _when_article(comparisons, article, lang)
        if kind == "when":
            return _what(comparisons[0], lang, when=True)
        if article:
            return _what_article(comparisons, article, lang)
        return _what(comparisons[0], lang)

    return answer


def _document(query: Query, docs: dict[str, list[Version]]) -> str | None:
    """The document the question names first (a follow-up: the conversation's), else the one filtered on."""
    if query.refs.docs:
        first = query.refs.docs[0]
        return first if first in docs else None
    wanted = [v.strip() for key, value in query.filters.items() if key.strip().lower() in ("doc", "doc_id")
              for v in re.split(r"[,|]", str(value)) if v.strip()]
    return wanted[0] if len(wanted) == 1 and wanted[0] in docs else None


def _article(query: Query) -> str:
    for ref in query.refs.articles:
        if CANONICAL_ARTICLE.match(ref.label):
            return ref.label
    m = _EN_ARTICLE.search(query.question)
    if m:
        return f"제{m.group(1)}조" + (f"의{m.group(2)}" if m.group(2) else "")
    return ""


# -- answers -----------------------------------------------------------------------------------------------
_STATUS = {
    "ko": {"added": "신설", "deleted": "삭제", "changed": "개정"},
    "en": {"added": "added", "deleted": "deleted", "changed": "amended"},
}


def _what(c: Comparison, lang: Language, when: bool = False) -> Answer:
    cited = _Cited()
    changed = c.changed
    counts = {s: sum(1 for a in changed if a.status == s and not a.repealed) for s in ("added", "changed", "deleted")}
    counts["deleted"] += sum(1 for a in changed if a.repealed)  # "제5조 삭제 <…>" is a deletion to the reader
    if lang == "ko":
        lines = [
            f"「{c.title}」의 가장 최근 개정판은 {c.new.label} 시행본입니다 (이전 판: {c.old.label} 시행)."
            if when else
            f"「{c.title}」의 최근 개정 내용입니다: {c.old.label} 시행본과 {c.new.label} 시행본의 신구조문 대비.",
            f"바뀐 조문 {len(changed)}개 (신설 {counts['added']}, 개정 {counts['changed']}, 삭제 {counts['deleted']})"
            + (":" if changed else "."),
        ]
    else:
        lines = [
            f"The latest amendment of \u201c{c.title}\u201d is the version in force from {c.new.label} (previous "
            f"version: in force from {c.old.label})." if when else
            f"What changed in the last amendment of \u201c{c.title}\u201d: the version in force from {c.old.label} "
            f"compared with the version in force from {c.new.label}.",
            f"{len(changed)} provisions changed ({counts['added']} added, {counts['changed']} amended, "
            f"{counts['deleted']} deleted)" + (":" if changed else "."),
        ]
    for article in changed[:MAX_ARTICLES]:
        lines.extend(_article_lines(article, lang, cited))
    if len(changed) > MAX_ARTICLES:
        rest = len(changed) - MAX_ARTICLES
        lines.append(f"… 외 {rest}개 조문" if lang == "ko" else f"… and {rest} more provisions")
    if not changed:
        lines.append("두 판의 본문에 차이가 없습니다." if lang == "ko" else "The two versions' texts do not differ.")
    _cite_both(c, cited)
    return Answer(text="\n".join(lines), refused=False, citations=cited.items)


def _what_article(comparisons: Sequence[Comparison], label: str, lang: Language) -> Answer:
    cited = _Cited()
    latest = comparisons[0]
    change = latest.article(label)
    assert change is not None or any(c.article(label) for c in comparisons)
    if change is not None and change.status != "unchanged":
        c = latest
        lines = [
            f"「{c.title}」 {label}의 최근 개정 내용입니다: {c.old.label} 시행본 → {c.new.label} 시행본."
            if lang == "ko" else
            f"What changed in {label} of \u201c{c.title}\u201d: the version in force from {c.old.label} compared with "
            f"the version in force from {c.new.label}.",
            *_article_lines(change, lang, cited),
        ]
        _cite_both(c, cited, change)
        return Answer(text="\n".join(lines), refused=False, citations=cited.items)
    earlier = next(((c, a) for c in comparisons[1:] if (a := c.article(label)) and a.status != "unchanged"), None)
    c = latest
    if lang == "ko":
        lines = [f"「{c.title}」 {with_topic_particle(label)} 최근 개정({c.old.label} 시행본 → {c.new.label} "
                 "시행본)에서 바뀌지 않았습니다."]
        if earlier:
            lines.append(f"마지막으로 바뀐 것은 {earlier[0].old.label} 시행본 → {earlier[0].new.label} 시행본입니다:")
    else:
        lines = [f"{label} of \u201c{c.title}\u201d did not change in the last amendment (the version in force from "
                 f"{c.old.label} compared with the one in force from {c.new.label})."]
        if earlier:
            lines.append(f"It last changed between the versions in force from {earlier[0].old.label} and "
                         f"{earlier[0].new.label}:")
    if earlier:
        lines.extend(_article_lines(earlier[1], lang, cited))
        _cite_both(earlier[0], cited, earlier[1])
    _cite_both(c, cited, change)
    return Answer(text="\n".join(lines), refused=False, citations=cited.items)


def _when_article(comparisons: Sequence[Comparison], label: str, lang: Language) -> Answer:
    cited = _Cited()
    latest = comparisons[0]
    current = next((a.new for c in comparisons if (a := c.article(label)) and a.new), None)
    title = latest.title
    lines: list[str] = []
    if current is not None:
        notes = _unit_notes(current)
        marks = ", ".join(f"{lab} {note}".strip() for lab, note in notes)
        dates = sorted({d for _lab, note in notes for n in amendment_notes(note) for d in n.dates})
        noted = [u.text for u in current.units if amendment_notes(u.text)]
        n = cited.add(current.chunks[0], "\n".join(noted))
        ref = _ref(current, lang)
        if lang == "ko":
            lines.append(f"「{title}」 {ref}의 개정 표시({latest.new.label} 시행본): {marks} [{n}]" if notes else
                         f"「{title}」 {ref}에는 개정 표시가 없습니다({latest.new.label} 시행본) [{n}].")
            if dates:
                lines.append(f"가장 최근 개정일은 {dates[-1]}입니다.")
        else:
            lines.append(f"Amendment notes of {ref} of \u201c{title}\u201d (version in force from {latest.new.label}): "
                         f"{marks} [{n}]" if notes else
                         f"{ref} of \u201c{title}\u201d carries no amendment note (version in force from "
                         f"{latest.new.label}) [{n}].")
            if dates:
                lines.append(f"The latest amendment date is {dates[-1]}.")
    moments = [(c, a) for c in comparisons if (a := c.article(label)) and a.status != "unchanged"]
    if moments:
        lines.append("색인된 판 비교:" if lang == "ko" else "Compared across the indexed versions:")
        for c, a in moments:
            head = (f"{c.old.label} 시행본 → {c.new.label} 시행본에서 {_STATUS['ko'][a.status]}" if lang == "ko" else
                    f"between the versions in force from {c.old.label} and {c.new.label}: {_STATUS['en'][a.status]}")
            markers = _cite_both(c, cited, a)
            summary = ", ".join(_unit_summary(u, lang) for u in a.changed_units[:MAX_QUOTES_PER_ARTICLE])
            lines.append(f"- {head}" + (f" ({summary})" if summary else "") + f" {markers}")
    else:
        labels = ", ".join(v.label for v in latest.versions)
        lines.append(f"색인된 판({labels}) 사이에서는 바뀌지 않았습니다." if lang == "ko" else
                     f"It is the same in every indexed version ({labels}).")
        _cite_both(latest, cited, latest.article(label))
    return Answer(text="\n".join(lines), refused=False, citations=cited.items)


def _article_lines(article: ArticleChange, lang: Language, cited: _Cited) -> list[str]:
    """One bullet for a changed article (what happened to which 항/호, with citation markers), then quotes."""
    shown = article.new or article.old
    assert shown is not None
    ref = _ref(shown, lang)
    status = _STATUS[lang][article.status]
    markers: list[int] = []
    quotes: list[str] = []
    if article.status in ("added", "deleted"):
        provision = article.new if article.status == "added" else article.old
        assert provision is not None
        units = [u for u in provision.units if not u.note][:MAX_QUOTES_PER_ARTICLE]
        markers.append(cited.add(provision.chunks[0], "\n".join(u.text for u in units)))
        quotes.extend(_quote(u.text, lang, "old" if article.status == "deleted" else "") for u in units)
        return [f"- {ref} — {status} {_marks(markers)}", *quotes]
    parts: list[str] = []
    if article.repealed and article.old is not None and article.new is not None:
        # "제5조 삭제 <2024.7.1.>": the article's number stays, its text goes.
        markers.append(cited.add(article.new.chunks[0], article.new.header))
        markers.append(cited.add(article.old.chunks[0], "\n".join(u.text for u in article.old.units)))
        ref = _ref(article.old, lang)
        quotes.append(_quote(article.new.header, lang, "new"))
        quotes.extend(_quote(u.text, lang, "old") for u in article.old.units[:MAX_QUOTES_PER_ARTICLE])
        return [f"- {ref} — {'조문 삭제' if lang == 'ko' else 'repealed'} {_marks(markers)}", *quotes]
    if article.header_words is not None and article.old is not None and article.new is not None:
        parts.append("제목 개정" if lang == "ko" else "heading amended")
        markers.append(cited.add(article.new.chunks[0], article.new.header))
        markers.append(cited.add(article.old.chunks[0], article.old.header))
        quotes.append(_quote(article.old.header, lang, "old"))
        quotes.append(_quote(article.new.header, lang, "new"))
    last_old = None  # the old 항/호 an added one follows: its chunk is where the old version lacks it
    for unit in article.units:
        if unit.status == "unchanged":
            last_old = unit.old
            continue
        parts.append(_unit_summary(unit, lang))
        if len(quotes) >= 2 * MAX_QUOTES_PER_ARTICLE:
            continue
        if unit.new is not None and article.new is not None:
            markers.append(cited.add(article.new.chunk_of(unit.new), unit.new.text, unit.new.label))
        if unit.old is not None and article.old is not None:
            markers.append(cited.add(article.old.chunk_of(unit.old), unit.old.text, unit.old.label))
            last_old = unit.old
        elif article.old is not None:
            markers.append(cited.add(article.old.chunk_of(last_old) if last_old else article.old.chunks[0]))
        if unit.status == "changed":
            quotes.append(_quote(unit.old.text if unit.old else "", lang, "old"))
            quotes.append(_quote(unit.new.text if unit.new else "", lang, "new"))
        else:
            quotes.append(_quote((unit.new or unit.old).text, lang, "old" if unit.status == "deleted" else ""))  # type: ignore[union-attr]
    return [f"- {ref} — {', '.join(parts)} {_marks(markers)}", *quotes]


def _unit_summary(unit: UnitChange, lang: Language) -> str:
    label = unit.label or ("본문" if lang == "ko" else "text")
    if (unit.new or unit.old) and (unit.new or unit.old).note:  # type: ignore[union-attr]
        label = "조문 주석" if lang == "ko" else "article note"
    text = f"{label} {_STATUS[lang][unit.status]}"
    if unit.status == "changed":
        words = [_word_change(a, b, lang) for a, b in changed_words(unit) if a or b]
        if words:
            text += f" ({'; '.join(words)})"
    return text


def _word_change(old: str, new: str, lang: Language) -> str:
    if old and new:
        return f"‘{old}’ → ‘{new}’"
    if new:
        return f"‘{new}’ 추가" if lang == "ko" else f"added ‘{new}’"
    return f"‘{old}’ 삭제" if lang == "ko" else f"removed ‘{old}’"


def _quote(text: str, lang: Language, side: str) -> str:
    text = " ".join(text.split())
    if len(text) > _QUOTE_CHARS:
        text = text[: _QUOTE_CHARS - 1].rstrip() + "…"
    prefix = {"old": "(종전) " if lang == "ko" else "(before) ", "new": "(개정) " if lang == "ko" else "(after) "}
    return f"> {prefix.get(side, '')}{text}"


def _marks(numbers: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(numbers))


def _ref(provision: Provision, lang: Language) -> str:
    if provision.title and not provision.title.startswith("<"):
        return f"{provision.article}({provision.title})" if lang == "ko" else f"{provision.article} ({provision.title})"
    return f"{provision.article} {provision.title}".strip() or provision.header


def _unit_notes(provision: Provision) -> list[tuple[str, str]]:
    """(label, note text) of every amendment note of an article, the header's first."""
    out = [("", n.text) for n in amendment_notes(provision.header)]
    for unit in provision.units:
        out.extend(("" if unit.note else unit.label, n.text) for n in amendment_notes(unit.text))
    return out


def _cite_both(c: Comparison, cited: _Cited, article: ArticleChange | None = None) -> str:
    """Cite the compared versions' text of ``article`` (both sides it exists on) and make sure each version
    is cited at all (else by its first changed, then first, provision); returns the article's markers."""
    markers: list[int] = []
    for side, version in (("new", c.new), ("old", c.old)):
        provision = _side(article, side) if article is not None else None
        if provision is not None:
            markers.append(cited.add(provision.chunks[0]))
            continue
        if any(x.effective_date == version.effective_date for x in cited.items):
            continue
        provision = next((p for a in [*c.changed, *c.articles] if (p := _side(a, side)) is not None), None)
        if provision is not None:
            cited.add(provision.chunks[0])
    return _marks(markers)


def _side(article: ArticleChange, side: str) -> Provision | None:
    return article.new if side == "new" else article.old


__all__ = ["amendment_answerer", "question_kind"]
