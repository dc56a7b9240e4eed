"""The review web app: FastAPI with server-rendered Jinja2 templates.

No build step and nothing from a CDN: templates and static files ship in the package.
Sessions are signed cookies (SameSite=Strict) holding the user name, a session ID and a
CSRF token; the session ID must be live in the store and the user's role is read from it
on every request, so a logout, a changed role or a disabled user takes effect at once. Every form carries the CSRF token; every action form also
carries the entity's version as the page showed it (see `actions.check_versions`).

This module only assembles the app; the pages are in `routes/` (one module per thing a
user does) and what they share — the user and role, CSRF, rendering, refusals — in `web`.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from resolution.errors import ResolutionError
from resolution.review import actions, auth, web
from resolution.review.routes import audit, entity, label, queue, session, users
from resolution.review.store_access import StoreAccess, StoreBusy

HERE = Path(__file__).parent


def _secret(store: StoreAccess) -> str:
    """The session-signing key, kept in the store so restarts keep sessions."""
    with store.connect() as con:
        found = con.execute(
            "SELECT value FROM review_settings WHERE key = 'session_secret'"
        ).fetchall()
        if found:
            return found[0][0]
        key = secrets.token_hex(32)
        con.execute("INSERT INTO review_settings VALUES ('session_secret', ?)", [key])
        return key


def create_app(
    store_path: str | Path, config_path: str | Path | None = None, wait: float = 10.0,
    hold: float = 0.0,
) -> FastAPI:
    """The review app; `hold` > 0 keeps the store open between requests (StoreAccess)."""
    store = StoreAccess(store_path, wait=wait, hold=hold)
    with store.connect() as con:
        cfg = actions.load_review_config(con, config_path)
        golden_cols = {r[0] for r in con.execute("DESCRIBE entities").fetchall()}
    missing = sorted(set(cfg.survivorship.fields) - golden_cols)
    if missing:
        raise ResolutionError(
            f"the config's survivorship fields {missing} are not golden-record columns of "
            f"{store_path}; pass the config the job ran with (--config)"
        )

    app = FastAPI(title="er review", docs_url=None, redoc_url=None, openapi_url=None)
    # what routes reach through request.app.state (see `web`)
    app.state.store, app.state.config, app.state.config_path = store, cfg, config_path
    app.state.templates = web.make_templates()
    app.state.label_holds = label.Holds()  # the pairs stewards have on the label page

    app.add_middleware(
        SessionMiddleware, secret_key=_secret(store), session_cookie="er_review",
        max_age=auth.SESSION_HOURS * 3600, same_site="strict", https_only=False,
    )
    app.add_middleware(web.Guard)  # body size and security headers
    app.add_exception_handler(web.Halt, web.halt_page)  # refusals and login redirects
    app.add_exception_handler(RequestValidationError, web.invalid_request_page)
    app.add_exception_handler(StoreBusy, web.store_busy_page)  # 503 while a job holds the store
    # 404, 405 … from routing and static files, and any unexpected error: pages, not JSON
    app.add_exception_handler(StarletteHTTPException, web.http_error_page)
    app.add_exception_handler(Exception, web.server_error_page)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for routes in (queue, session, entity, audit, users, label):
        app.include_router(routes.router)
    return app
