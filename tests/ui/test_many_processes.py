"""``civicrag serve`` answering while ``civicrag ingest`` changes the same index, as separate real processes.

Finding: with the embedded Chroma default, a CLI ingest beside a running server exited 0 and from then on
every ``POST /api/ask`` failed with 500 (Chroma ``Error finding id``) until the server restarted. Now the
CLI hands its paths to the server that holds the folder, and the server reloads on the new generation;
over a ``chroma run`` server any number of processes (here two workers and the CLI) share the index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.ingest.test_pipeline import PARKING, WASTE

CLI = [sys.executable, "-m", "civicrag.cli"]
REPO = Path(__file__).resolve().parents[2]
QUESTION = "샘플시 주차장 조례에서 주차요금은 얼마인가요?"


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path):
        self.proc, self.url, self.log = proc, url, log

    def ask(self) -> httpx.Response:
        # A new connection per question, so several workers all get their turn.
        with httpx.Client(base_url=self.url, timeout=120, trust_env=False) as client:
            return client.post("/api/ask", json={"question": QUESTION})


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "parking.md").write_text(PARKING, encoding="utf-8")
    (folder / "waste.md").write_text(WASTE, encoding="utf-8")
    return folder


def ingest(env: dict[str, str], docs: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, "ingest", str(docs)], env=env, capture_output=True, text=True, cwd=REPO,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    started: list[Server] = []

    def start(env: dict[str, str], *args: str) -> Server:
        port = free_port()
        log = tmp_path / f"server-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([*CLI, "serve", "--open-demo", "--port", str(port), *args], env=env, cwd=REPO,
                                    stdout=out, stderr=subprocess.STDOUT)
        server = Server(proc, f"http://127.0.0.1:{port}", log)
        started.append(server)
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(server.url + "/api/status", timeout=5, trust_env=False).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

    yield start
    for server in started:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.proc.kill()


def fee_quoted(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    answer = response.json()["answer"]
    return next((fee for fee in ("600원", "700원", "800원") if f"최초 30분 {fee}" in answer), answer)


def test_cli_ingest_beside_a_running_server_shows_without_restart(tmp_path: Path, docs: Path, serve) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "CIVICRAG_DATA_DIR": str(tmp_path / "data"), "GRADIO_ANALYTICS_ENABLED": "False"}
    ingest(env, docs)
    server = serve(env)
    assert fee_quoted(server.ask()) == "600원"

    (docs / "parking.md").write_text(PARKING.replace("600원", "700원"), encoding="utf-8")
    done = ingest(env, docs)
    assert [fee_quoted(server.ask()) for _ in range(3)] == ["700원"] * 3
    assert "added 0, updated 1, unchanged 1, removed 0, failed 0" in done.stdout
    assert f"(by the server at {server.url})" in done.stdout  # the one process that has the folder open
    status = httpx.get(server.url + "/api/status", timeout=30, trust_env=False).json()
    assert (status["documents"], status["versions"], status["ingest_lease"]) == (2, 2, None)

    # The folder has one owner: a second server on it is refused, and so are several workers.
    second = subprocess.run([*CLI, "serve", "--open-demo", "--port", str(free_port())], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 2
    assert f"another server ({server.url}, pid {server.proc.pid}, since " in second.stderr
    workers = subprocess.run([*CLI, "serve", "--workers", "2"], env=env, cwd=REPO, capture_output=True, text=True,
                             timeout=120)
    assert workers.returncode == 2 and "several workers need a Chroma server" in workers.stderr


@pytest.mark.chroma_server
def test_two_workers_over_a_chroma_server_follow_a_cli_ingest(
    tmp_path: Path, docs: Path, serve, chroma_server: tuple[str, int]  # type: ignore[no-untyped-def]
) -> None:
    host, port = chroma_server
    env = {**os.environ, "CIVICRAG_DATA_DIR": str(tmp_path / "data"), "GRADIO_ANALYTICS_ENABLED": "False",
           "CIVICRAG_CHROMA__HOST": host, "CIVICRAG_CHROMA__PORT": str(port),
           "CIVICRAG_CHROMA__COLLECTION": "two-workers",
           # The admin console's re-ingest, in whichever worker takes the request, over the same folder.
           "CIVICRAG_AUTH__OPEN_DEMO_ROLE": "admin", "CIVICRAG_INGEST__SOURCES": json.dumps([str(docs)])}
    ingest(env, docs)
    server = serve(env, "--workers", "2")

    def by_worker(expected: str) -> dict[str, str]:
        """Ask until both workers have answered; each answer's fee (all must be ``expected``)."""
        seen: dict[str, str] = {}
        for _ in range(200):
            response = server.ask()
            seen[response.headers["X-Civicrag-Worker"]] = fee_quoted(response)
            assert seen[response.headers["X-Civicrag-Worker"]] == expected
            if len(seen) == 2:
                return seen
        pytest.fail(f"only worker(s) {sorted(seen)} answered in 200 questions")

    assert len(by_worker("600원")) == 2

    (docs / "parking.md").write_text(PARKING.replace("600원", "700원"), encoding="utf-8")
    running = subprocess.Popen([*CLI, "ingest", str(docs), "--json"], env=env, cwd=REPO, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    during = []
    while running.poll() is None:  # questions keep being answered while the ingest writes
        during.append(server.ask().status_code)
    out, errors = running.communicate()
    assert running.returncode == 0, errors
    assert json.loads(out)["updated"] == 1
    assert set(during) <= {200}
    assert len(by_worker("700원")) == 2

    (docs / "parking.md").write_text(PARKING.replace("600원", "800원"), encoding="utf-8")
    console = httpx.post(server.url + "/api/ingest", json={"wait": True}, timeout=600, trust_env=False)
    assert console.status_code == 200, console.text
    assert console.json()["report"]["updated"] == 1
    assert len(by_worker("800원")) == 2  # the other worker reloaded too
