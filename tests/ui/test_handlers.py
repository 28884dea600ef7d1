"""The app layer in parts, without a server, an index or a browser: a Gradio handler object over a stand-in
context, the console's labels, and REST routers with their dependencies overridden."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest
from civicrag.ui.api import ask, local_ingest
from civicrag.ui.api.deps import app_context, current_user
from civicrag.ui.api.errors import unprocessable
from civicrag.ui.auth import User
from civicrag.ui.chat import ChatHandlers
from civicrag.ui.console import build_console_tab, console_labels
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient

BOB = User("bob", "staff")


class RecordingService:
    """Answers nothing; remembers how it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def stream(self, question: str, **kw: Any) -> Iterator[Any]:
        self.calls.append((question, kw))
        yield SimpleNamespace(type="delta", text="…")

    def ask(self, question: str, **kw: Any) -> Any:
        self.calls.append((question, kw))
        return SimpleNamespace(to_dict=lambda: {"question": question, "answer": "a", "refused": False})


def stand_in_context(max_chars: int = 20) -> SimpleNamespace:
    users = SimpleNamespace(user=lambda name: BOB if name == "bob" else None, open_demo=False)
    return SimpleNamespace(settings=SimpleNamespace(server=SimpleNamespace(question_max_chars=max_chars)), users=users,
                           service=RecordingService(), gaps=None, local_token="right-token")


def respond(ctx: SimpleNamespace, text: str, day: str = "", doc: str = "", turns: Any = ()) -> list[Any]:
    handlers = ChatHandlers(ctx)  # type: ignore[arg-type]
    return list(handlers.respond(text, [], list(turns), [], "", None, doc, day, "en", gr.Request(username="bob")))


def test_chat_asks_the_service_with_one_validated_request() -> None:
    ctx = stand_in_context()
    turns = [{"role": "user", "content": f"q{i}"} for i in range(45)]
    updates = respond(ctx, "  경차\u202e 감면은? ", day=" 2025-06-01 ", doc="9100001", turns=turns)
    assert updates[0][0][0] == {"role": "user", "content": "경차 감면은?"}  # shown as asked, cleaned once
    (question, kw), = ctx.service.calls
    assert question == "경차 감면은?"
    assert kw == {"history": turns[-40:], "k": None, "as_of": "2025-06-01", "filters": {"doc": "9100001"}}


@pytest.mark.parametrize(("text", "day", "message"), [
    ("x" * 21, "", "The question cannot be sent: question: question longer than 20 characters"),
    ("q", "2024-13-45", "The question cannot be sent: as_of: as_of wants YYYY-MM-DD, got '2024-13-45'"),
    ("a\x00b", "", "The question cannot be sent: text contains a NUL character (U+0000)"),
])
def test_chat_shows_the_request_error(text: str, day: str, message: str) -> None:
    ctx = stand_in_context()
    with pytest.raises(gr.Error) as refused:
        respond(ctx, text, day=day)
    assert refused.value.message == message
    assert ctx.service.calls == []


def test_an_empty_box_asks_nothing_and_a_stranger_is_refused() -> None:
    ctx = stand_in_context()
    assert respond(ctx, "   ") == []
    with pytest.raises(gr.Error, match="login required"):
        list(ChatHandlers(ctx).respond("q", [], [], [], "", "", "", "", "ko", gr.Request(username="eve")))  # type: ignore[arg-type]
    assert ctx.service.calls == []


def test_console_labels_cover_every_labelled_component_in_both_languages() -> None:
    with gr.Blocks():
        tab = build_console_tab()
    for code in ("ko", "en"):
        labels = console_labels(code)
        assert len(labels) == len(tab.labelled())
    assert console_labels("en")[0] == gr.update(label="Admin")
    assert console_labels("en")[1] == "### Documents" and console_labels("ko")[1] == "### 문서"
    assert console_labels("xx") == console_labels("ko")  # an unknown code falls back to Korean


def api(*routers: Any, ctx: SimpleNamespace) -> TestClient:
    app = FastAPI()
    app.add_exception_handler(RequestValidationError, unprocessable)
    for router in routers:
        app.include_router(router)
    app.dependency_overrides[app_context] = lambda: ctx
    app.dependency_overrides[current_user] = lambda: BOB
    return TestClient(app)


def test_ask_route_validates_once_with_the_site_limit_and_calls_the_service() -> None:
    ctx = stand_in_context(max_chars=5)
    client = api(ask.router, ctx=ctx)
    too_long = client.post("/api/ask", json={"question": "123456"})
    assert too_long.status_code == 422
    (error,) = too_long.json()["detail"]
    assert (error["loc"], error["msg"]) == (["body", "question"], "Value error, question longer than 5 characters")
    assert client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"}
                       ).status_code == 422
    assert client.post("/api/ask").json()["detail"][0]["loc"] == ["body"]
    assert ctx.service.calls == []
    got = client.post("/api/ask", json={"question": "12345", "filters": {"doc": " d1 ", "kind": ""}, "k": 3,
                                        "history": [{"role": "user", "content": "q"}]})
    assert got.status_code == 200 and got.json() == {"question": "12345", "answer": "a", "refused": False}
    assert ctx.service.calls == [("12345", {"history": [{"role": "user", "content": "q"}], "k": 3, "as_of": None,
                                            "filters": {"doc": "d1"}})]


def test_local_ingest_wants_the_servers_token() -> None:
    ctx = stand_in_context()
    client = api(local_ingest.router, ctx=ctx)
    body = {"paths": ["/no/such/path"]}
    assert client.post("/api/ingest/local", json=body).status_code == 403
    assert client.post("/api/ingest/local", json=body, headers={"X-Civicrag-Token": "wrong"}).status_code == 403
    missing = client.post("/api/ingest/local", json=body, headers={"X-Civicrag-Token": "right-token"})
    assert missing.status_code == 422 and missing.json()["detail"] == "no such file or folder: /no/such/path"
