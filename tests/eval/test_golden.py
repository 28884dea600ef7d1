from __future__ import annotations

import json
from pathlib import Path

import pytest
from civicrag.eval.golden import GoldenError, load_sets, parse_lines

GOOD = {
    "id": "q1", "question": "당직 수당은?", "lang": "ko", "answerable": True,
    "gold": [{"doc_id": "2117319", "article": "제5조"}], "facts": ["6만원"], "tags": ["amount"],
}


def line(**changes: object) -> str:
    obj = {**GOOD, **changes}
    for key, value in list(obj.items()):
        if value is ...:
            del obj[key]
    return json.dumps(obj, ensure_ascii=False)


def test_valid_line_loads_with_optional_fields() -> None:
    history = [{"role": "user", "content": "앞 질문"}, {"role": "assistant", "content": "답"}]
    items, problems = parse_lines([line(history=history, as_of="2021-06-01", near=[])], "s.jsonl")
    assert problems == []
    item = items[0]
    assert item.gold[0].article == "제5조" and item.history == history and item.as_of == "2021-06-01"
    assert item.source == "s.jsonl:1" and item.extra == {"near": []}


def test_blank_and_comment_lines_are_skipped() -> None:
    items, problems = parse_lines(["", "# comment", line()], "s")
    assert len(items) == 1 and problems == []


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("{not json", "s:2: not valid JSON"),
        ("[1, 2]", "s:2: a line must be a JSON object"),
        (line(id=...), "s:2: id: missing required field"),
        (line(question="  "), "s:2: question: must be a non-empty string"),
        (line(lang="ja"), "s:2: lang: must be one of ko, en"),
        (line(answerable="yes"), "s:2: answerable: must be true or false"),
        (line(gold=[{"doc_id": "x"}]), "s:2: gold[0]: must be"),
        (line(gold=[]), "s:2: gold: an answerable question needs at least one gold provision"),
        (line(answerable=False), "s:2: gold: an unanswerable question must have no gold provisions"),
        (line(facts="6만원"), "s:2: facts: must be a list of non-empty strings"),
        (line(tags=[1]), "s:2: tags: must be a list of non-empty strings"),
        (line(history=[{"role": "bot", "content": "x"}]), "s:2: history[0]: must be"),
        (line(as_of="2021/06/01"), "s:2: as_of: must be YYYY-MM-DD"),
    ],
)
def test_bad_lines_are_reported_with_line_and_field(bad: str, expected: str) -> None:
    items, problems = parse_lines([line(), bad], "s")
    assert len(items) == 1
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_load_sets_collects_every_problem_and_duplicate_ids(tmp_path: Path) -> None:
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    a.write_text(line() + "\n" + line(id="q2", lang="xx") + "\n", encoding="utf-8")
    b.write_text("\n" + line() + "\n", encoding="utf-8")
    with pytest.raises(GoldenError) as caught:
        load_sets([a, b])
    problems = caught.value.problems
    assert any(p.startswith(f"{a}:2: lang:") for p in problems)
    assert any(p.startswith(f"{b}:2: id: duplicate id 'q1' (first at {a}:1)") for p in problems)
    assert "2 problem(s)" in str(caught.value)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(GoldenError, match="cannot read"):
        load_sets([tmp_path / "nope.jsonl"])
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(GoldenError, match="no questions"):
        load_sets([empty])


def test_shipped_sets_are_valid() -> None:
    sets = sorted((Path(__file__).resolve().parents[2] / "eval" / "sets").glob("*.jsonl"))
    for path in sets:
        load_sets([path])


def test_hand_made_fixture_set_loads() -> None:
    path = Path(__file__).resolve().parents[1] / "fixtures" / "eval" / "tiny.jsonl"
    items = load_sets([path])
    assert len(items) == 9 and sum(not i.answerable for i in items) == 2
    assert any(i.history for i in items) and any(i.as_of for i in items)
