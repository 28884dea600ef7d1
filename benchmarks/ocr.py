"""OCR benchmark (not a test): the six image-only Rivergrove scans against their hand transcriptions.

    .venv/bin/python benchmarks/ocr.py [--corpus ../shared/corpus] [--languages auto eng kor+eng]
                                       [--out benchmarks/results/ocr.json]

Each scan is read once per language setting:

* ``auto``: through ``load_file`` exactly as ingest reads it, default settings
  (``kor+eng``, narrowed to ``eng`` once the first page reads as English, that
  page read again): what a fresh install does with a scan and no sidecar;
* ``eng`` / ``kor+eng``: the same rendering (pypdfium2, 300 dpi) and Tesseract
  call, that language set forced on every page (what a sidecar ``language: en``
  gives, and what ``auto`` would cost without narrowing).

Reported per file and in total:

* character accuracy = 1 - (Levenshtein distance / transcription length), on
  both texts with whitespace runs collapsed to one space and the transcriptions'
  markup removed (``{{filled:X}}`` → X, ``{{signature}}`` and page markers dropped,
  Markdown heading/bold/list marks dropped). Case and punctuation count;
* word recall = share of the transcription's words (lower-cased, punctuation
  stripped) found in the OCR text, as a multiset: blind to reading order, which
  the edit distance punishes when a stamp or a browser print header sits
  elsewhere on the page than in the transcription;
* seconds per page, wall clock, and CPU seconds per page (this process plus
  Tesseract's): the CPU figure is the one to trust on a busy machine, where wall
  clock also counts other processes' turns.

Korean has no real scans in the corpus; three typeset ordinances of ``ko/pdf``
(8 pages) are rasterised to image-only PDFs and read back (``korean_rasterised``):
character accuracy against the same PDFs' text layers, and how many of their
articles the parser still finds. Clean renders: an upper bound for real scans.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
SCANS = [
    "1974-City-Charter",
    "1974-Ord-No16-Parks",
    "1976-Res-No22-PC",
    "1978-Ord-No28-Parks",
    "1984-Res-No72-Municipal-Services",
    "2011-Ord-No80-2011-Park-Hours",
]

_FILLED = re.compile(r"\{\{filled:(.*?)\}\}", re.DOTALL)
_MARKER = re.compile(r"\{\{[^{}]*\}\}|\{[a-z]+\}|\[Illegible\]", re.IGNORECASE)
# Headings the transcriber added about the page, not text on it.
_NOTE_HEADING = re.compile(
    r"^#{1,6}\s*(?:Document Notes|Stamp|Footnotes?|Signatures?|Notes?|Handwritten.*)\s*$", re.IGNORECASE | re.MULTILINE
)
_MD_MARKS = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|>\s*)", re.MULTILINE)
_WORD = re.compile(r"[a-z0-9]+")


def clean_transcript(markdown: str) -> str:
    text = _FILLED.sub(r"\1", markdown)
    text = _MARKER.sub(" ", text)
    text = _NOTE_HEADING.sub(" ", text)
    text = _MD_MARKS.sub("", text)
    text = text.replace("**", "").replace("__", "").replace("\\", "")
    return " ".join(text.split())


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one numpy row at a time (the texts run to 25,000 characters)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    bv = np.array([ord(ch) for ch in b], dtype=np.int64)
    cols = np.arange(len(b) + 1, dtype=np.int64)
    row = cols.copy()
    for i, ch in enumerate(a, start=1):
        code = ord(ch)
        # Substitution / match and deletion from the previous row, vectorised ...
        sub = row[:-1] + (bv != code)
        new = np.empty_like(row)
        new[0] = i
        new[1:] = np.minimum(sub, row[1:] + 1)
        # ... then insertions along the row: new[j] = min_k<=j (new[k] + j - k).
        row = np.minimum.accumulate(new - cols) + cols
    return int(row[-1])


def word_recall(truth: str, ocr: str) -> float:
    want = Counter(_WORD.findall(truth.lower()))
    have = Counter(_WORD.findall(ocr.lower()))
    total = sum(want.values())
    return sum(min(n, have[w]) for w, n in want.items()) / total if total else 1.0


def _cpu_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # Tesseract runs as a child process
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _read_forced(pdf: Path, languages: str) -> tuple[str, int, int]:
    """(text, pages, pages read) with one language set on every page, as the loader renders and calls."""
    from civicrag.ingest.loaders.ocr import DEFAULT_DPI, open_pdf, read_page, render_page

    document = open_pdf(pdf.read_bytes())
    texts: list[str] = []
    try:
        for index in range(len(document)):
            image = render_page(document, index, DEFAULT_DPI)
            if image is not None:
                texts.append(read_page(image, "tesseract", languages))
        return "\n".join(texts), len(document), len(texts)
    finally:
        document.close()


def run(corpus: Path, settings: list[str]) -> dict:
    sys.path.insert(0, str(REPO))
    from civicrag.ingest.loaders import LoadLimits, load_file

    limits = LoadLimits(max_file_bytes=200 * 2**20, max_pdf_pages=2000)
    folder = corpus / "en" / "rivergrove"
    results: dict = {}
    for setting in settings:
        rows = []
        for name in SCANS:
            pdf = folder / "pdf" / f"{name}.pdf"
            truth = clean_transcript((folder / "transcripts" / f"{name}.md").read_text(encoding="utf-8"))
            started, cpu_started = time.perf_counter(), _cpu_seconds()
            if setting == "auto":
                doc = load_file(pdf, pdf.parent, limits)
                text, pages = doc.text, len(doc.page_starts)
                read, languages = len(doc.extra.get("ocr_pages", [])), doc.extra.get("ocr_languages", "")
            else:
                text, pages, read = _read_forced(pdf, setting)
                languages = setting
            seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
            ocr_text = " ".join(text.split())
            distance = levenshtein(truth, ocr_text)
            rows.append(
                {
                    "file": name,
                    "pages": pages,
                    "ocr_pages": read,
                    "languages": languages,
                    "truth_chars": len(truth),
                    "ocr_chars": len(ocr_text),
                    "edit_distance": distance,
                    "char_accuracy": round(1 - distance / len(truth), 4),
                    "word_recall": round(word_recall(truth, ocr_text), 4),
                    "seconds": round(seconds, 2),
                    "seconds_per_page": round(seconds / pages, 2),
                    "cpu_seconds_per_page": round(cpu / pages, 2),
                }
            )
            print(
                f"{setting:8} {name:36} {rows[-1]['char_accuracy']:.3f} chars  "
                f"{rows[-1]['word_recall']:.3f} words  {rows[-1]['seconds_per_page']:.2f} s/page  "
                f"{rows[-1]['cpu_seconds_per_page']:.2f} cpu-s/page",
                flush=True,
            )
        truth_chars = sum(r["truth_chars"] for r in rows)
        pages = sum(r["pages"] for r in rows)
        seconds = sum(r["seconds"] for r in rows)
        cpu = sum(r["cpu_seconds_per_page"] * r["pages"] for r in rows)
        results[setting] = {
            "files": rows,
            "total": {
                "pages": pages,
                # Weighted by transcription length: the 9-page charter counts for what it is.
                "char_accuracy": round(1 - sum(r["edit_distance"] for r in rows) / truth_chars, 4),
                "char_accuracy_mean_of_files": round(sum(r["char_accuracy"] for r in rows) / len(rows), 4),
                "word_recall": round(sum(r["word_recall"] * r["truth_chars"] for r in rows) / truth_chars, 4),
                "seconds": round(seconds, 1),
                "seconds_per_page": round(seconds / pages, 2),
                "cpu_seconds_per_page": round(cpu / pages, 2),
            },
        }
    return results


# Korean: there are no real Korean scans in the corpus, so three typeset ordinances (8 pages) are
# rasterised into image-only PDFs (200 dpi greyscale, as an office scanner makes them) and read back.
KOREAN = ["2179433", "2117686", "2117732"]


def _rasterise(pdf: Path, dpi: int = 200) -> bytes:
    import io

    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    images = [document[i].render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for i in range(len(document))]
    document.close()
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return buf.getvalue()


def run_korean(corpus: Path, workdir: Path) -> dict:
    """Korean OCR on rasterised copies, against the same PDFs' text layers; articles found by the parser."""
    sys.path.insert(0, str(REPO))
    from civicrag.ingest.loaders import LoadLimits, load_file
    from civicrag.ingest.parsing import parse_document

    limits = LoadLimits(max_file_bytes=200 * 2**20, max_pdf_pages=2000)
    rows = []
    for doc_id in KOREAN:
        original = corpus / "ko" / "pdf" / f"{doc_id}.pdf"
        scan = workdir / f"{doc_id}.pdf"
        scan.write_bytes(_rasterise(original))
        truth_doc = load_file(original, original.parent, limits)
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        doc = load_file(scan, workdir, limits)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
        truth, ocr_text = " ".join(truth_doc.text.split()), " ".join(doc.text.split())
        distance = levenshtein(truth, ocr_text)
        want = [p.article for p in parse_document(truth_doc) if p.article]
        have = {p.article for p in parse_document(doc) if p.article}
        pages = len(doc.page_starts)
        rows.append(
            {
                "file": doc_id,
                "pages": pages,
                "languages": doc.extra.get("ocr_languages", ""),
                "char_accuracy": round(1 - distance / len(truth), 4),
                "char_accuracy_ignoring_spaces": round(
                    1 - levenshtein(truth.replace(" ", ""), ocr_text.replace(" ", "")) / len(truth.replace(" ", "")), 4
                ),
                "articles": len(want),
                "articles_found": sum(1 for a in want if a in have),
                "seconds_per_page": round(seconds / pages, 2),
                "cpu_seconds_per_page": round(cpu / pages, 2),
                "truth_chars": len(truth),
                "edit_distance": distance,
            }
        )
        r = rows[-1]
        print(
            f"korean   {doc_id:36} {r['char_accuracy']:.3f} chars  {r['articles_found']}/{r['articles']} articles  "
            f"{r['seconds_per_page']:.2f} s/page  {r['cpu_seconds_per_page']:.2f} cpu-s/page",
            flush=True,
        )
    pages = sum(r["pages"] for r in rows)
    return {
        "files": rows,
        "total": {
            "pages": pages,
            "char_accuracy": round(1 - sum(r["edit_distance"] for r in rows) / sum(r["truth_chars"] for r in rows), 4),
            "articles_found": f"{sum(r['articles_found'] for r in rows)}/{sum(r['articles'] for r in rows)}",
            "seconds_per_page": round(sum(r["seconds_per_page"] * r["pages"] for r in rows) / pages, 2),
            "cpu_seconds_per_page": round(sum(r["cpu_seconds_per_page"] * r["pages"] for r in rows) / pages, 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--languages", nargs="+", default=["auto", "eng", "kor+eng"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "ocr.json")
    parser.add_argument("--no-korean", action="store_true", help="skip the rasterised Korean ordinances")
    args = parser.parse_args()
    tesseract = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=False)
    results = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "platform": platform.platform(),
            "tesseract": (tesseract.stdout or tesseract.stderr).splitlines()[0],
        },
        "settings": run(args.corpus, args.languages),
    }
    if not args.no_korean:
        import tempfile

        with tempfile.TemporaryDirectory() as workdir:
            results["korean_rasterised"] = run_korean(args.corpus, Path(workdir))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for setting, block in results["settings"].items():
        t = block["total"]
        print(
            f"{setting:8} TOTAL {t['pages']} pages: char accuracy {t['char_accuracy']:.3f} "
            f"(mean of files {t['char_accuracy_mean_of_files']:.3f}), word recall {t['word_recall']:.3f}, "
            f"{t['seconds_per_page']:.2f} s/page, {t['cpu_seconds_per_page']:.2f} cpu-s/page"
        )
    if "korean_rasterised" in results:
        t = results["korean_rasterised"]["total"]
        print(
            f"korean   TOTAL {t['pages']} pages: char accuracy {t['char_accuracy']:.3f}, articles found "
            f"{t['articles_found']}, {t['seconds_per_page']:.2f} s/page, {t['cpu_seconds_per_page']:.2f} cpu-s/page"
        )
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
