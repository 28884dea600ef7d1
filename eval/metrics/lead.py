"""End-to-end correctness and wrong leads: what staff read first.

``e2e_correct`` (answerable questions): the answer is not a refusal, its *first* citation is a gold
provision, and every fact is in the answer. ``wrong_lead``: answered, but the first citation is not
gold (a confident answer from the wrong provision, the costliest mistake). Together with the
false-refusal rate they partition the answerable questions' outcomes: right, wrong lead, refused,
or right provision without the asked figure.
"""

from __future__ import annotations

from collections.abc import Sequence

Key = tuple[str, str]


def lead_scores(cited: Sequence[Key], gold: Sequence[Key], refused: bool, facts_missing: int) -> dict[str, bool]:
    lead_is_gold = bool(cited) and cited[0] in set(gold)
    return {
        "e2e_correct": (not refused) and lead_is_gold and facts_missing == 0,
        "wrong_lead": (not refused) and not lead_is_gold,
    }
