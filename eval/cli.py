"""The body of ``civicrag eval`` (registered in ``civicrag.cli``): sets in, reports and an exit status out.

Exit status: 0 all floors met, 1 a ``--fail-under`` floor was missed, 2 usage or configuration error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from civicrag.settings import ConfigError, Settings

EXIT_OK, EXIT_FLOOR, EXIT_USAGE = 0, 1, 2


def run_eval(
    sets: Sequence[Path],
    configs: Sequence[str],
    out: Path,
    base: Settings,
    corpus: Sequence[Path] = (),
    index_root: Path = Path("civicrag-data/eval-index"),
    compare_with: Path | None = None,
    fail_under: Sequence[str] = (),
    baseline: bool = True,
    limit: int | None = None,
    console: Console | None = None,
    show_progress: bool = True,
    split: str | None = None,
    include: Sequence[str] = (),
) -> int:
    """Run, write ``out/results.json``, ``report.md``, ``report.html``; return the exit status."""
    from civicrag.eval.compare import compare, load_results, merge_results
    from civicrag.eval.configs import BASELINE, load_configurations
    from civicrag.eval.gate import FloorError, check_floors, parse_floor
    from civicrag.eval.golden import GoldenError, load_sets
    from civicrag.eval.report import write_reports
    from civicrag.eval.runner import EvalPlan, run_plan

    console = console or Console(stderr=True)

    def fail(message: str) -> int:
        # Messages name files, set lines and settings tables ("[draft].jsonl", "[chroma] host"): text, not markup.
        console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
        return EXIT_USAGE

    try:
        floors = [parse_floor(f) for f in fail_under]
        items = load_sets(list(sets))
        chosen = load_configurations(list(configs))
    except (FloorError, ConfigError) as exc:
        return fail(str(exc))
    except GoldenError as exc:
        return fail(str(exc))
    missing = [str(p) for p in corpus if not Path(p).exists()]
    if missing:
        return fail(f"no such corpus path: {', '.join(missing)}")
    previous = None
    if compare_with is not None:
        try:
            previous = load_results(compare_with)
        except ValueError as exc:
            return fail(str(exc))
    if limit:
        items = items[:limit]
    if baseline and not corpus:
        console.print(f"note: no --corpus, so no {BASELINE} baseline (it needs the documents)", markup=False,
                      highlight=False)
    if split is not None and split not in ("train", "dev", "test"):
        return fail(f"--split must be train, dev or test, got {split!r}")
    included = []
    for spec in include:
        path, _, name = spec.partition(":")
        try:
            included.append((load_results(Path(path)), name))
        except (OSError, ValueError) as exc:
            return fail(f"--include {spec}: {exc}")
    plan = EvalPlan(
        items=items, configs=chosen, base=base, corpus=[Path(p) for p in corpus], index_root=index_root,
        baseline=baseline, sets=[str(s) for s in sets], split=split,
    )
    try:
        results = _run_with_progress(plan, console) if show_progress else run_plan(plan, log=_logger(console))
    except ConfigError as exc:
        return fail(str(exc))
    for other, name in included:
        try:
            merge_results(results, other, name or None)
        except ValueError as exc:
            return fail(f"--include: {exc}")
    if not results["configs"]:
        reasons = "; ".join(f"{s['name']}: {s['error']}" for s in results["skipped"])
        return fail(f"no configuration could run: {reasons}")
    comparison = compare(results, previous) if previous is not None else None
    paths = write_reports(results, out, comparison)
    _print_summary(results, console)
    console.print(f"wrote {paths['json']}, {paths['md']}, {paths['html']}", markup=False, highlight=False)
    summaries = {c["name"]: c["summary"] for c in results["configs"]}
    try:
        failures = check_floors(floors, summaries, chosen[0].name)
    except FloorError as exc:
        return fail(str(exc))
    for failure in failures:
        console.print(f"[red]below floor:[/red] {escape(failure)}", highlight=False)
    return EXIT_FLOOR if failures else EXIT_OK


def _logger(console: Console) -> Any:
    return lambda message: console.print(message, markup=False, highlight=False)  # paths, errors: plain text


def _run_with_progress(plan: Any, console: Console) -> dict[str, Any]:
    from civicrag.eval.runner import run_plan
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}", markup=False),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def on_progress(label: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=label)

        return run_plan(plan, progress=on_progress, log=lambda m: bar.console.print(m, markup=False, highlight=False))


def _print_summary(results: dict[str, Any], console: Console) -> None:
    from civicrag.eval.report import fmt
    from civicrag.eval.scoring import HEADLINE
    from rich.table import Table

    # Metrics as rows, configurations as columns: stays readable with many configurations.
    table = Table(title="evaluation (full tables in report.md)", show_lines=False)
    table.add_column("metric")
    for c in results["configs"]:
        table.add_column(escape(c["name"]), justify="right")  # a configuration's name is text
    for metric in [*HEADLINE, "latency_p95_ms"]:
        table.add_row(metric, *[fmt(c["summary"].get(metric), metric) for c in results["configs"]])
    console.print(table)
