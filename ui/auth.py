"""Who is asking, and may they? Users and roles from the settings, bcrypt password hashes.

Two ways in, one check:
- the browser logs in at ``/login``; the signed session cookie carries a random token of a
  server-side session (``ui.sessions``) that the chat, the admin console, the original-document
  links and the API all honour, and that logout or an admin revokes;
- API clients may instead send HTTP Basic credentials with every request.

Password checks (bcrypt) run in worker threads and are throttled per account and per client
address (``ui.sessions.LoginThrottle``); ``ui.server.AppContext`` puts the pieces together.

``auth_mode = "open-demo"`` turns login off explicitly: everyone is the user ``demo``
with ``auth.open_demo_role`` (staff by default, so admin actions stay refused).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading
from base64 import b64decode
from dataclasses import dataclass
from typing import Literal

from civicrag.settings import ConfigError, Settings

Role = Literal["staff", "admin"]
DEMO_USER = "demo"
SESSION_KEY = "civicrag_sid"  # the session token in the signed cookie


def hash_password(password: str, rounds: int = 12) -> str:
    """A bcrypt hash to paste into the settings' ``users`` table."""
    import bcrypt

    if not password:
        raise ValueError("empty password")
    if len(password.encode("utf-8")) > 72:
        # bcrypt ignores bytes past 72; refuse rather than silently weaken a long passphrase.
        raise ValueError("password longer than 72 bytes (bcrypt's limit)")
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Users:
    """Verifies passwords and maps a user name to its role."""

    def __init__(self, settings: Settings):
        self.open_demo = settings.auth.mode == "open-demo"
        self.demo_role: Role = settings.auth.open_demo_role
        self._entries = dict(settings.auth.users)
        if not self.open_demo and not self._entries:
            raise ConfigError(
                "auth_mode is 'users' but no users are configured: add [users] entries "
                "(password hashes from `civicrag hash-password`) or set auth_mode = \"open-demo\""
            )
        # bcrypt costs ~0.2 s by design; API clients sending Basic credentials on every request
        # would pay it each time. Remember successful checks under a keyed digest (never the password).
        self._cache_key = secrets.token_bytes(32)
        self._verified: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def role_of(self, name: str | None) -> Role | None:
        if self.open_demo:
            return self.demo_role if name else None
        entry = self._entries.get(name or "")
        return entry.role if entry else None

    def user(self, name: str | None) -> User | None:
        role = self.role_of(name)
        return User(str(name), role) if role else None

    def cached(self, name: str, password: str) -> User | None:
        """The user if this very password was verified before (no bcrypt), else None."""
        if self.open_demo:
            return self.user(DEMO_USER)
        entry = self._entries.get(name)
        if entry is None:
            return None
        with self._lock:
            if self._verified.get(self._digest(name, password)) == entry.password_hash:
                return self.user(name)
        return None

    def _digest(self, name: str, password: str) -> bytes:
        return hmac.new(self._cache_key, f"{name}\0{password}".encode("utf-8", "surrogatepass"),
                        hashlib.sha256).digest()

    def verify(self, name: str, password: str) -> User | None:
        """The user if the password matches its hash, else None (same cost for unknown names).

        Slow by design (bcrypt): call it from a worker thread, never on the event loop.
        """
        import bcrypt

        if self.open_demo:
            return self.user(DEMO_USER)
        if (user := self.cached(name, password)) is not None:
            return user
        entry = self._entries.get(name)
        # Compare against a dummy hash for unknown users so timing does not reveal which names exist.
        stored = entry.password_hash if entry else _dummy_hash()
        try:
            ok = bcrypt.checkpw(password.encode("utf-8", "surrogatepass"), stored.encode("ascii"))
        except ValueError:  # malformed hash in the settings
            ok = False
        if not ok or entry is None:
            return None
        with self._lock:
            if len(self._verified) > 1000:
                self._verified.clear()
            self._verified[self._digest(name, password)] = entry.password_hash
        return self.user(name)

    @staticmethod
    def parse_basic(header: str | None) -> tuple[str, str] | None:
        """(name, password) of an ``Authorization: Basic ...`` header, or None."""
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            name, sep, password = b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return (name, password) if sep else None

    def from_basic(self, header: str | None) -> User | None:
        """The user of an ``Authorization: Basic ...`` header, or None (bcrypt: not on the event loop)."""
        parsed = self.parse_basic(header)
        return self.verify(*parsed) if parsed else None


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random secret, checked against when the user name is unknown."""
    return hash_password(secrets.token_urlsafe(16))
