"""Pure pieces of the UI: escaping, highlighting, upload names, passwords, feedback CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from civicrag.ui.admin import UploadError, safe_filename, save_upload
from civicrag.ui.auth import hash_password
from civicrag.ui.feedback import FeedbackStore
from civicrag.ui.render import answer_markdown, highlight, original_url, sources_html

from civicrag.settings import load_settings


def test_answer_markdown_keeps_layout_and_escapes_text() -> None:
    md = answer_markdown("규정 <script>x</script> [a](javascript:alert(1))\n> ① 인용 [1]\n- 관련 조문")
    assert "<script>" not in md and "\\<script\\>" in md
    assert "\\[a\\]\\(javascript\\:alert\\(1\\)\\)" in md
    assert "\n> ① 인용 \\[1\\]" in md and "\n- 관련 조문" in md


def test_highlight_marks_the_quote_and_escapes_the_rest() -> None:
    text = "제3조(배출)\n① 소파는 <b>신고</b>한다.\n② 인터넷으로도 할 수 있다."
    out = highlight(text, "① 소파는 <b>신고</b>한다.")
    assert out.count("<mark>") == 1 and "&lt;b&gt;신고&lt;/b&gt;" in out
    assert "<b>" not in out.replace("<mark>", "")
    # a quote made of separate sentences marks each
    assert highlight(text, "① 소파는 <b>신고</b>한다.\n② 인터넷으로도 할 수 있다.").count("<mark>") >= 1


def test_sources_panel_escapes_metadata_and_links_to_the_original() -> None:
    citation = {
        "n": 1, "doc_id": "d\"><script>", "title": "<img src=x onerror=alert(1)>", "article": "제1조",
        "article_title": "목적", "page": 3, "effective_date": "2024-01-01", "text": "본문", "quote": "본문",
        "superseded": True, "valid_to": "2025-01-01",
    }
    out = sources_html({"citations": [citation], "related": [], "refused": False}, "ko")
    assert "<img" not in out and "<script>" not in out
    assert "#page=3" in out and "2025-01-01" in out
    assert original_url(citation).startswith("/doc?id=d%22%3E%3Cscript%3E&version=2024-01-01")
    refused = sources_html({"citations": [], "related": [citation], "refused": True}, "en")
    assert "Not found in the regulations" in refused and "cr-notfound" in refused


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rule.md", "rule.md"),
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\win.ini.txt", "win.ini.txt"),
        ("/abs/path/조례.pdf", "조례.pdf"),
        ("a\x00b.md", "ab.md"),
        ("rule.pdf.meta.yaml", "rule.pdf.meta.yaml"),
        ("what;rm -rf $HOME.md", "what_rm -rf _HOME.md"),
    ],
)
def test_safe_filename_stays_in_the_folder(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["", "..", ".md", "payload.exe", "noext", "../"])
def test_safe_filename_refuses(name: str) -> None:
    with pytest.raises(UploadError):
        safe_filename(name)


def test_save_upload_limits(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path, upload_max_mb=0.001)
    saved = save_upload(settings, "../x/../../ok.md", b"# hi")
    assert saved.parent == (tmp_path / "uploads").resolve() and saved.read_bytes() == b"# hi"
    with pytest.raises(UploadError, match="limit"):
        save_upload(settings, "big.md", b"x" * 2000)
    with pytest.raises(UploadError, match="empty"):
        save_upload(settings, "empty.md", b"")


def test_password_hashes_verify(tmp_path: Path) -> None:
    from civicrag.ui.auth import Users

    settings = load_settings(
        None, data_dir=tmp_path,
        users={"kim": {"role": "admin", "password_hash": hash_password("s3cret", rounds=4)}},
    )
    users = Users(settings)
    assert users.verify("kim", "s3cret") == users.user("kim")
    assert users.verify("kim", "s3cret").is_admin  # type: ignore[union-attr]  # cached path
    assert users.verify("kim", "wrong") is None and users.verify("lee", "s3cret") is None
    with pytest.raises(ValueError):
        hash_password("x" * 80)


def test_feedback_csv_neutralises_formulas(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    result = {"question": "=HYPERLINK(\"http://x\")", "answer": "a", "refused": False,
              "citations": [{"n": 1, "doc_id": "d", "article": "제1조"}]}
    row = store.add("kim", -1, result, {"mode": "extractive"})
    assert store.set_comment(row, "kim", "@SUM(1)") and not store.set_comment(row, "lee", "hijack")
    csv_text = store.to_csv()
    assert "'=HYPERLINK" in csv_text and "'@SUM(1)" in csv_text and "hijack" not in csv_text
    store.close()


def test_hash_password_command_prints_a_bcrypt_hash() -> None:
    import bcrypt
    from typer.testing import CliRunner

    from civicrag.cli import app

    result = CliRunner().invoke(app, ["hash-password", "--password", "비밀-pass"])
    assert result.exit_code == 0, result.output
    hashed = result.output.strip().splitlines()[-1]
    assert hashed.startswith("$2b$") and bcrypt.checkpw("비밀-pass".encode(), hashed.encode())


def test_serve_without_users_is_a_usage_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from civicrag.cli import app

    result = CliRunner().invoke(app, ["serve", "--data-dir", str(tmp_path), "--port", "1"])
    assert result.exit_code == 2 and "no users" in result.output


def test_users_and_server_settings_from_toml(tmp_path: Path) -> None:
    hashed = hash_password("pw", rounds=4)
    config = tmp_path / "civicrag.toml"
    config.write_text(
        f'[auth]\nmode = "users"\n\n[session]\nsecret = "s" \n\n[server]\nmax_body_kb = 32\n\n'
        f'[users]\nalice = {{ role = "admin", password_hash = "{hashed}" }}\n'
        f'bob = {{ password_hash = "{hashed}" }}\n',
        encoding="utf-8",
    )
    settings = load_settings(config, data_dir=tmp_path)
    assert settings.auth.users["alice"].role == "admin" and settings.auth.users["bob"].role == "staff"
    assert settings.server.max_body_kb == 32 and settings.auth.session_secret is not None
