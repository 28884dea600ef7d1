"""The content-gap log and report (ui.gaps): refused questions from the REST API, the chat and
``civicrag ask --log``, and 👎, grouped so maintainers know what to ingest next.

The server behind these tests refuses every question (answer_threshold 1.0, see ``gap_settings``),
so which questions are logged is knowable; the best candidates come from real retrieval over the
UI fixture documents plus a rule whose slope table is an attachment.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from civicrag.rag.language import phrase
from civicrag.ui.gaps import CSV_COLUMNS, GapLog, gap_log_path, gap_record, iso_week, named_in_refusal, report_csv
from typer.testing import CliRunner

from civicrag.cli import app as cli
from tests.ui.conftest import Server

SLOPE_Q = "경사도 산정방법은 어떻게 되나요?"
HOURS_Q = "주차장 운영시간은 몇 시부터 몇 시까지인가요?"
HOURS_CLI_Q = "공영주차장 운영시간은 언제까지예요?"
SNOW_Q = "How many hours after a snowfall must sidewalks be cleared of snow?"
WASTE_Q = "대형폐기물 처리 수수료는 얼마인가요?"
SLOPE_ATTACHMENT = "[별표 2] 경사도 산정방법"
SLOPE_RULE = "가상특별자치도 개발행위허가 규칙"
PARKING = "가상특별자치도 주차장 설치 및 관리 조례"


def _clear(settings: Any) -> None:
    db = sqlite3.connect(gap_log_path(settings))
    try:
        db.execute("DELETE FROM gaps")
        db.commit()
    finally:
        db.close()


@pytest.fixture(scope="module")
def logged(gap_server: Server) -> Iterator[dict[str, Any]]:
    """Seven questions: four refused over REST (bob ×3, alice), one with `civicrag ask --log`, and in the
    chat a refused answer given a 👎 (one row) and an answered one given a 👎; one 👎 taken back."""
    from civicrag.rag.service import RagService

    # Questions that name no provision: one that does ("제9조") is answered whatever the threshold.
    settings = gap_server.settings
    ctx = gap_server.app.state.ctx
    ctx.gaps.flush()
    _clear(settings)
    with httpx.Client(base_url=gap_server.url, timeout=60) as http:
        for user, question in (("bob", SLOPE_Q), ("bob", HOURS_Q), ("bob", SNOW_Q), ("alice", SLOPE_Q)):
            got = http.post("/api/ask", json={"question": question}, auth=gap_server.auth(user))
            assert got.status_code == 200 and got.json()["refused"], got.text

    out = CliRunner().invoke(
        cli, ["ask", "--log", HOURS_CLI_Q, "--data-dir", str(settings.data_dir)],
        env={"CIVICRAG_ANSWER__THRESHOLD": "1.0", "CIVICRAG_CONFIG": ""},
    )
    assert out.exit_code == 0, out.output
    # Not logged: a CLI question without --log.
    assert CliRunner().invoke(cli, ["ask", "운영시간", "--data-dir", str(settings.data_dir)],
                              env={"CIVICRAG_ANSWER__THRESHOLD": "1.0", "CIVICRAG_CONFIG": ""}).exit_code == 0

    # The chat's calls (ui.web: respond logs the refusal under the answer's event id, 👍/👎 marks it).
    refused = ctx.service.ask(SLOPE_Q).to_dict()
    event = ctx.gaps.refused(refused, "bob", "chat", event="chat-refused")
    ctx.gaps.disliked(refused, "bob", "chat", event)
    answering = RagService(settings.with_overrides(answer={"threshold": 0.0}))
    try:
        answered = answering.ask(WASTE_Q).to_dict()
    finally:
        answering.close()
    assert not answered["refused"]
    assert ctx.gaps.refused(answered, "bob", "chat") is None  # an answer is not a gap...
    ctx.gaps.disliked(answered, "bob", "chat", "chat-answered")  # ...until it gets a 👎
    ctx.gaps.disliked(answered, "bob", "chat", "chat-changed-mind")
    ctx.gaps.undisliked("chat-changed-mind")  # 👎 then 👍: gone
    ctx.gaps.flush()
    yield {"answered": answered, "refused": refused}


def test_every_entry_point_logs_what_it_could_not_answer(logged: dict[str, Any], gap_server: Server) -> None:
    rows = gap_server.app.state.ctx.gaps.rows()
    got = [(r["source"], r["user"], r["question"], r["refused"], r["disliked"]) for r in rows]
    import getpass

    assert got == [
        ("api", "bob", SLOPE_Q, 1, 0), ("api", "bob", HOURS_Q, 1, 0), ("api", "bob", SNOW_Q, 1, 0),
        ("api", "alice", SLOPE_Q, 1, 0), ("cli", getpass.getuser(), HOURS_CLI_Q, 1, 0),
        ("chat", "bob", SLOPE_Q, 1, 1), ("chat", "bob", WASTE_Q, 0, 1),
    ]
    slope = rows[0]
    assert (slope["language"], slope["missing_kind"], slope["missing"], slope["missing_document"]) == (
        "ko", "attachment", SLOPE_ATTACHMENT, SLOPE_RULE)
    assert SLOPE_ATTACHMENT in slope["reason"]  # the refusal's own words
    assert (slope["doc_id"], slope["article"], slope["document"]) == ("9100088", "제5조", SLOPE_RULE)
    candidates = json.loads(slope["candidates_json"])
    assert candidates[0] == {"doc_id": "9100088", "article": "제5조", "title": SLOPE_RULE,
                             "article_title": candidates[0]["article_title"]}
    assert 1 <= len(candidates) <= 3
    hours = rows[1]
    assert (hours["doc_id"], hours["article"], hours["missing"]) == ("9100001", "제9조", "")
    assert hours["reason"]  # why it was refused, as the answerability says
    snow = rows[2]
    assert (snow["language"], snow["doc_id"], snow["article"]) == ("en", "town-code", "Sec. 7-4")
    waste = rows[-1]
    assert (waste["doc_id"], waste["reason"]) == (logged["answered"]["retrieved"][0]["doc_id"], "")


def test_report_groups_by_topic_and_document_with_the_most_missing_attachment(logged: dict[str, Any],
                                                                            gap_server: Server) -> None:
    report = gap_server.app.state.ctx.gaps.report()
    assert (report.questions, report.refused, report.disliked) == (7, 6, 2)
    # The attachment most often missing, as the refusals named it.
    top = report.missing[0]
    assert (top.kind, top.missing, top.document, top.questions) == ("attachment", SLOPE_ATTACHMENT, SLOPE_RULE, 3)
    assert len(report.missing) == 1
    # Topics: the best candidate provision, most questions first; Korean and CLI wordings of 제9조 meet.
    first, second = report.topics[:2]
    assert (first.doc_id, first.article, first.questions, first.refused, first.disliked) == (
        "9100088", "제5조", 3, 3, 1)
    assert first.topic.startswith(f"{SLOPE_RULE} 제5조")
    assert first.top_missing == f"{SLOPE_ATTACHMENT} — {SLOPE_RULE}"
    assert first.examples == [SLOPE_Q]  # distinct questions, newest first
    assert (second.doc_id, second.article, second.questions, second.refused) == ("9100001", "제9조", 2, 2)
    assert second.topic == f"{PARKING} 제9조 (주차장 운영시간)"
    assert second.examples == [HOURS_CLI_Q, HOURS_Q]
    assert {(t.doc_id, t.article) for t in report.topics[2:]} == {
        ("town-code", "Sec. 7-4"), (logged["answered"]["retrieved"][0]["doc_id"],
                                    logged["answered"]["retrieved"][0]["article"])}
    # Documents.
    docs = {d.doc_id: (d.questions, d.refused, d.disliked, d.topics) for d in report.documents}
    assert docs["9100088"] == (3, 3, 1, 1) and docs["9100001"] == (2, 2, 0, 1) and docs["town-code"] == (1, 1, 0, 1)
    assert report.documents[0].doc_id == "9100088" and report.documents[0].top_missing.startswith(SLOPE_ATTACHMENT)
    # Per week: all today.
    week = iso_week(gap_server.app.state.ctx.gaps.rows()[0]["at"])
    assert [(w.week, w.questions, w.refused, w.disliked) for w in report.weeks] == [(week, 7, 6, 2)]
    assert first.weeks == {week: 3}
    # No user names unless asked for.
    assert "bob" not in json.dumps(report.to_dict()) and "alice" not in json.dumps(report.to_dict())
    named = gap_server.app.state.ctx.gaps.report(with_users=True)
    assert named.topics[0].users == {"bob": 2, "alice": 1}
    assert named.entries[0].user == "bob" and named.entries[0].question == WASTE_Q


def test_cli_report_text_csv_since_and_users(logged: dict[str, Any], gap_server: Server) -> None:
    data_dir = str(gap_server.settings.data_dir)
    runner = CliRunner()
    env = {"CIVICRAG_CONFIG": ""}
    text = runner.invoke(cli, ["report", "gaps", "--data-dir", data_dir], env=env)
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("Content gaps: 7 questions (6 refused, 2 disliked)")
    assert f"3  attachment  {SLOPE_ATTACHMENT} — {SLOPE_RULE}" in text.stdout
    assert f"e.g. {HOURS_CLI_Q}" in text.stdout
    assert "bob" not in text.stdout and "alice" not in text.stdout

    out = runner.invoke(cli, ["report", "gaps", "--csv", "--data-dir", data_dir], env=env)
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS  # no users column by default
    week = iso_week(gap_server.app.state.ctx.gaps.rows()[0]["at"])
    slope = rows[0]
    assert {k: slope[k] for k in ("document", "doc_id", "article", "questions", "refused", "disliked", "missing",
                                  "weeks", "example_questions")} == {
        "document": SLOPE_RULE, "doc_id": "9100088", "article": "제5조", "questions": "3", "refused": "3",
        "disliked": "1", "missing": f"{SLOPE_ATTACHMENT} — {SLOPE_RULE}", "weeks": f"{week}=3",
        "example_questions": SLOPE_Q,
    }
    hours = rows[1]
    assert (hours["topic"], hours["article_title"], hours["questions"], hours["missing"]) == (
        f"{PARKING} 제9조 (주차장 운영시간)", "주차장 운영시간", "2", "")
    assert hours["example_questions"] == f"{HOURS_CLI_Q} | {HOURS_Q}"
    assert hours["first_seen"] <= hours["last_seen"] and hours["first_seen"][:10] == hours["last_seen"][:10]
    assert len(rows) == 4
    assert "bob" not in out.stdout and "alice" not in out.stdout

    users = runner.invoke(cli, ["report", "gaps", "--csv", "--with-users", "--data-dir", data_dir], env=env)
    named = list(csv.DictReader(io.StringIO(users.stdout)))
    assert tuple(named[0]) == (*CSV_COLUMNS, "users")
    assert named[0]["users"] == "bob=2; alice=1"

    days = sorted(r["at"][:10] for r in gap_server.app.state.ctx.gaps.rows())
    after = (date.fromisoformat(days[-1]) + timedelta(days=1)).isoformat()
    none = runner.invoke(cli, ["report", "gaps", "--since", after, "--data-dir", data_dir], env=env)
    assert none.stdout == f"Content gaps since {after}: 0 questions (0 refused, 0 disliked)\n"
    every = runner.invoke(cli, ["report", "gaps", "--since", days[0], "--json", "--data-dir", data_dir], env=env)
    assert json.loads(every.stdout)["questions"] == 7
    assert runner.invoke(cli, ["report", "gaps", "--since", "last week", "--data-dir", data_dir]).exit_code == 2


def test_gap_api_is_admin_only_and_leaves_users_out(logged: dict[str, Any], gap_server: Server) -> None:
    with httpx.Client(base_url=gap_server.url, timeout=30) as http:
        assert http.get("/api/gaps", auth=gap_server.auth("bob")).status_code == 403
        assert http.get("/api/gaps.csv", auth=gap_server.auth("bob")).status_code == 403
        got = http.get("/api/gaps", auth=gap_server.auth("alice"))
        assert got.status_code == 200 and got.json()["questions"] == 7
        assert "bob" not in got.text and "alice" not in got.text
        csv_text = http.get("/api/gaps.csv", auth=gap_server.auth("alice")).text
        assert csv_text.splitlines()[0] == ",".join(CSV_COLUMNS) and "bob" not in csv_text
        named = http.get("/api/gaps.csv", params={"with_users": "true"}, auth=gap_server.auth("alice")).text
        assert named.splitlines()[0].endswith(",users") and "bob=2; alice=1" in named
        assert http.get("/api/gaps", params={"since": "2026-13-01"}, auth=gap_server.auth("alice")).status_code == 422


# -- units: what a refusal names, grouping, weeks, since, privacy -------------------------------------
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_attachment_or_document_a_refusal_names_is_read_back(lang: Any) -> None:
    text = phrase("in_attachment", lang, attachment=SLOPE_ATTACHMENT, title=SLOPE_RULE)
    assert named_in_refusal(text) == ("attachment", SLOPE_ATTACHMENT, SLOPE_RULE)
    text = phrase("empty_document", lang, title="가상특별자치도 옥외광고물 조례")
    assert named_in_refusal(text) == ("document", "가상특별자치도 옥외광고물 조례", "가상특별자치도 옥외광고물 조례")
    assert named_in_refusal("no provision on this topic", "규정에서 찾을 수 없습니다.") == ("", "", "")


def test_an_attachment_in_other_wording_is_still_found() -> None:
    text = "첨부 [별표 3] 도로점용료 산정기준(「가상시 도로 조례」)을 확인하세요."
    assert named_in_refusal("", text) == ("attachment", "[별표 3] 도로점용료 산정기준", "가상시 도로 조례")


def _result(question: str, lang: str, candidates: list[tuple[str, str, str, str]], refused: bool = True,
            reason: str = "no provision on this topic") -> dict[str, Any]:
    return {
        "question": question, "language": lang, "refused": refused, "answer": "",
        "answerability": {"reason": reason},
        "retrieved": [{"doc_id": d, "article": a, "title": t, "score": 0.5} for d, a, t, _ in candidates],
        "related": [{"doc_id": d, "article": a, "article_title": at} for d, a, _, at in candidates],
        "citations": [],
    }


FEE = ("R1", "제3조", "가상시 요금 조례", "요금")
TERM = ("R1", "제4조", "가상시 요금 조례", "기간")
EMPTY = ("R2", "제1조", "가상시 광고물 조례", "목적")


@pytest.fixture
def dated_log(tmp_path: Path) -> Iterator[GapLog]:
    """Five questions over three weeks of January 2026, in both languages."""
    log = GapLog(tmp_path / "gaps.sqlite3")
    fee_table = phrase("in_attachment", "ko", attachment="[별표 1] 요금표", title="가상시 요금 조례")
    for at, user, result, disliked in (
        ("2026-01-05T09:00:00+00:00", "kim", _result("요금은 얼마인가요?", "ko", [FEE, TERM], reason=fee_table), False),
        ("2026-01-07T09:00:00+00:00", "lee", _result("How much is the fee?", "en", [FEE]), False),
        ("2026-01-13T09:00:00+00:00", "kim", _result("기간은 언제까지?", "ko", [TERM], refused=False), True),
        ("2026-01-14T09:00:00+00:00", "park", _result("아무것도 없나요?", "ko", []), False),
        ("2026-01-20T09:00:00+00:00", "kim", _result("광고물 조례 목적은?", "ko", [EMPTY], reason=phrase(
            "empty_document", "ko", title="가상시 광고물 조례")), False),
    ):
        log.add(gap_record(result, user=user, source="api", at=at, disliked=disliked))
    log.flush()
    yield log
    log.close()


def test_grouping_by_topic_document_and_week(dated_log: GapLog) -> None:
    report = dated_log.report()
    assert (report.questions, report.refused, report.disliked) == (5, 4, 1)
    topics = [(t.topic, t.questions, t.weeks) for t in report.topics]
    assert topics[0] == ("가상시 요금 조례 제3조 (요금)", 2, {"2026-W02": 2})  # Korean and English together
    assert sorted(topics[1:]) == [
        ("(no candidate)", 1, {"2026-W03": 1}),
        ("가상시 광고물 조례 제1조 (목적)", 1, {"2026-W04": 1}),
        ("가상시 요금 조례 제4조 (기간)", 1, {"2026-W03": 1}),
    ]
    assert report.topics[0].examples == ["How much is the fee?", "요금은 얼마인가요?"]
    assert report.topics[0].top_missing == "[별표 1] 요금표 — 가상시 요금 조례"
    docs = [(d.doc_id, d.questions, d.refused, d.disliked, d.topics, d.weeks) for d in report.documents]
    assert docs[0] == ("R1", 3, 2, 1, 2, {"2026-W02": 2, "2026-W03": 1})
    assert [m.missing for m in report.missing] == ["가상시 광고물 조례", "[별표 1] 요금표"]  # ties: newest first
    assert [(m.kind, m.questions) for m in report.missing] == [("document", 1), ("attachment", 1)]
    assert [(w.week, w.questions, w.refused, w.disliked) for w in report.weeks] == [
        ("2026-W02", 2, 2, 0), ("2026-W03", 2, 1, 1), ("2026-W04", 1, 1, 0)]
    assert report.entries[0].question == "광고물 조례 목적은?" and report.entries[0].user == ""


def test_since_keeps_the_days_from_then_on(dated_log: GapLog) -> None:
    report = dated_log.report("2026-01-13")
    assert report.questions == 3 and [w.week for w in report.weeks] == ["2026-W03", "2026-W04"]
    assert "가상시 요금 조례 제3조 (요금)" not in [t.topic for t in report.topics]
    assert dated_log.report("2026-01-21").questions == 0


def test_csv_of_the_dated_log(dated_log: GapLog) -> None:
    rows = list(csv.DictReader(io.StringIO(report_csv(dated_log.report()))))
    assert rows[0] == {
        "topic": "가상시 요금 조례 제3조 (요금)", "document": "가상시 요금 조례", "doc_id": "R1", "article": "제3조",
        "article_title": "요금", "questions": "2", "refused": "2", "disliked": "0",
        "missing": "[별표 1] 요금표 — 가상시 요금 조례", "first_seen": "2026-01-05T09:00:00+00:00",
        "last_seen": "2026-01-07T09:00:00+00:00", "weeks": "2026-W02=2",
        "example_questions": "How much is the fee? | 요금은 얼마인가요?",
    }
    named = list(csv.DictReader(io.StringIO(report_csv(dated_log.report(with_users=True)))))
    assert named[0]["users"] == "kim=1; lee=1"


def test_iso_weeks_cross_the_year_like_the_calendar() -> None:
    assert iso_week("2025-12-29T10:00:00+00:00") == "2026-W01"
    assert iso_week("2027-01-01T10:00:00+00:00") == "2026-W53"


def test_user_names_can_be_kept_out_of_the_log_entirely(tmp_path: Path) -> None:
    log = GapLog(tmp_path / "gaps.sqlite3", keep_users=False)
    try:
        log.refused(_result("요금은?", "ko", [FEE]), "kim", "api")
        log.flush()
        assert log.rows()[0]["user"] == ""
        assert log.report(with_users=True).topics[0].users == {"(not recorded)": 1}
    finally:
        log.close()


def test_the_inline_writer_writes_at_once(tmp_path: Path) -> None:
    """``background=False`` (benchmarks/gap_log.py compares it) inserts in the calling thread."""
    log = GapLog(tmp_path / "gaps.sqlite3", background=False)
    try:
        event = log.refused(_result("요금은?", "ko", [FEE]), "kim", "cli")
        assert [(r["event"], r["user"], r["doc_id"]) for r in log.rows()] == [(event, "kim", "R1")]
    finally:
        log.close()


def test_an_empty_report_reads_without_creating_the_log(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["report", "gaps", "--csv", "--data-dir", str(tmp_path)], env={"CIVICRAG_CONFIG": ""})
    assert out.exit_code == 0 and out.stdout.strip() == ",".join(CSV_COLUMNS)
    assert not (tmp_path / "gaps.sqlite3").exists()
