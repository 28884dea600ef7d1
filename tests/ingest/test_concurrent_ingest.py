"""Two ``civicrag ingest`` processes on one data directory: the second waits or exits 2, nothing is dropped.

Finding: each run began by deleting every *pending* version — including the one another process was still
writing — and the writer then made its vanished version "live": the document was gone while the writer
printed ``updated: 1``. A writer is held mid-write by ``tests.ingest.paused_ingest`` (real processes).
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from civicrag.settings import load_settings
from tests.ingest.test_pipeline import NOTES, PARKING, WASTE, assert_consistent

CLI = [sys.executable, "-m", "civicrag.cli"]
PAUSED = [sys.executable, "-m", "tests.ingest.paused_ingest"]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of two documents, ingested once by the CLI; each test works on a copy."""
    root = tmp_path_factory.mktemp("concurrent-template")
    (root / "docs").mkdir()
    (root / "docs" / "parking.md").write_text(PARKING, encoding="utf-8")
    (root / "docs" / "waste.md").write_text(WASTE, encoding="utf-8")
    env = {**os.environ, "CIVICRAG_DATA_DIR": str(root / "data")}
    first = subprocess.run([*CLI, "ingest", str(root / "docs"), "--json"], env=env, capture_output=True, text=True,
                           cwd=REPO)
    assert first.returncode == 0, first.stderr
    # The files the template's manifest names must not outlive it: two copies of a document with the same
    # effective date and different text are a conflict (neither is taken), and each test changes parking.md.
    (root / "docs").rename(root / "sources")
    return root


@pytest.fixture
def setup(tmp_path: Path, template: Path) -> tuple[Path, Path, Path, dict[str, str]]:
    """The template index, parking.md then changed, and a third document in a folder aside."""
    shutil.copytree(template / "sources", tmp_path / "docs")
    shutil.copytree(template / "data", tmp_path / "data")
    docs, extra, signals = tmp_path / "docs", tmp_path / "extra", tmp_path / "signals"
    extra.mkdir()
    signals.mkdir()
    (extra / "notes.txt").write_text(NOTES, encoding="utf-8")
    env = {**os.environ, "CIVICRAG_DATA_DIR": str(tmp_path / "data")}
    (docs / "parking.md").write_text(PARKING.replace("600원", "700원"), encoding="utf-8")
    return docs, extra, signals, env


def start_paused(signals: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([*PAUSED, str(signals), "ingest", *args], env=env, cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while not (signals / "paused").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the paused ingest never reached its first activation"
        time.sleep(0.1)
    return proc


def read_line(proc: subprocess.Popen[str], timeout: float = 180) -> str:
    assert proc.stderr is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stderr, selectors.EVENT_READ)
        assert sel.select(timeout), "no line on stderr"
    return proc.stderr.readline()


def live_texts(data: Path, doc_id: str) -> list[str]:
    store = assert_consistent(load_settings(data_dir=data))
    try:
        return [t for _, t, m, _ in store.manifest.live_chunks() if m["doc_id"] == doc_id]
    finally:
        store.close()


def test_second_ingest_exits_2_or_waits_and_nothing_is_dropped(setup: tuple[Path, Path, Path, dict[str, str]]) -> None:
    docs, extra, signals, env = setup
    writer = start_paused(signals, env, str(docs), "--json")

    refused = subprocess.run([*CLI, "ingest", str(extra)], env=env, capture_output=True, text=True, cwd=REPO)
    assert refused.returncode == 2
    assert f"another ingest is running (pid {writer.pid}, since " in refused.stderr

    waiting = subprocess.Popen([*CLI, "ingest", str(extra), "--wait", "600", "--json"], env=env, cwd=REPO,
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = read_line(waiting)
    assert line.startswith("waiting for the ingest running since ") and f"(pid {writer.pid})" in line

    (signals / "go").touch()
    out, errors = writer.communicate(timeout=300)
    assert writer.returncode == 0, errors
    assert (json.loads(out)["updated"], json.loads(out)["recovered"]) == (1, 0)
    out, errors = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, errors
    assert json.loads(out)["added"] == 1

    data = Path(env["CIVICRAG_DATA_DIR"])
    texts = live_texts(data, "T-1")
    assert any("700원" in t for t in texts) and not any("600원" in t for t in texts)
    assert {m["title"] for m in _live_meta(data)} == {"샘플시 주차장 조례", "샘플시 대형폐기물 규칙", "Duty desk notes"}


def test_pending_version_of_a_killed_ingest_is_cleaned_up_by_the_next(
    setup: tuple[Path, Path, Path, dict[str, str]],
) -> None:
    docs, _extra, signals, env = setup
    writer = start_paused(signals, env, str(docs))
    writer.kill()
    writer.communicate()

    # The killed writer's lease is still in the manifest, but its pid is gone: taken over at once.
    after = subprocess.run([*CLI, "ingest", str(docs), "--json"], env=env, capture_output=True, text=True, cwd=REPO)
    assert after.returncode == 0, after.stderr
    report = json.loads(after.stdout)
    assert (report["recovered"], report["updated"], report["unchanged"]) == (1, 1, 1)
    texts = live_texts(Path(env["CIVICRAG_DATA_DIR"]), "T-1")
    assert any("700원" in t for t in texts) and not any("600원" in t for t in texts)


def _live_meta(data: Path) -> list[dict[str, object]]:
    from civicrag.ingest.store import IndexStore

    store = IndexStore(load_settings(data_dir=data))
    try:
        return [m for _, _, m, _ in store.manifest.live_chunks()]
    finally:
        store.close()
