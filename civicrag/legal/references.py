"""References from a Korean regulation to statutes and other regulations (상위법 links): pure functions, no I/O.

A provision cites what it rests on by name (「주차장법」 제12조, 「주차장법 시행령」 별표 1) or by a short name
the document defines once ("「주차장법」(이하 "법"이라 한다)" makes "법 제19조" a citation of 주차장법) or by
"같은 법 시행령" (the decree of the statute named just before). ``document_aliases`` reads a document's
definitions; ``extract`` reads one provision's text with them and returns its references, each resolved to a
full name, an article (제N조 / 제N조의M / 별표 N, "" for the whole regulation) and a kind:

- ``statute``: an Act (법률: …법, …에 관한 법률);
- ``decree``: a presidential decree (시행령, …규정);
- ``rule``: a ministerial rule (…법 시행규칙) or an administrative rule (지침, 고시, 기준 …);
- ``ordinance``: a local regulation (자치법규): a 조례, or a local government's 규칙.

Extraction is conservative: a short name that the document does not define (and that no convention
supplies) is left out rather than guessed, and so is a bare 법/영/조례 that names no article.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from civicrag.legal.grammar import CIRCLED

Kind = Literal["statute", "decree", "rule", "ordinance"]
KINDS: tuple[Kind, ...] = ("statute", "decree", "rule", "ordinance")

#: Korean names of the kinds, as staff say them.
KIND_LABELS_KO: dict[str, str] = {
    "statute": "법률", "decree": "대통령령", "rule": "부령·행정규칙", "ordinance": "자치법규",
}

_DOTS = "·ㆍ‧・•"
_QUOTE_OPEN = "“\"＂'‘「"
_QUOTE_CLOSE = "”\"＂'’」"
# (이하 "법"이라 한다), (이하 “영”이라 한다), (이하“조례”라 한다), (이하 ＂관리수탁자“라 한다)
_DEFINITION = re.compile(
    rf"\(\s*이하\s*[{_QUOTE_OPEN}]\s*(?P<alias>[^{_QUOTE_CLOSE}()]{{1,20}}?)\s*[{_QUOTE_CLOSE}]\s*(?:이)?라\s*한다\s*\)"
)
_BRACKETED = re.compile(r"「(?P<name>[^「」\n]{1,120})」")
# Name endings that make a phrase a regulation's name.
_REGULATION_END = re.compile(r"(?:법|법률|시행령|시행규칙|규정|규칙|조례|지침|고시|훈령|예규|기준|요령)$")
# A local government's name at the start of a regulation's name: its 규칙 is a local rule (자치법규).
_LOCAL_PREFIX = re.compile(
    r"^(?!도시\s)(?:[가-힣]+(?:특별시|광역시|특별자치시|특별자치도|도)|[가-힣]{2,}(?:시|군|구))(?:의회|교육청)?\s"
)
_ADMIN_RULE_END = re.compile(r"(?:지침|고시|훈령|예규|기준|요령|강령|헌장|종류)$")

# An article, a 별표, and what may follow an article (제1항, 제3호, 나목, 단서, 각 호 …).
_ARTICLE = re.compile(r"제\s*(?P<num>\d{1,4})\s*조(?!례)(?:\s*의\s*(?P<branch>\d{1,3}))?")
_APPENDIX = re.compile(r"별표\s*(?P<num>\d{1,3})(?:\s*의\s*(?P<branch>\d{1,2}))?")
_DETAIL = re.compile(
    r"(?:\s*제\s*\d{1,3}\s*(?:항|호)(?:\s*의\s*\d{1,2})?|\s*[가-하]\s*목|\s*(?:각\s*)?(?:호|목)|\s*(?:본문|단서|전단|후단)"
    r"|\s*[가-하]\d?\)|\s*\d\))+"
)
_SEPARATOR = re.compile(r"\s*(?:[,、" + _DOTS + r"]|및|또는|와|과|부터|내지)\s*")
_RANGE_END = re.compile(r"\s*까지")
# What may follow a short name used without an article ("법 및 영을 따른다", "법에 따른"): a particle, then no
# more of a word ("법인", "영업", "조례안" are other words).
_PARTICLE = r"(?:에\s*따른|에\s*따라|에\s*의한|에\s*의하여|에서|에|과|와|을|를|의|으로|로|상의|상)?(?=[\s,.)]|$)"
# How far back a bare alias may be preceded by a word that makes it this document ("이 법", "이 조례").
_SELF_WORDS = ("이", "본", "당해", "이하")
# Longest 제N조부터 제M조까지 range expanded article by article.
_MAX_RANGE = 30

# Words ending in 법 that are not statutes' names (방법 "method", 불법 "illegal" …), for names without brackets.
_NOT_STATUTE = re.compile(r"(?:방법|불법|위법|적법|편법|합법|문법|수법|기법|요법|해법|어법|용법|작법|논법|화법)$")
# A statute named without brackets directly before an article: 환경정책기본법 제12조, 도로법 제38조.
_BARE_STATUTE = re.compile(r"(?<![가-힣「」])(?P<name>[가-힣]{2,30}법)(?=\s*제\s*\d+\s*조(?!례))")


@dataclass(frozen=True, order=True)
class Reference:
    """One cited regulation (and article): ``Reference("주차장법", "statute", "제12조")``."""

    name: str
    kind: Kind
    article: str = ""  # 제N조, 제N조의M, 별표 N; "" when the regulation is cited as a whole

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "article": self.article}

    @property
    def label(self) -> str:
        """「주차장법」 제12조 — how an answer writes it."""
        return f"「{self.name}」 {self.article}".strip()


# -- names -----------------------------------------------------------------------------
def clean_name(name: str) -> str:
    """A regulation's name as written, with its spacing tidied (line breaks, double spaces, inner notes gone)."""
    name = re.sub(r"\(\s*이하[^)]*\)", "", name)  # 「… 조례(이하 "조례"라 한다)」
    return re.sub(r"\s+", " ", name).strip(" \t,")


def name_key(name: str) -> str:
    """What two spellings of one name share: no spaces, one kind of middle dot (「리ㆍ통」 = 「리·통」)."""
    return re.sub(rf"[\s{_DOTS}]", "", name).casefold()


def kind_of(name: str) -> Kind | None:
    """The kind of regulation a name is, or None when it names none (a plan, a committee)."""
    name = clean_name(name)
    if not name:
        return None
    if name.endswith("조례") or re.search(r"조례\s*시행규칙$", name):
        return "ordinance"
    if name.endswith("규칙") and _LOCAL_PREFIX.match(name) and not re.search(r"법\s*시행규칙$", name):
        return "ordinance"
    if name.endswith("시행령") or name.endswith("규정"):
        return "decree"
    if name.endswith("규칙"):
        return "rule"
    if name.endswith("법") or name.endswith("법률"):
        return "statute"
    if _ADMIN_RULE_END.search(name):
        return "rule"
    return None


def base_statute(name: str) -> str | None:
    """The Act a name belongs to: 「주차장법 시행령」 → 주차장법; an Act is its own; else None."""
    stripped = re.sub(r"\s*시행(?:령|규칙)$", "", name)
    return stripped if kind_of(stripped) == "statute" else None


def base_ordinance(name: str) -> str | None:
    """The 조례 a name belongs to: 「… 조례 시행규칙」 → 「… 조례」."""
    stripped = re.sub(r"\s*시행규칙$", "", name)
    return stripped if stripped.endswith("조례") else None


def law_url(name: str, kind: str) -> str:
    """The name's page on the national law information centre (법령, 자치법규 or 행정규칙), by name."""
    if kind == "ordinance":
        section = "자치법규"
    elif kind == "rule" and _ADMIN_RULE_END.search(name):
        section = "행정규칙"
    else:
        section = "법령"
    return f"https://www.law.go.kr/{quote(section)}/{quote(name.strip(), safe='')}"


# -- a document's short names --------------------------------------------------------------
class Aliases(dict[str, str]):
    """Short name -> full name; ``bare`` holds those that also stand for their regulation without an article.

    A short name the document defines ("법 및 영을 따른다") or the 조례 a 시행규칙 carries out does; one only
    inferred by convention (영 from 법) stands for it only before an article ("영 제6조").
    """

    def __init__(self, items: Mapping[str, str] | None = None, bare: Iterable[str] | None = None):
        super().__init__(items or {})
        self.bare = frozenset(self if bare is None else bare)


def definitions(text: str) -> dict[str, str]:
    """Short names the text defines for regulations: ``{"법": "주차장법", "영": "주차장법 시행령"}``.

    Read from "「name」(이하 "short"이라 한다)", "「name(이하 …)」" and, for a name written without brackets
    after a clause boundary, "name(이하 …)". A definition of something that is not a regulation
    ("도지사", "위원회") is not one; the first definition of a short name wins.
    """
    found: dict[str, str] = {}
    for m in _DEFINITION.finditer(text):
        alias = clean_name(m.group("alias"))
        name = _defined_name(text, m.start())
        if name and alias and alias not in found and kind_of(name):
            found[alias] = name
    return found


def _defined_name(text: str, at: int) -> str | None:
    """The regulation's name written just before ``at`` (where "(이하" starts), or None."""
    before = text[max(0, at - 160) : at]
    m = re.search(r"「([^「」]{1,120})」\s*$", before)
    if m:
        return clean_name(m.group(1))
    m = re.search(r"「([^「」]{1,120})$", before)  # 「… 조례(이하 "조례"라 한다)」: the definition inside
    if m:
        return clean_name(m.group(1))
    # No brackets (or a closing one only): the phrase back to a clause boundary, when it ends like a name.
    m = re.search(r"(?:^|[\n.,;:" + CIRCLED + r")\]>]|\d\.)\s*([가-힣0-9" + _DOTS + r" ]{2,100}?)」?\s*$", before)
    if not m:
        return None
    name = clean_name(m.group(1))
    # A clause that starts with its subject ("도지사는 …법 시행령(이하 …)") is not a name: names have no topic.
    if not _REGULATION_END.search(name) or any(re.search(r"[는은]$", w) for w in name.split()[:-1]):
        return None
    return name


def document_aliases(text: str, title: str = "") -> Aliases:
    """Every short name the document's provisions may use, resolved to a full name.

    The definitions (``definitions``), and the conventions a definition implies: with 법 defined, an
    undefined 영 / 시행령 is that Act's 시행령 and 시행규칙 its 시행규칙; 법 시행령 / 법시행령 / 법 시행규칙 are
    the Act's too. In a "… 조례 시행규칙" an undefined 조례 is the ordinance it carries out.
    """
    aliases = definitions(text)
    bare = set(aliases)
    act = aliases.get("법")
    if act and kind_of(act) == "statute":
        aliases.setdefault("영", f"{act} 시행령")
        aliases.setdefault("시행령", f"{act} 시행령")
        aliases.setdefault("시행규칙", f"{act} 시행규칙")
        for spaced in ("법 시행령", "법시행령"):
            aliases.setdefault(spaced, f"{act} 시행령")
        for spaced in ("법 시행규칙", "법시행규칙"):
            aliases.setdefault(spaced, f"{act} 시행규칙")
    parent = base_ordinance(clean_name(title)) if title.strip().endswith("시행규칙") else None
    if parent and "조례" not in aliases:
        aliases["조례"] = parent
        bare.add("조례")
    return Aliases(aliases, bare)


# -- a provision's references --------------------------------------------------------------
_SAME = re.compile(
    r"(?<![가-힣])(?P<each>각각\s*)?(?:같은\s*|동(?=법|영|조례|규칙))(?P<what>법률|법|영|조례|규칙)(?P<suffix>\s*시행(?:령|규칙))?"
    r"(?=[^가-힣]|$|에|의|과|와|을|를|이|은|는|으로|로)"
)


@dataclass
class _Hit:
    start: int
    end: int
    names: list[str]  # more than one for "각각 같은 법 시행령"
    acts: list[str] = field(default_factory=list)  # the Acts "각각" distributed over


def extract(
    text: str, aliases: Mapping[str, str] | None = None, title: str = "", preceding: str = ""
) -> list[Reference]:
    """The references of one provision's ``text``, in order of first mention, each (name, article) once.

    ``aliases`` are the document's short names (``document_aliases``); ``title`` is the document's own title
    (references to itself are left out); ``preceding`` is the provision's text before ``text`` when a long
    provision was cut into chunks, so "같은 법" at the top of a later chunk finds its Act.
    """
    aliases = aliases if aliases is not None else {}
    full = preceding + text
    own = name_key(title) if title else ""
    hits = _hits(full, aliases)
    out: list[Reference] = []
    seen: set[tuple[str, str]] = set()
    for hit in hits:
        articles = _articles_after(full, hit.end)
        if hit.start < len(preceding):
            continue
        for name in hit.names:
            kind = kind_of(name)
            if kind is None or (own and name_key(name) == own):
                continue
            for article in articles or [""]:
                key = (name_key(name), article)
                if key not in seen:
                    seen.add(key)
                    out.append(Reference(name, kind, article))
    # "「주차장법」(이하 "법"이라 한다) … 법 제12조": the article says more than the bare name.
    with_article = {name_key(r.name) for r in out if r.article}
    return [r for r in out if r.article or name_key(r.name) not in with_article]


def _hits(text: str, aliases: Mapping[str, str]) -> list[_Hit]:
    """Every mention of a regulation in ``text``, in order, with "같은 법" resolved against those before it."""
    spans: list[tuple[int, int, str, str]] = []  # start, end, form, value
    taken = [False] * (len(text) + 1)

    def claim(start: int, end: int) -> bool:
        if any(taken[start:end]):
            return False
        for i in range(start, end):
            taken[i] = True
        return True

    for m in _BRACKETED.finditer(text):
        name = clean_name(m.group("name"))
        if claim(m.start(), m.end()):
            spans.append((m.start(), m.end(), "name", name))
    for m in _DEFINITION.finditer(text):
        # "감염병의 … 법률 시행령(이하 "법시행령"이라 한다) 제1조의2": a name defined without brackets (one in
        # brackets is taken already, and claiming it again fails).
        name = _defined_name(text, m.start())
        if name and kind_of(name):
            start = text.rfind(name, max(0, m.start() - 160), m.start())
            if start >= 0 and claim(start, m.start()):
                spans.append((start, m.start(), "name", name))
    for m in _SAME.finditer(text):
        if claim(m.start(), m.end()):
            spans.append((m.start(), m.end(), "same", m.group(0)))
    if aliases:
        bare = getattr(aliases, "bare", frozenset(aliases))
        alternatives = "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
        alias_re = re.compile(
            rf"(?<![가-힣「])(?P<alias>{alternatives})(?:(?P<article>(?=\s*(?:제\s*\d+\s*조(?!례)|별표\s*\d)))|{_PARTICLE})"
        )
        for m in alias_re.finditer(text):
            if _after_self_word(text, m.start()):
                continue
            if m.group("article") is None and not (m.group("alias") in bare and _stands_alone(text, m)):
                continue
            if claim(m.start(), m.end()):
                spans.append((m.start(), m.end(), "alias", aliases[m.group("alias")]))
    for m in _BARE_STATUTE.finditer(text):
        name = m.group("name")
        if name in aliases or _NOT_STATUTE.search(name) or len(name) < 3:
            continue
        if claim(m.start(), m.end()):
            spans.append((m.start(), m.end(), "name", name))
    spans.sort()
    hits: list[_Hit] = []
    mentioned: list[str] = []  # names in order, for 같은 법 / 같은 조례
    each: _Hit | None = None  # the last "각각 같은 법 …", which the next "및 같은 법 …" continues
    for start, end, form, value in spans:
        if form == "same":
            m = _SAME.match(value)
            assert m is not None
            if each is not None and not m.group("each") and _SEPARATOR.fullmatch(text[each.end : start]):
                # "각각 같은 법 시행령 및 같은 법 시행규칙": the second is each Act's too.
                m = _SAME.match("각각 " + value)
                assert m is not None
                names = _resolve_same(m, each.acts, text, each.start)
            else:
                names = _resolve_same(m, mentioned, text, start)
            if not names:
                continue
            hit = _Hit(start, end, names)
            if m.group("each"):
                hit.acts = [b for b in (base_statute(n) for n in names) if b]
                each = hit
            else:
                each = None
        else:
            hit = _Hit(start, end, [value])
            each = None
        hits.append(hit)
        mentioned.extend(hit.names)
    return hits


def _resolve_same(m: re.Match[str], mentioned: list[str], text: str, start: int) -> list[str]:
    """"같은 법 시행령" → the last Act mentioned + " 시행령"; "각각 같은 법 …" → each Act of the clause."""
    what, suffix = m.group("what"), re.sub(r"\s+", "", m.group("suffix") or "")
    suffix = f" {suffix}" if suffix else ""
    if what in ("법", "법률"):
        bases = [b for b in (base_statute(n) for n in reversed(mentioned)) if b]
        if not bases:
            return []
        if m.group("each"):
            # "「폐기물관리법」 및 「자원의 … 법률」, 각각 같은 법 시행령": every Act named on the line so far.
            line = text[text.rfind("\n", 0, start) + 1 : start]
            named = [b for b in bases if b in line]
            chosen = list(dict.fromkeys(reversed(named))) or bases[:1]
        else:
            chosen = bases[:1]
        return [f"{b}{suffix}" for b in chosen]
    if what == "조례":
        bases = [b for b in (base_ordinance(n) for n in reversed(mentioned)) if b]
        return [f"{bases[0]}{suffix}"] if bases else []
    wanted = {"영": "decree", "규칙": "rule"}[what]
    for name in reversed(mentioned):
        if kind_of(name) == wanted:
            return [name]
    return []


def _stands_alone(text: str, m: re.Match[str]) -> bool:
    """A short name used without an article is one only where a word ends before it and none goes on after it:
    not the tail of a longer name ("… 관리 조례 시행규칙"), nor an article's title ("제38조(시행규칙)")."""
    before = text[: m.start()].rstrip(" ")
    after = text[m.end() :].lstrip(" ")
    if before.endswith("(") and after.startswith(")"):
        return False
    if re.match(r"시행(?:령|규칙)", after):
        return False
    word = re.search(r"([가-힣]+)$", before)
    return word is None or bool(re.search(r"(?:[는은이가을를에의서고며와과도로나면]|및|또는)$", word.group(1)))


def _after_self_word(text: str, start: int) -> bool:
    """"이 법 제3조", "이 조례 제5조": the document itself, not a short name."""
    before = text[max(0, start - 4) : start].rstrip()
    return any(before.endswith(w) and (len(before) == len(w) or not re.match(r"[가-힣]", before[-len(w) - 1]))
               for w in _SELF_WORDS)


def _articles_after(text: str, pos: int) -> list[str]:
    """The articles cited right after a name: "제7조제1항 및 제12조", "제4조부터 제6조까지", "별표 1"."""
    out: list[str] = []
    definition = _DEFINITION.match(text, pos + len(text[pos:]) - len(text[pos:].lstrip()))
    i = definition.end() if definition else pos  # 「주차장법 시행령」(이하 "영"이라 한다) 별표 1
    first = True
    while True:
        gap = re.match(r"\s*", text[i:])
        j = i + (gap.end() if gap else 0)
        if not first:
            sep = _SEPARATOR.match(text, i)
            if not sep:
                break
            j = sep.end()
        m = _ARTICLE.match(text, j) or _APPENDIX.match(text, j)
        if not m:
            if not first:
                detail = _DETAIL.match(text, j)  # "제4조제1항 및 제2항": a paragraph of the same article
                if detail and detail.group(0).strip().startswith("제"):
                    i = detail.end()
                    continue
            break
        label = _label(m)
        detail = _DETAIL.match(text, m.end())
        end = detail.end() if detail else m.end()
        between = text[i:j].strip()
        if out and (between == "내지" or (between == "부터" and _RANGE_END.match(text, end))):
            out.extend(_range(out[-1], label))
        out.append(label)
        i = end
        first = False
    return list(dict.fromkeys(out))


def _label(m: re.Match[str]) -> str:
    num, branch = int(m.group("num")), m.group("branch")
    if m.re is _APPENDIX:
        return f"별표 {num}" + (f"의{int(branch)}" if branch else "")
    return f"제{num}조" + (f"의{int(branch)}" if branch else "")


def _range(first: str, last: str) -> list[str]:
    """Articles strictly between two whole-article labels of one range (제4조부터 제6조까지 → 제5조)."""
    a, b = re.fullmatch(r"제(\d+)조", first), re.fullmatch(r"제(\d+)조", last)
    if not a or not b:
        return []
    lo, hi = int(a.group(1)), int(b.group(1))
    if not 0 < hi - lo <= _MAX_RANGE:
        return []
    return [f"제{n}조" for n in range(lo + 1, hi)]


# -- metadata --------------------------------------------------------------------------------
def to_json(refs: Iterable[Reference]) -> str:
    """The chunk metadata value (Chroma takes scalars only): a compact JSON list."""
    return json.dumps([r.to_dict() for r in refs], ensure_ascii=False, separators=(",", ":"))


def from_json(value: object) -> list[Reference]:
    """References back from chunk metadata; malformed or missing values give none."""
    if not value:
        return []
    try:
        items = json.loads(str(value))
    except ValueError:
        return []
    out: list[Reference] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get("name") and item.get("kind") in KINDS:
            out.append(Reference(str(item["name"]), item["kind"], str(item.get("article", "") or "")))
    return out
