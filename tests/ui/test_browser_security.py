"""Cross-site admin actions, as the operators' probe did them: a logged-in admin's chromium opens a page
served on another port of the same host, and that page fetches, posts a form, and calls Gradio's API.

The victim is its own server over a one-document index (the attacks must not touch the shared one);
the pages come from a second server on two more loopback ports, one of them listed in ``server.allowed_origins``.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.ui.conftest import CHROMIUM, PASSWORDS, RAG_FIXTURES, Server, make_settings, running_server

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")

DOC = "town-code"


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><html><body><h1>Another site on this host</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def other_sites() -> Iterator[tuple[str, str]]:
    """Two origins on this host, served by a second server: one unlisted, one in allowed_origins."""
    servers = [ThreadingHTTPServer(("127.0.0.1", free_port()), _Page) for _ in range(2)]
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield tuple(f"http://127.0.0.1:{srv.server_address[1]}" for srv in servers)  # type: ignore[misc]
    for srv in servers:
        srv.shutdown()


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory, other_sites: tuple[str, str]) -> Iterator[Server]:
    from civicrag.ingest.pipeline import ingest_paths

    sources = tmp_path_factory.mktemp("victim-sources")
    shutil.copy(RAG_FIXTURES / "en" / "town-code.md", sources / "town-code.md")
    settings = make_settings(tmp_path_factory.mktemp("victim-data"), sources, allowed_origins=[other_sites[1]])
    assert not ingest_paths(settings, [sources]).failed
    with running_server(settings) as srv:
        yield srv


@pytest.fixture(scope="module")
def admin_context(victim: Server, browser: Any) -> Iterator[Any]:
    """alice's browser, logged in on the victim server."""
    context = browser.new_context()
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(victim.url + "/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORDS["alice"])
    page.click("button[type=submit]")
    page.wait_for_url(victim.url + "/")
    page.close()
    yield context
    context.close()


FETCH = """async ([url, init]) => {
  try { const r = await fetch(url, {credentials: 'include', ...init}); return r.status + ' ' + (await r.text()); }
  catch (e) { return 'blocked'; }
}"""


def test_another_origin_cannot_act_as_the_logged_in_admin(
    victim: Server, admin_context: Any, other_sites: tuple[str, str], tmp_path: Path
) -> None:
    secret = tmp_path / "server-secret.md"
    secret.write_text("# Secret\n\nSec. 1-1. The vault code is 0000.\n", encoding="utf-8")
    upload = {"data": [[{"path": str(secret), "orig_name": "server-secret.md", "meta": {"_type": "gradio.FileData"}}]]}
    page = admin_context.new_page()
    page.goto(other_sites[0] + "/")
    u = victim.url
    results = {
        # a credentialed DELETE (preflighted)
        "delete": page.evaluate(FETCH, [f"{u}/api/documents/{DOC}", {"method": "DELETE"}]),
        # Gradio's API, preflighted JSON and a "simple" text/plain post that skips the preflight
        "gradio-json": page.evaluate(FETCH, [f"{u}/gradio_api/call/do_upload", {
            "method": "POST", "headers": {"content-type": "application/json"}, "body": json.dumps(upload)}]),
        "gradio-simple": page.evaluate(FETCH, [f"{u}/gradio_api/call/do_upload", {
            "method": "POST", "headers": {"content-type": "text/plain"}, "body": json.dumps(upload)}]),
        # reading: nothing comes back to the other origin
        "read-config": page.evaluate(FETCH, [f"{u}/config", {}]),
        "read-status": page.evaluate(FETCH, [f"{u}/api/status", {}]),
    }
    assert results == {k: "blocked" for k in results}
    ctx = victim.app.state.ctx
    assert ctx.service.store.manifest.has_document(DOC)
    assert not (victim.settings.data_dir / "uploads" / "server-secret.md").exists()
    # A bare form posted across origins (top-level navigation, no preflight, cookie attached).
    page.set_content(f"<form method=post action='{u}/api/ingest'></form>")
    with page.expect_navigation():
        page.evaluate("() => document.forms[0].submit()")
    assert "cross-origin request refused" in page.inner_text("body")
    assert ctx.admin.job.started == 0.0  # no ingest was ever started
    page.close()


def test_a_listed_origin_may_make_credentialed_calls(
    victim: Server, admin_context: Any, other_sites: tuple[str, str]
) -> None:
    page = admin_context.new_page()
    page.goto(other_sites[1] + "/")
    status = page.evaluate(FETCH, [f"{victim.url}/api/status", {}])
    assert status.startswith("200 ") and '"name":"alice"' in status
    missing = page.evaluate(FETCH, [f"{victim.url}/api/documents/no-such-doc", {"method": "DELETE"}])
    assert missing.startswith("404 ")
    page.close()
