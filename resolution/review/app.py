"""The review web app: FastAPI with server-rendered Jinja2 templates.

No build step and nothing from a CDN: templates and static files ship in the package.
Sessions are signed cookies (SameSite=Strict) holding the user name and a CSRF token; the
user's role is read from the store on every request, so a changed role or a disabled
user takes effect at once. Every form carries the CSRF token; every action form also
carries the entity's version as the page showed it (see `actions.check_versions`).
"""

from __future__ import annotations

import csv
import hmac
import io
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from resolution.errors import ResolutionError
from resolution.review import actions, auth, views
from resolution.review.i18n import ACTIONS, LANGS, REASONS, translator
from resolution.review.store_access import StoreAccess, StoreBusy

HERE = Path(__file__).parent
SESSION_HOURS = 8


class Refusal(Exception):
    def __init__(self, status: int, message: str, reason: str):
        self.status, self.message, self.reason = status, message, reason


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
    app.add_middleware(
        SessionMiddleware, secret_key=_secret(store), session_cookie="er_review",
        max_age=SESSION_HOURS * 3600, same_site="strict", https_only=False,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.1f}%"
    templates.env.filters["num"] = lambda v: "—" if v is None else f"{v:+.1f}"
    templates.env.filters["dt"] = (
        lambda v: "" if v is None else str(v)[:19]
    )
    templates.env.filters["val"] = _display
    app.state.store, app.state.config = store, cfg

    # --- helpers ------------------------------------------------------------------

    def lang_of(request: Request) -> str:
        lang = request.cookies.get("lang", "zh")
        return lang if lang in LANGS else "zh"

    def csrf_token(request: Request) -> str:
        tok = request.session.get("csrf")
        if not tok:
            tok = secrets.token_urlsafe(32)
            request.session["csrf"] = tok
        return tok

    def who(request: Request) -> tuple[str | None, str | None]:
        name = request.session.get("user")
        if not name:
            return None, None
        with store.connect() as con:
            role = auth.current_role(con, name)
        return (name, role) if role else (None, None)

    def refuse(request: Request, user, role, status: int, key: str, detail: str = "") -> Response:
        with store.connect() as con:
            auth.log_refusal(con, user, role, request.method, str(request.url.path), status,
                             f"{key}: {detail}" if detail else key)
        t = translator(lang_of(request))
        return render(request, "message.html", {"title": t("refused"),
                                                 "message": detail or t(key)}, status=status)

    def render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
        user = request.session.get("user")
        t = translator(lang_of(request))
        flash = request.session.pop("flash", None)
        base = {
            "request": request, "t": t, "user": user, "role": request.state.role
            if hasattr(request.state, "role") else None,
            "csrf": csrf_token(request), "flash": flash, "path": request.url.path,
            "query": request.url.query, "can_decide": auth.allows(
                getattr(request.state, "role", None), "steward"),
        }
        return templates.TemplateResponse(request, name, {**base, **ctx}, status_code=status)

    def gate(request: Request, needed: str):
        """(user, role) when allowed, else a Response (redirect to login, or refusal)."""
        user, role = who(request)
        request.state.role = role
        if user is None:
            if request.method == "GET":
                nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)
            return refuse(request, None, None, 401, "login_required", "请先登录 (log in first)")
        if not auth.allows(role, needed):
            return refuse(request, user, role, 403, "forbidden")
        return user, role

    async def form_with_csrf(request: Request, user, role):
        form = await request.form()
        sent = str(form.get("csrf", ""))
        good = request.session.get("csrf", "")
        if not sent or not good or not hmac.compare_digest(sent, good):
            return None, refuse(request, user, role, 403, "csrf_failed")
        return form, None

    # --- pages --------------------------------------------------------------------

    @app.exception_handler(StoreBusy)
    async def busy(request: Request, exc: StoreBusy):
        t = translator(lang_of(request))
        return templates.TemplateResponse(
            request, "message.html",
            {"request": request, "t": t, "title": t("busy"), "message": str(exc),
             "user": None, "role": None, "csrf": "", "flash": None, "path": "", "query": "",
             "can_decide": False},
            status_code=503, headers={"Retry-After": "5"},
        )

    @app.get("/", include_in_schema=False)
    def home():
        return RedirectResponse("/queue", status_code=303)

    @app.get("/lang/{lang}")
    def set_lang(lang: str, next: str = "/queue"):
        target = next if next.startswith("/") and not next.startswith("//") else "/queue"
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie("lang", lang if lang in LANGS else "zh", max_age=365 * 86400,
                        samesite="strict")
        return resp

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/queue"):
        request.state.role = None
        return render(request, "login.html", {"next": next, "error": None})

    @app.post("/login")
    async def login(request: Request):
        request.state.role = None
        form = await request.form()
        sent, good = str(form.get("csrf", "")), request.session.get("csrf", "")
        name, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        nxt = str(form.get("next", "/queue"))
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/queue"
        if not sent or not good or not hmac.compare_digest(sent, good):
            return refuse(request, name or None, None, 403, "csrf_failed")
        with store.connect() as con:
            role = auth.authenticate(con, name, password)
            if role is None:
                auth.log_refusal(con, name or None, None, "POST", "/login", 401, "login failed")
        if role is None:
            t = translator(lang_of(request))
            return render(request, "login.html", {"next": nxt, "error": t("login_failed")},
                          status=401)
        request.session.clear()
        request.session["user"] = name
        request.session["csrf"] = secrets.token_urlsafe(32)
        return RedirectResponse(nxt, status_code=303)

    @app.post("/logout")
    async def logout(request: Request):
        user, role = who(request)
        _form, bad = await form_with_csrf(request, user, role)
        if bad:
            return bad
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/queue", response_class=HTMLResponse)
    def queue_page(request: Request, reason: str = "", source: str = "", cmin: str = "",
                   cmax: str = "", page: int = 1):
        g = gate(request, "viewer")
        if isinstance(g, Response):
            return g
        with store.connect() as con:
            q = views.queue(con, reason or None, source or None, _float(cmin), _float(cmax), page)
        filters = {"reason": reason, "source": source, "cmin": cmin, "cmax": cmax}
        return render(request, "queue.html", {
            "q": q, "filters": filters, "reasons": list(REASONS),
            "page_link": lambda p: "/queue?" + urlencode({**filters, "page": p}),
        })

    @app.get("/entity/{entity_id}", response_class=HTMLResponse)
    def entity_page(request: Request, entity_id: str, q: str = ""):
        g = gate(request, "viewer")
        if isinstance(g, Response):
            return g
        _user, role = g
        masked = not auth.allows(role, "steward")
        with store.connect() as con:
            e = views.entity(con, entity_id, masked)
            found = views.search_entities(con, q, entity_id) if e and q else []
            if e is None:
                moved = con.execute(
                    "SELECT related_entity_ids FROM entity_events WHERE entity_id = ? "
                    "AND event = 'retire' ORDER BY happened_at DESC LIMIT 1", [entity_id]
                ).fetchall()
        if e is None:
            t = translator(lang_of(request))
            return render(request, "message.html", {
                "title": t("no_entity"), "message": entity_id,
                "links": [(f"/entity/{x}", x) for x in (moved[0][0] if moved else [])],
            }, status=404)
        return render(request, "entity.html", {"e": e, "search_q": q, "found": found,
                                               "masked": masked})

    async def act(request: Request, entity_id: str, kind: str):
        g = gate(request, "steward")
        if isinstance(g, Response):
            return g
        user, role = g
        form, bad = await form_with_csrf(request, user, role)
        if bad:
            return bad
        version = str(form.get("version", ""))
        note = (str(form.get("comment", "")).strip() or None)
        # a target chosen on the page comes as "ENTITY_ID:VERSION" (its version as shown)
        target, _, target_version = str(form.get("target", "")).strip().partition(":")
        t = translator(lang_of(request))
        goto = entity_id
        try:
            with store.connect() as con:
                cfg_now = actions.load_review_config(con, config_path)
                if kind == "confirm":
                    did = actions.confirm(con, cfg_now, user, entity_id, version, note)
                elif kind == "split":
                    did = actions.split(con, cfg_now, user, entity_id, version,
                                        [str(x) for x in form.getlist("record_ids")], note)
                elif kind == "move":
                    did = actions.move(con, cfg_now, user, entity_id, version,
                                       str(form.get("record_id", "")), target, note,
                                       target_version or None)
                elif kind == "merge":
                    did = actions.merge(con, cfg_now, user, entity_id, version, target, note,
                                        target_version or None)
                elif kind == "different":
                    did = actions.different(con, cfg_now, user, entity_id, version,
                                            str(form.get("record_a", "")),
                                            str(form.get("record_b", "")), note)
                elif kind == "comment":
                    did = actions.comment(con, cfg_now, user, entity_id, note or "")
                elif kind == "undo":
                    did = actions.undo(con, cfg_now, user, entity_id, version,
                                       str(form.get("decision_id", "")), note)
                else:  # pragma: no cover - routes are fixed below
                    raise actions.ActionRefused(kind)
                if not actions.members(con, entity_id):
                    after = json.loads(scalar_after(con, did) or "{}")
                    goto = next(iter(after.get("membership", {}).values()), entity_id)
        except actions.StaleEntity as exc:
            return refuse(request, user, role, 409, "stale", str(exc))
        except StoreBusy:
            raise
        except ResolutionError as exc:
            return refuse(request, user, role, 400, "refused", str(exc))
        request.session["flash"] = f"{t('done')}: {t.action(kind)} ({did})"
        return RedirectResponse(f"/entity/{goto}", status_code=303)

    def scalar_after(con, decision_id: str):
        rows = con.execute("SELECT after FROM decisions WHERE decision_id = ?",
                           [decision_id]).fetchall()
        return rows[0][0] if rows else None

    def _action_route(kind: str):
        async def route(request: Request, entity_id: str):
            return await act(request, entity_id, kind)

        return route

    for _kind in ("confirm", "split", "move", "merge", "different", "comment", "undo"):
        app.post(f"/entity/{{entity_id}}/{_kind}", name=f"act_{_kind}")(_action_route(_kind))

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request):
        g = gate(request, "viewer")
        if isinstance(g, Response):
            return g
        params = _audit_params(request)
        with store.connect() as con:
            rows = views.audit(con, **params)
            people = [r[0] for r in con.execute(
                "SELECT DISTINCT who FROM decisions ORDER BY who").fetchall()]
        for r in rows:
            r["after_summary"] = _summary(r)
        return render(request, "audit.html", {
            "rows": rows, "f": params, "people": people, "actions": list(ACTIONS)[:7],
            "csv_link": "/audit.csv?" + request.url.query,
        })

    @app.get("/audit.csv")
    def audit_csv(request: Request):
        g = gate(request, "viewer")
        if isinstance(g, Response):
            return g
        with store.connect() as con:
            rows = views.audit(con, limit=None, **_audit_params(request))
        buf = io.StringIO()
        buf.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese text correctly with a BOM
        w = csv.writer(buf)
        w.writerow(views.AUDIT_COLUMNS)
        for r in rows:
            w.writerow([
                ";".join(r[c]) if isinstance(r[c], list) else ("" if r[c] is None else r[c])
                for c in views.AUDIT_COLUMNS
            ])
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="decisions.csv"'})

    @app.get("/users", response_class=HTMLResponse)
    def users_page(request: Request):
        g = gate(request, "admin")
        if isinstance(g, Response):
            return g
        with store.connect() as con:
            users = auth.list_users(con)
            log = con.execute(
                "SELECT happened_at, who, role, method, path, status, reason FROM access_log "
                "ORDER BY happened_at DESC LIMIT 50"
            ).fetchall()
        return render(request, "users.html", {"users": users, "log": log, "roles": auth.ROLES})

    @app.post("/users")
    async def users_change(request: Request):
        g = gate(request, "admin")
        if isinstance(g, Response):
            return g
        user, role = g
        form, bad = await form_with_csrf(request, user, role)
        if bad:
            return bad
        op, name = str(form.get("op", "")), str(form.get("name", "")).strip()
        try:
            with store.connect() as con:
                if op == "add":
                    auth.add_user(con, name, str(form.get("role", "viewer")),
                                  str(form.get("password", "")))
                elif op == "role":
                    auth.set_role(con, name, str(form.get("role", "")))
                elif op in ("disable", "enable"):
                    if name == user:
                        raise ResolutionError("不能停用自己 (you cannot disable yourself)")
                    auth.set_disabled(con, name, op == "disable")
                else:
                    raise ResolutionError(f"unknown operation {op}")
        except ResolutionError as exc:
            return refuse(request, user, role, 400, "refused", str(exc))
        t = translator(lang_of(request))
        request.session["flash"] = f"{t('done')}: {op} {name}"
        return RedirectResponse("/users", status_code=303)

    return app


def _audit_params(request: Request) -> dict[str, str | None]:
    q = request.query_params
    return {
        "who": q.get("who") or None, "action": q.get("action") or None,
        "entity_id": q.get("entity") or None, "date_from": q.get("from") or None,
        "date_to": q.get("to") or None,
    }


def _summary(row: dict) -> str:
    after = json.loads(row.get("after") or "{}") if row.get("after") else {}
    bits = []
    if after.get("new_entities"):
        bits.append("+" + ",".join(after["new_entities"]))
    if after.get("retired_entities"):
        bits.append("−" + ",".join(after["retired_entities"]))
    if after.get("undoes"):
        bits.append("↶ " + after["undoes"])
    if after.get("constraints"):
        kinds = [c[2] for c in after["constraints"]]
        bits.append(f"must {kinds.count('must_link')} / cannot {kinds.count('cannot_link')}")
    return "  ".join(bits)


def _float(v: str) -> float | None:
    try:
        return float(v) if v not in ("", None) else None
    except ValueError:
        return None


def _display(v: Any) -> str:
    if v is None or v == "" or v == []:
        return ""
    if isinstance(v, list):
        return "、".join(str(x) for x in v if x is not None)
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)[:19] if hasattr(v, "isoformat") else str(v)
