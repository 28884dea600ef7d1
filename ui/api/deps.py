"""The dependencies every route declares: the app context, the service, the user, the admin role.

Routes take them as parameters (``ctx: CtxDep``, ``user: UserDep``, ``admin: AdminDep``), so a router can be
tested with ``app.dependency_overrides`` and reads no global state.
"""

from __future__ import annotations

from typing import Annotated, Any

from civicrag.ui.auth import User
from civicrag.ui.context import AppContext
from civicrag.ui.sessions import Refusal
from fastapi import Depends, HTTPException, Request


def app_context(request: Request) -> AppContext:
    """The context ``create_app`` built for this server."""
    return request.app.state.ctx  # type: ignore[no-any-return]


CtxDep = Annotated[AppContext, Depends(app_context)]


def rag_service(ctx: CtxDep) -> Any:
    """The server's ``RagService``."""
    return ctx.service


ServiceDep = Annotated[Any, Depends(rag_service)]


async def current_user(request: Request, ctx: CtxDep) -> User:
    """The logged-in user (session cookie or HTTP Basic); 401 without one, 429 while logins are throttled."""
    result = await ctx.authenticate(request.scope)
    if isinstance(result, Refusal):
        raise HTTPException(429, result.message, headers={"Retry-After": str(result.retry_after_s)})
    if result is None:
        raise HTTPException(401, "login required", headers={"WWW-Authenticate": 'Basic realm="civicrag"'})
    return result


UserDep = Annotated[User, Depends(current_user)]


def require_admin(user: UserDep) -> User:
    """The user, if an admin; else 403."""
    if not user.is_admin:
        raise HTTPException(403, "admin role required")
    return user


AdminDep = Annotated[User, Depends(require_admin)]
