"""``--fail-under METRIC=VALUE``: floors a run must meet, so CI can gate on the evaluation.

A floor is ``METRIC=VALUE`` (checked on the first, primary configuration) or
``CONFIG:METRIC=VALUE``. For a metric where lower is better (``LOWER_IS_BETTER``: false refusals,
wrong leads, latencies) the value is a ceiling instead: the run fails when it scores above it.
A metric that was not computed fails its floor: a gate that silently passes when the metric
vanished is no gate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Metrics a run should keep low; their ``--fail-under`` value is a ceiling.
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "wrong_lead", "wrong_lead_rate"})


def lower_is_better(metric: str) -> bool:
    return metric in LOWER_IS_BETTER or metric.endswith("_ms")


class FloorError(ValueError):
    """A ``--fail-under`` argument cannot be understood (usage error)."""


@dataclass(frozen=True)
class Floor:
    metric: str
    value: float
    config: str | None = None

    def __str__(self) -> str:
        return f"{self.config + ':' if self.config else ''}{self.metric}={self.value:g}"


def parse_floor(spec: str) -> Floor:
    left, sep, right = spec.partition("=")
    if not sep or not left.strip() or not right.strip():
        raise FloorError(f"--fail-under wants METRIC=VALUE or CONFIG:METRIC=VALUE, got {spec!r}")
    try:
        value = float(right)
    except ValueError as exc:
        raise FloorError(f"--fail-under {spec!r}: {right!r} is not a number") from exc
    config, colon, metric = left.strip().rpartition(":")
    return Floor(metric.strip(), value, config.strip() if colon else None)


def check_floors(
    floors: Sequence[Floor], summaries: Mapping[str, Mapping[str, Any]], primary: str
) -> list[str]:
    """Messages of the floors not met (empty = pass). Unknown configurations or metrics raise FloorError."""
    failures: list[str] = []
    for floor in floors:
        config = floor.config or primary
        if config not in summaries:
            raise FloorError(f"--fail-under {floor}: no configuration {config!r} (have {', '.join(summaries)})")
        summary = summaries[config]
        if floor.metric not in summary and not any(floor.metric in s for s in summaries.values()):
            known = sorted(k for k, v in summary.items() if isinstance(v, int | float) and not isinstance(v, bool))
            raise FloorError(f"--fail-under {floor}: unknown metric {floor.metric!r}; known: {', '.join(known)}")
        got = summary.get(floor.metric)
        if got is None:
            failures.append(f"{config}: {floor.metric} was not computed (floor {floor.value:g})")
        elif lower_is_better(floor.metric):
            if float(got) > floor.value:
                failures.append(f"{config}: {floor.metric} = {float(got):.3f} > {floor.value:g} (a ceiling)")
        elif float(got) < floor.value:
            failures.append(f"{config}: {floor.metric} = {float(got):.3f} < {floor.value:g}")
    return failures
