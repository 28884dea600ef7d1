"""Content gaps: the questions civicrag could not answer, so maintainers know what to ingest next.

Every refused question (REST ``/api/ask``, the chat, ``civicrag ask --log``) and every 👎 in the chat
is one row of ``DATA_DIR/gaps.sqlite3``: the question, when, its language, the best candidates
(doc_id, article, titles), the attachment or document the refusal named ("[별표 2] 경사도 산정방법" of
«title», or a registered ordinance whose text could not be read), the refusal reason, where it came
from and who asked. A refused answer that is also given a 👎 stays one row (``refused`` and
``disliked`` both set), so counts are counts of questions.

Logging never slows an answer: the answer path builds a small record and puts it on a queue; one
writer thread inserts it (``benchmarks/gap_log.py`` measures both). A failed write is logged and
dropped; it never reaches the person asking.

The report groups the rows by **topic = the best candidate provision** (document + article and its
title) and by document, with counts per ISO week (Monday-start, UTC) and the attachments/documents
refusals named most often. The best candidate is what retrieval already made of the question, with
Kiwi morphemes for Korean, Snowball stems for English and the multilingual dense embedder for both,
so the grouping works the same in both languages, puts a Korean and an English question about the
same provision together, and costs nothing at log or report time; grouping content words instead
would need the Korean analyser again (≈0.5 GB) and would split the same subject by language and
wording. Questions with no candidate (an empty index) form one "(no candidate)" topic.

Personal data: user names are stored (unless ``gaps.log_users`` is off) but left out of every report,
table and CSV unless the admin asks for them (``with_users``).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import queue
import re
import sqlite3
import string
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from civicrag.legal import grammar
from civicrag.settings import Settings

log = logging.getLogger(__name__)

Source = Literal["api", "chat", "cli"]
CANDIDATES_KEPT = 3
NO_CANDIDATE = "(no candidate)"
QUEUE_MAX = 10_000  # records waiting for the writer; beyond that new ones are dropped (and logged)
REASON_MAX_CHARS = 1000
QUESTION_MAX_CHARS = 4000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL UNIQUE,          -- one answer: its refusal and a later 👎 share the row
    at TEXT NOT NULL,                    -- UTC, ISO 8601, seconds
    source TEXT NOT NULL,                -- api | chat | cli
    user TEXT NOT NULL,
    language TEXT NOT NULL,
    question TEXT NOT NULL,
    refused INTEGER NOT NULL,
    disliked INTEGER NOT NULL,
    reason TEXT NOT NULL,
    missing_kind TEXT NOT NULL,          -- attachment | document | ''
    missing TEXT NOT NULL,               -- "[별표 2] 경사도 산정방법", or the unreadable document's title
    missing_document TEXT NOT NULL,      -- the document the attachment belongs to
    doc_id TEXT NOT NULL,                -- best candidate
    article TEXT NOT NULL,
    document TEXT NOT NULL,
    article_title TEXT NOT NULL,
    candidates_json TEXT NOT NULL        -- [{doc_id, article, title, article_title}], best first
);
CREATE INDEX IF NOT EXISTS gaps_at ON gaps (at);
"""
_COLUMNS = (
    "event", "at", "source", "user", "language", "question", "refused", "disliked", "reason", "missing_kind",
    "missing", "missing_document", "doc_id", "article", "document", "article_title", "candidates_json",
)


def gap_log_path(settings: Settings) -> Path:
    return settings.data_dir / "gaps.sqlite3"


# -- what a refusal names ---------------------------------------------------------------------
def _template_pattern(template: str) -> re.Pattern[str]:
    """A fixed phrase with ``{fields}`` as a regex with one named group per field."""
    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


def _refusal_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Patterns of the phrases rag uses to name what is missing, read from rag.language so they follow its wording."""
    try:
        from civicrag.rag.language import PHRASES
    except ImportError:  # pragma: no cover - rag always ships with ui
        return []
    out = []
    for key, kind in (("in_attachment", "attachment"), ("empty_document", "document")):
        for template in (PHRASES.get(key) or {}).values():
            out.append((kind, _template_pattern(template)))
    return out


_PATTERNS = _refusal_patterns()
# If rag's wording changes beyond the templates: an attachment label and the 「title」 or "title" near it.
_ATTACHMENT = grammar.ATTACHMENT_IN_TEXT
_QUOTED_TITLE = re.compile(r"「([^」\n]{2,200})」|\"([^\"\n]{2,200})\"")


def named_in_refusal(*texts: str) -> tuple[str, str, str]:
    """(kind, name, document) of what a refusal names as missing: an attachment, an unreadable
    document, or ("", "", "")."""
    for text in texts:
        if not text:
            continue
        for kind, pattern in _PATTERNS:
            m = pattern.search(text)
            if m:
                if kind == "attachment":
                    return kind, m.group("attachment").strip(), m.group("title").strip()
                return kind, m.group("title").strip(), m.group("title").strip()
    for text in texts:
        m = _ATTACHMENT.search(text or "")
        if m:
            title = _QUOTED_TITLE.search(text)
            return "attachment", m.group(1).strip(), (title.group(1) or title.group(2)).strip() if title else ""
    return "", "", ""


# -- one logged question ------------------------------------------------------------------------
@dataclass
class GapRecord:
    event: str
    at: str
    source: str
    user: str
    language: str
    question: str
    refused: int
    disliked: int
    reason: str
    missing_kind: str
    missing: str
    missing_document: str
    doc_id: str
    article: str
    document: str
    article_title: str
    candidates_json: str

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in _COLUMNS)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def candidates_of(result: Mapping[str, Any]) -> list[dict[str, str]]:
    """The best retrieved provisions, with the article titles the citations and related provisions carry."""
    titles: dict[tuple[str, str], str] = {}
    for c in [*(result.get("citations") or []), *(result.get("related") or [])]:
        key = (str(c.get("doc_id", "")), str(c.get("article", "")))
        titles.setdefault(key, str(c.get("article_title", "") or ""))
    out = []
    for r in (result.get("retrieved") or [])[:CANDIDATES_KEPT]:
        key = (str(r.get("doc_id", "")), str(r.get("article", "")))
        out.append({"doc_id": key[0], "article": key[1], "title": str(r.get("title", "") or ""),
                    "article_title": titles.get(key, "")})
    if not out:  # no retrieval record (e.g. an answer given from citations only)
        for c in (result.get("citations") or [])[:CANDIDATES_KEPT]:
            out.append({"doc_id": str(c.get("doc_id", "")), "article": str(c.get("article", "")),
                        "title": str(c.get("title", "")), "article_title": str(c.get("article_title", ""))})
    return out


def gap_record(
    result: Mapping[str, Any], *, user: str, source: str, event: str | None = None, disliked: bool = False,
    at: str | None = None,
) -> GapRecord:
    """The row for one answer (``Result.to_dict()``), refused and/or disliked."""
    answerability = result.get("answerability") or {}
    reason = str(answerability.get("reason", "") or "")
    refused = bool(result.get("refused"))
    kind, missing, missing_doc = named_in_refusal(reason, str(result.get("answer", ""))) if refused else ("", "", "")
    candidates = candidates_of(result)
    best = candidates[0] if candidates else {"doc_id": "", "article": "", "title": "", "article_title": ""}
    return GapRecord(
        event=event or uuid.uuid4().hex, at=at or _now(), source=source, user=user,
        language=str(result.get("language", "") or ""), question=str(result.get("question", ""))[:QUESTION_MAX_CHARS],
        refused=int(refused), disliked=int(disliked), reason=reason[:REASON_MAX_CHARS] if refused else "",
        missing_kind=kind, missing=missing, missing_document=missing_doc,
        doc_id=best["doc_id"], article=best["article"], document=best["title"], article_title=best["article_title"],
        candidates_json=json.dumps(candidates, ensure_ascii=False),
    )


# -- the log --------------------------------------------------------------------------------------
class GapLog:
    """The gap table and its writer thread. ``refused``/``disliked``/``undisliked`` only enqueue."""

    def __init__(self, path: Path, *, keep_users: bool = True, background: bool = True):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.keep_users = keep_users
        db = self._connect()
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        finally:
            db.close()
        self.dropped = 0
        self._queue: queue.Queue[Callable[[sqlite3.Connection], None] | None] = queue.Queue(QUEUE_MAX)
        self._writer = threading.Thread(target=self._write_loop, daemon=True, name="gap-log")
        self._background = background
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if background:
            self._writer.start()
        else:
            self._db = self._connect()

    @classmethod
    def for_settings(cls, settings: Settings) -> GapLog:
        return cls(gap_log_path(settings), keep_users=settings.gaps.log_users)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, no fsync per question
        return db

    # -- the answer path: build a record, enqueue, return ------------------------------------------
    def refused(self, result: Mapping[str, Any], user: str, source: Source, event: str | None = None) -> str | None:
        """Log a refused answer; returns its event id (None when the answer was not refused)."""
        if not result.get("refused"):
            return None
        record = gap_record(result, user=self._user(user), source=source, event=event)
        self.add(record)
        return record.event

    def add(self, record: GapRecord) -> None:
        """Enqueue a ready record (a second one with the same event is ignored)."""
        self._put(lambda db: db.execute(
            f"INSERT OR IGNORE INTO gaps ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            record.values(),
        ))

    def disliked(self, result: Mapping[str, Any], user: str, source: Source, event: str) -> None:
        """A 👎: the answer's row (its refusal's, if it was refused and logged) is marked, or added."""
        record = gap_record(result, user=self._user(user), source=source, event=event, disliked=True)
        self._put(lambda db: db.execute(
            f"INSERT INTO gaps ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
            "ON CONFLICT (event) DO UPDATE SET disliked = 1",
            record.values(),
        ))

    def undisliked(self, event: str) -> None:
        """The 👎 was taken back (👍 or neutral): unmark it, and drop a row that was only that 👎."""
        def write(db: sqlite3.Connection) -> None:
            db.execute("UPDATE gaps SET disliked = 0 WHERE event = ?", (event,))
            db.execute("DELETE FROM gaps WHERE event = ? AND refused = 0 AND disliked = 0", (event,))
        self._put(write)

    def _user(self, user: str) -> str:
        return user if self.keep_users else ""

    def _put(self, op: Callable[[sqlite3.Connection], None]) -> None:
        if not self._background:
            assert self._db is not None
            try:
                with self._lock:
                    op(self._db)
            except Exception:
                log.exception("gap log: a record could not be written")
            return
        try:
            self._queue.put_nowait(op)
        except queue.Full:
            self.dropped += 1
            log.warning("gap log: the writer is behind (%d queued); a record was dropped", QUEUE_MAX)

    def _write_loop(self) -> None:
        db = self._connect()
        try:
            while True:
                op = self._queue.get()
                try:
                    if op is None:
                        return
                    op(db)
                except Exception:  # a full disk or a locked file must not stop later records
                    log.exception("gap log: a record could not be written")
                finally:
                    self._queue.task_done()
        finally:
            db.close()

    def flush(self) -> None:
        """Wait until every queued record is written."""
        self._queue.join()

    def close(self) -> None:
        if self._db is not None:
            with self._lock:
                self._db.close()
                self._db = None
        if self._writer.is_alive():
            self._queue.put(None)
            self._writer.join(timeout=30)

    # -- reading ------------------------------------------------------------------------------------
    def rows(self, since: str | None = None) -> list[dict[str, Any]]:
        """Logged questions, oldest first; ``since`` (YYYY-MM-DD) keeps those on or after that day (UTC)."""
        db = self._connect()
        try:
            sql = f"SELECT id, {', '.join(_COLUMNS)} FROM gaps"
            args: tuple[str, ...] = ()
            if since:
                sql += " WHERE at >= ?"
                args = (date.fromisoformat(since).isoformat(),)
            cur = db.execute(sql + " ORDER BY at, id", args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            db.close()

    def report(self, since: str | None = None, with_users: bool = False) -> GapReport:
        self.flush()  # what this process has queued counts too
        return build_report(self.rows(since), since=since, with_users=with_users)


# -- the report -----------------------------------------------------------------------------------
def iso_week(at: str) -> str:
    """'2026-W48' for a logged time (ISO week, Monday-start, of its UTC date)."""
    year, week, _ = date.fromisoformat(at[:10]).isocalendar()
    return f"{year}-W{week:02d}"


def topic_label(document: str, article: str, article_title: str) -> str:
    if not (document or article):
        return NO_CANDIDATE
    label = f"{document} {article}".strip()
    return f"{label} ({article_title})" if article_title else label


def missing_label(kind: str, name: str, document: str) -> str:
    if kind == "attachment" and document:
        return f"{name} — {document}"
    return name


@dataclass
class MissingRow:
    kind: str  # attachment | document
    missing: str
    document: str
    questions: int
    last_seen: str


@dataclass
class DocumentRow:
    doc_id: str
    document: str
    questions: int
    refused: int
    disliked: int
    topics: int
    top_missing: str
    last_seen: str
    weeks: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


@dataclass
class TopicRow:
    topic: str
    doc_id: str
    document: str
    article: str
    article_title: str
    questions: int
    refused: int
    disliked: int
    top_missing: str
    first_seen: str
    last_seen: str
    weeks: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    users: dict[str, int] = field(default_factory=dict)


@dataclass
class WeekRow:
    week: str
    questions: int
    refused: int
    disliked: int


@dataclass
class EntryRow:
    at: str
    source: str
    language: str
    question: str
    refused: int
    disliked: int
    reason: str
    missing: str
    topic: str
    user: str = ""


@dataclass
class GapReport:
    since: str | None
    with_users: bool
    questions: int
    refused: int
    disliked: int
    missing: list[MissingRow]
    documents: list[DocumentRow]
    topics: list[TopicRow]
    weeks: list[WeekRow]
    entries: list[EntryRow]  # newest first

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


EXAMPLES_KEPT = 3
_Row = TypeVar("_Row")


def build_report(rows: Sequence[Mapping[str, Any]], since: str | None = None, with_users: bool = False) -> GapReport:
    """Group logged questions (oldest first, as ``GapLog.rows`` gives them) by topic and document."""
    topics: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    documents: dict[str, list[Mapping[str, Any]]] = {}
    missing: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    weeks: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        topics.setdefault((row["doc_id"], row["article"]), []).append(row)
        documents.setdefault(row["doc_id"], []).append(row)
        if row["missing"]:
            missing.setdefault((row["missing_kind"], row["missing"], row["missing_document"]), []).append(row)
        weeks.setdefault(iso_week(row["at"]), []).append(row)

    def counts(group: Sequence[Mapping[str, Any]]) -> tuple[int, int, int]:
        return len(group), sum(int(r["refused"]) for r in group), sum(int(r["disliked"]) for r in group)

    def top_missing(group: Sequence[Mapping[str, Any]]) -> str:
        named = Counter(missing_label(r["missing_kind"], r["missing"], r["missing_document"])
                        for r in group if r["missing"])
        return _most_common(named)

    def per_week(group: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        return dict(sorted(Counter(iso_week(r["at"]) for r in group).items()))

    def users(group: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        if not with_users:
            return {}
        tally = Counter(r["user"] or "(not recorded)" for r in group)
        return dict(sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])))

    topic_rows = []
    for (doc_id, article), group in topics.items():
        last = group[-1]
        n, refused, disliked = counts(group)
        examples = list(dict.fromkeys(r["question"] for r in reversed(group)))[:EXAMPLES_KEPT]
        topic_rows.append(TopicRow(
            topic=topic_label(last["document"], article, last["article_title"]), doc_id=doc_id,
            document=last["document"], article=article, article_title=last["article_title"], questions=n,
            refused=refused, disliked=disliked, top_missing=top_missing(group), first_seen=group[0]["at"],
            last_seen=last["at"], weeks=per_week(group), examples=examples, users=users(group),
        ))
    topic_rows = _ranked(topic_rows, lambda t: (t.questions, t.last_seen, t.topic))

    document_rows = []
    for doc_id, group in documents.items():
        n, refused, disliked = counts(group)
        document_rows.append(DocumentRow(
            doc_id=doc_id, document=group[-1]["document"] or NO_CANDIDATE, questions=n, refused=refused,
            disliked=disliked, topics=len({r["article"] for r in group}), top_missing=top_missing(group),
            last_seen=group[-1]["at"], weeks=per_week(group), users=users(group),
        ))
    document_rows = _ranked(document_rows, lambda d: (d.questions, d.last_seen, d.document))

    missing_rows = [
        MissingRow(kind=kind, missing=name, document=doc, questions=len(group), last_seen=group[-1]["at"])
        for (kind, name, doc), group in missing.items()
    ]
    missing_rows = _ranked(missing_rows, lambda m: (m.questions, m.last_seen, m.missing))

    week_rows = [WeekRow(week, *counts(group)) for week, group in sorted(weeks.items())]
    entries = [
        EntryRow(at=r["at"], source=r["source"], language=r["language"], question=r["question"],
                 refused=int(r["refused"]), disliked=int(r["disliked"]), reason=r["reason"],
                 missing=missing_label(r["missing_kind"], r["missing"], r["missing_document"]),
                 topic=topic_label(r["document"], r["article"], r["article_title"]),
                 user=(r["user"] if with_users else ""))
        for r in reversed(rows)
    ]
    n, refused, disliked = counts(rows)
    return GapReport(since=since, with_users=with_users, questions=n, refused=refused, disliked=disliked,
                     missing=missing_rows, documents=document_rows, topics=topic_rows, weeks=week_rows,
                     entries=entries)


def _most_common(tally: Counter[str]) -> str:
    if not tally:
        return ""
    best = max(tally.values())
    return min(name for name, count in tally.items() if count == best)  # ties: a stable choice


def _ranked(rows: list[_Row], key: Callable[[_Row], tuple[int, str, str]]) -> list[_Row]:
    """Most questions first, then the most recently seen, then by name."""
    by_name = sorted(rows, key=lambda r: key(r)[2])
    return sorted(by_name, key=lambda r: key(r)[:2], reverse=True)


# -- export -----------------------------------------------------------------------------------------
CSV_COLUMNS = (
    "topic", "document", "doc_id", "article", "article_title", "questions", "refused", "disliked",
    "missing", "first_seen", "last_seen", "weeks", "example_questions",
)
USERS_COLUMN = "users"


def _tally(values: Mapping[str, int]) -> str:
    return "; ".join(f"{k}={v}" for k, v in values.items())


def report_csv(report: GapReport) -> str:
    """One row per topic, most questions first; ``weeks`` as "2026-W48=3; 2026-W49=1"; a ``users``
    column only in a report built with ``with_users``."""
    out = io.StringIO()
    writer = csv.writer(out)
    columns = [*CSV_COLUMNS, USERS_COLUMN] if report.with_users else list(CSV_COLUMNS)
    writer.writerow(columns)
    for t in report.topics:
        row = {
            "topic": t.topic, "document": t.document, "doc_id": t.doc_id, "article": t.article,
            "article_title": t.article_title, "questions": t.questions, "refused": t.refused,
            "disliked": t.disliked, "missing": t.top_missing, "first_seen": t.first_seen, "last_seen": t.last_seen,
            "weeks": _tally(t.weeks), "example_questions": " | ".join(t.examples), USERS_COLUMN: _tally(t.users),
        }
        writer.writerow([_csv_safe(row[c]) for c in columns])
    return out.getvalue()


def _csv_safe(value: Any) -> Any:
    """Stop spreadsheet formula injection: a cell starting with = + - @ is read as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report_text(report: GapReport) -> str:
    """The report for a terminal."""
    scope = f" since {report.since}" if report.since else ""
    lines = [f"Content gaps{scope}: {report.questions} questions ({report.refused} refused, "
             f"{report.disliked} disliked)"]
    if not report.questions:
        return lines[0] + "\n"
    if report.missing:
        lines += ["", "Most often missing (named by refusals):"]
        for m in report.missing:
            lines.append(f"  {m.questions:4}  {m.kind:10}  {missing_label(m.kind, m.missing, m.document)}")
    lines += ["", "By document:  questions  refused  disliked  document"]
    for d in report.documents:
        extra = f"  — missing: {d.top_missing}" if d.top_missing else ""
        lines.append(f"  {d.questions:10} {d.refused:8} {d.disliked:9}  {d.document} [{d.doc_id}]{extra}")
        if d.users:
            lines.append(f"  {'':29}  users: {_tally(d.users)}")
    lines += ["", "By topic (best candidate provision):"]
    for t in report.topics:
        lines.append(f"  {t.questions:4}  {t.topic}  (refused {t.refused}, disliked {t.disliked}; "
                     f"{_tally(t.weeks)})")
        if t.top_missing:
            lines.append(f"        missing: {t.top_missing}")
        for q in t.examples:
            lines.append(f"        e.g. {q}")
        if t.users:
            lines.append(f"        users: {_tally(t.users)}")
    lines += ["", "Per week:   questions  refused  disliked"]
    for w in report.weeks:
        lines.append(f"  {w.week}  {w.questions:9} {w.refused:8} {w.disliked:9}")
    return "\n".join(lines) + "\n"
