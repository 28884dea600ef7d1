"""The project's shape, read from the source (no import runs).

- No import cycle anywhere in ``civicrag`` (module-level or inside a function: a cycle behind a lazy import is
  still two modules that cannot be understood or tested one without the other). ``tests/ui/test_layers.py``
  holds the same check for the app layer with its own rules.
- The legal grammar has one home: no module outside ``civicrag/legal`` holds a Hangul range, a circled-number
  range, a 제N조 / § / SECTION pattern, or defines the language rule.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.ui.test_layers import cycles

REPO = Path(__file__).resolve().parents[1]
STAGES = {"civicrag": "civicrag", "ingest": "civicrag.ingest", "rag": "civicrag.rag", "ui": "civicrag.ui",
          "eval": "civicrag.eval"}
#: String constants that are pieces of the provision grammar or the Hangul script: a range of syllables, jamo
#: or circled numbers, an article number after 제, a § or SECTION pattern.
GRAMMAR = re.compile(
    r"가-힣|\\uac00|\\uAC00|①-|\\u2460|ㄱ-"  # Hangul and circled-number ranges
    r"|제\\s\*\\d|제\\s\*\(\\d|제\[ \\t\]|조\(\?:\\s\*의"  # 제N조, 조의N
    r"|SECTION\\s|§\+"
)
LANGUAGE_RULE = {"detect_language", "has_hangul"}


def modules() -> dict[str, Path]:
    found = {}
    for folder, package in STAGES.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (with the packages importing them runs first), leaving out a
    module's own parent packages, which Python has run before it anyway."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                targets = [base, *(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known)]
            else:
                continue
            for target in targets:
                while target.startswith("civicrag"):
                    if target in known and target != name and not name.startswith(f"{target}."):
                        graph[name].add(target)
                    target = target.rpartition(".")[0]
    return graph


def test_no_import_cycle_in_the_project() -> None:
    graph = import_graph()
    assert len(graph) > 100  # every module was read (126 on 2026-12-03)
    assert cycles(graph) == []


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_grammar_and_the_language_rule_live_in_legal_only() -> None:
    outside = []
    for name, path in modules().items():
        if name.startswith("civicrag.legal"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and GRAMMAR.search(node.value):
                outside.append(f"{name}:{node.lineno} {node.value[:60]!r}")
            if isinstance(node, ast.FunctionDef) and node.name in LANGUAGE_RULE:
                outside.append(f"{name}:{node.lineno} def {node.name}")
    assert outside == []
    # and the check sees the grammar where it is
    legal = (REPO / "civicrag" / "legal" / "grammar.py").read_text(encoding="utf-8")
    assert any(isinstance(n, ast.Constant) and isinstance(n.value, str) and GRAMMAR.search(n.value)
               for n in ast.walk(ast.parse(legal)))
