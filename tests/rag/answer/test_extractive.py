"""``rag.answer.extractive``: the offline answer quotes the decisive unit, cites it from metadata, lists related
provisions that were retrieved nearly as strongly, and refuses in a fixed phrase with the reason."""

from __future__ import annotations

from civicrag.rag.answer.extractive import ExtractiveAnswerer, format_citation, format_ref
from civicrag.rag.evidence import UnitScore
from civicrag.rag.types import Answer, Answerability, ChunkRecord, Citation, ScoredChunk

from civicrag.legal.units import split_units

TITLE = "가상특별자치도 주차장 설치 및 관리 조례"
LEAD_IN = "① 도지사는 다음 각 호의 자동차에 대하여 주차요금의 100분의 50을 감면한다."
TEXT = f"제7조(주차요금의 감면)\n{LEAD_IN}\n1. 경차\n2. 전기자동차\n② 장애인이 타고 있는 자동차는 면제한다."


def _chunk(article: str, article_title: str, text: str, score: float, pinned: bool = False, **meta: str
           ) -> ScoredChunk:
    metadata = {"doc_id": "9100001", "title": TITLE, "language": "ko", "article": article,
                "article_title": article_title, "effective_date": "2024-01-01", **meta}
    return ScoredChunk(ChunkRecord(f"9100001#{article}", text, metadata), score, pinned=pinned)


LEAD = _chunk("제7조", "주차요금의 감면", TEXT, 0.9)
FEE = _chunk("제5조", "주차요금", "제5조(주차요금)\n주차요금은 1시간에 1천원으로 한다.", 0.6)
WEAK = _chunk("제10조", "불법주차 견인", "제10조(불법주차 견인)\n견인 비용은 소유자가 부담한다.", 0.5)


def _run(question: str, chunks: list[ScoredChunk], units: list[UnitScore], answerability: Answerability,
         language: str = "ko", as_of: str = "2025-01-01") -> tuple[str, Answer]:
    events = list(ExtractiveAnswerer().stream(question, language, chunks, units, answerability, as_of))  # type: ignore[arg-type]
    answer = events[-1]
    assert isinstance(answer, Answer)
    return "".join(e for e in events[:-1] if isinstance(e, str)), answer


def test_format_ref_in_both_languages() -> None:
    assert format_ref(LEAD, "ko", "①") == f"「{TITLE}」 제7조(주차요금의 감면) ①"
    section = ScoredChunk(ChunkRecord("t#1", "…", {"title": "Town Code", "article": "SECTION 3-1",
                                                   "article_title": "MAYOR", "language": "en"}), 1.0)
    assert format_ref(section, "en", "(b)") == "SECTION 3-1 (MAYOR)(b), Town Code"
    assert format_ref(section, "en") == "SECTION 3-1 (MAYOR), Town Code"
    # A Korean document is cited the Korean way even in an English answer.
    assert format_ref(LEAD, "en") == f"「{TITLE}」 제7조(주차요금의 감면)"
    assert format_citation(Citation.from_chunk(2, FEE), "en") == f"「{TITLE}」 제5조(주차요금)"


def test_an_item_is_quoted_with_its_lead_in_and_the_rest_follows() -> None:
    units = split_units(TEXT)
    item = units[1]  # "1. 경차", under ①
    best = UnitScore(0, item, overlap=0.8, fact=True, defers=False, score=0.9, text=item.text)
    rest = UnitScore(0, units[3], overlap=0.1, fact=False, defers=False, score=0.1, text=units[3].text)
    streamed, answer = _run("경차 감면돼?", [LEAD, FEE, WEAK], [best, rest], Answerability(True, 0.9, ""))
    # Related: 제5조 scores 0.6 >= 0.6 * 0.9 = 0.54, 제10조 (0.5) falls below the floor.
    assert answer.text.splitlines() == [
        f"「{TITLE}」 제7조(주차요금의 감면) ①에서 정하고 있습니다.",
        "> ① 도지사는 다음 각 호의 자동차에 대하여 주차요금의 100분의 50을 감면한다. [1]",
        "> 1. 경차 [1]",
        "조문 전체:",
        "> ② 장애인이 타고 있는 자동차는 면제한다.",
        "",
        "관련 조문:",
        f"- 「{TITLE}」 제5조(주차요금)",
    ]
    assert streamed == answer.text + "\n" and not answer.refused
    assert [(c.n, c.article, c.paragraph) for c in answer.citations] == [(1, "제7조", "①")]
    assert answer.citations[0].quote == f"{LEAD_IN}\n1. 경차"
    assert [(c.n, c.article) for c in answer.related] == [(2, "제5조")]


def test_a_superseded_version_says_so() -> None:
    old = ScoredChunk(ChunkRecord("9100001#old", TEXT, dict(LEAD.chunk.metadata), "2020-01-01", "2024-07-01"), 0.9)
    units = split_units(TEXT)
    best = UnitScore(0, units[3], overlap=0.8, fact=True, defers=False, score=0.9, text=units[3].text)
    _, answer = _run("장애인 차량은?", [old], [best], Answerability(True, 0.9, ""), as_of="2021-06-01")
    assert answer.text.splitlines()[-1] == (
        "※ 2021-06-01 기준으로 시행 중이던 판(현재는 2024-07-01부터 개정됨)에서 인용했습니다."
    )
    assert answer.citations[0].superseded and answer.citations[0].valid_to == "2024-07-01"


def test_a_refusal_gives_the_reason_and_the_strongly_retrieved_provisions() -> None:
    reason = "the provisions on this topic do not state the detail asked"
    # Related: at most three, each scoring at least 0.6 * 0.9 = 0.54 (제10조 at 0.5 does not).
    _, answer = _run("경차 주차 시간 제한은?", [LEAD, FEE, WEAK], [], Answerability(False, 0.2, reason))
    assert answer.refused and answer.citations == [] and answer.reason == reason
    assert answer.text.splitlines() == [
        "규정에서 찾을 수 없습니다.",
        "이 주제의 조문은 있으나, 질문하신 세부 내용은 규정에 나와 있지 않습니다.",
        "",
        "관련이 있을 수 있는 조문:",
        f"- 「{TITLE}」 제7조(주차요금의 감면)",
        f"- 「{TITLE}」 제5조(주차요금)",
    ]
    assert [(c.n, c.article) for c in answer.related] == [(1, "제7조"), (2, "제5조")]
    _, english = _run("parking?", [LEAD], [], Answerability(False, 0.1, "no provision on this topic"), "en")
    assert english.text.splitlines()[:2] == ["Not found in the regulations.", "No provision on this topic was found."]


def test_a_refusal_with_nothing_retrieved_is_the_phrase_alone() -> None:
    _, answer = _run("?", [], [], Answerability(False, 0.0, "no provision on this topic"))
    assert answer.text == "규정에서 찾을 수 없습니다." and answer.related == []


def test_a_pinned_provision_is_related_whatever_its_score() -> None:
    pinned = _chunk("제9조", "주차장 운영시간", "제9조(주차장 운영시간)\n운영시간은 도지사가 정한다.", 0.1, pinned=True)
    _, answer = _run("?", [LEAD, pinned], [], Answerability(False, 0.1, ""))
    assert [c.article for c in answer.related] == ["제7조", "제9조"]
