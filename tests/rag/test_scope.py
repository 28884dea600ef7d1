"""Jurisdictions a question names: the metadata's own names, short forms and the aliases data file."""

from __future__ import annotations

import pytest
from civicrag.rag.scope import Jurisdictions

VALUES = ["제주특별자치도", "City of Somerville, Massachusetts (US)", "District of Columbia (US)"]


@pytest.fixture(scope="module")
def jurisdictions() -> Jurisdictions:
    return Jurisdictions.build(VALUES)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("서귀포 예술의전당 휴관일은?", ("제주특별자치도",)),
        ("제주도에서 경차 주차요금 감면돼?", ("제주특별자치도",)),
        ("In Somerville, how long is the mayor's term?", ("city of somerville, massachusetts (us)",)),
        ("what does DC say about FOIA fees", ("district of columbia (us)",)),
        ("Under the D.C. Code, who appoints the board?", ("district of columbia (us)",)),
        ("What is the height limit in the NR district?", ()),  # a zoning district is not D.C.
        ("How long is the mayor's term?", ()),
        ("Somerville vs DC: who answers records requests faster?",
         ("city of somerville, massachusetts (us)", "district of columbia (us)")),
    ],
)
def test_named_jurisdictions(jurisdictions: Jurisdictions, question: str, expected: tuple[str, ...]) -> None:
    assert jurisdictions.named(question) == expected


def test_every_alias_entry_says_where_it_comes_from() -> None:
    import tomllib

    from civicrag.rag.scope import ALIASES_PATH

    entries = tomllib.loads(ALIASES_PATH.read_text(encoding="utf-8"))["alias"]
    assert entries and all(e.get("source", "").strip() and e.get("names") and e.get("jurisdiction") for e in entries)

