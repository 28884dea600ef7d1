"""The REST API over a real server: answers, status, admin refusals, limits, originals, docs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.ui.conftest import Server


@pytest.fixture(scope="module")
def http(server: Server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as client:
        yield client  # type: ignore[misc]


def _without_timings(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != "timings_ms"}


def test_ask_returns_the_cli_json_contract(server: Server, http: httpx.Client) -> None:
    body = {"question": "경차 주차요금 감면은?"}
    got = http.post("/api/ask", json=body, auth=server.auth("bob"))
    assert got.status_code == 200, got.text
    data = got.json()
    # `civicrag ask --json` prints RagService.ask(...).to_dict(): the same object, key for key.
    expected = server.app.state.ctx.service.ask(body["question"], filters={}).to_dict()
    assert list(data) == list(expected)
    assert _without_timings(data) == _without_timings(expected)
    assert not data["refused"] and data["language"] == "ko"
    assert ("9100001", "제7조") in {(c["doc_id"], c["article"]) for c in data["citations"]}


def test_ask_with_history_filters_k_and_as_of(server: Server, http: httpx.Client) -> None:
    first = http.post("/api/ask", json={"question": "낡은 소파는 어떻게 버려요?"}, auth=server.auth("bob")).json()
    follow = http.post(
        "/api/ask",
        json={
            "question": "수수료는요?",
            "history": [
                {"role": "user", "content": first["question"]}, {"role": "assistant", "content": first["answer"]}
            ],
            "k": 4, "as_of": "2025-01-01", "filters": {"doc": "9100003"},
        },
        auth=server.auth("bob"),
    )
    assert follow.status_code == 200, follow.text
    data = follow.json()
    assert data["as_of"] == "2025-01-01" and data["filters"] == {"doc": "9100003"}
    assert {r["doc_id"] for r in data["retrieved"]} == {"9100003"}


def test_ask_citations_are_copy_ready_and_filter_by_department(server: Server, http: httpx.Client) -> None:
    body = {"question": "제7조 경차 주차요금 감면은?", "filters": {"department": "교통정책과"}}
    data = http.post("/api/ask", json=body, auth=server.auth("bob")).json()
    lead = data["citations"][0]
    assert (lead["doc_id"], lead["article"], lead["department"]) == ("9100001", "제7조", "교통정책과")
    assert lead["formal"].startswith("「가상특별자치도 주차장 설치 및 관리 조례」 제7조제1항")
    assert lead["formal"].endswith(" (시행 2024. 1. 1.)")
    assert {r["doc_id"] for r in data["retrieved"]} == {"9100001"}  # the only document of that department
    other = http.post("/api/ask", json={"question": "경차 주차요금 감면은?", "filters": {"department": "없는과"}},
                      auth=server.auth("bob")).json()
    assert other["refused"] and other["retrieved"] == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "x", "as_of": "2024-13-45"}, "YYYY-MM-DD"),
        ({"question": "x", "filters": {"colour": "red"}}, "unknown filter"),
        ({"question": "x", "k": 0}, "k"),
        ({"question": "가" * 2001}, "longer than 2000"),
    ],
)
def test_ask_rejects_bad_requests_with_clear_errors(
    server: Server, http: httpx.Client, body: dict[str, Any], fragment: str
) -> None:
    got = http.post("/api/ask", json=body, auth=server.auth("bob"))
    assert got.status_code == 422
    assert fragment in got.text


def test_request_bodies_over_the_limit_are_refused(server: Server, http: httpx.Client) -> None:
    big = {"question": "x", "history": [{"role": "user", "content": "가" * 8000}]}  # ~24 KB > 16 KB
    got = http.post("/api/ask", json=big, auth=server.auth("bob"))
    assert got.status_code == 413 and "too large" in got.json()["detail"]

    def chunks() -> Any:  # no Content-Length: counted while streaming
        yield b'{"question": "x", "pad": "'
        for _ in range(40):
            yield b"a" * 1024
        yield b'"}'

    got = http.post("/api/ask", content=chunks(), headers={"content-type": "application/json"},
                    auth=server.auth("bob"))
    assert got.status_code == 413


def test_login_is_required(http: httpx.Client) -> None:
    endpoints = [("POST", "/api/ask"), ("GET", "/api/status"), ("POST", "/api/ingest"),
                 ("DELETE", "/api/documents/9100001"), ("GET", "/api/feedback.csv"), ("GET", "/doc?id=9100001")]
    for method, path in endpoints:
        got = http.request(method, path, json={"question": "x"} if method == "POST" else None)
        assert got.status_code == 401, (method, path)
    wrong = http.get("/api/status", auth=("bob", "not-the-password"))
    assert wrong.status_code == 401
    assert http.get("/api/status", auth=("mallory", "x")).status_code == 401
    # The UI page sends a browser without a session to the login form.
    page = http.get("/")
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_staff_is_refused_admin_endpoints(server: Server, http: httpx.Client) -> None:
    bob = server.auth("bob")
    assert http.post("/api/ingest", json={}, auth=bob).status_code == 403
    assert http.get("/api/ingest", auth=bob).status_code == 403
    assert http.delete("/api/documents/9100001", auth=bob).status_code == 403
    assert http.get("/api/feedback.csv", auth=bob).status_code == 403
    # ... and nothing was deleted.
    docs = {d["doc_id"] for d in http.get("/api/documents", auth=bob).json()}
    assert "9100001" in docs


def test_status(server: Server, http: httpx.Client) -> None:
    got = http.get("/api/status", auth=server.auth("bob"))
    assert got.status_code == 200
    data = got.json()
    assert data["documents"] >= 4 and data["chunks"] > 0
    assert data["user"] == {"name": "bob", "role": "staff"} and data["auth_mode"] == "users"
    assert data["failed"] == []


def test_admin_delete_unknown_document_is_404(server: Server, http: httpx.Client) -> None:
    got = http.delete("/api/documents/no-such-doc", auth=server.auth("alice"))
    assert got.status_code == 404


def test_admin_feedback_export(server: Server, http: httpx.Client) -> None:
    import csv
    import io
    import json

    store = server.app.state.ctx.feedback
    citation = {"n": 1, "doc_id": "9100001", "title": "주차장 조례", "article": "제7조", "paragraph": "①", "page": None,
                "effective_date": "2024-01-01", "quote": "① 경차는 감면한다.", "score": 0.9}
    result = {"question": "경차 주차요금 감면은?", "answer": "=HYPERLINK(\"http://x\")", "refused": False,
              "citations": [citation]}
    first = store.add("bob", 1, result, {"mode": "extractive"}, comment="-1 for the layout, the answer is right")
    second = store.add("alice", -5, {"question": "우주 정거장 주차요금은?", "answer": "규정에서 찾을 수 없습니다.",
                                     "refused": True}, {})
    got = http.get("/api/feedback.csv", auth=server.auth("alice"))
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0] == ["id", "at", "user", "rating", "comment", "question", "answer", "refused", "citations", "config"]
    at = {row["id"]: row["at"] for row in store.rows()}
    mine = [row for row in rows[1:] if row[0] in (str(first), str(second))]
    kept = {k: citation[k] for k in ("n", "doc_id", "title", "article", "paragraph", "page", "effective_date", "quote")}
    assert mine == [
        # Cells starting with = + - @ get a leading quote (no formula injection); the citation keeps its
        # identifying fields only; ratings are clamped to -1..1.
        [str(first), at[first], "bob", "1", "'-1 for the layout, the answer is right", "경차 주차요금 감면은?",
         "'=HYPERLINK(\"http://x\")", "0", json.dumps([kept], ensure_ascii=False), '{"mode": "extractive"}'],
        [str(second), at[second], "alice", "-1", "", "우주 정거장 주차요금은?", "규정에서 찾을 수 없습니다.", "1", "[]",
         "{}"],
    ]


def test_session_cookie_login(server: Server) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=False) as client:
        bad = client.post("/login", data={"username": "alice", "password": "nope"})
        assert bad.status_code == 303 and "error" in bad.headers["location"]
        ok = client.post("/login", data={"username": "alice", "password": "alice-secret-1"})
        assert ok.status_code == 303 and ok.headers["location"] == "/"
        assert client.get("/api/status").json()["user"]["role"] == "admin"
        assert client.get("/").status_code == 200
        client.get("/logout")
        assert client.get("/api/status").status_code == 401


def test_originals_are_served_only_for_indexed_documents(server: Server, http: httpx.Client) -> None:
    bob = server.auth("bob")
    page = http.get("/doc", params={"id": "9100001", "version": "2024-01-01"}, auth=bob)
    assert page.status_code == 200 and "제7조" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for bad in ("../../etc/passwd", "/etc/passwd", "no-such-doc"):
        assert http.get("/doc", params={"id": bad}, auth=bob).status_code == 404


def test_pdf_originals_open_inline_at_the_cited_page(server: Server, http: httpx.Client) -> None:
    bob = server.auth("bob")
    data = http.post("/api/ask", json={"question": "When are the quiet hours?", "filters": {"doc": "noise.pdf"}},
                     auth=bob).json()
    cited = data["citations"] or data["related"]
    assert cited and cited[0]["doc_id"] == "noise.pdf" and cited[0]["page"] >= 1
    from civicrag.ui.render import original_url

    url = original_url(cited[0])
    assert url.endswith(f"#page={cited[0]['page']}")
    pdf = http.get(url.split("#")[0], auth=bob)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline") and pdf.content.startswith(b"%PDF")


def test_document_markup_is_shown_as_text(server: Server, http: httpx.Client) -> None:
    page = http.get("/doc", params={"id": "evil-doc"}, auth=server.auth("bob"))
    assert page.status_code == 200
    assert "<script>" not in page.text.lower()
    assert "&lt;script&gt;" in page.text
    assert "href=\"javascript" not in page.text.lower() and "href='javascript" not in page.text.lower()
    assert "[click me](javascript:" in page.text  # shown as the text it is


def test_openapi_docs_are_served_offline(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    for path in ("/api/ask", "/api/status", "/api/ingest", "/api/documents/{doc_id}"):
        assert path in spec["paths"]
    docs = http.get("/docs")
    assert docs.status_code == 200
    assert "/api-docs-static/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    assert http.get("/api-docs-static/swagger-ui-bundle.js").status_code == 200


@pytest.mark.parametrize("https_only", [False, True])
def test_login_cookie_is_secure_only_when_configured(ui_settings: Any, https_only: bool) -> None:
    from civicrag.ui.server import create_app
    from fastapi.testclient import TestClient

    settings = ui_settings.with_overrides(auth={"session_https_only": https_only})
    with TestClient(create_app(settings, with_ui=False), follow_redirects=False) as client:
        ok = client.post("/login", data={"username": "alice", "password": "alice-secret-1"})
        cookie = ok.headers["set-cookie"]
        assert cookie.startswith("civicrag_session=") and "httponly" in cookie.lower()
        assert ("secure" in cookie.lower().split("; ")) is https_only


def test_open_demo_mode_needs_no_login_but_keeps_admin_closed(ui_settings: Any) -> None:
    from civicrag.ui.server import create_app
    from fastapi.testclient import TestClient

    settings = ui_settings.with_overrides(auth={"mode": "open-demo", "users": {}})
    with TestClient(create_app(settings, with_ui=False)) as client:
        status = client.get("/api/status")
        assert status.status_code == 200 and status.json()["user"] == {"name": "demo", "role": "staff"}
        assert client.post("/api/ingest", json={}).status_code == 403
        assert client.delete("/api/documents/9100001").status_code == 403


def test_users_mode_without_users_is_a_config_error(ui_settings: Any) -> None:
    from civicrag.ui.server import create_app

    from civicrag.settings import ConfigError

    with pytest.raises(ConfigError, match="no users"):
        create_app(ui_settings.with_overrides(auth={"users": {}}), with_ui=False)


def _gradio_call(http: httpx.Client, auth: tuple[str, str], name: str, data: list[Any]) -> str:
    """Call a Gradio event by its API name, as a script could, and return the event stream text."""
    started = http.post(f"/gradio_api/call/{name}", json={"data": data}, auth=auth)
    assert started.status_code == 200, started.text
    return http.get(f"/gradio_api/call/{name}/{started.json()['event_id']}", auth=auth).text


@pytest.mark.parametrize(("name", "data"), [("do_ingest", [False]), ("do_export", []), ("admin_tables", [])])
def test_console_events_refuse_staff_even_when_called_directly(
    server: Server, http: httpx.Client, name: str, data: list[Any]
) -> None:
    # The admin tab is hidden from staff; its events are also refused on the server.
    stream = _gradio_call(http, server.auth("bob"), name, data)
    assert "event: error" in stream and "admin role required" in stream
    assert not server.app.state.ctx.admin.job.running


def test_console_events_work_for_admins(server: Server, http: httpx.Client) -> None:
    stream = _gradio_call(http, server.auth("alice"), "do_export", [])
    assert "event: complete" in stream and ".csv" in stream


def test_gradio_uploads_over_the_limit_are_refused(server: Server, http: httpx.Client) -> None:
    big = b"x" * 300_000  # the test server allows 0.05 MB documents
    got = http.post("/gradio_api/upload", files={"files": ("big.md", big)}, auth=server.auth("alice"))
    assert got.status_code == 413
