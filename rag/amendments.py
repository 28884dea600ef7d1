"""Amendment comparison (신구조문 대비): two versions of one document laid side by side, article by article.

Everything comes from the catalogue's live chunks (the manifest keeps every version of a document by its
effective date): the chunks of one article are joined back into the article, its 항/호 are the units of
``civicrag.legal.units.split_units``, and the two versions are aligned

- article by article, by label (제4조 with 제4조, 부칙 <제885호 …> with itself): Korean amendments keep
  article numbers (a new one is 제9조의2, a repealed one stays as "제5조 삭제");
- 항/호 by 항/호 inside an article, with ``difflib`` over their texts (label aside, so a renumbered 항
  still meets its old self); units left over in a replaced run are paired by similarity;
- word by word inside a changed 항/호, over Kiwi's tokens (morphemes, with their places in the text).

Amendment notes (``<개정 2019.4.11.>``, ``<신설 …>``, ``[본조신설 …]``, ``[전문개정 …]``) are part of the text
compared, so a 항 that only gained a note counts as changed; a note alone on its line belongs to the 항
before it (``<…>``) or to the article (``[…]``), and ``amendment_notes`` reads them.

Public surface: ``versions``, ``compare`` (→ ``Comparison``), ``amendment_notes``, ``comparison_text``,
``VersionError``. Pure over the records: no store, no embedder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Any, Literal, Protocol

from civicrag.rag.types import ChunkRecord

from civicrag.legal import grammar
from civicrag.legal.language import HANGUL_SYLLABLES
from civicrag.legal.types import in_force
from civicrag.legal.units import split_units

Status = Literal["unchanged", "added", "deleted", "changed"]
#: ``(start, end)`` character spans of the words of a text, in order.
WordSpans = Callable[[str], list[tuple[int, int]]]

UNDATED = "undated"
# Units left over in a replaced run pair up when this similar (difflib ratio of their texts, label aside).
PAIR_SIMILARITY = 0.5

_DATE = re.compile(r"(\d{4})\s*[.\-]\s*(\d{1,2})\s*[.\-]\s*(\d{1,2})")
# Amendment notes (grammar.ANGLE_NOTE "<개정 …>", grammar.BRACKET_NOTE "[본조신설 …]") and their kinds.
_BRACKET_KINDS = ("본조신설", "전문개정", "제목개정", "이동", "종전", "신설", "개정", "삭제")
_NOTE_LINE_ANGLE = re.compile(r"^\s*<[^<>]*>\s*$")
_NOTE_LINE_BRACKET = re.compile(r"^\s*\[[^\[\]]*\]\s*$")
_SPACE = re.compile(r"\s+")
_FALLBACK_WORDS = re.compile(rf"[{HANGUL_SYLLABLES}]+|[A-Za-z]+|\d+|\S")


class VersionError(ValueError):
    """The document or a version asked for is not indexed, or there is nothing to compare; the message says which."""


class Records(Protocol):
    """What ``compare`` reads: ``rag.catalogue.Catalogue`` (its live chunk records) or anything shaped alike."""

    records: list[ChunkRecord]


# -- versions --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Version:
    """One indexed version of a document: its manifest key, effective date (시행일) and validity."""

    version: str
    effective_date: str
    valid_from: str | None
    valid_to: str | None
    title: str

    @property
    def superseded(self) -> bool:
        return self.valid_to is not None

    @property
    def label(self) -> str:
        return self.effective_date or UNDATED

    def in_force(self, day: str) -> bool:
        return in_force(self.valid_from, self.valid_to, day)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "effective_date": self.effective_date, "valid_from": self.valid_from,
                "valid_to": self.valid_to, "superseded": self.superseded, "title": self.title}


def versions(catalogue: Records, doc_id: str) -> list[Version]:
    """The document's live versions, oldest first (an undated version before every dated one)."""
    seen: dict[str, Version] = {}
    for record in _doc_records(catalogue, doc_id):
        if record.version not in seen:
            seen[record.version] = Version(
                record.version, str(record.metadata.get("effective_date", "") or ""), record.valid_from,
                record.valid_to, record.title,
            )
    return sorted(seen.values(), key=lambda v: (v.valid_from or "", v.version))


def pick(found: Sequence[Version], spec: str | None) -> Version | None:
    """The version a ``--from``/``--to`` value names: its key, or a YYYY-MM-DD it was in force on."""
    if spec is None or spec == "":
        return None
    for v in found:
        if spec in (v.version, v.effective_date):
            return v
    try:
        day = date.fromisoformat(spec).isoformat()
    except ValueError as exc:
        raise VersionError(f"{spec!r} is neither a version of the document nor a YYYY-MM-DD date") from exc
    for v in found:
        if v.in_force(day):
            return v
    raise VersionError(f"no indexed version was in force on {day}")


def pick_pair(found: Sequence[Version], from_: str | None = None, to: str | None = None) -> tuple[Version, Version]:
    """(old, new): ``to`` defaults to the latest version, ``from`` to the version just before ``to``."""
    if len(found) < 2:
        raise VersionError("the document has only one indexed version: there is nothing to compare it with")
    new = pick(found, to) or found[-1]
    old = pick(found, from_)
    if old is None:
        at = found.index(new)
        if at == 0:
            raise VersionError(f"{new.label} is the document's earliest indexed version: give from and to")
        old = found[at - 1]
    if old == new:
        raise VersionError(f"from and to name the same version ({old.label})")
    if found.index(old) > found.index(new):
        old, new = new, old  # older on the left, whatever order they were given in
    return old, new


# -- notes -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Note:
    """An amendment note as written: ``kind`` 개정, 신설, 삭제, 전문개정, 본조신설, 제목개정, 이동 …; ISO ``dates``."""

    kind: str
    dates: tuple[str, ...]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "dates": list(self.dates), "text": self.text}


def amendment_notes(text: str) -> list[Note]:
    """The amendment notes in a text, in order: ``<개정 2019.3.20., 2025. 6. 13.>`` gives kind 개정 and two dates."""
    found: list[tuple[int, Note]] = []
    for m in grammar.ANGLE_NOTE.finditer(text):
        dates = _dates(m.group("body") or "")
        if not dates:
            continue  # "<제885호, 2025. 6. 13.>" has a date, "<TABLE …>" has none; a 부칙 number is no note
        if m.group("deleted"):
            kind = "삭제"
        elif m.group("kind") and not m.group("kind").startswith("제"):
            kind = m.group("kind")
        else:
            continue
        found.append((m.start(), Note(kind, dates, m.group(0).strip())))
    for m in grammar.BRACKET_NOTE.finditer(text):
        body = m.group("body")
        kind = next((k for k in _BRACKET_KINDS if k in body), "")
        found.append((m.start(), Note(kind, _dates(body), m.group(0))))
    return [note for _, note in sorted(found, key=lambda pair: pair[0])]


def _dates(text: str) -> tuple[str, ...]:
    out = []
    for y, mo, d in _DATE.findall(text):
        try:
            out.append(date(int(y), int(mo), int(d)).isoformat())
        except ValueError:
            continue
    return tuple(out)


# -- provisions ------------------------------------------------------------------------------------------
@dataclass
class Unit:
    """One 항/호 (or lead-in sentence, or article-level note line) of a provision, as compared."""

    label: str
    text: str
    note: bool = False  # an article-level note line ("[본조신설 …]")

    @property
    def body(self) -> str:
        """The text without its label, spaces collapsed: what two versions' units are matched on."""
        return _SPACE.sub(" ", grammar.UNIT_LABEL.sub("", self.text, count=1)).strip()


@dataclass
class Provision:
    """One article (부칙, 별표 …) of one version, joined back from its chunks."""

    key: str  # unique within the version: "제4조", "부칙 <제885호, 2025. 6. 13.>"
    article: str
    title: str
    header: str  # the first line: "제4조(면허발급 등)"
    text: str
    units: list[Unit]
    chunks: list[ChunkRecord]

    def chunk_of(self, unit: Unit) -> ChunkRecord:
        """The chunk that holds (the start of) a unit; the first chunk for what no chunk holds verbatim."""
        texts = [_SPACE.sub(" ", chunk.text) for chunk in self.chunks]
        for length in (40, 16):  # a 항 cut at a sentence starts in one chunk and goes on in the next
            probe = _SPACE.sub(" ", unit.text[:length]).strip()
            for chunk, text in zip(self.chunks, texts, strict=True):
                if probe and probe in text:
                    return chunk
        return self.chunks[0]


def provisions(records: Iterable[ChunkRecord]) -> list[Provision]:
    """The provisions of one version's chunks (in any order): a long article's chunks joined back."""
    groups: list[list[ChunkRecord]] = []
    for record in sorted(records, key=lambda r: r.seq):
        header = _first_line(record.text)
        last = groups[-1][0] if groups else None
        if (
            last is not None and last.article == record.article and _title(last) == _title(record)
            and _first_line(last.text) == header
        ):
            groups[-1].append(record)
        else:
            groups.append([record])
    out: list[Provision] = []
    used: dict[str, int] = {}
    for chunks in groups:
        first = chunks[0]
        text = _join(chunks)
        base = _key(first)
        used[base] = used.get(base, 0) + 1
        key = base if used[base] == 1 else f"{base} #{used[base]}"
        out.append(Provision(key, first.article, _title(first), _first_line(text), text, _units(text), chunks))
    return out


def _title(record: ChunkRecord) -> str:
    return str(record.metadata.get("article_title", "") or "")


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def _key(record: ChunkRecord) -> str:
    if str(record.metadata.get("provision_kind", "")) == "supplementary" or record.article == "부칙":
        return f"{record.article} {_title(record)}".strip()  # each 부칙 is named by its promulgation
    return record.article or _first_line(record.text)[:60]


def _join(chunks: Sequence[ChunkRecord]) -> str:
    """An article's text from its chunks: each later chunk repeats the header, and a 항 cut at a sentence
    (too long for one chunk) goes on in the next chunk without a label."""
    text = chunks[0].text.strip()
    previous = str(chunks[0].metadata.get("paragraph", "") or "")
    for chunk in chunks[1:]:
        _header, _, body = chunk.text.strip().partition("\n")
        body = body.strip()
        paragraph = str(chunk.metadata.get("paragraph", "") or "")
        continues = (
            bool(previous) and paragraph.split("–")[0] == previous.split("–")[-1]
            and not grammar.UNIT_LABEL.match(body.split("\n", 1)[0])
        )
        text = f"{text} {body}" if continues else f"{text}\n{body}"
        previous = paragraph
    return text


def _units(text: str) -> list[Unit]:
    """Units of a provision: ``split_units`` after a ``<…>`` note alone on its line is put back on the line
    before it; ``[…]`` note lines follow as units of their own (the article's notes)."""
    lines: list[str] = []
    notes: list[str] = []
    for line in text.split("\n"):
        if _NOTE_LINE_ANGLE.match(line) and lines and lines[-1].strip():
            lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
        elif _NOTE_LINE_BRACKET.match(line):
            notes.append(line.strip())
        else:
            lines.append(line)
    units = [Unit(u.label, u.text) for u in split_units("\n".join(lines))]
    if units and units[0].text.strip() == _first_line(text):
        units = units[1:]  # the header ("제5조 삭제 <…>" alone, or a line split_units took for text): compared as such
    return units + [Unit("", note, note=True) for note in notes]


# -- comparison ------------------------------------------------------------------------------------------
@dataclass
class UnitChange:
    status: Status
    old: Unit | None
    new: Unit | None
    words: list[Hunk] = field(default_factory=list)  # for a changed unit: its word diff

    @property
    def label(self) -> str:
        return (self.new or self.old).label if (self.new or self.old) else ""  # type: ignore[union-attr]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "old_label": self.old.label if self.old else None,
            "new_label": self.new.label if self.new else None,
            "old_text": self.old.text if self.old else None,
            "new_text": self.new.text if self.new else None,
            "note": bool((self.new or self.old) and (self.new or self.old).note),  # type: ignore[union-attr]
        }
        if self.status == "changed":
            out["words"] = [h.to_list() for h in self.words]
        return out


@dataclass
class ArticleChange:
    key: str
    status: Status
    old: Provision | None
    new: Provision | None
    units: list[UnitChange]
    header_words: list[Hunk] | None = None  # the word diff of the header line, when it changed

    @property
    def article(self) -> str:
        return (self.new or self.old).article  # type: ignore[union-attr]

    @property
    def title(self) -> str:
        return (self.new or self.old).title  # type: ignore[union-attr]

    @property
    def header(self) -> str:
        return (self.new or self.old).header  # type: ignore[union-attr]

    @property
    def changed_units(self) -> list[UnitChange]:
        return [u for u in self.units if u.status != "unchanged"]

    @property
    def repealed(self) -> bool:
        """The article stays as "제5조 삭제 <2024.7.1.>": repealed in place by this amendment."""
        repealed = grammar.REPEALED_ARTICLE
        return bool(self.new and self.old and repealed.match(self.new.header) and not repealed.match(self.old.header))

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "article": self.article, "status": self.status,
            "old_header": self.old.header if self.old else None, "new_header": self.new.header if self.new else None,
            "old_title": self.old.title if self.old else None, "new_title": self.new.title if self.new else None,
            "header_changed": self.header_words is not None, "repealed": self.repealed,
            "old_chunk_ids": [c.chunk_id for c in self.old.chunks] if self.old else [],
            "new_chunk_ids": [c.chunk_id for c in self.new.chunks] if self.new else [],
            "notes": [n.to_dict() for n in amendment_notes(self.new.text if self.new else self.old.text)],  # type: ignore[union-attr]
            "units": [u.to_dict() for u in self.units],
        }


@dataclass
class Comparison:
    doc_id: str
    title: str
    old: Version
    new: Version
    versions: list[Version]
    articles: list[ArticleChange]  # every article of either version, in document order

    @property
    def changed(self) -> list[ArticleChange]:
        return [a for a in self.articles if a.status != "unchanged"]

    def article(self, label: str) -> ArticleChange | None:
        return next((a for a in self.articles if a.article == label or a.key == label), None)

    def summary(self) -> dict[str, int]:
        counts = {f"articles_{s}": 0 for s in ("added", "deleted", "changed", "unchanged")}
        counts.update({f"units_{s}": 0 for s in ("added", "deleted", "changed")})
        for a in self.articles:
            counts[f"articles_{a.status}"] += 1
            if a.status == "changed":  # the 항/호 of a whole added or deleted article are not counted again
                for u in a.changed_units:
                    counts[f"units_{u.status}"] += 1
        return counts

    def to_dict(self, all_articles: bool = False) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id, "title": self.title, "from": self.old.to_dict(), "to": self.new.to_dict(),
            "versions": [v.to_dict() for v in self.versions], "summary": self.summary(),
            "articles": [a.to_dict() for a in (self.articles if all_articles else self.changed)],
        }


def compare(
    catalogue: Records, doc_id: str, from_: str | None = None, to: str | None = None,
    words: WordSpans | None = None,
) -> Comparison:
    """Compare two versions of ``doc_id`` (default: the two latest); ``from_``/``to`` are version keys or dates.

    ``words`` gives the word spans a changed 항 is diffed over (default: Kiwi's tokens, ``kiwi_words``).
    Raises ``VersionError`` when the document or a version is not indexed or there is only one version.
    """
    found = versions(catalogue, doc_id)
    if not found:
        raise VersionError(f"no indexed document {doc_id!r}")
    old, new = pick_pair(found, from_, to)
    records = list(_doc_records(catalogue, doc_id))
    old_provisions = provisions(r for r in records if r.version == old.version)
    new_provisions = provisions(r for r in records if r.version == new.version)
    return Comparison(doc_id, new.title, old, new, found,
                      compare_provisions(old_provisions, new_provisions, words or kiwi_words))


def compare_provisions(
    old: Sequence[Provision], new: Sequence[Provision], words: WordSpans | None = None
) -> list[ArticleChange]:
    """Every article of either side, in the new version's order with deleted ones where they stood."""
    words = words or kiwi_words
    new_keys = {p.key for p in new}
    old_by_key = {p.key: p for p in old}
    # An old article the new version lacks stays after the last old article both versions have.
    after: dict[str | None, list[Provision]] = {}
    anchor: str | None = None
    for p in old:
        if p.key in new_keys:
            anchor = p.key
        else:
            after.setdefault(anchor, []).append(p)
    out = [ArticleChange(p.key, "deleted", p, None, [UnitChange("deleted", u, None) for u in p.units])
           for p in after.get(None, [])]
    for p in new:
        before = old_by_key.get(p.key)
        if before is None:
            out.append(ArticleChange(p.key, "added", None, p, [UnitChange("added", None, u) for u in p.units]))
            continue
        out.append(_article_change(before, p, words))
        out.extend(ArticleChange(q.key, "deleted", q, None, [UnitChange("deleted", u, None) for u in q.units])
                   for q in after.get(p.key, []))
    return out


def _article_change(old: Provision, new: Provision, words: WordSpans) -> ArticleChange:
    units = align_units(old.units, new.units, words)
    header_words = None
    if _SPACE.sub(" ", old.header) != _SPACE.sub(" ", new.header):
        header_words = word_diff(old.header, new.header, words)
    changed = header_words is not None or any(u.status != "unchanged" for u in units)
    return ArticleChange(new.key, "changed" if changed else "unchanged", old, new, units, header_words)


def align_units(old: Sequence[Unit], new: Sequence[Unit], words: WordSpans | None = None) -> list[UnitChange]:
    """항/호 of two versions of one article, aligned: unchanged, added, deleted, or changed with its words."""
    words = words or kiwi_words
    matcher = SequenceMatcher(None, [u.body for u in old], [u.body for u in new], autojunk=False)
    out: list[UnitChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for a, b in zip(old[i1:i2], new[j1:j2], strict=True):
                out.append(_changed(a, b, words) if a.label != b.label else UnitChange("unchanged", a, b))
        elif tag == "delete":
            out.extend(UnitChange("deleted", a, None) for a in old[i1:i2])
        elif tag == "insert":
            out.extend(UnitChange("added", None, b) for b in new[j1:j2])
        else:
            for a, b in _pair(old[i1:i2], new[j1:j2]):
                if a is not None and b is not None:
                    out.append(_changed(a, b, words))
                elif a is not None:
                    out.append(UnitChange("deleted", a, None))
                elif b is not None:
                    out.append(UnitChange("added", None, b))
    return out


def _changed(a: Unit, b: Unit, words: WordSpans) -> UnitChange:
    return UnitChange("changed", a, b, word_diff(a.text, b.text, words))


def _pair(old: Sequence[Unit], new: Sequence[Unit]) -> list[tuple[Unit | None, Unit | None]]:
    """Order-keeping pairs of a replaced run that maximise total similarity; the rest stand alone."""
    n, m = len(old), len(new)
    sim = [[_similarity(a, b) for b in new] for a in old]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = sim[i][j] + best[i + 1][j + 1] if sim[i][j] >= PAIR_SIMILARITY else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    out: list[tuple[Unit | None, Unit | None]] = []
    i = j = 0
    while i < n and j < m:
        if sim[i][j] >= PAIR_SIMILARITY and best[i][j] == sim[i][j] + best[i + 1][j + 1]:
            out.append((old[i], new[j]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            out.append((old[i], None))
            i += 1
        else:
            out.append((None, new[j]))
            j += 1
    out.extend((a, None) for a in old[i:])
    out.extend((None, b) for b in new[j:])
    return out


def _similarity(a: Unit, b: Unit) -> float:
    if a.note != b.note:
        return 0.0
    ratio = SequenceMatcher(None, a.body, b.body, autojunk=False).ratio()
    return ratio + (0.1 if a.label and a.label == b.label else 0.0)


# -- words -----------------------------------------------------------------------------------------------
def kiwi_words(text: str) -> list[tuple[int, int]]:
    """Word spans from the process's shared Kiwi (morphemes; a contracted syllable such as 했 stays whole);
    letters, digits and single marks when Kiwi cannot load."""
    try:
        from civicrag.ingest.kiwi import shared_kiwi

        tokens = shared_kiwi().tokenize(text)
    except (ImportError, OSError):
        return regex_words(text)
    spans: list[tuple[int, int]] = []
    for token in tokens:
        start, end = token.start, token.start + token.len
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))  # 하+었 in 했: one span
        else:
            spans.append((start, end))
    return spans


def regex_words(text: str) -> list[tuple[int, int]]:
    """Runs of Hangul, Latin letters or digits, and every other mark alone."""
    return [m.span() for m in _FALLBACK_WORDS.finditer(text)]


def word_diff(old: str, new: str, words: WordSpans | None = None) -> list[Hunk]:
    """The two texts as a run of hunks: equal text, or old words replaced by new ones (either may be empty).
    The hunks' old sides put together give ``old`` exactly, their new sides ``new``. Spaces alone between
    two changes join them: one mark, not two."""
    words = words or kiwi_words
    a, b = _pieces(old, words), _pieces(new, words)
    matcher = SequenceMatcher(None, [p.strip() for p in a], [p.strip() for p in b], autojunk=False)
    hunks: list[Hunk] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            # Equal words may differ in the spaces after them: the old side's spacing is kept for both.
            _append(hunks, Hunk("".join(a[i1:i2]), "".join(b[j1:j2])))
        else:
            _append(hunks, Hunk("".join(a[i1:i2]), "".join(b[j1:j2]), changed=True))
    return _tidy(hunks)


@dataclass(frozen=True)
class Hunk:
    """A run of a word diff: unchanged (``old`` and ``new`` read alike) or changed (either side may be empty)."""

    old: str
    new: str
    changed: bool = False

    @property
    def op(self) -> str:
        if not self.changed:
            return "equal"
        return "insert" if not self.old else "delete" if not self.new else "replace"

    def to_list(self) -> list[str]:
        return [self.op, self.old, self.new]


def _pieces(text: str, words: WordSpans) -> list[str]:
    """The text cut at word starts: each piece is one word with the spaces after it (a leading gap alone)."""
    cuts = sorted({s for s, _ in words(text) if 0 < s < len(text)})
    bounds = [0, *cuts, len(text)]
    return [text[x:y] for x, y in pairwise(bounds) if y > x]


def _append(hunks: list[Hunk], hunk: Hunk) -> None:
    if not hunk.old and not hunk.new:
        return
    if hunks and hunks[-1].changed == hunk.changed:
        last = hunks[-1]
        hunks[-1] = Hunk(last.old + hunk.old, last.new + hunk.new, hunk.changed)
    else:
        hunks.append(hunk)


def _tidy(hunks: list[Hunk]) -> list[Hunk]:
    # Spaces alone between two changes belong to one change.
    merged: list[Hunk] = []
    for i, h in enumerate(hunks):
        between = 0 < i < len(hunks) - 1 and hunks[i - 1].changed and hunks[i + 1].changed
        if not h.changed and between and not h.old.strip() and not h.new.strip():
            h = Hunk(h.old, h.new, changed=True)
        _append(merged, h)
    # Spaces a change ends with on both sides are the gap before the next word, not part of the change.
    out: list[Hunk] = []
    for h in merged:
        if h.changed:
            old_core, new_core = h.old.rstrip(), h.new.rstrip()
            tail_old, tail_new = h.old[len(old_core):], h.new[len(new_core):]
            if tail_old and tail_new and (old_core or new_core):
                _append(out, Hunk(old_core, new_core, changed=True))
                _append(out, Hunk(tail_old, tail_new))
                continue
        _append(out, h)
    return out


def changed_words(change: UnitChange, limit: int = 3) -> list[tuple[str, str]]:
    """(old, new) words of a changed unit's changes, in order: ``[("20일", "30일")]``; "" for nothing."""
    return [(h.old.strip(), h.new.strip()) for h in change.words if h.changed][:limit]


# -- text ------------------------------------------------------------------------------------------------
_STATUS_KO = {"added": "신설", "deleted": "삭제", "changed": "개정", "unchanged": "변경 없음"}
_MARK = {"added": "+", "deleted": "-", "changed": "~", "unchanged": " "}


def comparison_text(comparison: Comparison, all_articles: bool = False) -> str:
    """Plain text for the terminal: changed articles, their 항/호 marked + (added), - (deleted), ~ (changed,
    with ``[-old-]{+new+}`` inside)."""
    c = comparison
    s = c.summary()
    lines = [
        f"{c.title} ({c.doc_id})",
        f"  from {c.old.label} ({_validity(c.old)})  ->  to {c.new.label} ({_validity(c.new)})",
        f"  articles: {s['articles_added']} added, {s['articles_deleted']} deleted, {s['articles_changed']} changed, "
        f"{s['articles_unchanged']} unchanged; 항/호: {s['units_added']} added, {s['units_deleted']} deleted, "
        f"{s['units_changed']} changed",
    ]
    for article in c.articles if all_articles else c.changed:
        lines.append("")
        head = article.header
        if article.header_words is not None:
            head = inline_diff(article.header_words)
        lines.append(f"{_MARK[article.status]} {head}  [{_STATUS_KO[article.status]} / {article.status}]")
        for unit in article.units:
            if unit.status == "unchanged" and not all_articles:
                continue
            shown = unit.new or unit.old
            text = inline_diff(unit.words) if unit.status == "changed" else shown.text if shown else ""
            lines.append(f"    {_MARK[unit.status]} {text}")
    if not c.changed:
        lines.append("")
        lines.append("  (no differences in the text)")
    return "\n".join(lines) + "\n"


def inline_diff(hunks: Sequence[Hunk]) -> str:
    """wdiff style: ``[-old-]{+new+}`` for each change, the rest as it reads."""
    out: list[str] = []
    for h in hunks:
        if not h.changed:
            out.append(h.new)
            continue
        if h.old:
            out.append(f"[-{h.old}-]")
        if h.new:
            out.append(f"{{+{h.new}+}}")
    return "".join(out)


def _validity(v: Version) -> str:
    return f"superseded {v.valid_to}" if v.valid_to else "current"


# -- helpers ---------------------------------------------------------------------------------------------
def _doc_records(catalogue: Records, doc_id: str) -> Iterable[ChunkRecord]:
    by_version: Mapping[tuple[str, str], list[int]] | None = getattr(catalogue, "rows_by_version", None)
    if by_version is not None:
        for (doc, _version), rows in by_version.items():
            if doc == doc_id:
                yield from (catalogue.records[i] for i in rows)
        return
    yield from (r for r in catalogue.records if r.doc_id == doc_id)


__all__ = [
    "ArticleChange", "Comparison", "Hunk", "Note", "Provision", "Unit", "UnitChange", "Version", "VersionError",
    "amendment_notes", "compare", "comparison_text", "inline_diff", "kiwi_words", "pick_pair", "regex_words",
    "versions", "word_diff",
]
