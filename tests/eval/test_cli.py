"""``civicrag eval`` usage errors exit 2 before any index is touched."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from civicrag.cli import app

GOOD = ('{"id": "q", "question": "?", "lang": "ko", "answerable": false, "gold": [], "facts": [], '
        '"tags": []}\n')


def invoke(tmp_path: Path, *args: str) -> tuple[int, str]:
    common = ["--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, ["eval", *args, *common])
    return result.exit_code, result.output


def test_invalid_set_reports_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(GOOD + '{"id": "r", "question": "?", "lang": "xx"}\n', encoding="utf-8")
    code, output = invoke(tmp_path, str(bad))
    assert code == 2
    assert f"{bad}:2: answerable: missing required field" in output.replace("\n", "")


def test_bad_floor_config_and_corpus(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(GOOD, encoding="utf-8")
    assert invoke(tmp_path, str(good), "--fail-under", "article_hit@5")[0] == 2
    assert invoke(tmp_path, str(good), "--config", "no-such")[0] == 2
    assert invoke(tmp_path, str(good), "--corpus", str(tmp_path / "missing"))[0] == 2
    assert invoke(tmp_path, str(good), "--compare", str(tmp_path / "missing.json"))[0] == 2
    assert not (tmp_path / "o").exists()
