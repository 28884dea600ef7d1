"""One server for the UI and API tests: a tiny fixture index (real ingest, real embedder), two users.

The server (uvicorn in a thread, free loopback port) serves the Gradio UI and the API from one
app, exactly as ``civicrag serve`` does. Browser tests drive Debian's chromium through Playwright.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from civicrag.settings import Settings, load_settings
from tests.conftest import free_port

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

RAG_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rag"
REPO = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = REPO / "test-artifacts" / "ui"
PASSWORDS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}
#: Debian's chromium, driven by Playwright (``playwright install`` cannot download here); None skips browser tests.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# A document that tries to run script in the reader's browser: it must show as text.
EVIL_DOC = """---
id: evil-doc
title: 'Evil <script>alert("title")</script> Code'
jurisdiction: fixtureville
effective_date: '2024-02-01'
language: en
---

# Evil Code

Sec. 9-1. Hostile markup.

Billboards must display <script>window.__pwned = 1</script> and the notice
[click me](javascript:window.__pwned=2) in every window.
"""


# A rule whose fee and slope tables are attachments (별표): not in the text, named by a refusal.
SLOPE_RULE = """---
자치법규ID: '9100088'
자치법규명: '가상특별자치도 개발행위허가 규칙'
자치법규종류: '규칙'
지자체기관명: '가상특별자치도'
시행일자: '2024-05-01'
본문출처: 'api-text'
첨부파일:
  - 제목: '[별표 1] 개발행위허가 수수료'
  - 제목: '[별표 2] 경사도 산정방법'
  - 제목: '[별지 제1호서식] 개발행위허가 신청서'
---

# 가상특별자치도 개발행위허가 규칙

##### 제1조 (목적)

이 규칙은 가상특별자치도 개발행위허가에 필요한 사항을 규정함을 목적으로 한다.

##### 제5조 (경사도)

토지의 경사도는 별표 2에 따라 산정한다.

##### 제6조 (수수료)

개발행위허가를 신청하는 자는 별표 1에 따른 수수료를 내야 한다.
"""


@dataclass
class Server:
    url: str
    settings: Settings
    app: Any
    sources: Path

    def auth(self, user: str) -> tuple[str, str]:
        return (user, PASSWORDS[user])


def make_settings(data_dir: Path, sources: Path, **extra: Any) -> Settings:
    from civicrag.ui.auth import hash_password

    users = {
        # Few bcrypt rounds: the tests log in often; production hashes use the default (12).
        "alice": {"role": "admin", "password_hash": hash_password(PASSWORDS["alice"], rounds=4)},
        "bob": {"role": "staff", "password_hash": hash_password(PASSWORDS["bob"], rounds=4)},
    }
    return load_settings(
        None, data_dir=data_dir, auth_mode="users", users=users, ingest_sources=[sources],
        upload_max_mb=0.05, server_max_body_kb=16, session_secret="test-secret", **extra,
    )


@pytest.fixture(scope="session")
def ui_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sources = tmp_path_factory.mktemp("ui-sources")
    for rel in ("ko/9100001.md", "ko/9100003.md", "en/town-code.md"):
        shutil.copy(RAG_FIXTURES / rel, sources / Path(rel).name)
    (sources / "evil.md").write_text(EVIL_DOC, encoding="utf-8")
    shutil.copy(REPO / "corpus" / "en" / "sampleton-noise-ordinance.pdf", sources / "noise.pdf")  # a paged original
    return sources


@pytest.fixture(scope="session")
def ui_settings(tmp_path_factory: pytest.TempPathFactory, ui_sources: Path) -> Settings:
    from civicrag.ingest.pipeline import ingest_paths

    settings = make_settings(tmp_path_factory.mktemp("ui-data"), ui_sources)
    report = ingest_paths(settings, [ui_sources])
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def gap_settings(tmp_path_factory: pytest.TempPathFactory, ui_settings: Settings, ui_sources: Path) -> Settings:
    """The UI fixture documents plus a rule with attachments, answered by a service that refuses every
    question (answer_threshold 1.0): which questions are refused does not hang on the refusal model."""
    import sqlite3

    from civicrag.ingest.pipeline import ingest_paths

    sources = tmp_path_factory.mktemp("gap-sources")
    for path in ui_sources.iterdir():
        if path.is_file():
            shutil.copy(path, sources / path.name)
    (sources / "9100088.md").write_text(SLOPE_RULE, encoding="utf-8")
    settings = make_settings(tmp_path_factory.mktemp("gap-data"), sources, answer_threshold=1.0)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # The UI index's embedding cache: only the new rule is embedded again.
    src, dst = sqlite3.connect(ui_settings.embedding_cache_path), sqlite3.connect(settings.embedding_cache_path)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    report = ingest_paths(settings, [sources])
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def gap_server(gap_settings: Settings) -> Iterator[Server]:
    with running_server(gap_settings) as srv:
        yield srv


@contextmanager
def running_server(settings: Settings, port: int | None = None) -> Iterator[Server]:
    """Serve ``create_app(settings)`` with uvicorn in a thread on a loopback port until the block ends."""
    import uvicorn
    from civicrag.ui.server import create_app

    app = create_app(settings)
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True, name="uvicorn")
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    # Load the indexes before the first timed request.
    app.state.ctx.service.load()
    try:
        yield Server(f"http://127.0.0.1:{port}", settings, app, settings.ingest.sources[0])
    finally:
        srv.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def server(ui_settings: Settings, ui_sources: Path) -> Iterator[Server]:
    with running_server(ui_settings) as srv:
        yield srv


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# -- amendment comparison (ui/amendments.py): a document with two versions that changes words, adds and
# deletes 항, renames one article and repeals another; plus the two-version 9100002 and a one-version rule.
PARKING_HEAD = """---
자치법규ID: '9100050'
자치법규명: '가상특별자치도 공영주차장 조례'
자치법규종류: '조례'
지자체기관명: '가상특별자치도'
공포일자: {date}
시행일자: '{date}'
본문출처: 'api-text'
---

# 가상특별자치도 공영주차장 조례

##### 제1조 (목적)

이 조례는 공영주차장의 설치와 운영에 필요한 사항을 정함을 목적으로 한다.

"""
PARKING_OLD = PARKING_HEAD.format(date="2020-01-01") + """##### 제3조 (주차요금)

① 주차요금은 30분에 500원으로 한다.
② 경형자동차는 주차요금의 50퍼센트를 감면한다.

##### 제4조 (운영시간)

공영주차장은 오전 7시부터 오후 10시까지 운영한다.

##### 제5조 (위탁)

도지사는 공영주차장의 관리를 위탁할 수 있다.

## 부칙

부칙 <제100호, 2020.1.1.> 이 조례는 공포한 날부터 시행한다.
"""
PARKING_NEW = PARKING_HEAD.format(date="2024-07-01") + """##### 제3조 (주차요금)

① 주차요금은 30분에 1천원으로 한다. <개정 2024.7.1.>
② 경형자동차는 주차요금의 50퍼센트를 감면한다.
③ 장애인 자동차는 주차요금을 면제한다. <신설 2024.7.1.>

##### 제4조 (이용시간)

공영주차장은 오전 6시부터 오후 11시까지 운영한다. <개정 2024.7.1.>

##### 제5조 (위탁)

제5조 삭제 <2024.7.1.>

## 부칙

부칙 <제100호, 2020.1.1.> 이 조례는 공포한 날부터 시행한다.
부칙 <제200호, 2024.7.1.> 이 조례는 2024년 7월 1일부터 시행한다.
"""


@pytest.fixture(scope="session")
def amend_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from civicrag.ingest.pipeline import ingest_paths

    sources = tmp_path_factory.mktemp("amend-sources")
    (sources / "9100050").mkdir()
    (sources / "9100050" / "2020-01-01.md").write_text(PARKING_OLD, encoding="utf-8")
    (sources / "9100050" / "2024-07-01.md").write_text(PARKING_NEW, encoding="utf-8")
    shutil.copytree(RAG_FIXTURES / "versions" / "9100002", sources / "9100002")
    shutil.copy(RAG_FIXTURES / "ko" / "9100001.md", sources / "9100001.md")
    settings = make_settings(tmp_path_factory.mktemp("amend-data"), sources)
    report = ingest_paths(settings, [sources])
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def amend_server(amend_settings: Settings) -> Iterator[Server]:
    with running_server(amend_settings) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian chromium per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()
