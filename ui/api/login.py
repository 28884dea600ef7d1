"""The login form, login and logout: a session cookie for the browser (API clients may send HTTP Basic)."""

from __future__ import annotations

import html

import anyio
from civicrag.ui.api.deps import CtxDep
from civicrag.ui.auth import SESSION_KEY
from civicrag.ui.context import client_address
from civicrag.ui.originals import CSP
from civicrag.ui.sessions import Refusal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

router = APIRouter(include_in_schema=False)
WRONG_LOGIN = "사용자 이름 또는 비밀번호가 틀렸습니다. / Wrong user name or password."


@router.get("/login")
def login_page(error: str = "") -> HTMLResponse:
    return _login_page(WRONG_LOGIN if error else "")


@router.post("/login")
async def login(request: Request, ctx: CtxDep) -> Response:
    form = await request.form()
    name, password = str(form.get("username", "")), str(form.get("password", ""))
    address = client_address(request.scope)
    result = await ctx.check_password(name, password, address)
    if isinstance(result, Refusal):
        return _login_page(result.message, status=429, headers={"Retry-After": str(result.retry_after_s)})
    if result is None:
        return RedirectResponse("/login?error=1", status_code=303)
    old = request.session.get(SESSION_KEY)
    if old:
        await anyio.to_thread.run_sync(ctx.sessions.revoke, str(old))
    token = await anyio.to_thread.run_sync(
        ctx.sessions.create, result.name, address, request.headers.get("user-agent", "")
    )
    request.session.clear()  # a new session id on every login: no fixation
    request.session[SESSION_KEY] = token
    return RedirectResponse("/", status_code=303)


@router.get("/logout")
def logout(request: Request, ctx: CtxDep) -> RedirectResponse:
    token = request.session.get(SESSION_KEY)
    if token:
        ctx.sessions.revoke(str(token))  # a copy of the cookie stops working too
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _login_page(message: str = "", status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(
        _login_html(message), status_code=status,
        headers={"Content-Security-Policy": CSP.replace("form-action 'none'", "form-action 'self'"),
                 **(headers or {})},
    )


def _login_html(message: str) -> str:
    shown = f"<p class='err' role='alert'>{html.escape(message)}</p>" if message else ""
    return (
        "<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>civicrag — 로그인</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><style>"
        "body{font-family:system-ui,sans-serif;display:flex;justify-content:center;margin-top:10vh}"
        "form{display:flex;flex-direction:column;gap:.6rem;min-width:18rem;max-width:28rem}"
        "input,button{font-size:1rem;padding:.4rem}.err{color:#b91c1c}</style></head><body>"
        f"<form method='post' action='/login'><h1>civicrag</h1>{shown}"
        "<label>사용자 이름 / User name<input name='username' autocomplete='username' required></label>"
        "<label>비밀번호 / Password<input name='password' type='password' autocomplete='current-password' required>"
        "</label><button type='submit'>로그인 / Log in</button></form></body></html>"
    )
