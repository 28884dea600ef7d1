"""``civicrag diff``: the amendment comparison on the command line, over the fixture index (9100002 has two
versions)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from civicrag.cli import app
from civicrag.settings import Settings


def test_diff_text_json_and_errors(rag_settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    data_dir = ["--data-dir", str(rag_settings.data_dir)]
    text = runner.invoke(app, ["diff", "9100002", *data_dir])
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines() == [
        "가상특별자치도 공무원 당직 규칙 (9100002)",
        "  from 2020-01-01 (superseded 2024-07-01)  ->  to 2024-07-01 (current)",
        "  articles: 0 added, 0 deleted, 1 changed, 1 unchanged; 항/호: 0 added, 0 deleted, 1 changed",
        "",
        "~ 제5조(당직수당)  [개정 / changed]",
        "    ~ 당직근무자에게는 1회 [-5-]{+7+}만원의 당직수당을 지급한다. {+<개정 2024.7.1.>+}",
    ]
    everything = runner.invoke(app, ["diff", "9100002", "--all", *data_dir])
    assert "  제1조(목적)  [변경 없음 / unchanged]" in everything.stdout

    as_json = runner.invoke(app, ["diff", "9100002", "--json", "--from", "2021-06-01", *data_dir])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert (data["from"]["version"], data["to"]["version"]) == ("2020-01-01", "2024-07-01")
    assert [a["key"] for a in data["articles"]] == ["제5조"]
    assert data["articles"][0]["notes"] == [{"kind": "개정", "dates": ["2024-07-01"], "text": "<개정 2024.7.1.>"}]

    for args, message in [
        (["diff", "nope"], "no indexed document 'nope'"),
        (["diff", "9100001"], "only one indexed version"),
        (["diff", "9100002", "--to", "2020-01-01"], "earliest indexed version"),
    ]:
        failed = runner.invoke(app, [*args, *data_dir])
        assert failed.exit_code == 2 and message in failed.output, failed.output
    empty = runner.invoke(app, ["diff", "9100002", "--data-dir", str(tmp_path / "none")])
    assert empty.exit_code == 2 and "no index" in empty.output
    assert not (tmp_path / "none").exists()  # reading creates nothing
