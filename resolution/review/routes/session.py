"""Signing in and out, and the interface language.

Login checks the CSRF token the login page put in the session (a visitor has a session
before signing in) and, on success, starts a fresh session with a new token. A failed
login is a row in `access_log`.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from resolution.review import auth
from resolution.review.i18n import LANGS
from resolution.review.web import (
    Caller,
    SignedInForm,
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
    request.state.role = None
    form = await request.form()
    name, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    nxt = _local(str(form.get("next", "/queue")))
    if not csrf_matches(request, form):
        return refuse(request, Caller(name or None, None), 403, "csrf_failed")
    with store(request).connect() as con:
        role = auth.authenticate(con, name, password)
        if role is None:
            auth.log_refusal(con, name or None, None, "POST", "/login", 401, "login failed")
    if role is None:
        t = translator_for(request)
        return render(request, "login.html", {"next": nxt, "error": t("login_failed")},
                      status=401)
    request.session.clear()
    request.session["user"] = name
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(nxt, status_code=303)


@router.post("/logout")
async def logout(request: Request, form: SignedInForm) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
