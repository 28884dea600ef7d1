"""The app layer's shape, read from the source (no import runs): no import cycle inside ``civicrag.ui``, and
no ui module touching the index's manifest: it asks ``RagService`` and ``Ingestor`` (through ``AdminOps``).

Every import counts, at module level or inside a function, ``TYPE_CHECKING`` or not: a cycle hidden behind a
lazy import is still two modules that cannot be understood, or tested, one without the other. Importing
``a.b.c`` runs the packages ``a.b`` and ``a`` first, so those count as imported too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[2] / "ui"
PACKAGE = "civicrag.ui"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(UI).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def ui_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(UI.rglob("*.py"))}


def imported(path: Path, known: Mapping[str, Path], this: str | None = None) -> Iterator[tuple[str, ast.AST]]:
    """Every module an import in ``path`` (module ``this``) names; ``from pkg import mod`` names ``pkg.mod`` too
    when that is a module."""
    this = this or module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield base, node
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    yield f"{base}.{alias.name}", node


def import_graph() -> dict[str, set[str]]:
    """Module -> the ui modules it imports, with the packages each of those runs first."""
    known = ui_modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, _ in imported(path, known):
            while target.startswith(PACKAGE):
                if target in known and target != name:
                    graph[name].add(target)
                target = target.rpartition(".")[0]
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted; sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    # the shape the app had: server imports web inside a function, web imports server for a type only
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from civicrag.ui.server import AppContext\n"
        "def build():\n    from civicrag.ui.web import theme\n    from . import render\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    known = {"civicrag.ui.server": path, "civicrag.ui.web": path, "civicrag.ui.render": path}
    names = {target for target, _ in imported(path, known, this="civicrag.ui.web")}
    assert {"civicrag.ui.server", "civicrag.ui.web", "civicrag.ui.render"} <= names


def test_no_import_cycle_inside_the_ui_package() -> None:
    graph = import_graph()
    assert "civicrag.ui.web" in graph["civicrag.ui.server"]  # the graph is read: the server mounts the chat
    assert cycles(graph) == []
    assert "civicrag.ui.server" not in graph["civicrag.ui.web"]


@pytest.mark.parametrize("name", sorted(ui_modules()))
def test_ui_modules_do_not_touch_the_manifest(name: str) -> None:
    """The index is read through RagService (index_status, document_versions, source_files, ...) and changed
    through Ingestor (run, delete): no ui module imports the manifest or reaches it through ``.manifest``."""
    path = ui_modules()[name]
    for target, node in imported(path, ui_modules()):
        assert not target.endswith("store.manifest"), f"{path.name}:{node.lineno} imports {target}"
        if isinstance(node, ast.ImportFrom):
            assert "Manifest" not in {a.name for a in node.names}, f"{path.name}:{node.lineno} imports Manifest"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute):
            assert node.attr != "manifest", f"{path.name}:{node.lineno} reads .manifest"
        if isinstance(node, ast.Name):
            assert node.id != "manifest", f"{path.name}:{node.lineno} uses a manifest"
