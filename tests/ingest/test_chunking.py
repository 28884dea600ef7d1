from civicrag.ingest.chunking import chunk_document
from civicrag.ingest.documents import Document, Provision, Unit


def chars(text: str) -> int:
    """A stand-in token counter: one token per character keeps the arithmetic visible."""
    return len(text)


def _article(text: str, units: list[tuple[str, str]]) -> Provision:
    spans, offset = [], 0
    for label, piece in units:
        start = text.index(piece, offset)
        spans.append(Unit(label=label, start=start, end=start + len(piece)))
        offset = start + len(piece)
    return Provision("제4조", "도지사의 책무 등", text, 0, len(text), units=spans)


ARTICLE = (
    "제4조(도지사의 책무 등)\n"
    "① 도지사는 1회용품 사용을 줄이기 위한 시책을 수립ㆍ시행하여야 한다.\n"
    "② 공공기관 및 도민은 시책에 적극적으로 협력하여야 한다.\n"
    "③ 도지사는 지속적인 교육 및 홍보를 실시하여야 한다."
)


def _doc(text: str = ARTICLE, **kw) -> Document:
    return Document(doc_id="D1", title="테스트 조례", text=text, source="d1.md", format="markdown", **kw)


def test_article_that_fits_is_one_chunk_with_citation_metadata() -> None:
    doc = _doc(effective_date="2023-11-20", department="자원순환과", kind="조례", jurisdiction="제주특별자치도")
    prov = _article(ARTICLE, [("①", ARTICLE.split("\n")[1]), ("②", ARTICLE.split("\n")[2])])
    chunks = chunk_document(doc, [prov], chars, 1000, "2023-11-20", "abc")
    assert len(chunks) == 1
    meta = chunks[0].metadata
    assert meta["article"] == "제4조"
    assert meta["article_title"] == "도지사의 책무 등"
    assert meta["doc_id"] == "D1" and meta["effective_date"] == "2023-11-20"
    assert meta["paragraph"] == ""
    assert meta["page_start"] == 0  # unpaged source
    assert chunks[0].embed_text.startswith("테스트 조례\n제4조(도지사의 책무 등)")
    assert all(isinstance(v, str | int | float | bool) for v in meta.values())


def test_long_article_splits_at_units_and_repeats_header() -> None:
    lines = ARTICLE.split("\n")
    prov = _article(ARTICLE, [("①", lines[1]), ("②", lines[2]), ("③", lines[3])])
    budget = len("테스트 조례") + len(lines[0]) + len(lines[1]) + 2  # room for one 항 per chunk
    chunks = chunk_document(_doc(), [prov], chars, budget, "undated", "abc")
    assert [c.metadata["paragraph"] for c in chunks] == ["①", "②", "③"]
    for chunk, line in zip(chunks, lines[1:], strict=True):
        assert chunk.text == f"{lines[0]}\n{line}"
    assert len({c.chunk_id for c in chunks}) == 3


def test_units_are_grouped_greedily_and_nothing_is_lost() -> None:
    lines = ARTICLE.split("\n")
    prov = _article(ARTICLE, [("①", lines[1]), ("②", lines[2]), ("③", lines[3])])
    budget = len("테스트 조례") + len(lines[0]) + len(lines[1]) + len(lines[2]) + 3
    chunks = chunk_document(_doc(), [prov], chars, budget, "undated", "abc")
    assert [c.metadata["paragraph"] for c in chunks] == ["①–②", "③"]
    body = "".join(c.text.replace(lines[0] + "\n", "") for c in chunks).replace("\n", "")
    assert body == "".join(lines[1:])


def test_overlong_unit_is_cut_at_sentences() -> None:
    long_line = "① " + " ".join(f"문장 {i}번은 규정의 일부이다." for i in range(30))
    text = "제9조(긴 조문)\n" + long_line
    prov = Provision("제9조", "긴 조문", text, 0, len(text), units=[Unit("①", text.index("①"), len(text))])
    chunks = chunk_document(_doc(text), [prov], chars, 120, "undated", "abc")
    # Each chunk embeds "테스트 조례\n제9조(긴 조문)\n" (17 characters), leaving 103 for sentences of 16 characters
    # (문장 0-9) or 17 (10-29), joined by a space: "① " + 6*16 + 5 = 103; 4*16 + 2*17 + 5 = 103; then
    # 5*17 + 4 = 89 three times (a 6th would make 107); the last 3: 3*17 + 2 = 53.
    assert [c.text.count("문장 ") for c in chunks] == [6, 6, 5, 5, 5, 3]
    assert [len(c.embed_text) for c in chunks] == [120, 120, 106, 106, 106, 70]
    assert all(c.text.startswith("제9조(긴 조문)\n") for c in chunks)
    assert "문장 29번은 규정의 일부이다." in chunks[-1].text


def test_pages_come_from_document_offsets() -> None:
    text = "page one text\n제1조(목적) 첫째\n" + "x" * 50 + "\n제2조(정의) 둘째"
    doc = _doc(text, page_starts=[0, 30, 60])
    first = Provision("제1조", "목적", "제1조(목적) 첫째", 14, 26)
    second = Provision("제2조", "정의", "제2조(정의) 둘째", text.index("제2조"), len(text))
    chunks = chunk_document(doc, [first, second], chars, 1000, "undated", "abc")
    assert (chunks[0].metadata["page_start"], chunks[0].metadata["page_end"]) == (1, 1)
    assert (chunks[1].metadata["page_start"], chunks[1].metadata["page_end"]) == (3, 3)
