"""The generative path against a local OpenAI-compatible server started here on 127.0.0.1."""

from __future__ import annotations

import json
import re
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


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        question = body["messages"][-1]["content"]
        script = next((s for word, s in SCRIPTS.items() if word in question.rsplit("질문:", 1)[-1]), ["모름."])
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in script:
            event = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            self.wfile.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def llm_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def llm_service(rag_settings: Settings, llm_url: str, service: Any) -> Iterator[Any]:
    from civicrag.rag.service import RagService

    settings = rag_settings.model_copy(update={"llm_base_url": llm_url, "llm_model": "fake"})
    svc = RagService(settings, store=service.store, embedder=service.embedder)
    yield svc
    svc.close()


def test_generative_answer_keeps_only_markers_of_given_chunks(llm_service: Any) -> None:
    events = list(llm_service.stream("경차 주차요금 감면은 얼마나 돼?"))
    result = events[-1].result
    assert result.mode == "llm" and not result.refused
    sent = _Handler.requests[-1]
    assert sent["stream"] is True and sent["model"] == "fake"
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


def test_unreachable_endpoint_falls_back_to_extractive(rag_settings: Settings, service: Any) -> None:
    from civicrag.rag.service import RagService

    settings = rag_settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1", "llm_timeout_s": 2.0})
    svc = RagService(settings, store=service.store, embedder=service.embedder)
    try:
        events = list(svc.stream("경차 주차요금 감면"))
    finally:
        svc.close()
    result = events[-1].result
    # The offline answer, exactly as a service without an LLM gives it; the stream says why first.
    assert result.mode == "extractive" and [(c.doc_id, c.article) for c in result.citations] == [("9100001", "제7조")]
    assert result.answer == service.ask("경차 주차요금 감면").answer
    first = next(e.text for e in events if e.type == "delta")
    assert first.startswith("[LLM unavailable: ") and first.endswith("; extractive answer follows]\n")
