"""👍/👎 and comments on answers, kept in SQLite under the data directory and exported as CSV.

Each row keeps what is needed to judge the answer later without the live index: the
question, the answer text, the citations (JSON) and the configuration that produced it.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from civicrag.settings import Settings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 0, 1)),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    citations_json TEXT NOT NULL,
    config_json TEXT NOT NULL
);
"""

CSV_COLUMNS = ("id", "at", "user", "rating", "comment", "question", "answer", "refused", "citations", "config")
COMMENT_MAX_CHARS = 4000


def answer_config(settings: Settings, result: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that decide an answer, so feedback can be compared across configurations."""
    return {
        "mode": result.get("mode"),
        "embedder": settings.embedder.key,
        "llm_model": settings.llm.model if settings.llm.base_url else "",
        "retrieval_k": settings.retrieval.k,
        "retrieval_fusion": settings.retrieval.fusion,
        "retrieval_reranker": settings.retrieval.reranker,
        "answer_threshold": settings.answer.threshold,
        "rerank_artefact": str(settings.rerank.artefact or "shipped"),
        "as_of": result.get("as_of"),
        "filters": result.get("filters") or {},
    }


class FeedbackStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        # One connection shared by the server's worker threads: serialise its use.
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def add(
        self, user: str, rating: int, result: Mapping[str, Any], config: Mapping[str, Any], comment: str = ""
    ) -> int:
        citations = [
            {k: c.get(k) for k in ("n", "doc_id", "title", "article", "paragraph", "page", "effective_date", "quote")}
            for c in result.get("citations") or []
        ]
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO feedback (at, user, rating, comment, question, answer, refused, citations_json, "
                "config_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(), user, max(-1, min(1, int(rating))), comment[:COMMENT_MAX_CHARS],
                    str(result.get("question", "")), str(result.get("answer", "")), int(bool(result.get("refused"))),
                    json.dumps(citations, ensure_ascii=False), json.dumps(dict(config), ensure_ascii=False),
                ),
            )
            return int(cur.lastrowid or 0)

    def set_comment(self, feedback_id: int, user: str, comment: str) -> bool:
        """Attach a comment to the user's own feedback row."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE feedback SET comment = ? WHERE id = ? AND user = ?",
                (comment[:COMMENT_MAX_CHARS], feedback_id, user),
            )
            return cur.rowcount == 1

    def set_rating(self, feedback_id: int, user: str, rating: int) -> bool:
        with self._lock:
            cur = self._db.execute(
                "UPDATE feedback SET rating = ? WHERE id = ? AND user = ?", (max(-1, min(1, rating)), feedback_id, user)
            )
            return cur.rowcount == 1

    def rows(self) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute(
                "SELECT id, at, user, rating, comment, question, answer, refused, citations_json, config_json "
                "FROM feedback ORDER BY id"
            )
            return [dict(zip(CSV_COLUMNS, row, strict=True)) for row in cur.fetchall()]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in self.rows():
            writer.writerow([_csv_safe(row[c]) for c in CSV_COLUMNS])
        return out.getvalue()


def _csv_safe(value: Any) -> Any:
    """Stop spreadsheet formula injection: a cell starting with = + - @ is read as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _now() -> str:
    """UTC to the second, as the manifest and the gap log stamp their rows."""
    return datetime.now(UTC).isoformat(timespec="seconds")
