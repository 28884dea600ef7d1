"""``rag.catalogue``: the live chunks as rows, the filter and as-of masks every leg applies, and neighbours."""

from __future__ import annotations

import json

from civicrag.rag.catalogue import Catalogue, _attachment_titles, normalise_filters
from civicrag.rag.types import ChunkRecord


def _record(chunk_id: str, doc: str, version: str, article: str, seq: int, valid: tuple[str | None, str | None],
            **meta: str) -> ChunkRecord:
    metadata = {"doc_id": doc, "version": version, "article": article, "seq": seq, **meta}
    return ChunkRecord(chunk_id, f"{article} 본문", metadata, valid[0], valid[1])


OLD = ("2020-01-01", "2024-07-01")  # superseded on 2024-07-01
NEW = ("2024-07-01", None)
ALWAYS = (None, None)
JEJU = "제주특별자치도"

# Rows 0-3: the parking ordinance, in a shuffled order of seq; rows 4-5: two versions of the duty rule;
# row 6: an English section.
RECORDS = [
    _record("p-2", "P", "v1", "제5조", 2, ALWAYS, kind="조례", department="교통정책과, 주차관리팀(064-710-1234)",
            jurisdiction=JEJU),
    _record("p-0", "P", "v1", "제1조", 0, ALWAYS, kind="조례", department="교통정책과", jurisdiction=JEJU),
    _record("p-1", "P", "v1", "제2조", 1, ALWAYS, kind="조례", department="교통정책과", jurisdiction=JEJU),
    _record("p-3", "P", "v1", "제5조", 3, ALWAYS, kind="조례", department="교통정책과", jurisdiction=JEJU),
    _record("d-old", "D", "2020", "제5조", 0, OLD, kind="규칙", department="총무과", jurisdiction=JEJU),
    _record("d-new", "D", "2024", "제5조", 0, NEW, kind="규칙", department="총무과", jurisdiction=JEJU),
    _record("t-0", "town", "v1", "SECTION 3-1", 0, ALWAYS, kind="charter",
            jurisdiction="City of Fixtureville, Test State (US)"),
]


def _rows(mask: object) -> list[int]:
    return [i for i, keep in enumerate(mask) if keep]  # type: ignore[arg-type]


def test_rows_of_a_version_are_in_document_order() -> None:
    catalogue = Catalogue.from_records(RECORDS)
    assert len(catalogue) == 7 and catalogue.row_of["p-0"] == 1
    assert catalogue.rows_by_version[("P", "v1")] == [1, 2, 0, 3]  # by seq: p-0, p-1, p-2, p-3
    assert catalogue.neighbours(2) == [1, 0]  # 제2조: 제1조 before it, 제5조 after
    assert catalogue.neighbours(1, span=2) == [2, 0]
    assert catalogue.article_rows(0) == [0, 3]  # 제5조 is split over two chunks
    assert catalogue.article_rows(4) == [4]  # the same article number in another document is not its chunk


def test_as_of_keeps_the_version_in_force() -> None:
    catalogue = Catalogue.from_records(RECORDS)
    # valid_from inclusive, valid_to exclusive.
    assert _rows(catalogue.mask(None, "2024-06-30")) == [0, 1, 2, 3, 4, 6]
    assert _rows(catalogue.mask(None, "2024-07-01")) == [0, 1, 2, 3, 5, 6]
    assert _rows(catalogue.mask(None, "2019-12-31")) == [0, 1, 2, 3, 6]


def test_filters_compare_case_insensitively_and_a_comma_means_any_of() -> None:
    catalogue = Catalogue.from_records(RECORDS)
    day = "2025-01-01"
    assert _rows(catalogue.mask({"doc": "p, TOWN"}, day)) == [0, 1, 2, 3, 6]
    assert _rows(catalogue.mask({"kind": "규칙"}, day)) == [5]
    # A department cell may list several departments (a phone number in brackets): any one of them matches.
    assert _rows(catalogue.mask({"department": "주차관리팀"}, day)) == [0]
    # Jurisdiction values are long free text: a part of one matches.
    assert _rows(catalogue.mask({"jurisdiction": "fixtureville"}, day)) == [6]
    assert _rows(catalogue.mask({"kind": "조례", "department": "총무과"}, day)) == []


def test_doc_mask_ignores_validity() -> None:
    catalogue = Catalogue.from_records(RECORDS)
    assert _rows(catalogue.doc_mask({"d"})) == [4, 5]


def test_normalise_filters() -> None:
    assert normalise_filters({"doc": "2179433,2117319", " Jurisdictions ": "제주|서귀포", "kind": " "}) == {
        "doc_id": {"2179433", "2117319"}, "jurisdiction": {"제주", "서귀포"},
    }
    assert normalise_filters(None) == {}


def test_deleted_and_indexed_attachments_are_dropped_and_bad_metadata_is_harmless() -> None:
    meta = json.dumps({"attachments": ["[별표 1] 시설 사용료", "[별표 2] 삭제<2023.1.1.>", "[별지 제1호서식] 신청서"]})
    assert _attachment_titles(meta) == ("[별표 1] 시설 사용료", "[별지 제1호서식] 신청서")
    # An attachment whose file was ingested is indexed as the document's own 별표 provision.
    indexed = json.dumps({"attachments": ["[별표 1] 시설 사용료", "[별표 3] 요금표"],
                          "attachment_files": [{"label": "별표 1"}]})
    assert _attachment_titles(indexed) == ("[별표 3] 요금표",)
    assert _attachment_titles("") == ()
    assert _attachment_titles("[1, 2]") == ()
