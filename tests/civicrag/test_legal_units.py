"""``civicrag.legal.units.split_units``: a provision's 항 and 호 as units, each 호 under its lead-in."""

from __future__ import annotations

from civicrag.legal.units import split_units


def test_units_keep_items_under_their_lead_in() -> None:
    units = split_units("제7조(감면)\n① 다음 각 호의 자동차는 감면한다.\n1. 경차\n2. 전기자동차\n② 장애인은 면제한다.")
    assert [u.label for u in units] == ["①", "1.", "2.", "②"]
    assert [(u.parent, u.children) for u in units] == [(None, (1, 2)), (0, ()), (0, ()), (None, ())]
