"""Document-disjoint train / dev / test splits of the question sets.

Anything learned (reranker, answerability model, thresholds) is fitted on questions
over *train* documents only, chosen on *dev*, and reported on *test*: a question is
never scored by a model that saw its document. The unit of a split is a document for
the Korean regulations (versions of one regulation stay together) and a chapter for
the English codes, whose files are whole codes (Somerville) or single sections (D.C.):
- ``ko:<자치법규ID>``;
- ``somerville-law-non-zoning:<chapter or article heading>`` (e.g. ``CHAPTER 9 OFFENSES …``);
- ``somerville-zoning:<article number>`` (``10`` for 10.5.1);
- ``dc-code:<chapter heading>`` (``Chapter 5. Administrative Procedure.``).

The lists live in ``eval/sets/splits/{train,dev,test}.txt``, one unit per line.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

SPLITS = ("train", "dev", "test")
SPLIT_DIR = Path(__file__).parent / "sets" / "splits"


def unit_of(doc_id: str, heading_path: Sequence[str] | str = ()) -> str:
    """The split unit of a provision (its document, or its chapter for the English codes)."""
    path = [p for p in (heading_path.split(" > ") if isinstance(heading_path, str) else heading_path) if p]
    if doc_id.startswith("dc-code"):
        return f"dc-code:{path[0] if path else doc_id}"
    if doc_id == "somerville-zoning":
        number = re.match(r"\s*(\d+)\.", path[1]) if len(path) > 1 else None
        return f"somerville-zoning:{number.group(1) if number else 'front'}"
    if doc_id == "somerville-law-non-zoning":
        if len(path) > 1:
            return f"{doc_id}:{path[1]}"
        return f"{doc_id}:{path[0] if path else 'front'}"
    return f"ko:{doc_id}" if re.fullmatch(r"\d+", doc_id) else doc_id


def item_unit(extra: Mapping[str, object], gold: Sequence[tuple[str, str]],
              heading_of: Callable[[str, str], str]) -> str | None:
    """The split unit of a question: its ``anchor`` provision's, else its first gold's, else its first ``near``'s.

    ``heading_of(doc_id, article)`` gives a provision's heading path (" > "-joined), e.g. from the catalogue.
    """
    anchor = extra.get("anchor")
    if isinstance(anchor, Mapping) and anchor.get("doc_id"):
        doc, article = str(anchor["doc_id"]), str(anchor.get("article") or "")
        return unit_of(doc, heading_of(doc, article) if article else "")
    if gold:
        doc, article = gold[0]
        return unit_of(doc, heading_of(doc, article))
    for near in extra.get("near") or []:  # type: ignore[attr-defined]
        if isinstance(near, Mapping) and near.get("doc_id"):
            doc, article = str(near["doc_id"]), str(near.get("article") or "")
            return unit_of(doc, heading_of(doc, article))
    return None


def item_split(extra: Mapping[str, object], gold: Sequence[tuple[str, str]],
               heading_of: Callable[[str, str], str], splits: Mapping[str, str]) -> tuple[str | None, str]:
    """(unit, split) of a question. A question whose gold provisions lie in units of different splits
    belongs to none (split ``""``): fitting on it would fit on a dev or test document."""
    unit = item_unit(extra, gold, heading_of)
    split = splits.get(unit or "", "")
    for doc, article in gold:
        if splits.get(unit_of(doc, heading_of(doc, article)), "") != split:
            return unit, ""
    return unit, split


def load_splits(folder: Path = SPLIT_DIR) -> dict[str, str]:
    """unit -> split name, from the committed lists."""
    out: dict[str, str] = {}
    for split in SPLITS:
        path = folder / f"{split}.txt"
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            unit = line.strip()
            if unit and not unit.startswith("#"):
                if unit in out:
                    raise ValueError(f"{path}: {unit!r} is in both {out[unit]} and {split}")
                out[unit] = split
    return out


def assign(sizes: Mapping[str, float], seed: int, shares: tuple[int, int, int] = (3, 1, 1),
           pinned: Mapping[str, str] | None = None) -> dict[str, str]:
    """Units sorted by size, dealt in blocks of ``sum(shares)`` at random into train/dev/test, so every
    split gets large and small units alike (about 60/20/20 by size as well as by count)."""
    rng = random.Random(seed)
    pinned = dict(pinned or {})
    out = dict(pinned)
    pattern = [s for s, n in zip(SPLITS, shares, strict=True) for _ in range(n)]
    free = sorted((u for u in sizes if u not in pinned), key=lambda u: (-sizes[u], u))
    for i in range(0, len(free), len(pattern)):
        block = free[i : i + len(pattern)]
        deal = pattern[:]
        rng.shuffle(deal)
        for unit, split in zip(block, deal, strict=False):
            out[unit] = split
    return out


def write_splits(assignment: Mapping[str, str], header: Iterable[str], folder: Path = SPLIT_DIR) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = list(header)
    for split in SPLITS:
        units = sorted(u for u, s in assignment.items() if s == split)
        body = "\n".join([*(f"# {h}" for h in lines), *units])
        (folder / f"{split}.txt").write_text(body + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m civicrag.eval.splits CORPUS...``: deal the units into the three lists (seeded, repeatable)."""
    import argparse

    from civicrag.eval.provisions import load_corpus

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("corpus", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--out", type=Path, default=SPLIT_DIR)
    args = parser.parse_args(argv)
    corpus = load_corpus(args.corpus)
    sizes: dict[str, float] = {}
    for p in corpus.provisions:
        unit = unit_of(p.doc_id, p.heading_path)
        sizes[unit] = sizes.get(unit, 0.0) + len(p.text)
    for doc_id in corpus.empty:
        sizes.setdefault(unit_of(doc_id), 1.0)
    # The amended regulations carry the as-of questions: one in dev, one in test, the rest in train.
    amended = sorted(d for d, dates in corpus.versions.items() if len(dates) > 1)
    pinned = {unit_of(d): s for d, s in zip(amended, ["train", "dev", "test", "train"], strict=False)}
    # The two registered documents without a body: one trains, one tests.
    pinned.update({unit_of(d): s for d, s in zip(sorted(corpus.empty), ["train", "test"], strict=False)})
    korean = {u: s for u, s in sizes.items() if u.startswith("ko:")}
    english = {u: s for u, s in sizes.items() if not u.startswith("ko:")}
    assignment = {**assign(korean, args.seed, pinned=pinned), **assign(english, args.seed)}
    write_splits(assignment, [
        f"`python -m civicrag.eval.splits {' '.join(map(str, args.corpus))} --seed {args.seed}`",
        "Units sorted by text size, dealt in blocks of five (3 train, 1 dev, 1 test) at random;",
        f"amended regulations pinned: {', '.join(f'{u}={s}' for u, s in pinned.items())}.",
    ], args.out)
    for split in SPLITS:
        units = [u for u, s in assignment.items() if s == split]
        chars = sum(sizes[u] for u in units)
        print(f"{split}: {len(units)} units, {chars / sum(sizes.values()):.0%} of the text")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
