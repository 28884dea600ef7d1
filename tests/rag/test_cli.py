"""``civicrag ask``: one question as JSON, and a JSONL batch that loads the models once."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from civicrag.cli import app
from civicrag.settings import Settings


def test_ask_json_and_jsonl(rag_settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    data_dir = str(rag_settings.data_dir)
    one = runner.invoke(app, ["ask", "--json", "How long is the mayor's term?", "--data-dir", data_dir])
    assert one.exit_code == 0, one.output
    result = json.loads(one.stdout.strip().splitlines()[-1])
    assert result["citations"][0]["article"] == "SECTION 3-1" and not result["refused"]

    batch = tmp_path / "questions.jsonl"
    lines = [
        {"id": "a", "question": "당직 서면 수당 얼마야?"},
        {"id": "b", "question": "그럼 2021년에는?", "history": [{"role": "user", "content": "당직 서면 수당 얼마야?"}]},
        {"id": "c", "question": "dog license fee"},
    ]
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\nnot json\n", encoding="utf-8")
    out = runner.invoke(
        app, ["ask", "--jsonl", str(batch), "--as-of", "2021-06-01", "--filter", "language=ko",
              "--data-dir", data_dir],
    )
    assert out.exit_code == 1  # the bad line is reported, the rest answered
    rows = [json.loads(line) for line in out.stdout.strip().splitlines()]
    assert [r.get("id") for r in rows[:3]] == ["a", "b", "c"] and "error" in rows[3]
    assert "5만원" in rows[0]["answer"] and rows[0]["superseded"]
    # The earlier question's topic carries over: 수당 and 얼마 asked its detail, and Kiwi reads 서면 as 서 + 면
    # (single syllables are not carried).
    assert rows[1]["rewritten_question"] == "2021년에는? 당직"
    assert rows[2]["refused"]  # language=ko filter: the English code is out of reach


def test_ask_usage_errors(rag_settings: Settings) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["ask"]).exit_code == 2
    assert runner.invoke(app, ["ask", "x", "--as-of", "yesterday"]).exit_code == 2
    assert runner.invoke(app, ["ask", "x", "--filter", "nokey"]).exit_code == 2


def test_ask_accepts_the_filter_keys_of_the_rest_api_only(rag_settings: Settings) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["ask", "fee", "--filter", "colour=red", "--data-dir", str(rag_settings.data_dir)])
    assert out.exit_code == 2
    assert " ".join(out.stderr.split()) == (
        "error: filters: unknown filter(s) colour; allowed: jurisdiction, kind, doc, doc_id, language, "
        "provision_kind, article, department"
    )


def test_ask_checks_dates_and_lengths_as_the_rest_api_does(rag_settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    data_dir = str(rag_settings.data_dir)
    bad_date = runner.invoke(app, ["ask", "x", "--as-of", "2024-13-01", "--data-dir", data_dir])
    assert bad_date.exit_code == 2
    assert bad_date.stderr.strip() == "error: as_of: as_of wants YYYY-MM-DD, got '2024-13-01'"
    limit = rag_settings.server.question_max_chars
    too_long = runner.invoke(app, ["ask", "x" * (limit + 1), "--data-dir", data_dir])
    assert too_long.exit_code == 2
    assert too_long.stderr.strip() == f"error: question: question longer than {limit} characters"
    # In a batch, a line that does not validate is reported as that line's error; the others are answered.
    batch = tmp_path / "questions.jsonl"
    batch.write_text(json.dumps({"id": "blank", "question": " \u0007 "}) + "\n"
                     + json.dumps({"id": "ok", "question": "dog license fee"}) + "\n", encoding="utf-8")
    out = runner.invoke(app, ["ask", "--jsonl", str(batch), "--data-dir", data_dir])
    assert out.exit_code == 1
    rows = [json.loads(line) for line in out.stdout.strip().splitlines()]
    assert rows[0] == {"id": None, "line": 1, "error": "RequestError: question: the question is empty once control "
                                                       "characters are removed"}
    assert rows[1]["id"] == "ok" and rows[1]["citations"]
