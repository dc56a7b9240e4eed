"""Signing in and out, and the interface language.

Login checks the CSRF token the login page put in the session (a visitor has a session
before signing in) and, on success, starts a fresh session with a new token and a new
session ID recorded in the store (`auth.start_session`); logout revokes that ID, so a
copy of the cookie is signed out too. A failed login is a row in `access_log`; after too
many (`auth.login_wait`) further attempts are refused with 429, right password or not.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from resolution.review import auth
from resolution.review.i18n import LANGS
from resolution.review.web import (
    Caller,
    SignedInForm,
    client_of,
    csrf_matches,
    refuse,
    render,
    store,
    translator_for,
)

router = APIRouter()


def _local(target: str) -> str:
    """`target` when it is a path on this site, else the queue (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/queue"


@router.get("/lang/{lang}")
def set_lang(lang: str, next: str = "/queue") -> Response:
    resp = RedirectResponse(_local(next), status_code=303)
    resp.set_cookie("lang", lang if lang in LANGS else "zh", max_age=365 * 86400,
                    samesite="strict")
    return resp


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/queue") -> Response:
    request.state.role = None
    return render(request, "login.html", {"next": next, "error": None})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    # the password hash and the store work off the event loop: other users' requests go on
    return await run_in_threadpool(_login, request, form)


def _login(request: Request, form: FormData) -> Response:
    request.state.role = None
    name, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    nxt = _local(str(form.get("next", "/queue")))
    if not csrf_matches(request, form):
        return refuse(request, Caller(name or None, None), 403, "csrf_failed")
    client = client_of(request)
    t = translator_for(request)
    with store(request).connect() as con:
        wait = auth.login_wait(con, name, client)
        if wait:
            auth.log_refusal(con, name or None, None, "POST", "/login", 429,
                             "login throttled", client)
            role = None
        else:
            role = auth.authenticate(con, name, password)
            if role is None:
                auth.log_refusal(con, name or None, None, "POST", "/login", 401,
                                 auth.LOGIN_FAILED, client)
            else:
                session_id = auth.start_session(con, name, client)
    if wait:
        minutes = -(-wait // 60)
        resp = render(request, "login.html",
                      {"next": nxt, "error": t("login_throttled").format(minutes=minutes)},
                      status=429)
        resp.headers["Retry-After"] = str(wait)
        return resp
    if role is None:
        return render(request, "login.html", {"next": nxt, "error": t("login_failed")},
                      status=401)
    request.session.clear()
    request.session["user"] = name
    request.session["sid"] = session_id
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(nxt, status_code=303)


@router.post("/logout")
def logout(request: Request, form: SignedInForm) -> Response:
    with store(request).connect() as con:
        auth.end_session(con, request.session.get("sid"))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
