"""Follow-up questions ("그럼 경차는?", "and for zoning?") rewritten into standalone ones before retrieval.

Offline the rewrite is deterministic: the previous question's topic words are carried
over, and the documents the conversation was about become a soft preference (the
named-document vote of the hybrid retriever), never a hard filter. With an LLM
configured, ``rag.answer.llm.LlmClient.rewrite`` does it and this is the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from civicrag.rag.facts import kind_spans
from civicrag.rag.types import Message

_KO_CUE = re.compile(
    r"^\s*(그럼|그러면|그렇다면|그건|그거는?|그것은?|이건|이거는?|그리고|또|또한|그\s*외에?|나머지는?|그\s*경우)\s*"
)
_EN_CUE = re.compile(
    r"^\s*(and|so|then|what about|how about|and what about|and for|what if|same for|also|ok(ay)?,?)\b[\s,]*", re.I
)
_ANAPHOR = re.compile(r"(^|\s)(그|이|해당|그런|이런|it|that|this|they|those|these|there)(\s|$|[?.,])", re.I)
_TITLE_IN_ANSWER = re.compile(r"「([^」]+)」")
# Content tokens (question words already dropped) up to which an unanchored question in a conversation
# is read as a follow-up; staff follow-ups are short ("세부 선정기준은 누가 정해?" is 4).
_SHORT_TOKENS = 4


@dataclass
class Rewrite:
    question: str  # what retrieval sees
    is_followup: bool
    docs: list[str] = field(default_factory=list)  # documents the conversation was about


class FollowupRewriter:
    def __init__(
        self,
        tokenize: Callable[[str], list[str]],
        find_docs: Callable[[str], list[str]],
        titles: dict[str, str],
    ):
        self._tokenize = tokenize
        self._find_docs = find_docs
        self._doc_by_title = {t: d for d, t in titles.items()}

    def is_followup(
        self, question: str, history: Sequence[Message], tokens: Sequence[str] | None = None,
        docs: Sequence[str] | None = None,
    ) -> bool:
        """``tokens`` and ``docs`` (the documents the question names) are the question's, when the caller has
        them already; otherwise they are worked out here."""
        if not any(m.role == "user" for m in history):
            return False
        if _KO_CUE.match(question) or _EN_CUE.match(question):
            return True
        tokens = self._tokenize(question) if tokens is None else tokens
        if len(tokens) <= 1:
            return True  # "경차는?" alone
        if bool(_ANAPHOR.search(question)) and len(tokens) <= 3:
            return True
        # "위원은 몇 명이야?", "신청서는 어디에 내?": a short question in a conversation that names no
        # regulation of its own asks about the one being discussed. A question that names its
        # document ("주차장 조례 …") or carries more words than this stands alone.
        return len(tokens) <= _SHORT_TOKENS and not (self._find_docs(question) if docs is None else docs)

    def rewrite(
        self, question: str, history: Sequence[Message], tokens: Sequence[str] | None = None,
        docs: Sequence[str] | None = None,
    ) -> Rewrite:
        """The standalone question; ``tokens`` and ``docs`` as for ``is_followup``."""
        if not self.is_followup(question, history, tokens, docs):
            return Rewrite(question, False)
        users = [m.content for m in history if m.role == "user"]
        previous = users[-1]
        # The previous question may itself have been a follow-up: resolve it against its own history first.
        if len(users) > 1:
            earlier = [m for m in history if m.role == "user"][:-1]
            previous = self.rewrite(previous, earlier).question
        core = _EN_CUE.sub("", _KO_CUE.sub("", question)).strip()
        own = set(self._tokenize(core))
        # The previous question's topic carries over; the words that asked its detail ("how long …
        # term", "얼마") do not: the follow-up asks a detail of its own.
        topic = previous
        for start, end in sorted(kind_spans(previous), reverse=True):
            topic = topic[:start] + " " + topic[end:]
        carried = [t for t in self._tokenize(topic) if (t not in own and len(t) > 1) or t.isdigit()]
        carried = list(dict.fromkeys(carried))
        conversation = list(dict.fromkeys(self._find_docs(previous) + self._answer_docs(history)))
        if conversation and not self._cued(question, tokens):
            # "이용자 안전교육은 누가 해?" after a question on rental firms' duties: the question brings its
            # own detail, and the conversation's documents are preference enough. Carrying the previous
            # question's words as well would pull retrieval back to the article answered last time.
            return Rewrite(question, True, conversation)
        rewritten = f"{core} {' '.join(carried)}".strip() if core else previous
        return Rewrite(rewritten, True, conversation)

    def _cued(self, question: str, tokens: Sequence[str] | None) -> bool:
        """The question leans on the last one by a cue word or an anaphor ("그럼 …", "그 회원제 …")."""
        if _KO_CUE.match(question) or _EN_CUE.match(question) or _ANAPHOR.search(question):
            return True
        return len(self._tokenize(question) if tokens is None else tokens) <= 1

    def _answer_docs(self, history: Sequence[Message]) -> list[str]:
        """Documents the last answer cited (by their 「title」 or title text)."""
        for m in reversed(history):
            if m.role != "assistant":
                continue
            docs = [self._doc_by_title[t] for t in _TITLE_IN_ANSWER.findall(m.content) if t in self._doc_by_title]
            if not docs:
                docs = [d for t, d in self._doc_by_title.items() if t and t in m.content]
            return docs[:2]
        return []
