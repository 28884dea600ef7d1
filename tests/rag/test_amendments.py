"""rag.amendments on small hand-made versions: alignment of articles and 항/호, word diffs, notes, versions."""

from __future__ import annotations

from typing import Any

import pytest
from civicrag.rag.amendments import Unit as CUnit
from civicrag.rag.amendments import (
    VersionError,
    align_units,
    amendment_notes,
    compare,
    comparison_text,
    inline_diff,
    provisions,
    regex_words,
    versions,
    word_diff,
)
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.types import ChunkRecord

DOC = "9000001"


def record(version: str, seq: int, article: str, text: str, *, title: str = "", paragraph: str = "",
           kind: str = "article", valid_to: str | None = None, doc: str = DOC) -> ChunkRecord:
    meta: dict[str, Any] = {
        "doc_id": doc, "title": "가상시 주차장 조례", "article": article, "article_title": title,
        "paragraph": paragraph, "provision_kind": kind, "effective_date": version, "version": version, "seq": seq,
    }
    return ChunkRecord(f"{doc}@{version}#h-{seq:04d}", text, meta, version, valid_to)


OLD = "2020-01-01"
NEW = "2024-07-01"


def two_versions() -> Catalogue:
    old = [
        record(OLD, 0, "제1조", "제1조(목적)\n이 조례는 주차장 운영에 필요한 사항을 정한다.", title="목적",
               valid_to=NEW),
        record(OLD, 1, "제2조", "제2조(요금)\n① 주차요금은 1시간에 1천원으로 한다.\n"
               "② 경차는 요금의 50퍼센트를 감면한다.", title="요금", valid_to=NEW),
        record(OLD, 2, "제3조", "제3조(운영시간)\n주차장은 오전 9시부터 오후 6시까지 운영한다.", title="운영시간",
               valid_to=NEW),
        record(OLD, 3, "제4조", "제4조(위탁)\n시장은 주차장 운영을 위탁할 수 있다.", title="위탁", valid_to=NEW),
        record(OLD, 4, "부칙", "부칙\n이 조례는 공포한 날부터 시행한다.", kind="supplementary", valid_to=NEW),
    ]
    new = [
        record(NEW, 0, "제1조", "제1조(목적)\n이 조례는 주차장 운영에 필요한 사항을 정한다.", title="목적"),
        record(NEW, 1, "제2조", "제2조(요금)\n① 주차요금은 1시간에 2천원으로 한다. <개정 2024.7.1.>\n"
               "② 경차는 요금의 50퍼센트를 감면한다.\n③ 장애인 차량은 요금을 면제한다. <신설 2024.7.1.>",
               title="요금"),
        record(NEW, 2, "제3조", "제3조(이용시간)\n주차장은 오전 9시부터 오후 6시까지 운영한다.", title="이용시간"),
        record(NEW, 3, "부칙", "부칙\n이 조례는 공포한 날부터 시행한다.", kind="supplementary"),
        record(NEW, 4, "부칙", "부칙 <제12호, 2024.7.1.>\n이 조례는 2024년 7월 1일부터 시행한다.",
               title="<제12호, 2024.7.1.>", kind="supplementary"),
    ]
    return Catalogue.from_records(old + new)


def test_versions_in_order_and_the_default_pair() -> None:
    catalogue = two_versions()
    found = versions(catalogue, DOC)
    assert [(v.version, v.valid_to) for v in found] == [(OLD, NEW), (NEW, None)]
    c = compare(catalogue, DOC, words=regex_words)
    assert (c.old.version, c.new.version) == (OLD, NEW)
    # a date selects the version in force on it; reversed arguments still put the older on the left
    again = compare(catalogue, DOC, from_="2030-01-01", to="2021-05-05", words=regex_words)
    assert (again.old.version, again.new.version) == (OLD, NEW)


@pytest.mark.parametrize(
    ("doc", "from_", "to", "message"),
    [
        ("nope", None, None, "no indexed document"),
        (DOC, NEW, NEW, "same version"),
        (DOC, "2019-01-01", None, "no indexed version was in force on 2019-01-01"),
        (DOC, "yesterday", None, "neither a version"),
        (DOC, None, OLD, "earliest indexed version"),
    ],
)
def test_version_errors_say_what_is_wrong(doc: str, from_: str | None, to: str | None, message: str) -> None:
    with pytest.raises(VersionError, match=message):
        compare(two_versions(), doc, from_, to, words=regex_words)


def test_one_version_has_nothing_to_compare() -> None:
    catalogue = Catalogue.from_records([record(OLD, 0, "제1조", "제1조(목적)\n목적을 정한다.")])
    with pytest.raises(VersionError, match="only one indexed version"):
        compare(catalogue, DOC)


def test_articles_and_paragraphs_marked_added_deleted_changed() -> None:
    c = compare(two_versions(), DOC, words=regex_words)
    assert [(a.key, a.status) for a in c.articles] == [
        ("제1조", "unchanged"),
        ("제2조", "changed"),
        ("제3조", "changed"),  # its heading changed: 운영시간 -> 이용시간
        ("제4조", "deleted"),
        ("부칙", "unchanged"),
        ("부칙 <제12호, 2024.7.1.>", "added"),
    ]
    second = c.article("제2조")
    assert second is not None
    assert [(u.status, u.label) for u in second.units] == [("changed", "①"), ("unchanged", "②"), ("added", "③")]
    changed = second.units[0]
    assert [h.to_list() for h in changed.words] == [
        ["equal", "① 주차요금은 1시간에 ", "① 주차요금은 1시간에 "],
        ["replace", "1", "2"],
        ["equal", "천원으로 한다.", "천원으로 한다. "],
        ["insert", "", "<개정 2024.7.1.>"],
    ]
    heading = c.article("제3조")
    assert heading is not None and heading.header_words is not None
    assert inline_diff(heading.header_words) == "제3조([-운영시간-]{+이용시간+})"
    assert [u.status for u in heading.units] == ["unchanged"]
    assert c.summary() == {
        "articles_added": 1, "articles_deleted": 1, "articles_changed": 2, "articles_unchanged": 2,
        "units_added": 1, "units_deleted": 0, "units_changed": 1,
    }


def test_renumbered_and_replaced_paragraphs() -> None:
    old = [CUnit("①", "① 신청은 서면으로 한다."), CUnit("②", "② 수수료는 1천원으로 한다."),
           CUnit("③", "③ 그 밖의 사항은 시장이 정한다.")]
    new = [CUnit("①", "① 신청은 서면으로 한다."), CUnit("②", "② 신청은 전자문서로도 할 수 있다."),
           CUnit("③", "③ 수수료는 1천원으로 한다."), CUnit("④", "④ 그 밖의 사항은 규칙으로 정한다.")]
    units = align_units(old, new, regex_words)
    assert [(u.status, u.old.label if u.old else "", u.new.label if u.new else "") for u in units] == [
        ("unchanged", "①", "①"),
        ("added", "", "②"),
        ("changed", "②", "③"),  # same words, new number
        ("changed", "③", "④"),  # renumbered and reworded: paired by similarity
    ]
    assert inline_diff(units[2].words) == "[-②-]{+③+} 수수료는 1천원으로 한다."
    assert inline_diff(units[3].words) == "[-③-]{+④+} 그 밖의 사항은 [-시장이-]{+규칙으로+} 정한다."


def test_a_rewritten_paragraph_is_changed_an_unrelated_one_deleted_and_added() -> None:
    same_number = align_units([CUnit("①", "① 주차장은 무료로 한다.")], [CUnit("①", "① 위원회는 7명으로 구성한다.")],
                              regex_words)
    assert [u.status for u in same_number] == ["changed"]  # ① rewritten: law.go.kr shows it as amended
    other = align_units([CUnit("②", "② 주차장은 무료로 한다.")], [CUnit("③", "③ 위원회는 7명으로 구성한다.")],
                        regex_words)
    assert [u.status for u in other] == ["deleted", "added"]


def test_an_article_split_over_chunks_is_joined_back() -> None:
    chunks = [
        record(NEW, 5, "제6조", "제6조(경력)\n① 경력은 연·월·일로 산정한다.", title="경력", paragraph="①"),
        record(NEW, 6, "제6조", "제6조(경력)\n② 경력의 산정은 실제 근무한 기간으로 한다.", title="경력", paragraph="②"),
        record(NEW, 7, "제6조", "제6조(경력)\n다만, 유급휴가는 경력으로 인정한다.", title="경력", paragraph="②"),
        record(NEW, 8, "제7조", "제7조(인정)\n무사고 경력을 인정한다.", title="인정"),
    ]
    found = provisions(reversed(chunks))
    assert [p.key for p in found] == ["제6조", "제7조"]
    sixth = found[0]
    assert sixth.text == ("제6조(경력)\n① 경력은 연·월·일로 산정한다.\n"
                          "② 경력의 산정은 실제 근무한 기간으로 한다. 다만, 유급휴가는 경력으로 인정한다.")
    assert [u.label for u in sixth.units] == ["①", "②"]
    assert sixth.chunk_of(sixth.units[1]).chunk_id == chunks[1].chunk_id


def test_note_lines_belong_to_their_paragraph_or_article() -> None:
    [p] = provisions([record(NEW, 0, "제2조의2", "제2조의2(임명)\n① 이장은 읍장이 임명한다.\n"
                             "② 반장은 이장이 추천한다.\n<신설 2025.7.11.>\n\n[전문개정 2019.9.6.]", title="임명")])
    assert [(u.label, u.text, u.note) for u in p.units] == [
        ("①", "① 이장은 읍장이 임명한다.", False),
        ("②", "② 반장은 이장이 추천한다. <신설 2025.7.11.>", False),
        ("", "[전문개정 2019.9.6.]", True),
    ]


def test_amendment_notes_are_read_with_their_dates() -> None:
    text = ("① 요금은 2천원으로 한다. <개정 2019.3.20., 2025. 6. 13.>\n1. 삭제 <2025. 6. 13.>\n2. 삭제<2025.7.11>\n"
            "[본조신설 2017.8.9.] [제목개정 2025. 4. 14.]\n부칙 <제885호, 2025. 6. 13.>\n[제5조에서 이동 <2019.4.11.>]")
    assert [(n.kind, n.dates) for n in amendment_notes(text)] == [
        ("개정", ("2019-03-20", "2025-06-13")),
        ("삭제", ("2025-06-13",)),
        ("삭제", ("2025-07-11",)),
        ("본조신설", ("2017-08-09",)),
        ("제목개정", ("2025-04-14",)),
        ("이동", ("2019-04-11",)),
    ]


def test_word_diff_pieces_rebuild_both_texts_exactly() -> None:
    old, new = "② 모집공고는 접수개시일 20일 전에 공고한다.", "② 모집공고는  접수개시일 30일 전까지 공고하여야 한다."
    for words in (regex_words, None):
        hunks = word_diff(old, new, words)
        assert "".join(h.old for h in hunks) == old
        assert "".join(h.new for h in hunks) == new


def test_korean_words_through_kiwi_tokens() -> None:
    hunks = word_diff("② 신규면허 모집공고는 접수개시일 20일 전에 공고한다.",
                      "② 신규면허 모집공고는 접수개시일 30일 전까지 공고하여야 한다.")
    # Kiwi's morphemes: the number, the particle and the ending change; 공고 and 일 stay.
    assert inline_diff(hunks) == "② 신규면허 모집공고는 접수개시일 [-20-]{+30+}일 전[-에-]{+까지+} 공고{+하여야 +}한다."


def test_text_and_json_forms() -> None:
    c = compare(two_versions(), DOC, words=regex_words)
    text = comparison_text(c)
    assert text.splitlines()[:3] == [
        "가상시 주차장 조례 (9000001)",
        "  from 2020-01-01 (superseded 2024-07-01)  ->  to 2024-07-01 (current)",
        "  articles: 1 added, 1 deleted, 2 changed, 2 unchanged; 항/호: 1 added, 0 deleted, 1 changed",
    ]
    assert "    ~ ① 주차요금은 1시간에 [-1-]{+2+}천원으로 한다. {+<개정 2024.7.1.>+}" in text
    assert "    + ③ 장애인 차량은 요금을 면제한다. <신설 2024.7.1.>" in text
    assert "- 제4조(위탁)  [삭제 / deleted]" in text
    data = c.to_dict()
    assert [a["key"] for a in data["articles"]] == ["제2조", "제3조", "제4조", "부칙 <제12호, 2024.7.1.>"]
    assert data["from"]["version"] == OLD and data["to"]["superseded"] is False
    assert data["articles"][0]["units"][0]["words"][1] == ["replace", "1", "2"]
    assert len(c.to_dict(all_articles=True)["articles"]) == 6
