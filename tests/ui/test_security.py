"""The operators' probe findings, over HTTP: cross-origin requests, server paths as uploads, login
flooding and sessions, unencodable text. The browser half of the cross-origin findings is in
test_browser_security.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ui.conftest import PASSWORDS, Server, make_settings

ELSEWHERE = "http://127.0.0.1:1"  # another port of the same host: same site, another origin


@pytest.fixture
def alice(server: Server) -> Iterator[httpx.Client]:
    """A client holding alice's (admin) login cookie, as her browser would."""
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as client:
        ok = client.post("/login", data={"username": "alice", "password": PASSWORDS["alice"]},
                         headers={"Origin": server.url})
        assert ok.status_code == 303 and ok.headers["location"] == "/"
        yield client


def _gradio_call(client: httpx.Client, name: str, data: list[Any], **kwargs: Any) -> str:
    started = client.post(f"/gradio_api/call/{name}", json={"data": data}, **kwargs)
    assert started.status_code == 200, started.text
    return client.get(f"/gradio_api/call/{name}/{started.json()['event_id']}", **kwargs).text


# -- (3) cross-site admin actions ------------------------------------------------------------
@pytest.mark.parametrize("host", [None, "civicrag.city.example"])
@pytest.mark.parametrize("path", ["/api/documents/x", "/gradio_api/queue/join", "/gradio_api/call/do_upload"])
def test_preflights_from_other_origins_get_no_cors(server: Server, host: str | None, path: str) -> None:
    headers = {"Origin": "http://localhost:9999", "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
    if host:
        headers["Host"] = host
    got = httpx.options(server.url + path, headers=headers)
    assert "access-control-allow-origin" not in got.headers
    assert "access-control-allow-credentials" not in got.headers


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/api/documents/no-such-doc", None),
        ("POST", "/api/ingest", {"wait": False}),
        ("POST", "/api/ask", {"question": "경차 감면?"}),
        ("POST", "/gradio_api/call/do_export", {"data": []}),
        ("POST", "/gradio_api/queue/join", {"data": [], "fn_index": 0, "session_hash": "x"}),
        ("POST", "/gradio_api/upload", None),
    ],
)
@pytest.mark.parametrize("via", ["origin", "referer", "null-origin"])
def test_state_changes_from_another_origin_are_refused(
    server: Server, alice: httpx.Client, method: str, path: str, body: Any, via: str
) -> None:
    headers = {"origin": {"Origin": ELSEWHERE}, "referer": {"Referer": ELSEWHERE + "/attack.html"},
               "null-origin": {"Origin": "null"}}[via]
    got = alice.request(method, path, json=body, headers=headers)
    assert got.status_code == 403, got.text
    assert "origin" in got.json()["detail"]
    assert not server.app.state.ctx.admin.job.running
    assert "access-control-allow-origin" not in got.headers


def test_cookie_requests_without_origin_or_referer_are_refused(alice: httpx.Client) -> None:
    got = alice.delete("/api/documents/no-such-doc")
    assert got.status_code == 403 and "Origin" in got.json()["detail"]


def test_same_origin_browsers_and_basic_api_clients_pass(server: Server, alice: httpx.Client) -> None:
    # The handler is reached (404: no such document), from the server's own pages ...
    assert alice.delete("/api/documents/no-such-doc", headers={"Origin": server.url}).status_code == 404
    assert alice.delete("/api/documents/no-such-doc", headers={"Referer": server.url + "/"}).status_code == 404
    # ... and from an API client with HTTP Basic and no cookie, which sends no Origin.
    got = httpx.delete(server.url + "/api/documents/no-such-doc", auth=server.auth("alice"))
    assert got.status_code == 404
    # Reading is not a state change: a cookie GET needs no Origin.
    assert alice.get("/api/status").json()["user"]["name"] == "alice"


def test_listed_origins_get_credentialed_cors(ui_settings: Any) -> None:
    from civicrag.ui.server import create_app
    from fastapi.testclient import TestClient

    intranet = "https://intranet.city.example"
    settings = ui_settings.with_overrides(server={"allowed_origins": [intranet]})
    with TestClient(create_app(settings, with_ui=False), base_url="http://civicrag.city.example") as client:
        pre = client.options("/api/documents/x",
                             headers={"Origin": intranet, "Access-Control-Request-Method": "DELETE"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == intranet
        assert pre.headers["access-control-allow-credentials"] == "true"
        got = client.delete("/api/documents/no-such-doc", headers={"Origin": intranet},
                            auth=("alice", PASSWORDS["alice"]))
        assert got.status_code == 404 and got.headers["access-control-allow-origin"] == intranet
        other = client.delete("/api/documents/no-such-doc", headers={"Origin": "https://evil.example"},
                              auth=("alice", PASSWORDS["alice"]))
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
        # the server's own origin needs no listing
        own = client.delete("/api/documents/no-such-doc", headers={"Origin": "http://civicrag.city.example"},
                            auth=("alice", PASSWORDS["alice"]))
        assert own.status_code == 404


# -- (4) uploads are bytes from the request, never a server path ----------------------------------
@pytest.mark.parametrize("kind", ["absolute-path", "url"])
def test_upload_refuses_a_server_path(server: Server, tmp_path: Path, kind: str) -> None:
    secret = tmp_path / "server-secret.md"
    secret.write_text("# Secret\n\nSec. 1-1. The vault code is 0000.\n", encoding="utf-8")
    path = str(secret) if kind == "absolute-path" else f"{server.url}/openapi.json"
    file_data = {"path": path, "orig_name": "server-secret.md", "meta": {"_type": "gradio.FileData"}}
    with httpx.Client(base_url=server.url, timeout=60) as client:
        stream = _gradio_call(client, "do_upload", [[file_data]], auth=server.auth("alice"))
    assert "event: error" in stream or "not uploaded" in stream
    uploads = server.settings.data_dir / "uploads"
    assert not (uploads / "server-secret.md").exists() and not (uploads / "openapi.json").exists()


def test_upload_of_sent_bytes_still_works(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        auth = server.auth("alice")
        sent = client.post("/gradio_api/upload", files={"files": ("sent-bytes.md", b"# Sent\n\nSec. 1. Text.\n")},
                           auth=auth)
        assert sent.status_code == 200, sent.text
        path = sent.json()[0]
        file_data = {"path": path, "orig_name": "sent-bytes.md", "meta": {"_type": "gradio.FileData"}}
        stream = _gradio_call(client, "do_upload", [[file_data]], auth=auth)
    saved = server.settings.data_dir / "uploads" / "sent-bytes.md"
    assert "event: complete" in stream and saved.read_bytes() == b"# Sent\n\nSec. 1. Text.\n"
    saved.unlink()


# -- (5) login flooding, throttling, sessions -----------------------------------------------------
@pytest.fixture
def fresh_app(tmp_path: Path) -> Any:
    """An app without the UI over an empty data folder: its own sessions and login failures."""
    from civicrag.ui.server import create_app

    return create_app(make_settings(tmp_path / "data", tmp_path), with_ui=False)


@contextmanager
def _client(app: Any, address: str = "testclient") -> Iterator[Any]:
    """A browser at a client address (uvicorn puts the peer, or a trusted proxy's X-Forwarded-For, there)."""
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False, client=(address, 50000)) as client:
        yield client


def _login(client: Any, user: str, password: str) -> Any:
    return client.post("/login", data={"username": user, "password": password}, headers={"Origin": "http://testserver"})


def test_password_checks_run_off_the_event_loop(fresh_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicrag.ui.auth import Users

    on_loop: list[bool] = []
    verify = Users.verify

    def recording(self: Users, name: str, password: str) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return verify(self, name, password)

    monkeypatch.setattr(Users, "verify", recording)
    with _client(fresh_app) as client:
        _login(client, "alice", "wrong")
        client.get("/api/status", auth=("bob", "wrong"))
    assert on_loop == [False, False]


def test_logins_are_throttled_per_account(fresh_app: Any) -> None:
    throttle = fresh_app.state.ctx.throttle
    now = [1000.0]
    throttle.clock = lambda: now[0]
    with _client(fresh_app, "10.0.0.1") as mallory, _client(fresh_app, "10.0.0.2") as alice:
        for _ in range(5):
            got = _login(mallory, "alice", "wrong")
            assert got.status_code == 303 and got.headers["location"] == "/login?error=1"
        # Now every password for alice is refused outright, from any address, until the delay has passed.
        for client, password in ((mallory, "wrong"), (alice, PASSWORDS["alice"])):
            got = _login(client, "alice", password)
            assert got.status_code == 429
            assert "Too many failed logins" in got.text and got.headers["retry-after"] == "1"
        basic = alice.get("/api/status", auth=("alice", PASSWORDS["alice"]))
        assert basic.status_code == 429 and "Too many failed logins" in basic.json()["detail"]
        # Other accounts are not affected.
        assert _login(alice, "bob", PASSWORDS["bob"]).headers["location"] == "/"
        now[0] += 1.01
        got = _login(mallory, "alice", "wrong-again")  # the 6th failure: the delay doubles
        assert got.status_code == 303 and got.headers["location"] == "/login?error=1"
        assert _login(alice, "alice", PASSWORDS["alice"]).headers["retry-after"] == "2"
        now[0] += 2.01
        assert _login(alice, "alice", PASSWORDS["alice"]).headers["location"] == "/"
        assert throttle.failures("alice", "10.0.0.2") == (0, 0)  # a success clears the account (and its address)


def test_logins_are_throttled_per_client_address(fresh_app: Any) -> None:
    fresh_app.state.ctx.throttle.clock = lambda: 2000.0
    with _client(fresh_app, "10.6.6.6") as guesser, _client(fresh_app, "10.7.7.7") as other:
        for n in range(5):
            assert _login(guesser, f"guess{n}", "wrong").headers["location"] == "/login?error=1"
        got = _login(guesser, "bob", PASSWORDS["bob"])
        assert got.status_code == 429 and "this address" in got.text
        assert _login(other, "bob", PASSWORDS["bob"]).headers["location"] == "/"


def test_concurrent_attempts_cannot_slip_past_the_throttle(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from civicrag.ui.sessions import LoginThrottle

    throttle = LoginThrottle(tmp_path / "auth.sqlite3", after=5, base_s=1.0, max_s=900.0, window_s=3600.0)
    throttle.clock = lambda: 5000.0
    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(lambda n: throttle.attempt("alice", f"10.0.0.{n}"), range(30)))
    # Exactly five attempts get to check a password; the rest are refused before bcrypt.
    assert sum(o is None for o in outcomes) == 5
    assert throttle.failures("alice", "10.0.0.1")[0] == 5
    assert sum(throttle.failures("alice", f"10.0.0.{n}")[1] for n in range(30)) == 5


@pytest.mark.parametrize(("failures", "delay"), [(4, 0.0), (5, 1.0), (6, 2.0), (8, 8.0), (30, 900.0)])
def test_throttle_delay_doubles_after_five_failures_up_to_the_cap(failures: int, delay: float) -> None:
    from civicrag.ui.sessions import login_delay

    assert login_delay(failures, after=5, base_s=1.0, max_s=900.0) == delay


def test_logout_revokes_a_copied_session_cookie(fresh_app: Any) -> None:
    with _client(fresh_app) as client:
        assert _login(client, "alice", PASSWORDS["alice"]).headers["location"] == "/"
        copied = client.cookies["civicrag_session"]
        assert client.get("/api/status").status_code == 200
        client.get("/logout")
        client.cookies.set("civicrag_session", copied)
        assert client.get("/api/status").status_code == 401


def test_admins_list_and_revoke_sessions(fresh_app: Any) -> None:
    admin = ("alice", PASSWORDS["alice"])
    with _client(fresh_app, "10.2.2.2") as bob, _client(fresh_app) as api:
        bob_agent = {"User-Agent": "bob-browser/1.0"}
        assert bob.post("/login", data={"username": "bob", "password": PASSWORDS["bob"]},
                        headers={"Origin": "http://testserver", **bob_agent}).headers["location"] == "/"
        assert bob.get("/api/status").status_code == 200
        assert bob.get("/api/sessions").status_code == 403  # staff may not list
        listed = api.get("/api/sessions", auth=admin)
        assert listed.status_code == 200
        rows = [s for s in listed.json() if s["user"] == "bob"]
        assert len(rows) == 1
        assert rows[0]["client"] == "10.2.2.2" and rows[0]["user_agent"] == "bob-browser/1.0"
        assert set(rows[0]) == {"id", "user", "created", "last_seen", "expires", "client", "user_agent"}
        revoked = api.delete(f"/api/sessions/{rows[0]['id']}", auth=admin)
        assert revoked.status_code == 200
        assert bob.get("/api/status").status_code == 401
        assert api.delete(f"/api/sessions/{rows[0]['id']}", auth=admin).status_code == 404


def test_console_lists_and_ends_sessions(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as bob:
        bob.post("/login", data={"username": "bob", "password": PASSWORDS["bob"]}, headers={"Origin": server.url})
        assert bob.get("/api/status").status_code == 200
        session = next(s for s in server.app.state.ctx.sessions.list() if s["user"] == "bob")
        with httpx.Client(base_url=server.url, timeout=60) as api:
            tables = _gradio_call(api, "admin_tables", [], auth=server.auth("alice"))
            assert "event: complete" in tables and session["id"] in tables
            ended = _gradio_call(api, "do_revoke", [session["id"]], auth=server.auth("alice"))
            assert "Session ended" in ended
            refused = _gradio_call(api, "do_revoke", [session["id"]], auth=server.auth("bob"))
            assert "admin role required" in refused
        assert bob.get("/api/status").status_code == 401


def test_sessions_expire_and_outlive_a_restart(tmp_path: Path) -> None:
    from civicrag.ui.server import create_app

    settings = make_settings(tmp_path / "data", tmp_path, session_max_age_s=60)
    with _client(create_app(settings, with_ui=False)) as first:
        assert _login(first, "bob", PASSWORDS["bob"]).headers["location"] == "/"
        cookie = first.cookies["civicrag_session"]
    # Another process over the same data folder (a restart, or a second worker) honours the session ...
    app = create_app(settings, with_ui=False)
    with _client(app) as second:
        second.cookies.set("civicrag_session", cookie)
        assert second.get("/api/status").json()["user"]["name"] == "bob"
        # ... until it expires.
        store = app.state.ctx.sessions
        later = store.clock() + 61
        store.clock = lambda: later
        assert second.get("/api/status").status_code == 401
        assert store.list() == []


# -- (7) unencodable and control characters -------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        '{"question": "\\ud800"}',
        '{"question": "a\\u0000b"}',
        '{"question": "x", "history": [{"role": "user", "content": "\\udfff"}]}',
        '{"question": "x", "filters": {"doc": "\\ud800"}}',
        '{"question": "x", "filters": {"\\ud800": "y"}}',
    ],
)
def test_unencodable_text_is_a_clear_422(server: Server, raw: str) -> None:
    got = httpx.post(server.url + "/api/ask", content=raw.encode("ascii"), auth=server.auth("bob"),
                     headers={"content-type": "application/json"})
    assert got.status_code == 422, got.text
    assert "surrogate" in got.text or "NUL" in got.text


def test_invalid_utf8_is_a_422(server: Server) -> None:
    got = httpx.post(server.url + "/api/ask", content=b'{"question": "\xed\xa0\x80"}', auth=server.auth("bob"),
                     headers={"content-type": "application/json"})
    assert got.status_code == 422


def test_questions_are_nfc_normalised_and_control_characters_stripped(server: Server) -> None:
    import unicodedata

    question = "경차는 공영주차장 주차요금을 감면받나요?"
    sent = unicodedata.normalize("NFD", question).replace("공영", "공\x1b영\x7f")
    assert sent != question
    got = httpx.post(server.url + "/api/ask", content=json.dumps({"question": sent}).encode(),
                     auth=server.auth("bob"), headers={"content-type": "application/json"}, timeout=60)
    assert got.status_code == 200 and got.json()["question"] == question


@pytest.mark.parametrize("text", ["\ud800", "a\x00b"])
def test_gradio_chat_refuses_unencodable_text_clearly(server: Server, text: str) -> None:
    # question, chat, jurisdiction, department, document, as-of (State inputs are not sent)
    body = json.dumps({"data": [text, [], "", "", "", ""]}).encode("ascii")  # \ud800 goes as a JSON escape
    with httpx.Client(base_url=server.url, timeout=60, auth=server.auth("bob")) as client:
        started = client.post("/gradio_api/call/respond", content=body, headers={"content-type": "application/json"})
        assert started.status_code == 200, started.text
        stream = client.get(f"/gradio_api/call/respond/{started.json()['event_id']}").text
    assert "event: error" in stream and ("surrogate" in stream or "NUL" in stream)
