"""Generative answers from an OpenAI-compatible ``/v1/chat/completions`` endpoint, grounded and checked.

The model sees the retrieved chunks numbered [1]..[n] and must cite them. Its output
is checked sentence by sentence as it streams:
- a marker that does not name a chunk it was given (a hallucinated ``[9]``) is removed;
- a sentence left without a valid marker is kept only if its words are found in one
  given chunk (then that chunk's marker is added and the sentence is flagged);
  otherwise it is dropped and listed in ``Answer.dropped``;
- the citations list is built from the cited chunks' metadata, renumbered by first use.
The model may decline with ``NOT_FOUND: reason``; that becomes a refusal.

Failures: an endpoint that cannot be reached or answers an HTTP error raises ``LlmError`` before any text,
and the service falls back to the extractive answer. A stream that breaks off after checked sentences were
shown keeps those sentences (their citations are complete) and says that the answer was cut off; before
that, it is a failure like the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import openai
from civicrag.rag.answer.extractive import format_citation, format_ref
from civicrag.rag.evidence import EvidenceScorer, UnitScore
from civicrag.rag.language import phrase
from civicrag.rag.types import Answer, Answerability, Citation, Language, Message, ScoredChunk

_MARKER = re.compile(r"\[(\d{1,3})\]")
# A sentence ends at . ! ? 。 or a newline, optionally followed by its markers ("…한다. [1]").
_SENTENCE_END = re.compile(r"([.!?。](\s*\[\d{1,3}\])*(?=\s)|\n)")
_NOT_FOUND = re.compile(r"^\s*NOT[_ ]FOUND\s*:?\s*", re.I)
_SUPPORT_THRESHOLD = 0.6
# Closes an answer whose stream broke off after some of it was shown.
_CUT_OFF: dict[Language, str] = {
    "ko": "※ 답변 생성이 중간에 끊겼습니다. 위 답변은 일부만 담고 있을 수 있습니다.",
    "en": "Note: the generated answer was cut off; the text above may be incomplete.",
}
# The openai client refuses to start without a key; keyless local servers get this one, and the request
# omits the Authorization header so the placeholder never leaves the process.
_NO_KEY = "unused"


class LlmError(Exception):
    """The endpoint failed; the service falls back to the extractive answer."""


class LlmClient:
    """Streams chat completions through the ``openai`` client, sending only what the settings name.

    The key is always passed explicitly (``None`` would make the ``openai`` client read ``OPENAI_API_KEY``
    and send it to whatever endpoint is configured). Retries are off: a failing endpoint should fall back
    to the extractive answer at once, not after a retry schedule.
    """

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout_s: float, temperature: float = 0.0):
        base = base_url.rstrip("/")
        # The setting may name the server (http://host:8000) or its API root (http://host:8000/v1).
        self.base_url = base if base.endswith("/v1") else base + "/v1"
        self.url = self.base_url + "/chat/completions"  # named in error messages
        self.model = model
        self.timeout = timeout_s
        self.temperature = temperature
        self._extra_headers: dict[str, Any] = {} if api_key else {"Authorization": openai.omit}
        self._openai = openai.OpenAI(
            base_url=self.base_url, api_key=api_key or _NO_KEY, timeout=timeout_s, max_retries=0,
        )

    def close(self) -> None:
        self._openai.close()

    def stream_chat(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """Content deltas of a streamed chat completion; any failure, before or during the stream, is an
        ``LlmError``."""
        received = False
        try:
            stream = self._openai.chat.completions.create(
                model=self.model, messages=messages,  # type: ignore[arg-type]  # plain role/content dicts
                stream=True, temperature=self.temperature, extra_headers=self._extra_headers,
            )
            with stream:
                for chunk in stream:
                    received = True
                    for choice in chunk.choices or []:
                        delta = choice.delta.content if choice.delta is not None else None
                        if delta:
                            yield delta
        except openai.APIStatusError as exc:
            raise LlmError(f"{self.url} answered {exc.status_code}: {exc.response.text[:200]}") from exc
        except (openai.OpenAIError, httpx.HTTPError, ValueError) as exc:
            # The openai client wraps failures to connect (the transport error is the cause, and says more than
            # "Connection error."); a connection lost mid-stream or an unreadable event surfaces as it is.
            detail = exc.__cause__ if isinstance(exc, openai.APIConnectionError) and exc.__cause__ else exc
            if received:
                raise LlmError(f"the stream from {self.url} broke off: {detail}") from exc
            raise LlmError(f"cannot reach {self.url}: {detail}") from exc

    def complete(self, messages: list[dict[str, str]]) -> str:
        return "".join(self.stream_chat(messages))

    def rewrite(self, question: str, history: Sequence[Message], language: Language) -> str:
        """A standalone version of a follow-up question."""
        turns = "\n".join(f"{m.role}: {m.content[:500]}" for m in history[-6:])
        instruction = (
            "대화 맥락을 반영하여 마지막 질문을 그 자체로 이해되는 한 문장의 질문으로 다시 쓰세요. 질문만 출력하세요."
            if language == "ko"
            else "Rewrite the last question as one standalone question using the conversation. Output only it."
        )
        text = self.complete([
            {"role": "system", "content": instruction},
            {"role": "user", "content": f"{turns}\nuser: {question}"},
        ])
        return text.strip().splitlines()[0].strip() if text.strip() else question


def build_messages(question: str, language: Language, chunks: Sequence[ScoredChunk]) -> list[dict[str, str]]:
    if language == "ko":
        system = (
            "당신은 지방자치단체 공무원의 질문에 자치법규 조문만을 근거로 답합니다. "
            "아래 번호가 붙은 조문만 사용하고, 모든 문장 끝에 근거 조문 번호를 [1]처럼 붙이세요. "
            "주어진 조문에 없는 번호는 절대 쓰지 마세요. 조문이 질문에 답하지 못하면 "
            "'NOT_FOUND: 이유' 한 줄만 출력하세요. 한국어로 간결하게 답하세요."
        )
    else:
        system = (
            "You answer city staff's questions using only the numbered provisions below. "
            "End every sentence with the number of the provision that supports it, like [1]. "
            "Never cite a number that is not listed. If the provisions do not answer the question, "
            "output one line 'NOT_FOUND: reason'. Answer concisely in English."
        )
    context = "\n\n".join(
        f"[{i}] {format_ref(c, language)}\n{c.chunk.text}" for i, c in enumerate(chunks, start=1)
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"{context}\n\n{'질문' if language == 'ko' else 'Question'}: {question}"},
    ]


class LlmAnswerer:
    name = "llm"

    def __init__(self, client: LlmClient, scorer: EvidenceScorer, max_chunks: int = 6, related: int = 4):
        self.client = client
        self.scorer = scorer
        self.max_chunks = max_chunks
        self.related = related

    def stream(
        self,
        question: str,
        language: Language,
        chunks: Sequence[ScoredChunk],
        units: Sequence[UnitScore],
        answerability: Answerability,
        as_of: str,
    ) -> Iterator[str | Answer]:
        given = list(chunks[: self.max_chunks])
        state = _Checker(given, self.scorer)
        buffer = ""
        head_checked = False
        declined = False
        cut_off = False
        try:
            for delta in self.client.stream_chat(build_messages(question, language, given)):
                buffer += delta
                if not head_checked and len(buffer.lstrip()) >= 9:
                    head_checked = True
                    declined = bool(_NOT_FOUND.match(buffer))
                if declined:
                    continue
                while True:
                    m = _SENTENCE_END.search(buffer)
                    if not m:
                        break
                    sentence, buffer = buffer[: m.end()], buffer[m.end() :]
                    out = state.check(sentence)
                    if out:
                        yield out
        except LlmError:
            if not state.citations:
                raise  # nothing but whitespace was shown: the service answers extractively instead
            # Checked sentences are on the user's screen with their markers: keep them (their citations are
            # complete), drop the unfinished rest and say the answer was cut off.
            cut_off = True
            buffer = ""
        if not head_checked:
            declined = bool(_NOT_FOUND.match(buffer))
        if declined:
            reason = _NOT_FOUND.sub("", buffer).strip()
            yield from self._decline(language, given, reason)
            return
        if buffer.strip():
            out = state.check(buffer)
            if out:
                yield out
        if not state.citations:
            # Nothing supported survived the checks: no answer is better than an unsupported one.
            yield from self._decline(language, given, "no supported statement")
            return
        cited = {(c.doc_id, c.article) for c in state.citations}
        related = [
            Citation.from_chunk(0, c) for c in given if (c.chunk.doc_id, c.chunk.article) not in cited
        ][: self.related]
        for i, r in enumerate(related, start=len(state.citations) + 1):
            r.n = i
        text = "".join(state.kept).strip()
        if cut_off:
            notice = _CUT_OFF[language]
            yield f"\n\n{notice}\n"
            text = f"{text}\n\n{notice}"
        yield Answer(text=text, refused=False, citations=state.citations, related=related, dropped=state.dropped)

    def _decline(self, language: Language, given: Sequence[ScoredChunk], reason: str) -> Iterator[str | Answer]:
        related = [Citation.from_chunk(i, c) for i, c in enumerate(given[:3], start=1)]
        lines = [phrase("not_found", language)]
        if reason:
            lines.append(reason)
        if related:
            lines += ["", phrase("possibly_related", language) + ":"]
            lines += [f"- {format_citation(r, language)}" for r in related]
        text = "\n".join(lines)
        yield text + "\n"
        yield Answer(text=text, refused=True, citations=[], related=related, reason=reason or "declined by the model")


class _Checker:
    """Validates streamed sentences against the chunks given to the model and renumbers citations."""

    def __init__(self, given: Sequence[ScoredChunk], scorer: EvidenceScorer):
        self.given = given
        self.scorer = scorer
        self.renumber: dict[int, int] = {}
        self.citations: list[Citation] = []
        self.kept: list[str] = []
        self.dropped: list[str] = []

    def _cite(self, n: int) -> int:
        if n not in self.renumber:
            self.renumber[n] = len(self.renumber) + 1
            self.citations.append(Citation.from_chunk(self.renumber[n], self.given[n - 1]))
        return self.renumber[n]

    def check(self, sentence: str) -> str:
        if not sentence.strip():
            self.kept.append(sentence)
            return sentence
        valid = [int(n) for n in _MARKER.findall(sentence) if 1 <= int(n) <= len(self.given)]
        body = _MARKER.sub("", sentence)
        body = re.sub(r"[ \t]+([.!?。])", r"\1", body).rstrip()
        trailing = "\n" if sentence.endswith("\n") else " "
        if not valid:
            support = self._best_support(body)
            if support is None:
                self.dropped.append(sentence.strip())
                return ""
            valid = [support]
            flag = "*"  # support found by matching, not by the model's own marker
        else:
            flag = ""
        markers = "".join(f"[{self._cite(n)}]" for n in dict.fromkeys(valid))
        # Markers go after the sentence's final punctuation, as the model was asked to write them.
        out = f"{body} {markers}{flag}".strip() + trailing
        self.kept.append(out)
        return out

    def _best_support(self, sentence: str) -> int | None:
        tokens = [t for t in dict.fromkeys(self.scorer.tokens(sentence))]
        if len(tokens) < 2:
            return None
        total = sum(self.scorer.weight(t) for t in tokens) or 1.0
        best, best_n = 0.0, None
        for n, c in enumerate(self.given, start=1):
            chunk_tokens = self.scorer.tokens(c.chunk.text)
            share = sum(self.scorer.weight(t) for t in tokens if t in chunk_tokens) / total
            if share > best:
                best, best_n = share, n
        return best_n if best >= _SUPPORT_THRESHOLD else None
