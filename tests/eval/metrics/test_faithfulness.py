from __future__ import annotations

from civicrag.eval.metrics.faithfulness import faithfulness, parse_verdict


class FakeJudge:
    def __init__(self, reply: str | Exception):
        self.reply = reply
        self.messages: list[dict[str, str]] = []

    def complete(self, messages: list[dict[str, str]]) -> str:
        self.messages = messages
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def test_parse_verdict() -> None:
    assert parse_verdict("3/4") == 0.75
    assert parse_verdict("Supported: 2 / 2.") == 1.0
    assert parse_verdict("0/0") is None
    assert parse_verdict("I think it is fine") is None


def test_judge_sees_sources_and_answer() -> None:
    judge = FakeJudge("1/2")
    assert faithfulness(judge, "Q?", "An answer.", ["source one"]) == 0.5
    assert "source one" in judge.messages[-1]["content"] and "An answer." in judge.messages[-1]["content"]


def test_failures_and_empty_inputs_are_none() -> None:
    assert faithfulness(FakeJudge(RuntimeError("down")), "Q", "A", ["s"]) is None
    assert faithfulness(FakeJudge("1/1"), "Q", "", ["s"]) is None
    assert faithfulness(FakeJudge("1/1"), "Q", "A", []) is None
