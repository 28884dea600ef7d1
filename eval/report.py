"""``results.json``, ``report.md`` and a self-contained ``report.html`` (inline SVG plots, no scripts).

The plots are drawn as SVG by hand: a few bar charts and a heat map do not justify a plotting
dependency, and SVG text stays sharp and searchable in the HTML.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from civicrag.eval.scoring import HEADLINE, LOWER_IS_BETTER

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
SUMMARY_ORDER = (
    *HEADLINE, "article_hit@3", "article_hit@10", "article_ndcg@10", "article_recall@10", "doc_hit@1",
    "doc_hit@10", "doc_mrr@10", "doc_ndcg@10", "citation_f1", "citation_doc_precision", "citation_doc_recall",
    "refusal_precision", "refusal_recall", "false_refusal_rate", "latency_p50_ms", "latency_p95_ms",
    "retrieve_p50_ms", "retrieve_p95_ms", "faithfulness_advisory", "questions", "answerable", "errors",
)
WORST_SHOWN = 15


def write_reports(results: dict[str, Any], out: Path, comparison: dict[str, Any] | None = None) -> dict[str, Path]:
    """``results.json.gz`` (everything, compressed: it runs to megabytes), ``questions.tsv`` (one line per question
    and configuration: what a reviewer diffs between runs), ``report.md`` and ``report.html``."""
    import gzip

    out.mkdir(parents=True, exist_ok=True)
    if comparison is not None:
        results = {**results, "comparison": comparison}
    paths = {"json": out / "results.json.gz", "tsv": out / "questions.tsv", "md": out / "report.md",
             "html": out / "report.html"}
    stale = out / "results.json"  # written by earlier releases, uncompressed
    stale.unlink(missing_ok=True)
    data = (json.dumps(results, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    # mtime=0: the same results give the same bytes, so an unchanged run is no change in git.
    paths["json"].write_bytes(gzip.compress(data, mtime=0))
    paths["tsv"].write_text(render_tsv(results), encoding="utf-8")
    paths["md"].write_text(render_markdown(results), encoding="utf-8")
    paths["html"].write_text(render_html(results), encoding="utf-8")
    return paths


def render_tsv(results: Mapping[str, Any]) -> str:
    """One line per (configuration, question): verdicts and the first citation, sorted for stable diffs."""
    header = ["config", "id", "split", "lang", "answerable", "refused", "e2e_correct", "correct", "hit@1",
              "first_cited", "gold"]
    lines = ["\t".join(header)]
    for q in sorted(results["questions"], key=lambda q: (q["config"], q["id"])):
        m = q["metrics"]
        cited = q.get("cited") or []
        lines.append("\t".join([
            q["config"], q["id"], q.get("split", ""), q["lang"], fmt(q["answerable"]), fmt(bool(q.get("refused"))),
            fmt(m.get("e2e_correct")), fmt(m.get("correct")), fmt(m.get("article_hit@1")),
            f"{cited[0]['doc_id']} {cited[0]['article']}" if cited else "", _gold_text(q),
        ]))
    return "\n".join(lines) + "\n"


# -- shared pieces -----------------------------------------------------------------------------

def fmt(value: Any, metric: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.0f}" if metric.endswith("_ms") else f"{value:.3f}"
    return str(value)


def summary_metrics(results: Mapping[str, Any]) -> list[str]:
    present: set[str] = set()
    for c in results["configs"]:
        present.update(k for k, v in c["summary"].items() if v is not None)
    ordered = [m for m in SUMMARY_ORDER if m in present]
    return ordered + sorted(present - set(ordered))


def worst_questions(results: Mapping[str, Any], config: str, n: int = WORST_SHOWN) -> list[dict[str, Any]]:
    """The configuration's failures, worst first: wrong refusal decisions and misses before partial answers."""
    runs = [q for q in results["questions"] if q["config"] == config and not q["metrics"].get("correct")]

    def badness(q: dict[str, Any]) -> tuple[float, float, float, str]:
        m = q["metrics"]
        return (
            m.get("article_mrr@10") or 0.0 if q["answerable"] else 0.0,
            m.get("citation_recall") or 0.0 if q["answerable"] else 0.0,
            m.get("fact_recall") if m.get("fact_recall") is not None else 1.0,
            q["id"],
        )

    return sorted(runs, key=badness)[:n]


def _delta_text(metric: str, delta: float) -> str:
    better = delta < 0 if metric in LOWER_IS_BETTER else delta > 0
    sign = "+" if delta > 0 else ""
    if abs(delta) < 1e-9:
        return "±0"
    if metric in ("questions", "answerable"):  # counts: neither better nor worse
        return f"{sign}{delta:.0f}"
    mark = "▲" if better else "▼"
    return f"{mark} {sign}{delta:.0f}" if metric.endswith("_ms") else f"{mark} {sign}{delta:.3f}"


def _gold_text(q: Mapping[str, Any]) -> str:
    return "; ".join(f"{g['doc_id']} {g['article']}" for g in q["gold"]) or "(none: unanswerable)"


def _top_text(entries: Sequence[Mapping[str, Any]], n: int = 3) -> str:
    return "; ".join(f"{e['doc_id']} {e['article']}".strip() for e in entries[:n]) or "(nothing)"


def _verdict(q: Mapping[str, Any]) -> str:
    if q.get("error"):
        return f"error: {q['error']}"
    if not q["answerable"]:
        return "answered an unanswerable question" if not q["refused"] else "ok"
    if q["refused"]:
        return "refused an answerable question"
    parts = []
    if not q["metrics"].get("citation_recall"):
        parts.append("no gold provision cited")
    if q.get("facts_missing"):
        parts.append("missing facts: " + ", ".join(q["facts_missing"]))
    return "; ".join(parts) or "ok"


# -- markdown ----------------------------------------------------------------------------------

def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(results: Mapping[str, Any]) -> str:
    configs = results["configs"]
    names = [c["name"] for c in configs]
    out = [
        "# civicrag evaluation report",
        "",
        f"Run {results['started']} · {results['questions_total']} questions from {', '.join(results['sets'])} · "
        f"{len(configs)} configurations · {results['seconds']} s. "
        f"Corpus: {', '.join(results['corpus']) or '(existing index)'}.",
        "",
        "Retrieval and citation metrics are over answerable questions; refusal metrics treat *refused* as the "
        "positive class and *unanswerable* as the truth; `e2e_correct` (answerable) = not refused, the *first* "
        "citation is gold and every fact is in the answer; `wrong_lead` (answerable) = answered from a provision "
        "that is not gold; `correct` = answerable: not refused, a gold provision cited and every fact present / "
        "unanswerable: refused. Split: " + str(results.get("split", "all")) + ". Article labels are normalised "
        "(`제7조의 6` = `제7조의6`, `2-537` = `§ 2-537`; `SECTION 3-1` ≠ `Sec. 3-1`).",
        "",
        "## Configurations",
        "",
        _md_table(["name", "what", "overrides", "index"], [
            [c["name"], c.get("description", ""), json.dumps(c.get("overrides", {}), ensure_ascii=False),
             c.get("index", "")] for c in configs
        ]),
        "",
    ]
    for skipped in results.get("skipped", []):
        out += [f"Skipped configuration **{skipped['name']}**: {skipped['error']}", ""]
    out += ["## Summary", ""]
    metrics = summary_metrics(results)
    out.append(_md_table(["metric", *names], [
        [m, *[fmt(c["summary"].get(m), m) for c in configs]] for m in metrics
    ]))
    if any("faithfulness_advisory" in c["summary"] for c in configs):
        out += ["", "_faithfulness_advisory is judged by an LLM: advisory, never a gate._"]
    # Headline metrics per language: the goals are stated per set (Korean above all), and a summary over
    # both languages hides a weak one.
    for lang in sorted({g for c in configs for g in c["by_lang"]}):
        n = configs[0]["by_lang"].get(lang, {}).get("questions", "")
        out += ["", f"## Language `{lang}` ({n} questions)", ""]
        out.append(_md_table(["metric", *names], [
            [m, *[fmt(c["by_lang"].get(lang, {}).get(m), m) for c in configs]] for m in (*HEADLINE, "latency_p95_ms")
        ]))
    splits = sorted({g for c in configs for g in c.get("by_split", {}) if g})
    if len(splits) > 1 or (splits and splits[0] != "test"):
        for split in splits:
            n = configs[0].get("by_split", {}).get(split, {}).get("questions", "")
            out += ["", f"## Split `{split}` ({n} questions)", ""]
            out.append(_md_table(["metric", *names], [
                [m, *[fmt(c.get("by_split", {}).get(split, {}).get(m), m) for c in configs]]
                for m in (*HEADLINE, "latency_p95_ms")
            ]))
    for field, title in (
        ("by_tag", "By tag: article_hit@5 / correct"), ("by_lang", "By language: article_hit@5 / correct"),
    ):
        groups = sorted({g for c in configs for g in c[field]})
        out += ["", f"## {title}", ""]
        out.append(_md_table(["group", "n", *names], [
            [g, str(configs[0][field].get(g, {}).get("questions", "")),
             *[f"{fmt(c[field].get(g, {}).get('article_hit@5'))} / {fmt(c[field].get(g, {}).get('correct'))}"
               for c in configs]]
            for g in groups
        ]))
    primary = names[0]
    out += ["", f"## Worst questions ({primary})", ""]
    worst = worst_questions(results, primary)
    out.append(_md_table(["id", "question", "gold", "retrieved instead (top 3)", "cited", "verdict"], [
        [q["id"], q["question"], _gold_text(q), _top_text(q["retrieved"]), _top_text(q["cited"]), _verdict(q)]
        for q in worst
    ]) if worst else "None: every question is correct.")
    comparison = results.get("comparison")
    if comparison:
        out += ["", f"## Compared with the run of {comparison.get('previous_started', '?')}", ""]
        for name, table in comparison["deltas"].items():
            out += [f"### {name}", ""]
            out.append(_md_table(["metric", "previous", "current", "delta"], [
                [m, fmt(v["previous"], m), fmt(v["current"], m), _delta_text(m, v["delta"])]
                for m, v in table.items() if m in SUMMARY_ORDER
            ]))
            out.append("")
        flipped = comparison["flipped"]
        out += [f"### Flipped questions ({len(flipped)})", ""]
        out.append(_md_table(["config", "id", "metric", "was → now", "question", "top 3 before", "top 3 now"], [
            [f["config"], f["id"], f["metric"], f"{fmt(f['previous'])} → {fmt(f['current'])}", f["question"],
             "; ".join(f["previous_top"]), "; ".join(f["current_top"])] for f in flipped
        ]) if flipped else "None.")
    out.append("")
    return "\n".join(out)


# -- SVG plots -----------------------------------------------------------------------------------

def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def svg_grouped_bars(metrics: Sequence[str], series: Mapping[str, Mapping[str, Any]], title: str) -> str:
    """Horizontal bars in [0, 1]: one group per metric, one bar per series (configuration)."""
    names = list(series)
    bar_h, gap, label_w, plot_w = 11, 10, 150, 420
    group_h = bar_h * len(names) + gap
    legend_h = 18 * math.ceil(len(names) / 3)
    height = 30 + legend_h + group_h * len(metrics) + 20
    width = label_w + plot_w + 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{_e(title)}" font-family="sans-serif" font-size="11">',
             f'<text x="0" y="14" font-size="13" font-weight="bold">{_e(title)}</text>']
    for i, name in enumerate(names):
        x, y = (i % 3) * 210, 28 + (i // 3) * 18
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{y}">{_e(name)}</text>')
    top = 30 + legend_h
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + tick * plot_w
        parts.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{height - 18}" stroke="#ddd"/>'
                     f'<text x="{x}" y="{height - 5}" text-anchor="middle" fill="#666">{tick:g}</text>')
    for g, metric in enumerate(metrics):
        y0 = top + g * group_h
        parts.append(f'<text x="{label_w - 6}" y="{y0 + group_h / 2}" text-anchor="end">{_e(metric)}</text>')
        for i, name in enumerate(names):
            value = series[name].get(metric)
            y = y0 + i * bar_h
            if value is None:
                parts.append(f'<text x="{label_w + 3}" y="{y + bar_h - 2}" fill="#999" font-size="9">n/a</text>')
                continue
            w = max(0.0, min(1.0, float(value))) * plot_w
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 1}" '
                         f'fill="{PALETTE[i % len(PALETTE)]}"><title>{_e(name)} {_e(metric)} = {float(value):.3f}'
                         f'</title></rect><text x="{label_w + w + 3:.1f}" y="{y + bar_h - 2}" font-size="9">'
                         f'{float(value):.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _heat(value: float | None) -> str:
    if value is None:
        return "#eeeeee"
    v = max(0.0, min(1.0, value))
    # red (0) → yellow (0.5) → green (1)
    r = int(215 if v < 0.5 else 215 - (v - 0.5) * 2 * 170)
    g = int(60 + v * 2 * 130 if v < 0.5 else 190)
    return f"rgb({r},{g},80)"


def svg_heatmap(rows: Sequence[str], cols: Sequence[str], values: Mapping[tuple[str, str], float | None],
                counts: Mapping[str, int], title: str) -> str:
    cell_w, cell_h, label_w, head_h = 92, 20, 170, 80
    # Room on the right for the last rotated column label.
    width, height = label_w + cell_w * len(cols) + 70, head_h + cell_h * len(rows) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{_e(title)}" font-family="sans-serif" font-size="11">',
             f'<text x="0" y="14" font-size="13" font-weight="bold">{_e(title)}</text>']
    for j, col in enumerate(cols):
        x = label_w + j * cell_w + cell_w / 2
        parts.append(f'<text transform="translate({x},{head_h - 6}) rotate(-30)" font-size="10">{_e(col)}</text>')
    for i, row in enumerate(rows):
        y = head_h + i * cell_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_e(row)} '
                     f'(n={counts.get(row, 0)})</text>')
        for j, col in enumerate(cols):
            v = values.get((row, col))
            x = label_w + j * cell_w
            parts.append(f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{_heat(v)}">'
                         f'<title>{_e(row)} / {_e(col)}: {fmt(v)}</title></rect>'
                         f'<text x="{x + cell_w / 2 - 1}" y="{y + 13}" text-anchor="middle">{fmt(v)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_latency(samples: Mapping[str, Sequence[float]], title: str) -> str:
    """Per configuration: every question as a dot, a box from p25 to p75, whiskers to p5/p95, median line."""
    from civicrag.eval.metrics.base import percentile

    names = list(samples)
    label_w, plot_w, row_h = 150, 460, 26
    every = [v for vs in samples.values() for v in vs]
    hi = max(percentile(every, 99) or 1.0, 1.0)
    width, height = label_w + plot_w + 40, 40 + row_h * len(names) + 24

    def x(v: float) -> float:
        return label_w + min(v, hi) / hi * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{_e(title)}" font-family="sans-serif" font-size="11">',
             f'<text x="0" y="14" font-size="13" font-weight="bold">{_e(title)}</text>']
    for t in range(5):
        v = hi * t / 4
        parts.append(f'<line x1="{x(v):.1f}" y1="30" x2="{x(v):.1f}" y2="{height - 20}" stroke="#ddd"/>'
                     f'<text x="{x(v):.1f}" y="{height - 6}" text-anchor="middle" fill="#666">{v:.0f} ms</text>')
    for i, name in enumerate(names):
        vs = list(samples[name])
        cy = 40 + i * row_h + row_h / 2
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<text x="{label_w - 6}" y="{cy + 4}" text-anchor="end">{_e(name)}</text>')
        if not vs:
            continue
        p5, p25, p50, p75, p95 = (percentile(vs, q) or 0.0 for q in (5, 25, 50, 75, 95))
        for k, v in enumerate(vs):
            jitter = ((k * 7919) % 11 - 5) * 1.2
            parts.append(f'<circle cx="{x(v):.1f}" cy="{cy + jitter:.1f}" r="1.6" fill="{color}" opacity="0.35"/>')
        parts.append(f'<line x1="{x(p5):.1f}" y1="{cy}" x2="{x(p95):.1f}" y2="{cy}" stroke="{color}"/>'
                     f'<rect x="{x(p25):.1f}" y="{cy - 7}" width="{max(1.0, x(p75) - x(p25)):.1f}" height="14" '
                     f'fill="none" stroke="{color}" stroke-width="1.5"/>'
                     f'<line x1="{x(p50):.1f}" y1="{cy - 8}" x2="{x(p50):.1f}" y2="{cy + 8}" stroke="black" '
                     f'stroke-width="2"><title>{_e(name)}: p50 {p50:.0f} ms, p95 {p95:.0f} ms</title></line>')
    parts.append("</svg>")
    return "".join(parts)


# -- HTML ----------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.n{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#1a7f37}.down{color:#c62828} .plots svg{margin:0 1.5em 1.5em 0;vertical-align:top}
details{margin:.3em 0} code{background:#f6f6f6;padding:0 3px}
"""


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="n">{c}</td>' if j >= numeric_from else f"<td>{c}</td>" for j, c in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(results: Mapping[str, Any]) -> str:
    configs = results["configs"]
    names = [c["name"] for c in configs]
    metrics = summary_metrics(results)
    body: list[str] = [
        "<h1>civicrag evaluation report</h1>",
        f"<p>Run {_e(results['started'])} · {results['questions_total']} questions from "
        f"{_e(', '.join(results['sets']))} · {len(configs)} configurations · {results['seconds']} s · corpus "
        f"{_e(', '.join(results['corpus']) or '(existing index)')}.</p>",
        "<p>Retrieval and citation metrics are over answerable questions; refusal metrics treat <i>refused</i> as "
        "the positive class; <code>correct</code> = answerable: not refused, a gold provision cited and every fact "
        "present / unanswerable: refused. Article labels are normalised (<code>제7조의 6</code> = "
        "<code>제7조의6</code>, <code>2-537</code> = <code>§ 2-537</code>; <code>SECTION 3-1</code> ≠ "
        "<code>Sec. 3-1</code>).</p>",
        "<h2>Configurations</h2>",
        _html_table(["name", "what", "overrides", "index"], [
            [_e(c["name"]), _e(c.get("description", "")), f"<code>{_e(json.dumps(c.get('overrides', {})))}</code>",
             _e(c.get("index", ""))] for c in configs
        ], numeric_from=99),
        *[f"<p>Skipped configuration <b>{_e(sk['name'])}</b>: {_e(sk['error'])}</p>"
          for sk in results.get("skipped", [])],
        "<h2>Plots</h2><div class='plots'>",
        svg_grouped_bars([m for m in HEADLINE if m in metrics], {c["name"]: c["summary"] for c in configs},
                         "Headline metrics per configuration"),
    ]
    tags = sorted({t for c in configs for t in c["by_tag"]})
    counts = {t: configs[0]["by_tag"].get(t, {}).get("questions", 0) for t in tags}
    for metric in ("article_hit@5", "correct"):
        body.append(svg_heatmap(tags, names, {(t, c["name"]): c["by_tag"].get(t, {}).get(metric) for t in tags
                                              for c in configs}, counts, f"{metric} per tag"))
    samples = {c["name"]: [q["timings_ms"].get("total", 0.0) for q in results["questions"] if q["config"] == c["name"]]
               for c in configs}
    body.append(svg_latency(samples, "Latency per question (total; box p25–p75, whiskers p5–p95)"))
    body.append("</div>")
    body.append("<h2>Summary</h2>")
    body.append(_html_table(["metric", *names], [
        [_e(m), *[_e(fmt(c["summary"].get(m), m)) for c in configs]] for m in metrics
    ]))
    if any("faithfulness_advisory" in c["summary"] for c in configs):
        body.append("<p><i>faithfulness_advisory is judged by an LLM: advisory, never a gate.</i></p>")
    langs = sorted({g for c in configs for g in c["by_lang"]})
    for lang in langs:
        n = configs[0]["by_lang"].get(lang, {}).get("questions", "")
        body.append(f"<h2>Language <code>{_e(lang)}</code> ({_e(str(n))} questions)</h2>")
        body.append(_html_table(["metric", *names], [
            [_e(m), *[_e(fmt(c["by_lang"].get(lang, {}).get(m), m)) for c in configs]]
            for m in (*HEADLINE, "latency_p95_ms")
        ]))
    body.append("<h2>By language (article_hit@5 / correct)</h2>")
    body.append(_html_table(["language", "n", *names], [
        [_e(g), str(configs[0]["by_lang"].get(g, {}).get("questions", "")),
         *[_e(f"{fmt(c['by_lang'].get(g, {}).get('article_hit@5'))} / {fmt(c['by_lang'].get(g, {}).get('correct'))}")
           for c in configs]] for g in langs
    ]))
    primary = names[0]
    body.append(f"<h2>Worst questions ({_e(primary)})</h2>")
    worst = worst_questions(results, primary)
    if worst:
        body.append(_html_table(["id", "question", "gold", "retrieved instead (top 3)", "cited", "verdict", "answer"], [
            [_e(q["id"]), _e(q["question"]), _e(_gold_text(q)), _e(_top_text(q["retrieved"])),
             _e(_top_text(q["cited"])), _e(_verdict(q)),
             f"<details><summary>answer</summary>{_e(q['answer'][:1500])}</details>"]
            for q in worst
        ], numeric_from=99))
    else:
        body.append("<p>None: every question is correct.</p>")
    comparison = results.get("comparison")
    if comparison:
        body.append(f"<h2>Compared with the run of {_e(comparison.get('previous_started', '?'))}</h2>")
        for name, table in comparison["deltas"].items():
            body.append(f"<h3>{_e(name)}</h3>")
            rows = []
            for m, v in table.items():
                if m not in SUMMARY_ORDER:
                    continue
                text = _delta_text(m, v["delta"])
                cls = "up" if text.startswith("▲") else "down" if text.startswith("▼") else ""
                rows.append([_e(m), _e(fmt(v["previous"], m)), _e(fmt(v["current"], m)),
                             f'<span class="{cls}">{_e(text)}</span>'])
            body.append(_html_table(["metric", "previous", "current", "delta"], rows))
        flipped = comparison["flipped"]
        body.append(f"<h3>Flipped questions ({len(flipped)})</h3>")
        body.append(_html_table(["config", "id", "metric", "was → now", "question", "top 3 before", "top 3 now"], [
            [_e(f["config"]), _e(f["id"]), _e(f["metric"]), _e(f"{fmt(f['previous'])} → {fmt(f['current'])}"),
             _e(f["question"]), _e("; ".join(f["previous_top"])), _e("; ".join(f["current_top"]))] for f in flipped
        ], numeric_from=99) if flipped else "<p>None.</p>")
    body.append("<h2>Every question</h2>")
    for name in names:
        runs = [q for q in results["questions"] if q["config"] == name]
        rows = [[_e(q["id"]), "✔" if q["metrics"].get("correct") else "✘", _e(q["question"]), _e(_gold_text(q)),
                 _e(_top_text(q["retrieved"])), _e(_top_text(q["cited"])), _e(_verdict(q))] for q in runs]
        body.append(f"<details><summary>{_e(name)} ({len(runs)})</summary>"
                    + _html_table(["id", "ok", "question", "gold", "retrieved (top 3)", "cited", "verdict"], rows,
                                  numeric_from=99) + "</details>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>civicrag evaluation</title>"
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")
