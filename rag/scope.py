"""Jurisdiction scope: which jurisdictions a question names, and how an answer is kept to one.

An index may hold several jurisdictions (a province and its cities; Somerville and D.C.). A
question that names one is about that one; a question that names none is answered from the
site's default scope (``answer.scope_jurisdiction``), or the user's, and the answer says which
jurisdiction it is from. Names come from the catalogue's own jurisdiction values and from
``rag/data/jurisdictions.toml`` (each alias with its source).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from civicrag.legal.language import HANGUL_SYLLABLES, has_hangul

ALIASES_PATH = Path(__file__).parent / "data" / "jurisdictions.toml"
_CITY_OF = re.compile(r"^(city|town|county|village|borough)\s+of\s+", re.I)


@dataclass(frozen=True)
class Jurisdictions:
    """Jurisdiction values of an index (casefolded) and the names that refer to each."""

    names: dict[str, tuple[str, ...]]  # jurisdiction (casefolded metadata value) -> names, casefolded

    @classmethod
    def build(cls, values: Iterable[str], aliases_path: Path = ALIASES_PATH) -> Jurisdictions:
        entries = tomllib.loads(aliases_path.read_text(encoding="utf-8")).get("alias", []) if aliases_path.exists() \
            else []
        names: dict[str, tuple[str, ...]] = {}
        for value in sorted({v for v in values if v and v.strip()}):
            own = {value.casefold()}
            base = re.sub(r"\s*\([^)]*\)\s*$", "", value).strip()
            own.add(base.casefold())
            short = _CITY_OF.sub("", base).split(",")[0].strip()
            if len(short) >= 2:
                own.add(short.casefold())
            for entry in entries:
                if str(entry.get("jurisdiction", "")).casefold() in value.casefold():
                    own.update(str(n).casefold() for n in entry.get("names", []))
            names[value.casefold()] = tuple(sorted(own, key=len, reverse=True))
        return cls(names)

    def named(self, question: str) -> tuple[str, ...]:
        """The jurisdictions (casefolded metadata values) the question names, in a stable order."""
        text = question.casefold()
        found = []
        for jurisdiction, names in self.names.items():
            if any(_mentions(text, name) for name in names):
                found.append(jurisdiction)
        return tuple(found)

    def __len__(self) -> int:
        return len(self.names)


def _mentions(text: str, name: str) -> bool:
    if has_hangul(name):
        # Korean names take particles ("제주도에서", "서귀포시는"): a prefix match at a word start will do.
        return re.search(rf"(^|[^{HANGUL_SYLLABLES}]){re.escape(name)}", text) is not None
    return re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", text) is not None
