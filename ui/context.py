"""What every request handler of the app shares, built once per server: ``AppContext``.

The REST routers (``ui.api``), the middleware (``ui.middleware``) and the Gradio handlers (``ui.chat``,
``ui.console``) all take it; it imports none of them, so the app's modules form no import cycle.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import anyio
from civicrag.ui.admin import AdminOps
from civicrag.ui.amendments import CatalogueCache, ComparisonLinks
from civicrag.ui.auth import DEMO_USER, SESSION_KEY, User, Users
from civicrag.ui.feedback import FeedbackStore
from civicrag.ui.gaps import GapLog
from civicrag.ui.sessions import LoginThrottle, Refusal, SessionStore
from starlette.datastructures import Headers
from starlette.types import Scope

from civicrag.settings import Settings

_AUTH_SCOPE_KEY = "civicrag.auth"  # the request's resolved user (or throttle refusal), once per request


def client_address(scope: Scope) -> str:
    """The client's address: the peer, or behind a proxy that uvicorn trusts (--forwarded-allow-ips),
    the X-Forwarded-For address it puts there."""
    client = scope.get("client")
    return str(client[0]) if client else ""


@dataclass
class AppContext:
    """Everything a request handler needs, built once per server."""

    settings: Settings
    users: Users
    service: Any  # rag.service.RagService (imported lazily: it pulls numpy, the embedder, ...)
    feedback: FeedbackStore
    admin: AdminOps
    sessions: SessionStore
    throttle: LoginThrottle
    gaps: GapLog | None = None  # refused questions and 👎 (settings.gap_log)
    # Set by ``serve`` on embedded Chroma: ``civicrag ingest`` on this host hands its paths over with it.
    local_token: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # bcrypt runs here, two at a time: off the event loop, and never more than the cores can take.
    password_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="bcrypt")
    )
    # What the amendment comparison reads of the index, cached per index generation (see ui.amendments).
    catalogue: CatalogueCache = field(init=False)
    comparisons: ComparisonLinks = field(init=False)

    def __post_init__(self) -> None:
        self.catalogue = CatalogueCache(self.service)
        self.comparisons = ComparisonLinks(self.service)

    @classmethod
    def create(cls, settings: Settings, service: Any | None = None, local_token: str | None = None) -> AppContext:
        if service is None:
            from civicrag.rag.service import RagService

            service = RagService(settings)
        auth_db = settings.data_dir / "auth.sqlite3"
        return cls(
            settings=settings,
            users=Users(settings),
            service=service,
            feedback=FeedbackStore(settings.data_dir / "feedback.sqlite3"),
            admin=AdminOps(settings),
            sessions=SessionStore(auth_db, settings.auth.session_max_age_s),
            throttle=LoginThrottle(
                auth_db, after=settings.auth.login_throttle_after, base_s=settings.auth.login_throttle_base_s,
                max_s=settings.auth.login_throttle_max_s, window_s=settings.auth.login_failure_window_s,
            ),
            gaps=GapLog.for_settings(settings) if settings.gaps.log else None,
            local_token=local_token,
        )

    async def check_password(self, name: str, password: str, address: str) -> User | Refusal | None:
        """The user if the password is right; a Refusal while the account or address is throttled; else None.

        bcrypt runs in ``password_pool``, never on the event loop; a password verified before
        (an API client sending Basic credentials with every request) costs no bcrypt.
        """

        def before() -> User | Refusal | None:
            refusal = self.throttle.refusal(name, address)
            if refusal is not None:
                return refusal
            if (user := self.users.cached(name, password)) is not None:
                return user
            return self.throttle.attempt(name, address)  # counted as a failure until it succeeds

        first = await anyio.to_thread.run_sync(before)
        if first is not None:
            return first
        loop = asyncio.get_running_loop()
        user = await loop.run_in_executor(self.password_pool, self.users.verify, name, password)
        if user is not None:
            await anyio.to_thread.run_sync(self.throttle.succeeded, name, address)
        return user

    async def authenticate(self, scope: Scope) -> User | Refusal | None:
        """The user of a request (session cookie, then HTTP Basic), the demo user, a Refusal, or None."""
        if _AUTH_SCOPE_KEY in scope:
            return scope[_AUTH_SCOPE_KEY]  # type: ignore[no-any-return]
        result: User | Refusal | None = None
        if self.users.open_demo:
            result = self.users.user(DEMO_USER)
        else:
            token = (scope.get("session") or {}).get(SESSION_KEY)
            if token:
                result = self.users.user(await anyio.to_thread.run_sync(self.sessions.user, token))
            if result is None:
                basic = Users.parse_basic(Headers(scope=scope).get("authorization"))
                if basic is not None:
                    result = await self.check_password(*basic, client_address(scope))
        scope[_AUTH_SCOPE_KEY] = result
        return result

    def close(self) -> None:
        self.admin.wait(timeout=60)
        self.service.close()
        self.feedback.close()
        self.password_pool.shutdown(wait=False)
        self.sessions.close()
        self.throttle.close()
        if self.gaps is not None:
            self.gaps.close()  # writes what is still queued
