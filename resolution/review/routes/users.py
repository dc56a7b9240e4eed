"""User management for admins: add a user, change a role, disable or enable (never
oneself), and the latest 50 refusals from `access_log`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from resolution.errors import ResolutionError
from resolution.review import auth
from resolution.review.web import Admin, AdminForm, refuse, render, store, translator_for

router = APIRouter()


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, admin: Admin) -> Response:
    with store(request).read() as con:
        users = auth.list_users(con)
        log = con.execute(
            "SELECT happened_at, who, role, method, path, status, reason FROM access_log "
            "ORDER BY happened_at DESC LIMIT 50"
        ).fetchall()
    return render(request, "users.html", {"users": users, "log": log, "roles": auth.ROLES})


@router.post("/users")
def users_change(request: Request, admin: Admin, form: AdminForm) -> Response:
    op, name = str(form.get("op", "")), str(form.get("name", "")).strip()
    try:
        with store(request).connect() as con:
            if op == "add":
                auth.add_user(con, name, str(form.get("role", "viewer")),
                              str(form.get("password", "")))
            elif op == "role":
                auth.set_role(con, name, str(form.get("role", "")))
            elif op in ("disable", "enable"):
                if name == admin.name:
                    raise ResolutionError("不能停用自己 (you cannot disable yourself)")
                auth.set_disabled(con, name, op == "disable")
            else:
                raise ResolutionError(f"unknown operation {op}")
    except ResolutionError as exc:
        return refuse(request, admin, 400, "refused", str(exc))
    t = translator_for(request)
    request.session["flash"] = f"{t('done')}: {op} {name}"
    return RedirectResponse("/users", status_code=303)
