"""Every module of rag/ has a test file of its own: rag/x.py -> tests/rag/test_x.py, rag/answer/x.py ->
tests/rag/answer/test_x.py (and the same for rag/rerank/)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: Modules with nothing to test, each with the reason.
NO_TESTS = {
    "answer/__init__.py": "the Answerer protocol only",
    "rerank/__init__.py": "a docstring only",
}


def test_every_rag_module_has_its_own_test_file() -> None:
    missing = []
    for module in sorted((REPO / "rag").rglob("*.py")):
        relative = module.relative_to(REPO / "rag")
        if relative.as_posix() in NO_TESTS:
            continue
        name = "init" if module.stem == "__init__" else module.stem
        if not (REPO / "tests" / "rag" / relative.parent / f"test_{name}.py").is_file():
            missing.append(relative.as_posix())
    assert missing == []
