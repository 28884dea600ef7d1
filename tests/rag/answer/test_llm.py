"""The generative path against a local OpenAI-compatible server started here on 127.0.0.1.

The server speaks HTTP/1.1 with chunked event streams, as real ones do, so a stream that breaks off is
seen by the client as a broken stream. The first part of the base URL's path picks how it behaves:
``/v1`` answers normally, ``/fail500/v1`` answers an HTTP 500, ``/cut-early/v1`` and ``/cut-late/v1`` close the
connection in the middle of the stream.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from civicrag.settings import Settings

# What the fake model says, chosen by a word of the question it was sent.
SCRIPTS = {
    "경차": [
        "경차는 주차요금의 ", "100분의 50을 감면받습니다. [1]", "\n", "장애인이 탄 자동차는 면제됩니다. [1][9]",
        "\n", "시장은 모든 차량에 무료 주차를 약속했습니다. [9]", "\n", "주차요금은 최초 30분까지 1천원입니다.",
    ],
    "우주": ["NOT_FOUND: 제공된 조문에 우주 관련 내용이 없습니다."],
}
# Under /cut-early/ and /cut-late/ the stream breaks off after these pieces.
CUTS = {
    # before the first sentence is complete: nothing checked has been shown yet
    "cut-early": ["경차는 주차요금의 "],
    # after one complete sentence, in the middle of the next
    "cut-late": ["경차는 주차요금의 ", "100분의 50을 감면받습니다. [1]\n", "장애인이 탄 자동"],
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests: ClassVar[list[dict[str, Any]]] = []  # bodies, with the request's path and headers added

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({**body, "_path": self.path, "_headers": dict(self.headers)})
        mode = self.path.split("/")[1]
        question = body["messages"][-1]["content"].rsplit("질문:", 1)[-1]
        if mode == "fail500":
            payload = json.dumps({"error": {"message": "model overloaded"}}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        script = CUTS.get(mode) or next((s for word, s in SCRIPTS.items() if word in question), ["모름."])
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in script:
            event = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            self._chunk(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
        if mode in CUTS:
            # Gone without the stream's last chunk: what a crashed or restarted model server looks like.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def log_message(self, *args: Any) -> None:
        pass


def _closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llm_origin() -> Iterator[str]:
    """The fake server's origin; the services below add the path that picks its behaviour."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _llm_service(rag_settings: Settings, service: Any, base_url: str) -> Any:
    """A service over the shared index whose answers come from the endpoint at ``base_url``."""
    from civicrag.rag.service import RagService

    settings = rag_settings.with_overrides(llm={"base_url": base_url, "model": "fake", "timeout_s": 5.0})
    return RagService(settings, store=service.store, embedder=service.embedder)


@pytest.fixture(scope="module")
def llm_service(rag_settings: Settings, llm_origin: str, service: Any) -> Iterator[Any]:
    svc = _llm_service(rag_settings, service, f"{llm_origin}/v1")
    yield svc
    svc.close()


def _streamed(svc: Any, question: str, history: list[dict[str, str]] | None = None) -> tuple[str, Any]:
    """What the user sees (the delta events, in order) and the final Result."""
    events = list(svc.stream(question, history))
    return "".join(e.text for e in events if e.type == "delta"), events[-1].result


def test_generative_answer_keeps_only_markers_of_given_chunks(llm_service: Any) -> None:
    events = list(llm_service.stream("경차 주차요금 감면은 얼마나 돼?"))
    result = events[-1].result
    assert result.mode == "llm" and not result.refused
    sent = _Handler.requests[-1]
    assert sent["_path"] == "/v1/chat/completions"
    assert sent["stream"] is True and sent["model"] == "fake" and sent["temperature"] == 0.0
    given = sent["messages"][-1]["content"]
    # Every marker in the answer names a citation; every citation is a chunk the model was given.
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", result.answer)}
    assert markers == {c.n for c in result.citations}
    assert "[9]" not in result.answer
    for citation in result.citations:
        assert citation.text in given
        assert citation.chunk_id in {r.chunk_id for r in result.retrieved}
    assert (result.citations[0].doc_id, result.citations[0].article) == ("9100001", "제7조")
    # The sentence resting only on the hallucinated [9] is dropped; a marker-less sentence whose words
    # are in a given chunk is kept with a matched (flagged) marker.
    assert "무료 주차를 약속" not in result.answer
    assert any("무료 주차" in d for d in result.dropped)
    # The model's marker-less sentence is matched to the chunk that states it (제5조), flagged with *.
    line = next(ln for ln in result.answer.splitlines() if "1천원입니다" in ln)
    n = int(re.search(r"\[(\d+)\]\*", line).group(1))
    assert (result.citations[n - 1].doc_id, result.citations[n - 1].article) == ("9100001", "제5조")
    streamed = "".join(e.text for e in events if e.type == "delta")
    assert "[9]" not in streamed and "약속" not in streamed


def test_the_model_may_decline(llm_service: Any) -> None:
    result = llm_service.ask("우주 정거장 주차요금은?")
    assert result.refused and result.citations == []
    assert "규정에서 찾을 수 없습니다" in result.answer and "우주" in result.answer


QUESTION = "경차 주차요금 감면은 얼마나 돼?"


def test_connection_refused_falls_back_to_extractive_and_says_so(rag_settings: Settings, service: Any) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    svc = _llm_service(rag_settings, service, url)
    try:
        streamed, result = _streamed(svc, QUESTION)
    finally:
        svc.close()
    offline_streamed, offline = _streamed(service, QUESTION)
    notice, rest = streamed.split("\n", 1)
    assert notice.startswith(f"[LLM unavailable: cannot reach {url}/chat/completions: ")
    assert "Connection refused" in notice and notice.endswith("; extractive answer follows]")
    # After the notice: exactly what the service without an LLM says.
    assert rest == offline_streamed
    assert result.mode == "extractive" and result.answer == offline.answer
    assert result.citations == offline.citations
    assert (result.citations[0].doc_id, result.citations[0].article) == ("9100001", "제7조")


def test_http_error_falls_back_to_extractive_and_says_so(
    rag_settings: Settings, llm_origin: str, service: Any
) -> None:
    svc = _llm_service(rag_settings, service, f"{llm_origin}/fail500/v1")
    try:
        streamed, result = _streamed(svc, QUESTION)
    finally:
        svc.close()
    offline_streamed, offline = _streamed(service, QUESTION)
    url = f"{llm_origin}/fail500/v1/chat/completions"
    body = '{"error": {"message": "model overloaded"}}'
    notice = f"[LLM unavailable: {url} answered 500: {body}; extractive answer follows]\n"
    assert streamed == notice + offline_streamed
    assert result.mode == "extractive" and result.answer == offline.answer and result.citations == offline.citations


def test_stream_cut_before_a_sentence_was_shown_falls_back_to_extractive(
    rag_settings: Settings, llm_origin: str, service: Any
) -> None:
    svc = _llm_service(rag_settings, service, f"{llm_origin}/cut-early/v1")
    try:
        streamed, result = _streamed(svc, QUESTION)
    finally:
        svc.close()
    offline_streamed, offline = _streamed(service, QUESTION)
    url = f"{llm_origin}/cut-early/v1/chat/completions"
    notice, rest = streamed.split("\n", 1)
    assert notice.startswith(f"[LLM unavailable: the stream from {url} broke off: ")
    # The unfinished first sentence was never shown; the user gets the whole extractive answer.
    assert rest == offline_streamed
    assert result.mode == "extractive" and result.answer == offline.answer and result.citations == offline.citations


def test_stream_cut_after_a_sentence_keeps_it_and_says_the_answer_was_cut_off(
    rag_settings: Settings, llm_origin: str, service: Any
) -> None:
    svc = _llm_service(rag_settings, service, f"{llm_origin}/cut-late/v1")
    try:
        streamed, result = _streamed(svc, QUESTION)
    finally:
        svc.close()
    cut_off = "※ 답변 생성이 중간에 끊겼습니다. 위 답변은 일부만 담고 있을 수 있습니다."
    # The checked sentence stays with its citation; the half sentence after it is not shown; no extractive
    # answer is appended to a generated one (its numbering would clash with the markers already shown).
    assert streamed == f"경차는 주차요금의 100분의 50을 감면받습니다. [1] \n\n\n{cut_off}\n"
    assert result.answer == f"경차는 주차요금의 100분의 50을 감면받습니다. [1]\n\n{cut_off}"
    assert result.mode == "llm" and not result.refused and result.dropped == []
    assert [(c.n, c.doc_id, c.article) for c in result.citations] == [(1, "9100001", "제7조")]


def test_failed_rewrite_of_a_follow_up_keeps_the_deterministic_one(
    rag_settings: Settings, llm_origin: str, service: Any
) -> None:
    history = [
        {"role": "user", "content": "경차는 공영주차장 요금을 감면받나요?"},
        {
            "role": "assistant",
            "content": "「가상특별자치도 주차장 설치 및 관리 조례」 제7조(주차요금의 감면)에서 정하고 있습니다.",
        },
    ]
    svc = _llm_service(rag_settings, service, f"{llm_origin}/fail500/v1")
    try:
        result = svc.ask("그럼 전기차는?", history=history)
    finally:
        svc.close()
    offline = service.ask("그럼 전기차는?", history=history)
    assert result.rewritten_question == offline.rewritten_question and "전기차" in result.rewritten_question
    assert result.mode == "extractive" and result.answer == offline.answer


def test_client_sends_the_configured_key_only(llm_origin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicrag.rag.answer.llm import LlmClient

    # A key for api.openai.com in the environment must not travel to the configured endpoint.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    messages = [{"role": "user", "content": "질문: 경차"}]
    for key, expected in ((None, None), ("sk-configured", "Bearer sk-configured")):
        # The base URL may name the server without its /v1 API root.
        client = LlmClient(llm_origin, "fake", key, 5.0, temperature=0.3)
        try:
            text = client.complete(messages)
        finally:
            client.close()
        sent = _Handler.requests[-1]
        headers = {k.lower(): v for k, v in sent["_headers"].items()}
        assert headers.get("authorization") == expected
        assert sent["_path"] == "/v1/chat/completions" and sent["temperature"] == 0.3 and sent["model"] == "fake"
        assert text == "".join(SCRIPTS["경차"])
