"""CLI messages print text as it is: a bracketed word in a setting name, a file name or an error is not
taken for Rich markup and swallowed ("add [users] entries" once printed as "add  entries")."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from civicrag.eval.cli import run_eval
from rich.console import Console
from typer.testing import CliRunner

from civicrag import cli
from civicrag.cli import app
from civicrag.settings import load_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _flat(text: str) -> str:
    """Rich wraps long lines at the console width; compare with the line breaks undone."""
    return " ".join(text.split())


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """An empty settings file: auth_mode "users" with no users, embedded Chroma."""
    path = tmp_path / "civicrag.toml"
    path.write_text("", encoding="utf-8")
    return path


def test_serve_without_users_names_the_users_table(tmp_path: Path, config: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--config", str(config), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "error: auth_mode is 'users' but no users are configured: add [users] entries (password hashes from " \
        "`civicrag hash-password`) or set auth_mode = \"open-demo\"" in _flat(result.stderr)


def test_serve_with_workers_names_the_chroma_table(tmp_path: Path, config: Path) -> None:
    result = CliRunner().invoke(
        app, ["serve", "--workers", "2", "--config", str(config), "--data-dir", str(tmp_path / "data")]
    )
    assert result.exit_code == 2
    assert "and set [chroma] host and port" in _flat(result.stderr)


def test_serve_help_keeps_the_chroma_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "300"})
    assert "`chroma run` server ([chroma] host)" in _flat(result.stdout)


def test_ingest_names_a_missing_bracketed_file(tmp_path: Path, config: Path) -> None:
    missing = tmp_path / "[draft].md"
    result = CliRunner().invoke(app, ["ingest", str(missing), "--config", str(config), "--data-dir",
                                      str(tmp_path / "data")])
    assert result.exit_code == 2
    assert f"error: no such file or folder: {missing}" in _flat(result.stderr)


def test_ingest_progress_shows_a_bracketed_file_name(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = tmp_path / "docs" / "[draft].md"
    draft.parent.mkdir()
    shutil.copy(FIXTURES / "en" / "dc_2-537.md", draft)
    # A terminal, so the command shows its progress bar; the bar names the file being read.
    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=200))
    result = CliRunner().invoke(app, ["ingest", str(draft.parent), "--config", str(config), "--data-dir",
                                      str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert "added 1," in result.stdout
    assert "[draft].md" in screen.getvalue()


def test_eval_errors_and_notes_keep_brackets(tmp_path: Path) -> None:
    screen = io.StringIO()
    console = Console(file=screen, width=300)
    missing = tmp_path / "[draft]" / "corpus"
    good = tmp_path / "[set].jsonl"
    good.write_text('{"id": "q", "question": "?", "lang": "ko", "answerable": false, "gold": [], "facts": [], '
                    '"tags": []}\n', encoding="utf-8")
    base = load_settings(None, data_dir=tmp_path / "data")
    code = run_eval([good], ["shipped"], tmp_path / "out", base, corpus=[missing], console=console,
                    show_progress=False)
    assert code == 2
    assert f"error: no such corpus path: {missing}" in screen.getvalue()
    bad = tmp_path / "[bad].jsonl"
    bad.write_text('{"id": "r", "question": "?", "lang": "xx"}\n', encoding="utf-8")
    assert run_eval([bad], ["shipped"], tmp_path / "out", base, console=console, show_progress=False) == 2
    assert f"{bad}:1: answerable: missing required field" in screen.getvalue()
