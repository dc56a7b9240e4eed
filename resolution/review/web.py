"""What every page of the review app shares: who is asking, CSRF, rendering, refusals.

A route gets the signed-in user as a FastAPI dependency that also enforces the role:

    def queue_page(request: Request, viewer: Viewer): ...        # any signed-in user
    def confirm(request: Request, steward: Steward, form: StewardForm): ...

`Viewer`, `Steward` and `Admin` are the user (a `Caller`) with at least that role; a
visitor who is not signed in is sent to the login page (GET) or refused with 401 (other
methods), a signed-in user without the role is refused with 403. `StewardForm`,
`AdminForm` and `SignedInForm` are the posted form once its CSRF token matches the
session's, else a 403 refusal. A refusal is a `Halt` carrying the page to send back
(`create_app` registers `halt_page` for it), and is one row in `access_log`.

The session counts only while its session ID is live in the store (`auth.session_user`:
logout, a disabled user or a changed password end it) and the role is read from the
store on every request (a changed role or a disabled user takes effect at once) and kept in `request.state.role` for the page's navigation.
Routes reach the store and the templates through `request.app.state` (`store`,
`templates`, `config_path`), which `create_app` fills.

Routes are plain functions (`def`), which FastAPI runs in its thread pool; an `async def`
route would do its store work on the event loop and hold up every other request meanwhile
(`login`, which must await its form, hands its work to the pool). Page reads use
`store.read()` and run side by side; anything that writes uses `store.connect()`.
"""

# No `from __future__ import annotations` here: FastAPI reads the annotations of
# `_csrf_checked`'s inner dependency, which name a local variable, so they must be objects.

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from resolution.review import actions, auth
from resolution.review.i18n import LANGS, translator
from resolution.review.store_access import StoreAccess, StoreBusy

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Caller:
    """Who sent the request: the session's user and their current role (None, None for
    a visitor who is not signed in, or whose user is gone or disabled)."""

    name: str | None
    role: str | None


class Halt(Exception):
    """Stop handling the request and send `response` (a refusal or a redirect to login)."""

    def __init__(self, response: Response):
        self.response = response


# --- the app's state ----------------------------------------------------------------------


def store(request: Request) -> StoreAccess:
    return request.app.state.store


def lang_of(request: Request) -> str:
    lang = request.cookies.get("lang", "zh")
    return lang if lang in LANGS else "zh"


def translator_for(request: Request):
    return translator(lang_of(request))


# --- pages ----------------------------------------------------------------------------------


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES)
    templates.env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.1f}%"
    templates.env.filters["num"] = lambda v: "—" if v is None else f"{v:+.1f}"
    templates.env.filters["dt"] = lambda v: "" if v is None else str(v)[:19]
    templates.env.filters["val"] = _display
    return templates


def render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
    """A page from `templates/`, with what base.html needs (user, role, CSRF token, the
    flash message left by the last action, which this page consumes)."""
    user = request.session.get("user")
    t = translator_for(request)
    flash = request.session.pop("flash", None)
    role = getattr(request.state, "role", None)
    base = {
        "request": request, "t": t, "user": user, "role": role,
        "csrf": csrf_token(request), "flash": flash, "path": request.url.path,
        "query": request.url.query, "can_decide": auth.allows(role, "steward"),
    }
    return request.app.state.templates.TemplateResponse(
        request, name, {**base, **ctx}, status_code=status
    )


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def refuse(request: Request, caller: Caller, status: int, key: str, detail: str = "",
           links: list[tuple[str, str]] | None = None) -> Response:
    """The refusal page (`key` is its i18n message unless `detail` says more, `links` the
    ways on, as (href, label)), logged."""
    with store(request).connect() as con:
        auth.log_refusal(con, caller.name, caller.role, request.method, str(request.url.path),
                         status, f"{key}: {detail}" if detail else key, client_of(request))
    t = translator_for(request)
    return render(request, "message.html", {"title": t("refused"), "message": detail or t(key),
                                            "links": links or []}, status=status)


def bad_request(request: Request, message: str) -> Response:
    """The 400 page for a value the request got wrong (`message` in Chinese and English)."""
    return render(request, "message.html",
                  {"title": translator_for(request)("bad_request"), "message": message},
                  status=400)


async def halt_page(request: Request, exc: Halt) -> Response:
    return exc.response


def _plain_page(request: Request, status: int, title: str, message: str,
                headers: dict[str, str] | None = None) -> Response:
    """A message page that needs no session (sent before or outside a route)."""
    t = translator_for(request)
    return request.app.state.templates.TemplateResponse(
        request, "message.html",
        {"request": request, "t": t, "title": t(title), "message": message,
         "user": None, "role": None, "csrf": "", "flash": None, "path": "", "query": "",
         "can_decide": False},
        status_code=status, headers=headers,
    )


# The app answers a browser with a page in its language for every status, never
# Starlette's English JSON ({"detail": "Not Found"}) or plain "Internal Server Error".
HTTP_MESSAGES = {
    404: "页面不存在，请检查地址 (there is no such page; check the address)",
    405: "此地址不接受这种请求方式，请从页面上的按钮或链接进入 (this address does not take this "
         "kind of request; use the page's buttons and links)",
    500: "服务器内部错误，操作未完成；请稍后重试，若仍出错请联系管理员 (an internal error; nothing "
         "was done; try again later and tell the administrator if it persists)",
}


async def http_error_page(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, wrong method, a missing static file) as a
    page; the status and the headers it asks for (Allow for 405) are kept."""
    if not isinstance(exc, StarletteHTTPException):
        return await server_error_page(request, exc)
    status = exc.status_code
    message = HTTP_MESSAGES.get(status) or f"请求未能处理 (the request could not be handled: {status})"
    return _plain_page(request, status, f"http_{status}" if status in HTTP_MESSAGES else "refused",
                       message, dict(exc.headers or {}))


async def server_error_page(request: Request, exc: Exception) -> Response:
    """An unexpected error (a bug, a damaged store) as a page without the traceback, which
    the server log keeps (Starlette raises the error on after sending this). It is sent
    from outside the other middleware, so it sets the security headers itself."""
    response = _plain_page(request, 500, "http_500", HTTP_MESSAGES[500])
    _secure(request, response)
    return response


async def store_busy_page(request: Request, exc: StoreBusy) -> Response:
    """503 with Retry-After while a batch job holds the store longer than the app waits."""
    return _plain_page(request, 503, "busy", str(exc), {"Retry-After": "5"})


async def invalid_request_page(request: Request, exc: Exception) -> Response:
    """A query or form value of the wrong type (RequestValidationError): a 400 page, not
    FastAPI's English JSON."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    where = ", ".join(".".join(str(x) for x in e.get("loc", ())) for e in errors)
    return _plain_page(request, 400, "bad_request",
                       f"请求参数有误：{where} (invalid request values: {where})")


# Forms carry a few fields and a comment of at most actions.COMMENT_LIMIT characters; a
# larger body is refused before it is read.
MAX_BODY = 1024 * 1024


class Guard:
    """Around every request (plain ASGI): a body over MAX_BODY is refused before it is
    read (413), and every response, that refusal included, gets the security headers
    (`_secure_headers`). One plain ASGI middleware instead of two `@app.middleware("http")`
    functions, which ran every request through extra tasks and streams on the event loop
    (the gain measured under 20 clients was small, within the benchmark's noise)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async def secured(message) -> None:
            if message["type"] == "http.response.start":
                _secure_headers(MutableHeaders(scope=message), scope["path"])
            await send(message)

        size = Headers(scope=scope).get("content-length", "")
        if size and (not size.isdigit() or int(size) > MAX_BODY):
            refusal = _plain_page(
                Request(scope, receive), 413, "too_large",
                f"请求内容超过 {MAX_BODY // 1024 // 1024} MB，未处理；备注最长 "
                f"{actions.COMMENT_LIMIT} 字 (the request is larger than "
                f"{MAX_BODY // 1024 // 1024} MB and was not processed; a comment may be at "
                f"most {actions.COMMENT_LIMIT:,} characters)")
            await refusal(scope, receive, secured)
            return
        await self.app(scope, receive, secured)


# --- who is asking --------------------------------------------------------------------------


def signed_in(request: Request) -> Caller:
    """The session's user with their role now; Caller(None, None) when there is none (or
    its session ID was revoked or expired, in which case the cookie is emptied too)."""
    name = request.session.get("user")
    if not name:
        return Caller(None, None)
    with store(request).read() as con:
        live = auth.session_user(con, request.session.get("sid")) == name
        role = auth.current_role(con, name) if live else None
    if not live:
        request.session.clear()
    return Caller(name, role) if role else Caller(None, None)


def _requiring(needed: str) -> Callable[[Request], Caller]:
    def require(request: Request) -> Caller:
        caller = signed_in(request)
        request.state.role = caller.role
        if caller.name is None:
            if request.method == "GET":
                nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                raise Halt(RedirectResponse(f"/login?next={quote(nxt)}", status_code=303))
            raise Halt(refuse(request, caller, 401, "login_required", "请先登录 (log in first)"))
        if not auth.allows(caller.role, needed):
            raise Halt(refuse(request, caller, 403, "forbidden"))
        return caller

    require.__name__ = f"require_{needed}"
    return require


require_viewer = _requiring("viewer")
require_steward = _requiring("steward")
require_admin = _requiring("admin")

SignedIn = Annotated[Caller, Depends(signed_in)]
Viewer = Annotated[Caller, Depends(require_viewer)]
Steward = Annotated[Caller, Depends(require_steward)]
Admin = Annotated[Caller, Depends(require_admin)]


# --- CSRF -----------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use); every form on every page carries it."""
    tok = request.session.get("csrf")
    if not tok:
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return tok


def csrf_matches(request: Request, form: FormData) -> bool:
    sent, good = str(form.get("csrf", "")), request.session.get("csrf", "")
    return bool(sent and good and hmac.compare_digest(sent, good))


def _csrf_checked(caller_dependency: Callable[[Request], Caller]):
    # the caller is a dependency of the form, so the role is checked before the body is read
    async def checked_form(
        request: Request, caller: Annotated[Caller, Depends(caller_dependency)]
    ) -> FormData:
        form = await request.form()
        if not csrf_matches(request, form):
            raise Halt(refuse(request, caller, 403, "csrf_failed"))
        return form

    return checked_form


SignedInForm = Annotated[FormData, Depends(_csrf_checked(signed_in))]
StewardForm = Annotated[FormData, Depends(_csrf_checked(require_steward))]
AdminForm = Annotated[FormData, Depends(_csrf_checked(require_admin))]


def _display(v: Any) -> str:
    if v is None or v == "" or v == []:
        return ""
    if isinstance(v, list):
        return "、".join(str(x) for x in v if x is not None)
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)[:19] if hasattr(v, "isoformat") else str(v)


# Pages show customers' personal data and change the store: no framing (clickjacking), no
# content sniffing, scripts from this app only, and pages are never cached.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


def _secure(request: Request, response: Response) -> None:
    _secure_headers(response.headers, request.url.path)


def _secure_headers(headers: MutableHeaders, path: str) -> None:
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
