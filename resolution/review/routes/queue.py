"""The review queue and the steward's work on it.

- `/queue`: entities the job was unsure about, most important first or sorted by a
  column, filtered by reason, source system, confidence, a text search (name, phone,
  USCC, ID card, record ID) and who holds them (`views.queue`); `/` leads here. The
  view asked for last is kept in the session, so "save & next" on an entity page
  continues in the same filter and order (`order_before`, `after_decision`).
- `/queue/claim`: a steward claims or releases an entity; an admin also assigns it to a
  steward or takes a claim away (`actions.claim`, audited). While another steward holds
  an entity, decisions on it are refused (409), viewing it never is.
- `/queue/confirm`: the bulk confirm of the chosen rows, in two steps (the count and
  the entities, then the confirmation); each entity is confirmed on its own with the
  version the queue showed, and the result says which were skipped and why.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import duckdb
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from resolution.errors import ResolutionError
from resolution.review import actions, auth, views
from resolution.review.i18n import REASONS
from resolution.review.store_access import StoreBusy
from resolution.review.web import (
    Steward,
    StewardForm,
    Viewer,
    refuse,
    render,
    store,
    translator_for,
)

router = APIRouter()

# The query values that make a queue view (all but the page); a search is cut to this
# many characters (the view is kept in the signed session cookie).
VIEW_KEYS = ("reason", "source", "cmin", "cmax", "q", "claim", "sort", "dir")
SEARCH_LIMIT = 100
# The most entities one bulk confirm takes (two queue pages).
BULK_LIMIT = 2 * views.PAGE_SIZE


@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, viewer: Viewer, reason: str = "", source: str = "",
               cmin: str = "", cmax: str = "", q: str = "", claim: str = "", sort: str = "",
               dir: str = "", page: str = "1") -> Response:
    params = _clean({"reason": reason, "source": source, "cmin": cmin, "cmax": cmax, "q": q,
                     "claim": claim, "sort": sort, "dir": dir})
    request.session["queue_view"] = params
    steward = auth.allows(viewer.role, "steward")
    view, number = _view(params), _page(page)
    with store(request).read() as con:
        # the same page for everyone who asks for it until the store changes (a decision,
        # a job): kept (`StoreAccess.memo`); today's date is part of it (decisions today)
        result = store(request).memo(
            ("queue", view, number, viewer.name, steward, dt.date.today()),
            lambda: views.queue(con, view, number, viewer.name, masked=not steward,
                                versions=steward, memo=store(request).memo))
        holders = _stewards(con) if viewer.role == "admin" else []
    query = urlencode(params)
    return render(request, "queue.html", {
        "q": result, "filters": params, "reasons": list(REASONS), "query": query,
        "stewards": holders, "me": viewer.name,
        "page_link": lambda p: "/queue?" + urlencode({**params, "page": p}),
        "sort_link": lambda col: "/queue?" + urlencode(
            {**params, "sort": col,
             "dir": "desc" if params["sort"] == col and params["dir"] != "desc" else "asc"}),
    })


@router.post("/queue/claim", name="act_claim")
def claim(request: Request, steward: Steward, form: StewardForm) -> Response:
    """Claim (`claim`=ENTITY), release (`release`=ENTITY) or, for an admin, assign
    (`assign`=ENTITY with `to_ENTITY`=USER, empty to release)."""
    t = translator_for(request)
    is_admin = steward.role == "admin"
    if form.get("claim"):
        eid, holder = str(form["claim"]), steward.name
    elif form.get("release"):
        eid, holder = str(form["release"]), None
    elif form.get("assign") and is_admin:
        eid = str(form["assign"])
        holder = str(form.get(f"to_{eid}", "")).strip() or None
    else:
        return refuse(request, steward, 400, "refused", "缺少实体 (no entity given)")
    try:
        with store(request).connect() as con:
            did = actions.claim(con, str(steward.name), eid, holder, is_admin)
    except actions.ClaimedByOther as exc:
        return refuse(request, steward, 409, "claimed", str(exc))
    except StoreBusy:
        raise
    except ResolutionError as exc:
        return refuse(request, steward, 400, "refused", str(exc))
    if did:
        what = t.action("claim" if holder else "release")
        request.session["flash"] = f"{t('done')}: {what} {eid}" + (
            f" → {holder}" if holder and holder != steward.name else "") + f" ({did})"
    return RedirectResponse(_queue_url(request), status_code=303)


@router.post("/queue/confirm", name="act_bulk_confirm", response_class=HTMLResponse)
def bulk_confirm(request: Request, steward: Steward, form: StewardForm) -> Response:
    """First post (from the queue): the confirmation page with the count and the chosen
    entities. Second post (`go`): each entity confirmed in its own transaction with the
    version the queue showed; the stale, claimed or gone ones are skipped and listed."""
    chosen: dict[str, str] = {}
    for v in form.getlist("entity"):
        eid, _, version = str(v).partition(":")
        if eid and version:
            chosen.setdefault(eid, version)
    if not chosen:
        return refuse(request, steward, 400, "refused",
                      "请先勾选要确认的实体 (choose the entities to confirm first)")
    if len(chosen) > BULK_LIMIT:
        return refuse(request, steward, 400, "refused",
                      f"一次最多确认 {BULK_LIMIT} 个实体 (at most {BULK_LIMIT} entities at once)")
    note = str(form.get("comment", "")).strip() or None
    with store(request).connect() as con:
        names = dict(con.execute(
            "SELECT entity_id, customer_name FROM entities WHERE list_contains(?, entity_id)",
            [list(chosen)],
        ).fetchall())
        if not form.get("go"):
            return render(request, "queue_confirm.html", {
                "chosen": [(e, v, names.get(e)) for e, v in chosen.items()],
                "back": _queue_url(request), "done": None,
            })
        cfg = actions.load_review_config(con, request.app.state.config_path)
        who = str(steward.name)  # a Steward is signed in
        done, skipped = [], []
        for eid, version in chosen.items():
            try:
                actions.check_claim(con, who, eid)
                done.append((eid, names.get(eid), actions.confirm(con, cfg, who, eid, version,
                                                                  note)))
            except StoreBusy:
                raise
            except ResolutionError as exc:
                skipped.append((eid, names.get(eid), str(exc)))
    return render(request, "queue_confirm.html", {
        "done": done, "skipped": skipped, "back": _queue_url(request), "chosen": [],
    })


# --- the queue view kept in the session, for "save & next" --------------------------------


def next_entity(before: list[tuple], after: list[tuple], current: str, who: str | None
                ) -> str | None:
    """The entity to open after `current`: the first of the view (`after`, its order now)
    that came after `current` in `before` (the order when the page was opened; all of
    it when `current` was not in it), is not `current` and no other steward holds."""
    ids = [e for e, _ in before]
    later = set(ids[ids.index(current) + 1:]) if current in ids else None
    for eid, holder in after:
        if eid == current or (holder and holder != who):
            continue
        if later is None or eid in later:
            return eid
    return None


def order_before(request: Request, con: duckdb.DuckDBPyConnection, who: str | None
                 ) -> list[tuple]:
    """The order of the user's queue view before a decision (see `after_decision`)."""
    return views.queue_order(con, _view(_session_view(request)), who)


def after_decision(request: Request, con: duckdb.DuckDBPyConnection, who: str | None,
                   before: list[tuple], current: str) -> str:
    """Where "save & next" leads once the decision on `current` is recorded."""
    order = views.queue_order(con, _view(_session_view(request)), who)
    goto = next_entity(before, order, current, who)
    return f"/entity/{goto}" if goto else _queue_url(request)


def _session_view(request: Request) -> dict[str, str]:
    kept = request.session.get("queue_view") or {}
    return _clean({k: str(kept.get(k, "")) for k in VIEW_KEYS})


def _queue_url(request: Request) -> str:
    params = {k: v for k, v in _session_view(request).items() if v}
    return "/queue" + ("?" + urlencode(params) if params else "")


def _clean(params: dict[str, str]) -> dict[str, str]:
    out = {k: (params.get(k) or "").strip() for k in VIEW_KEYS}
    out["q"] = out["q"][:SEARCH_LIMIT]
    if out["sort"] not in views.SORTS:
        out["sort"] = ""
    out["dir"] = "desc" if out["sort"] and out["dir"] == "desc" else ("asc" if out["sort"] else "")
    if out["claim"] not in views.CLAIM_FILTERS:
        out["claim"] = ""
    return out


def _view(params: dict[str, str]) -> views.QueueView:
    return views.QueueView(
        reason=params["reason"] or None, source=params["source"] or None,
        conf_min=_float(params["cmin"]), conf_max=_float(params["cmax"]), search=params["q"],
        claim=params["claim"] or None, sort=params["sort"] or None,
        desc=params["dir"] == "desc",
    )


def _stewards(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Who an admin can assign an entity to."""
    return [r[0] for r in con.execute(
        "SELECT name FROM users WHERE NOT disabled AND role IN ('steward', 'admin') ORDER BY name"
    ).fetchall()]


def _float(v: str) -> float | None:
    try:
        return float(v) if v not in ("", None) else None
    except ValueError:
        return None


def _page(v: str) -> int:
    """The page asked for; anything that is not a whole number is the first page (the
    queue clamps numbers out of range)."""
    try:
        return int(v)
    except ValueError:
        return 1
