"""The shared types (civicrag.legal.types): one in_force rule, asked alike by the manifest, the chunk
records, the catalogue mask and the amendment history; the embedded text; IDF."""

from __future__ import annotations

import math

import pytest
from civicrag.ingest.store.manifest import VersionRow
from civicrag.rag.amendments import Version
from civicrag.rag.catalogue import Catalogue

from civicrag.legal.idf import idf, idf_table
from civicrag.legal.types import ChunkRecord, in_force
from civicrag.legal.units import chunk_embed_text, context_line

# (valid_from, valid_to, as_of, in force?): the boundary cases of a version's validity.
BOUNDARIES = [
    ("2019-03-20", "2025-06-13", "2019-03-19", False),  # the day before it takes effect
    ("2019-03-20", "2025-06-13", "2019-03-20", True),  # its first day
    ("2019-03-20", "2025-06-13", "2025-06-12", True),  # its last day
    ("2019-03-20", "2025-06-13", "2025-06-13", False),  # the day the next version takes effect
    ("2019-03-20", None, "2999-12-31", True),  # the current version: no end
    (None, "2025-06-13", "1900-01-01", True),  # no start date: in force since always
    (None, None, "2024-01-01", True),
]


@pytest.mark.parametrize(("valid_from", "valid_to", "as_of", "expected"), BOUNDARIES)
def test_in_force_boundaries_agree_everywhere(
    valid_from: str | None, valid_to: str | None, as_of: str, expected: bool
) -> None:
    assert in_force(valid_from, valid_to, as_of) is expected
    record = ChunkRecord("d@v#0", "text", {"doc_id": "d", "version": "v"}, valid_from, valid_to)
    assert record.in_force(as_of) is expected
    row = VersionRow("d", "v", "h", "live", "s", "t", "조례", "", "ko", "markdown", None, valid_from, valid_to, 1,
                     "2024-01-01T00:00:00", "{}")
    assert row.in_force(as_of) is expected
    assert Version("v", "", valid_from, valid_to, "t").in_force(as_of) is expected
    assert Catalogue.from_records([record]).mask(None, as_of).tolist() == [expected]


def test_embedded_text_is_the_same_from_ingest_and_from_metadata() -> None:
    headings = ["제1장 총칙", "제1절 통칙"]
    ingest_side = chunk_embed_text("주차장 조례", headings, "제1조(목적) …")
    rag_side = chunk_embed_text("주차장 조례", [" > ".join(headings)], "제1조(목적) …")
    assert ingest_side == rag_side == "주차장 조례 > 제1장 총칙 > 제1절 통칙\n제1조(목적) …"
    assert chunk_embed_text("", [""], "text") == "text"
    assert context_line("Code", []) == "Code"


def test_idf_variants() -> None:
    assert idf(1, 10, "bm25") == math.log(1 + 9.5 / 1.5)
    assert idf(10, 10, "bm25") == math.log(1 + 0.5 / 10.5)
    assert idf(1, 10, "plain") == math.log(11)
    assert idf(5, 10, "plain") == math.log(3)
    with pytest.raises(ValueError):
        idf(1, 10, "other")  # type: ignore[arg-type]


def test_idf_table_counts_a_token_once_per_text() -> None:
    table = idf_table([["주차", "주차", "요금"], ["요금"], ["감면"]])
    assert table == {"주차": math.log(1 + 2.5 / 1.5), "요금": math.log(1 + 1.5 / 2.5), "감면": math.log(1 + 2.5 / 1.5)}
    assert idf_table([]) == {}
