"""What ``pip install .`` puts into site-packages: one ``civicrag`` namespace, every package of the tree in it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGES = {"civicrag": "civicrag", "ingest": "civicrag.ingest", "rag": "civicrag.rag", "ui": "civicrag.ui",
          "eval": "civicrag.eval"}


def tree_packages() -> set[str]:
    """Every folder with an ``__init__.py`` under the design's top-level folders, as its installed name."""
    names = set()
    for folder, installed in STAGES.items():
        for init in (REPO / folder).rglob("__init__.py"):
            names.add(".".join([installed, *init.parent.relative_to(REPO / folder).parts]))
    return names


def test_pyproject_lists_every_package_of_the_tree() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert listed == tree_packages()


@pytest.mark.timeout(300)
def test_the_wheel_installs_one_top_level_package(tmp_path: Path) -> None:
    # built from a copy: setuptools writes build/ and *.egg-info next to the sources
    source = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "sets", "reports")
    for folder in STAGES:
        shutil.copytree(REPO / folder, source / folder, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", str(tmp_path), str(source)], check=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("civicrag-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"civicrag"}
    for package in tree_packages():
        assert package.replace(".", "/") + "/__init__.py" in names
    # the data the code reads at run time travels with it
    assert "civicrag/rag/rerank/artefacts/reranker/candidate.txt" in names
    assert "civicrag/rag/data/question_words.toml" in names
    assert "civicrag/eval/configurations/neural.toml" in names
