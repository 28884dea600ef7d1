"""상위법 links end to end: a real ingest of the four fixture regulations, then RagService answers 근거 법령
questions through the structured hook, and ``civicrag refs`` reads the reverse index from the manifest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicrag.cli import app
from civicrag.settings import Settings, load_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statutes"
PARKING_TITLE = "가상특별자치도 주차장 설치 및 관리 조례"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from civicrag.ingest.pipeline import ingest_paths

    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("statutes-data"))
    report = ingest_paths(settings, [FIXTURES])
    assert not report.failed, report.failed
    assert report.added == 4
    return settings


@pytest.fixture(scope="module")
def service(settings: Settings) -> Iterator[object]:
    from civicrag.rag.service import RagService

    svc = RagService(settings)
    yield svc
    svc.close()


def test_ingested_chunks_carry_references(settings: Settings) -> None:
    from civicrag.ingest.store.manifest import Manifest

    manifest = Manifest(settings.manifest_path)
    try:
        metas = {(m["doc_id"], m["article"]): m for _, _, m, _ in manifest.live_chunks()}
    finally:
        manifest.close()
    assert json.loads(metas[("9200001", "제3조")]["references"]) == [
        {"name": "주차장법", "kind": "statute", "article": "제9조"},
        {"name": "주차장법 시행령", "kind": "decree", "article": "제6조"},
    ]
    assert json.loads(metas[("9200004", "제10조")]["references"]) == []


def test_named_ordinance_basis_is_a_structured_answer(service) -> None:  # type: ignore[no-untyped-def]
    result = service.ask("가상특별자치도 주차장 조례는 어느 법에 따른 거야?", as_of="2025-01-01")
    assert result.mode == "structured"
    assert not result.refused
    assert result.answer.splitlines()[1] == (
        "- 「주차장법」 (법률) 제2조, 제9조 — 제1조(목적), 제2조(정의), 제3조(주차요금)에서 인용"
    )
    assert [(c.doc_id, c.article) for c in result.citations] == [("9200001", "제1조"), ("9200001", "제2조"),
                                                                   ("9200001", "제3조"), ("9200001", "제4조")]
    assert result.citations[0].references[0] == {"name": "주차장법", "kind": "statute", "article": ""}
    assert result.to_dict()["citations"][0]["references"][1]["name"] == "주차장법 시행령"


def test_this_ordinance_after_a_conversation_about_it(service) -> None:  # type: ignore[no-untyped-def]
    history = [
        {"role": "user", "content": "가상특별자치도 폐기물 관리 조례에서 대형폐기물은 누가 수집해?"},
        {"role": "assistant", "content": "「가상특별자치도 폐기물 관리 조례」 제2조(대형폐기물)에서 정하고 있습니다."},
    ]
    result = service.ask("이 조례의 근거 법령은?", history=history, as_of="2025-01-01")
    assert result.mode == "structured"
    assert result.answer.splitlines()[:2] == [
        "「가상특별자치도 폐기물 관리 조례」의 근거 법령 (제1조(목적)에서 밝힌 법령):",
        "- 「폐기물관리법」 (법률) 제14조 — 제1조(목적), 제2조(대형폐기물)에서 인용",
    ]


def test_this_provision_after_an_answer_citing_it(service) -> None:  # type: ignore[no-untyped-def]
    history = [
        {"role": "user", "content": "가상특별자치도 주차장 조례에서 공영주차장 요금은 얼마야?"},
        {"role": "assistant", "content": f"「{PARKING_TITLE}」 제3조(주차요금) ①에서 정하고 있습니다."},
    ]
    result = service.ask("이 조항은 어느 법에 따른 거야?", history=history, as_of="2025-01-01")
    assert result.mode == "structured"
    assert result.answer.splitlines() == [
        f"「{PARKING_TITLE}」 제3조(주차요금)이(가) 인용한 법령:",
        "- 「주차장법」 (법률) 제9조",
        "- 「주차장법 시행령」 (대통령령) 제6조",
    ]


def test_other_questions_are_not_structured(service) -> None:  # type: ignore[no-untyped-def]
    result = service.ask("가상특별자치도 주차장 조례에서 경차 감면은 얼마야?", as_of="2025-01-01")
    assert result.mode != "structured"


def test_refs_command_lists_the_ordinances_citing_a_statute(settings: Settings) -> None:
    runner = CliRunner()
    got = runner.invoke(app, ["refs", "주차장법", "--json", "--data-dir", str(settings.data_dir),
                              "--as-of", "2025-01-01"])
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)
    assert [d["doc_id"] for d in data["documents"]] == ["9200001"]
    assert [(p["article"], p["cites"], p["articles"]) for p in data["documents"][0]["provisions"]] == [
        ("제1조", "주차장법", []), ("제1조", "주차장법 시행규칙", []), ("제1조", "주차장법 시행령", []),
        ("제2조", "주차장법", ["제2조"]), ("제3조", "주차장법", ["제9조"]), ("제3조", "주차장법 시행령", ["제6조"]),
    ]
    text = runner.invoke(app, ["refs", "가상특별자치도 사무의 민간위탁 조례", "--data-dir", str(settings.data_dir)])
    assert text.exit_code == 0
    assert text.stdout.splitlines() == [
        f"{PARKING_TITLE} [9200001]", "  제4조(위탁): 「가상특별자치도 사무의 민간위탁 조례」 제10조"
    ]
    none = runner.invoke(app, ["refs", "주차장", "--data-dir", str(settings.data_dir)])
    assert none.stdout.splitlines() == [
        "No indexed regulation cites 주차장.",
        f"Cited names holding it: {PARKING_TITLE}, 주차장법, 주차장법 시행규칙, 주차장법 시행령",
    ]
    bad = runner.invoke(app, ["refs", "주차장법", "--as-of", "tomorrow", "--data-dir", str(settings.data_dir)])
    assert bad.exit_code == 2
