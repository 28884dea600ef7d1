"""English section parser: spellings, SECTION vs Sec., units, heading paths, offsets, real corpus."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import frontmatter
import pytest
from bs4 import BeautifulSoup, Tag
from civicrag.ingest.documents import Document, Provision
from civicrag.ingest.parsing import english, parse_document
from civicrag.ingest.parsing.english import canonical_section, canonical_section_candidates, find_units


def _doc(text: str, extra: dict[str, Any] | None = None, title: str = "Test", fmt: str = "markdown") -> Document:
    return Document(doc_id="t", title=title, text=text, source="t.md", format=fmt, language="en", extra=extra or {})


def _load(path: Path) -> Document:
    """What the Markdown loader does: front matter out of the text, into fields and ``extra``."""
    post = frontmatter.loads(path.read_text(encoding="utf-8"))
    meta = dict(post.metadata)
    return Document(
        doc_id=str(meta.pop("id", path.stem)),
        title=str(meta.pop("title", path.stem)),
        text=post.content,
        source=str(path),
        format="markdown",
        language="en",
        extra=meta,
    )


def _by_label(provisions: list[Provision]) -> dict[str, list[Provision]]:
    out: dict[str, list[Provision]] = {}
    for p in provisions:
        out.setdefault(p.article, []).append(p)
    return out


def _check_invariants(doc: Document, provisions: list[Provision]) -> None:
    """Offsets in order and non-overlapping; units contiguous; clean header lines."""
    prev_end = 0
    for p in provisions:
        assert 0 <= p.start <= p.end <= len(doc.text)
        assert p.start >= prev_end, (p.article, p.start, prev_end)
        prev_end = p.end
        assert "<!--" not in p.text
        assert not p.text.startswith("#")
        assert "**" not in p.text
        if p.units:
            assert p.units[0].start == 0
            assert p.units[-1].end == len(p.text)
            for a, b in zip(p.units, p.units[1:], strict=False):
                assert a.end == b.start
            for u in p.units:
                if u.label:
                    assert p.text[u.start :].startswith(u.label)


# --------------------------------------------------------------------------- canonical labels


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("§2-537", "§ 2-537"),
        ("§ 2-537", "§ 2-537"),
        ("2-537", "§ 2-537"),
        ("section 2-537", "§ 2-537"),
        ("D.C. Code § 2-537", "§ 2-537"),
        ("§ 2-537(a)(1)", "§ 2-537"),
        ("2–537", "§ 2-537"),
        ("§ 2-1202.01a", "§ 2-1202.01a"),
        ("SECTION 3-1", "SECTION 3-1"),
        ("Section 3-1:", "SECTION 3-1"),
        ("Section IV", "SECTION IV"),
        ("Sec. 3-1", "Sec. 3-1"),
        ("sec 3-1", "Sec. 3-1"),
        ("SEC. 3-1", "Sec. 3-1"),
        ("Sec.3-1", "Sec. 3-1"),
        ("Secs. 2-11-2-20", "Secs. 2-11-2-20"),
        ("2.1.3", "2.1.3"),
        ("5", None),
        ("Article III", None),
        ("", None),
    ],
)
def test_canonical_section(spelling: str, canonical: str | None) -> None:
    assert canonical_section(spelling) == canonical


def test_canonical_candidates_offer_every_reading() -> None:
    assert canonical_section_candidates("section 5.010") == [
        "§ 5.010",
        "SECTION 5.010",
        "Sec. 5.010",
        "5.010",
    ]
    assert canonical_section_candidates("Sec. 3-1")[0] == "Sec. 3-1"
    assert "SECTION 3-1" in canonical_section_candidates("3-1")


# --------------------------------------------------------------------------- Somerville-style code


def test_charter_section_and_ordinance_sec_stay_apart(fixtures_dir: Path) -> None:
    doc = _load(fixtures_dir / "en" / "somerville_mini.md")
    provisions = english.parse(doc)
    _check_invariants(doc, provisions)
    labels = _by_label(provisions)

    charter = labels["SECTION 3-1"]
    ordinance = labels["Sec. 3-1"]
    assert len(charter) == 1 and len(ordinance) == 1
    charter_p, ordinance_p = charter[0], ordinance[0]
    assert charter_p.kind == ordinance_p.kind == "section"
    assert charter_p.article_title == "MAYOR: ROLE; TERM OF OFFICE; ELIGIBILITY"
    assert charter_p.text.startswith("SECTION 3-1: MAYOR: ROLE; TERM OF OFFICE; ELIGIBILITY\n")
    assert "term of office for mayor shall be 2 years" in charter_p.text
    assert charter_p.heading_path == [
        "PART I CHARTER AND RELATED LEGISLATION",
        "DIVISION 1 CHARTER",
        "ARTICLE 3. EXECUTIVE BRANCH",
    ]
    assert ordinance_p.article_title == "Fastening animals to trees"
    assert ordinance_p.text.startswith("Sec. 3-1. Fastening animals to trees.\n")
    # Footnote asterisks are dropped from headings in the path.
    assert ordinance_p.heading_path == [
        "PART II CODE OF ORDINANCES",
        "CHAPTER 3 ANIMALS",
        "ARTICLE I. IN GENERAL",
    ]
    # Raw offsets point at the heading lines in the source.
    assert doc.text[charter_p.start :].startswith("###### SECTION 3-1:")
    assert doc.text[ordinance_p.start :].startswith("###### Sec. 3-1.")


def test_subsection_units_and_list_numbers(fixtures_dir: Path) -> None:
    doc = _load(fixtures_dir / "en" / "somerville_mini.md")
    labels = _by_label(english.parse(doc))
    p = labels["SECTION 3-1"][0]
    assert [u.label for u in p.units] == ["", "(a)", "(b)", "(c)"]
    # The converter's "1. (a)" list numbers are gone from the text.
    assert "\n(b) Term of Office" in p.text and "2. (b)" not in p.text
    assert p.text[p.units[2].start : p.units[2].end].startswith("(b) Term of Office")

    # A list that opens with (i) is Roman numerals, not the ninth letter.
    compensation = labels["SECTION 3-3"][0]
    assert [u.label for u in compensation.units] == ["", "(i)", "(ii)", "(iii)"]
    assert "shall not be effective unless" in compensation.text[: compensation.units[1].start]

    # Restarted list numbering ("1. (b)") and a paragraph between (a) and (b).
    temp = labels["SECTION 3-7"][0]
    assert [u.label for u in temp.units] == ["", "(a)", "(b)"]

    # Inline (1), (2) inside (b) are not top-level units.
    dogs = labels["Sec. 3-31"][0]
    assert [u.label for u in dogs.units] == ["", "(a)", "(b)"]
    assert dogs.heading_path[-2:] == ["ARTICLE II. DOGS", "DIVISION 1. GENERALLY"]


def test_comments_and_notes_outside_sections(fixtures_dir: Path) -> None:
    doc = _load(fixtures_dir / "en" / "somerville_mini.md")
    provisions = english.parse(doc)
    labels = _by_label(provisions)
    assert labels["Secs. 3-5-3-30"][0].article_title == "Reserved"
    # A chapter's notes and a letter under a plain heading are kept, as preamble text.
    chapter = labels["Chapter 3"][0]
    assert chapter.kind == "preamble"
    assert chapter.text.startswith("CHAPTER 3 ANIMALS\nCross reference(s)")
    letters = [p for p in provisions if p.article_title == "LETTER OF INTRODUCTION"]
    assert len(letters) == 1 and letters[0].article == ""
    assert letters[0].heading_path == ["PART I CHARTER AND RELATED LEGISLATION", "DIVISION 1 CHARTER"]
    # The lone level-1 heading is the document's own title: not in any path.
    assert all("Somerville Municipal Law (Non-Zoning)" not in p.heading_path for p in provisions)
    assert not any("secid" in p.text for p in provisions)


def test_html_loader_output_parses_like_markdown(fixtures_dir: Path) -> None:
    """The HTML loader turns h1–h6 into # lines and <li> into paragraphs: same sections."""
    md_doc = _load(fixtures_dir / "en" / "somerville_mini.md")
    html_lines = []
    for line in md_doc.text.splitlines():
        if m := re.match(r"^(#{1,6}) (.*)$", line):
            html_lines.append(f"<h{len(m.group(1))}>{m.group(2)}</h{len(m.group(1))}>")
        elif m := re.match(r"^\d+\. (.*)$", line):
            html_lines.append(f"<ol><li>{m.group(1)}</li></ol>")
        elif line.strip() and not line.startswith(("<!--", "---")):
            html_lines.append(f"<p>{line}</p>")
    text = _html_to_text("<html><body><main>" + "\n".join(html_lines) + "</main></body></html>")
    html_doc = _doc(text, fmt="html")
    md = [(p.article, p.article_title, [u.label for u in p.units]) for p in english.parse(md_doc)]
    html = [(p.article, p.article_title, [u.label for u in p.units]) for p in english.parse(html_doc)]
    assert [x for x in md if x[0].startswith(("SECTION", "Sec"))] == [
        x for x in html if x[0].startswith(("SECTION", "Sec"))
    ]


def _html_to_text(html: str) -> str:
    """A stand-in for the HTML loader: headings as # lines, blocks as paragraphs, tables as | rows."""
    soup = BeautifulSoup(html, "lxml")
    root = soup.find("main") or soup.body or soup
    blocks: list[str] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if not isinstance(child, Tag):
                continue
            if child.name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
                blocks.append("#" * int(child.name[1]) + " " + child.get_text(" ", strip=True))
            elif child.name == "table":
                rows = child.find_all("tr")
                blocks.append(
                    "\n".join(" | ".join(c.get_text(" ", strip=True) for c in r.find_all(["td", "th"])) for r in rows)
                )
            elif child.name in {"p", "li", "pre"} and not child.find(["p", "li", "table"]):
                blocks.append(child.get_text(" ", strip=True))
            else:
                walk(child)

    walk(root)
    return "\n\n".join(b for b in blocks if b.strip())


# --------------------------------------------------------------------------- other spellings


def test_each_common_spelling() -> None:
    text = """# Title 2 GOVERNMENT

## Chapter 2 ADMINISTRATION

### Article III. CITY COUNCIL

#### § 2-537. Appeal to Mayor.

Body of the D.C.-style section.

#### SECTION 3-1: Term of office

The term is two years.

#### Sec. 5.1. Meetings.

Meetings are public.

#### Section 4. Quorum.

A majority is a quorum.
"""
    provisions = english.parse(_doc(text))
    got = [(p.article, p.article_title, p.heading_path) for p in provisions]
    path = ["Title 2 GOVERNMENT", "Chapter 2 ADMINISTRATION", "Article III. CITY COUNCIL"]
    assert got == [
        ("§ 2-537", "Appeal to Mayor", path),
        ("SECTION 3-1", "Term of office", path),
        ("Sec. 5.1", "Meetings", path),
        ("SECTION 4", "Quorum", path),
    ]
    assert provisions[0].text == "§ 2-537. Appeal to Mayor.\nBody of the D.C.-style section."


def test_prose_mentions_are_not_headings() -> None:
    text = """### Sec. 1-1. Definitions.

Terms are defined here.

Section 5 of this ordinance applies to all lots.

Chapter 40A, as amended, governs zoning.

### Sec. 1-2. Penalties.

Fines apply.
"""
    provisions = english.parse(_doc(text))
    assert [p.article for p in provisions] == ["Sec. 1-1", "Sec. 1-2"]
    assert "Section 5 of this ordinance" in provisions[0].text


def test_dc_code_file(fixtures_dir: Path) -> None:
    doc = _load(fixtures_dir / "en" / "dc_2-537.md")
    provisions = english.parse(doc)
    _check_invariants(doc, provisions)
    assert len(provisions) == 1
    p = provisions[0]
    assert p.article == "§ 2-537" == canonical_section(doc.extra["citation"])
    assert p.article_title == "Appeal to Mayor"
    assert p.heading_path == [
        "Chapter 5. Administrative Procedure.",
        "Subchapter II. Freedom of Information.",
    ]
    # Top-level (a), (b), (c); the indented (1), (2) stay inside (a).
    assert [u.label for u in p.units] == ["", "(a)", "(b)", "(c)"]
    assert "(2) If the Mayor decides" in p.text[p.units[1].start : p.units[1].end]


def test_dc_file_without_heading_uses_citation(fixtures_dir: Path) -> None:
    doc = _load(fixtures_dir / "en" / "dc_2-537.md")
    doc.text = doc.text.replace("# § 2-537. Appeal to Mayor.\n", "")
    provisions = english.parse(doc)
    assert [(p.article, p.article_title) for p in provisions] == [("§ 2-537", "Appeal to Mayor")]
    assert provisions[0].text.startswith("§ 2-537. Appeal to Mayor\n(a) Any person")


def test_zoning_numbered_headings(fixtures_dir: Path) -> None:
    doc = _load(fixtures_dir / "en" / "zoning_mini.md")
    provisions = english.parse(doc)
    _check_invariants(doc, provisions)
    labels = _by_label(provisions)
    title = labels["1.1.1"][0]
    assert title.article_title == "Title"
    assert title.heading_path == [
        "SOMERVILLE, MA ZONING ORDINANCE",
        "1. INTRODUCTORY PROVISIONS",
        "1.1 GENERAL",
    ]
    assert [u.label for u in labels["1.1.3"][0].units] == ["", "a.", "b."]
    # "1.1" and "2.1" enclose numbered sections: containers, not sections.
    assert "1.1" not in labels and "2.1" not in labels
    # A deeper plain heading inside a section (a glossary term) stays in its body.
    general = labels["2.1.1"][0]
    assert "Accessible Means of Egress\n\nAs defined by 521 CMR" in general.text
    assert labels["2.1.2"][0].heading_path[-1] == "2.1 GLOSSARY"


def test_rivergrove_bold_sections_contents_and_quotes(fixtures_dir: Path) -> None:
    doc = _doc((fixtures_dir / "en" / "rivergrove_charter.md").read_text(encoding="utf-8"))
    provisions = english.parse(doc)
    _check_invariants(doc, provisions)
    sections = [p for p in provisions if p.kind == "section"]
    # Contents entries are not sections: each label appears once, with its body.
    assert [p.article for p in sections] == ["SECTION 1", "SECTION 2", "SECTION 4", "SECTION 5.010"]
    first = sections[0]
    assert first.article_title == "Title of Enactment"
    assert first.text == (
        "Section 1. Title of Enactment.\nThis enactment may be referred to as the Rivergrove City Charter of 1974."
    )
    # "## CHAPTER I" + "### NAME AND BOUNDARIES" read as one container.
    assert first.heading_path == ["CHARTER OF THE CITY OF RIVERGROVE", "CHAPTER I NAME AND BOUNDARIES"]
    # A section quoted in an amending ordinance (> blockquote) is still that section.
    amended = sections[-1]
    assert amended.article_title == "Land Use"
    assert [u.label for u in amended.units] == ["", "(a)", "(b)"]
    assert not amended.text.startswith(">")


def test_plain_text_from_ocr(fixtures_dir: Path) -> None:
    doc = _doc((fixtures_dir / "en" / "rivergrove_ocr.txt").read_text(encoding="utf-8"), fmt="pdf")
    provisions = english.parse(doc)
    _check_invariants(doc, provisions)
    sections = [p for p in provisions if p.kind == "section"]
    assert [(p.article, p.article_title) for p in sections] == [
        ("SECTION 1", "Title"),
        ("SECTION 2", "Purpose"),
        ("SECTION 2.010", "Scope and Compliance"),
    ]
    assert sections[0].heading_path == ["ARTICLE 1 GENERAL PROVISIONS"]
    assert sections[2].heading_path == ["ARTICLE 2 SCOPE AND COMPLIANCE"]
    # A wrapped line starting "Section 5 of this ordinance" is prose, and the units follow it.
    assert "Section 5 of this ordinance" in sections[1].text
    assert [u.label for u in sections[1].units] == ["", "(a)", "(b)"]
    # OCR damage stays as it is.
    assert "ORDIN\nANCE" in sections[2].text


def test_no_structure_returns_empty_and_dispatcher_falls_back() -> None:
    text = "# Staff manual\n\nHow to answer the phone.\n\n## Greeting\n\nSay the department name first."
    doc = _doc(text)
    assert english.parse(doc) == []
    provisions = parse_document(doc)
    assert provisions and {p.kind for p in provisions} == {"passage"}


def test_find_units_schemes() -> None:
    assert [u.label for u in find_units("Head\n(1) one\n(2) two\n  (A) nested\n(3) three")] == [
        "",
        "(1)",
        "(2)",
        "(3)",
    ]
    assert [u.label for u in find_units("Head\nA. one\nB. two")] == ["", "A.", "B."]
    # (h) then (i) is a letter sequence.
    letters = "Head\n" + "\n".join(f"({c}) x" for c in "abcdefghij")
    assert [u.label for u in find_units(letters)][-3:] == ["(h)", "(i)", "(j)"]
    assert find_units("Head\nNo subsections at all.") == []


def test_a_large_file_parses_whole() -> None:
    """About 2 MB of sections: every one is found (how fast is for benchmarks to measure)."""
    block = "\n".join(
        [
            "<!-- secid:{n} -->",
            "###### Sec. 9-{n}. Catchline number {n}.",
            "",
            "1. (a) The first subsection says something about the rule. " * 3,
            "2. (b) The second subsection (1) has an inline list; (2) and more.",
            "",
        ]
    )
    text = "#### CHAPTER 9 TEST\n\n" + "\n".join(block.format(n=i) for i in range(5000))
    assert len(text) > 1_500_000
    provisions = english.parse(_doc(text))
    assert len(provisions) == 5000


# --------------------------------------------------------------------------- real corpus


@pytest.mark.corpus
def test_somerville_real_file(shared_corpus: Path) -> None:
    doc = _load(shared_corpus / "en" / "somerville" / "somerville-law-non-zoning.md")
    provisions = english.parse(doc)
    _check_invariants(doc, provisions)
    labels = _by_label(provisions)
    sections = [p for p in provisions if p.kind == "section"]

    mayor = [p for p in labels["SECTION 3-1"] if "EXECUTIVE BRANCH" in " ".join(p.heading_path)]
    assert len(mayor) == 1
    assert "TERM OF OFFICE" in mayor[0].article_title
    assert "term of office for mayor shall be 2 years" in mayor[0].text
    assert [u.label for u in mayor[0].units] == ["", "(a)", "(b)", "(c)"]
    animals = labels["Sec. 3-1"]
    assert len(animals) == 1 and animals[0].article_title == "Fastening animals to trees"
    assert "CHAPTER 3 ANIMALS" in animals[0].heading_path

    charter = [p for p in sections if p.article.startswith("SECTION ") and "DIVISION 1 CHARTER" in p.heading_path]
    ordinances = [
        p for p in sections if p.article.startswith("Sec. ") and "PART II CODE OF ORDINANCES" in p.heading_path
    ]
    # Counted in the corpus file: 74 charter sections, 1017 ordinance sections, 1432 sections in all.
    assert len(charter) == 74
    assert len(ordinances) == 1017
    assert len(sections) == 1432


@pytest.mark.corpus
def test_somerville_html_matches_markdown(shared_corpus: Path) -> None:
    html = (shared_corpus / "en" / "html" / "somerville-law-non-zoning.readable.html").read_text(encoding="utf-8")
    html_doc = _doc(_html_to_text(html), fmt="html")
    md_doc = _load(shared_corpus / "en" / "somerville" / "somerville-law-non-zoning.md")
    html_sections = [p.article for p in english.parse(html_doc) if p.kind == "section"]
    md_sections = [p.article for p in english.parse(md_doc) if p.kind == "section"]
    assert html_sections == md_sections
    assert "SECTION 3-1" in html_sections and "Sec. 3-1" in html_sections


@pytest.mark.corpus
def test_somerville_zoning(shared_corpus: Path) -> None:
    doc = _load(shared_corpus / "en" / "somerville" / "somerville-zoning.md")
    provisions = english.parse(doc)
    _check_invariants(doc, provisions)
    sections = [p for p in provisions if p.kind == "section"]
    labels = _by_label(sections)
    assert len(sections) == 491  # the numbered sections of the zoning ordinance
    assert all(re.fullmatch(r"\d+(\.\d+)+", p.article) for p in sections)
    assert labels["2.1.1"][0].heading_path[-1] == "2.1 GLOSSARY"
    assert labels["3.1.2"][0].article_title == "Intent"
    assert [u.label for u in labels["3.1.3"][0].units][:3] == ["", "a.", "b."]


@pytest.mark.corpus
def test_dc_code_sample(shared_corpus: Path) -> None:
    files = sorted((shared_corpus / "en" / "dc-code" / "title-02").glob("*.md"))
    assert len(files) == 1171  # the title 2 sections of the corpus
    for path in files[::60]:
        doc = _load(path)
        provisions = english.parse(doc)
        _check_invariants(doc, provisions)
        assert len(provisions) == 1, path.name
        p = provisions[0]
        assert p.article == canonical_section(doc.extra["citation"]), path.name
        assert p.article.startswith("§ 2-")
        assert p.heading_path == list(doc.extra["hierarchy"])
        assert p.article_title


@pytest.mark.corpus
def test_rivergrove_transcripts(shared_corpus: Path) -> None:
    paths = sorted((shared_corpus / "en" / "rivergrove" / "transcripts").glob("*.md"))
    assert paths
    with_sections = 0
    for path in paths:
        doc = _doc(path.read_text(encoding="utf-8"))
        provisions = parse_document(doc)
        assert provisions, path.name
        _check_invariants(doc, provisions)
        if any(p.kind == "section" for p in provisions):
            with_sections += 1
    # 20 of the 29 transcripts have SECTION headings; 9 (resolutions, short ordinances) are read as passages.
    assert (with_sections, len(paths)) == (20, 29)

    charter = english.parse(_doc((paths[0].parent / "1974-City-Charter.md").read_text(encoding="utf-8")))
    labels = _by_label(charter)
    assert labels["SECTION 9"][0].article_title == "Mayor"
    land = english.parse(_doc((paths[0].parent / "1989-Ord-No54-89C-Land-Development.md").read_text(encoding="utf-8")))
    assert len([p for p in land if p.kind == "section"]) == 108
    assert _by_label(land)["SECTION 5.100"][0].article_title == "Tree Cutting"


@pytest.mark.corpus
def test_rivergrove_pdf_text(shared_corpus: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    path = shared_corpus / "en" / "rivergrove" / "pdf" / "2011-Ord-No81-2011-Sign.pdf"
    pages = [page.extract_text() or "" for page in pypdf.PdfReader(path).pages]
    starts, pos = [], 0
    for page in pages:
        starts.append(pos)
        pos += len(page) + 1
    doc = _doc("\n".join(pages), fmt="pdf")
    doc.page_starts = starts
    provisions = english.parse(doc)
    _check_invariants(doc, provisions)
    sections = [p for p in provisions if p.kind == "section"]
    # The contents page is not read as sections: 13 sections, once each, in order.
    assert [p.article for p in sections] == [f"SECTION {i}" for i in range(1, 14)]
    assert sections[3].article_title == "General Requirements"
    assert doc.page_at(sections[0].start) == 2


def test_appendix_section_reusing_a_charter_label_gets_its_own_label() -> None:
    # Bodies long enough not to read as table-of-contents entries. The real layout (Somerville):
    # charter sections at level 6, Appendix E at level 3, its articles at level 4, its rules at level 5.
    text = (
        "### PART I CHARTER\n\n#### ARTICLE 3. EXECUTIVE BRANCH\n\n"
        "###### SECTION 3-1: Term of office\n\n(a) The mayor shall be elected at the regular city election.\n\n"
        "(b) The term of office of the mayor shall be four years, beginning in January.\n\n"
        "### APPENDIX E TRAFFIC COMMISSION REGULATIONS\n\n#### ARTICLE III. TRAFFIC SIGNS\n\n"
        "##### Section 3-1. Bus Stops, Location of\n\nThe location of all bus stops shall be specified.\n"
    )
    doc = Document(doc_id="x", title="Code", text=text, source="x.md", format="markdown", language="en")
    labels = [p.article for p in english.parse(doc) if p.kind == "section"]
    assert labels == ["SECTION 3-1", "SECTION 3-1 (App. E)"]
