"""Server-side login sessions and login throttling, kept in ``DATA_DIR/auth.sqlite3``.

Sessions: the login cookie (signed by Starlette's SessionMiddleware) carries only a random token;
the server keeps one row per session — user, created, last seen, expiry, client address and user
agent — under the token's SHA-256 (a copy of the database yields no usable cookie). Logging out
deletes the row, so a copied cookie stops working; admins list and revoke sessions; a session
ends at its expiry (``auth.session_max_age_s``) whatever the cookie says. Every server process over the
same data folder sees the same sessions (a restart keeps logins when ``auth.session_secret`` is set).

Throttling: failed password checks are counted per account and per client address. From the
``after``-th failure on, the next attempt must wait ``base_s * 2**(failures - after)`` seconds
(capped at ``max_s``) after the last failure; attempts in that time are refused without checking
the password. A success clears the account's count; counts are forgotten ``window_s`` after their
last failure. An attempt is counted *before* bcrypt runs, so concurrent guesses are throttled too.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOUCH_EVERY_S = 60.0  # last_seen is written at most this often per session


def login_delay(failures: int, after: int, base_s: float, max_s: float) -> float:
    """Seconds an account or address must wait after its last failure, having failed ``failures`` times."""
    if failures < after:
        return 0.0
    return float(min(max_s, base_s * 2 ** min(failures - after, 60)))


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.executescript(
        """
        CREATE TABLE IF NOT EXISTS sessions (
            token_sha256 TEXT PRIMARY KEY,
            id TEXT UNIQUE NOT NULL,
            user TEXT NOT NULL,
            created REAL NOT NULL,
            last_seen REAL NOT NULL,
            expires REAL NOT NULL,
            client TEXT NOT NULL DEFAULT '',
            user_agent TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX IF NOT EXISTS sessions_expires ON sessions(expires);
        CREATE TABLE IF NOT EXISTS login_failures (
            key TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last REAL NOT NULL
        );
        """
    )
    return conn


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionStore:
    """Login sessions, one SQLite row each."""

    def __init__(self, path: Path, max_age_s: float):
        self.path, self.max_age_s = path, max_age_s
        self.clock: Callable[[], float] = time.time
        self._conn = _connect(path)
        self._lock = threading.Lock()

    def create(self, user: str, client: str = "", user_agent: str = "") -> str:
        """A new session for ``user``; returns the token to put in the cookie."""
        token, now = secrets.token_urlsafe(32), self.clock()
        with self._lock:
            self._conn.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (_sha256(token), secrets.token_hex(8), user, now, now, now + self.max_age_s,
                 client[:100], user_agent[:300]),
            )
        return token

    def user(self, token: str) -> str | None:
        """The user of a live session, or None (unknown, revoked or expired)."""
        if not token or not isinstance(token, str):
            return None
        now, key = self.clock(), _sha256(token)
        with self._lock:
            row = self._conn.execute(
                "SELECT user, expires, last_seen FROM sessions WHERE token_sha256 = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            if row[1] <= now:
                self._conn.execute("DELETE FROM sessions WHERE token_sha256 = ?", (key,))
                return None
            if now - row[2] >= TOUCH_EVERY_S:
                self._conn.execute("UPDATE sessions SET last_seen = ? WHERE token_sha256 = ?", (now, key))
        return str(row[0])

    def revoke(self, token: str) -> bool:
        with self._lock:
            return self._conn.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_sha256(token),)).rowcount > 0

    def revoke_id(self, session_id: str) -> bool:
        with self._lock:
            return self._conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

    def list(self) -> list[dict[str, Any]]:
        """Live sessions, newest first (expired ones are deleted on the way)."""
        now = self.clock()
        with self._lock:
            self._conn.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
            rows = self._conn.execute(
                "SELECT id, user, created, last_seen, expires, client, user_agent FROM sessions "
                "ORDER BY created DESC"
            ).fetchall()
        names = ("id", "user", "created", "last_seen", "expires", "client", "user_agent")
        out = []
        for row in rows:
            item = dict(zip(names, row, strict=True))
            for stamp in ("created", "last_seen", "expires"):
                item[stamp] = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(item[stamp]))
            out.append(item)
        return out

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@dataclass(frozen=True)
class Refusal:
    """A login attempt refused by the throttle: for how long, and why."""

    retry_after_s: int
    scope: str  # "account" or "address"

    @property
    def message(self) -> str:
        where = "for this account" if self.scope == "account" else "from this address"
        where_ko = "이 계정에" if self.scope == "account" else "이 주소에서"
        return (
            f"Too many failed logins {where}; try again in {self.retry_after_s} s. / "
            f"{where_ko} 로그인 실패가 너무 많습니다. {self.retry_after_s}초 뒤에 다시 시도하세요."
        )


class LoginThrottle:
    """Counts failed logins per account and per client address, and says when to refuse."""

    def __init__(self, path: Path, after: int, base_s: float, max_s: float, window_s: float):
        self.after, self.base_s, self.max_s, self.window_s = after, base_s, max_s, window_s
        self.clock: Callable[[], float] = time.time
        self._conn = _connect(path)
        self._lock = threading.Lock()

    @staticmethod
    def _keys(name: str, address: str) -> tuple[str, str]:
        return f"user:{name}", f"addr:{address}"

    def _count(self, key: str, now: float) -> tuple[int, float]:
        row = self._conn.execute("SELECT failures, last FROM login_failures WHERE key = ?", (key,)).fetchone()
        if row is None or now - row[1] > self.window_s:
            return 0, 0.0
        return int(row[0]), float(row[1])

    def failures(self, name: str, address: str) -> tuple[int, int]:
        """Current failure counts of the account and of the address."""
        with self._lock:
            now = self.clock()
            return tuple(self._count(k, now)[0] for k in self._keys(name, address))  # type: ignore[return-value]

    def _refusal(self, name: str, address: str, now: float) -> Refusal | None:
        for key, scope in zip(self._keys(name, address), ("account", "address"), strict=True):
            failures, last = self._count(key, now)
            delay = login_delay(failures, self.after, self.base_s, self.max_s)
            if delay > 0 and last + delay > now:
                return Refusal(max(1, math.ceil(last + delay - now - 1e-9)), scope)
        return None

    def refusal(self, name: str, address: str) -> Refusal | None:
        """Why an attempt now must be refused without checking the password, or None."""
        with self._lock:
            return self._refusal(name, address, self.clock())

    def attempt(self, name: str, address: str) -> Refusal | None:
        """Refuse, or count the attempt as a failure (before the password is checked); ``succeeded`` undoes it.

        One step under the lock (and one SQLite transaction), so concurrent attempts cannot all slip
        through before the first is counted.
        """
        with self._lock:
            now = self.clock()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                refusal = self._refusal(name, address, now)
                if refusal is None:
                    for key in self._keys(name, address):
                        failures, _ = self._count(key, now)
                        self._conn.execute("INSERT OR REPLACE INTO login_failures VALUES (?, ?, ?)",
                                           (key, failures + 1, now))
                    if secrets.randbelow(100) == 0:
                        self._conn.execute("DELETE FROM login_failures WHERE last < ?", (now - self.window_s,))
            finally:
                self._conn.execute("COMMIT")
        return refusal

    def succeeded(self, name: str, address: str) -> None:
        """A correct password: forget the account's failures, and take back this attempt from the address."""
        account, addr = self._keys(name, address)
        with self._lock:
            now = self.clock()
            self._conn.execute("DELETE FROM login_failures WHERE key = ?", (account,))
            failures, _ = self._count(addr, now)
            if failures <= 1:
                self._conn.execute("DELETE FROM login_failures WHERE key = ?", (addr,))
            else:
                self._conn.execute("UPDATE login_failures SET failures = ? WHERE key = ?", (failures - 1, addr))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
