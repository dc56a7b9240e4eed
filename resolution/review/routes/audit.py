"""The decision log: who decided what, when, on which entity — as a page (filtered, 200
rows a page, each with what it did in words and the golden values it changed, before →
after) and as a CSV file for Excel (every row, UTF-8 with BOM)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from resolution.review import auth, views
from resolution.review.i18n import ACTIONS
from resolution.review.mask import mask_row, mask_text
from resolution.review.web import (
    Halt,
    Steward,
    Viewer,
    bad_request,
    render,
    store,
    translator_for,
)

router = APIRouter()


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, viewer: Viewer, page: str = "1") -> Response:
    params = _audit_params(request)
    with store(request).read() as con:
        total = views.audit_count(con, params)
        pages = max(1, math.ceil(total / views.AUDIT_PAGE))
        # anything but a whole number is the first page; a number out of range the nearest
        number = min(max(1, int(page) if re.fullmatch(r"-?\d{1,9}", page.strip()) else 1), pages)
        rows = views.audit(con, params, offset=(number - 1) * views.AUDIT_PAGE)
        people = [r[0] for r in con.execute(
            "SELECT DISTINCT who FROM decisions ORDER BY who").fetchall()]
    masked = not auth.allows(viewer.role, "steward")
    t = translator_for(request)
    for r in rows:
        r["after_summary"] = _summary(r, t, masked)
        r["changes"] = _changes(r, masked)
        if masked:  # a steward's comment may quote a customer's mobile or ID card
            r["comment"] = mask_text(r["comment"])
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return render(request, "audit.html", {
        "rows": rows, "f": params, "people": people, "actions": list(ACTIONS)[:7] + ["pin", "unpin"],
        "csv_link": "/audit.csv?" + urlencode(kept), "total": total, "page": number,
        "pages": pages, "first_row": (number - 1) * views.AUDIT_PAGE + 1 if rows else 0,
        "page_link": lambda n: "/audit?" + urlencode(kept + [("page", n)]),
    })


@router.get("/audit.csv")
def audit_csv(request: Request, steward: Steward) -> Response:
    """Every decision with its comments in full: stewards and admins only (viewers see
    the page, with personal data in comments masked)."""
    with store(request).read() as con:
        rows = views.audit(con, _audit_params(request), limit=None)
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese text correctly with a BOM
    w = csv.writer(buf)
    w.writerow(views.AUDIT_COLUMNS)
    for r in rows:
        w.writerow([
            _cell(";".join(r[c]) if isinstance(r[c], list) else ("" if r[c] is None else r[c]))
            for c in views.AUDIT_COLUMNS
        ])
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="decisions.csv"'})


def _cell(value):
    """A value Excel would run as a formula (=HYPERLINK(...), +, -, @, a leading tab or
    carriage return) is written as text, with a leading apostrophe (OWASP's CSV advice)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _audit_params(request: Request) -> dict[str, str | None]:
    q = request.query_params
    return {
        "who": q.get("who") or None, "action": q.get("action") or None,
        "entity_id": q.get("entity") or None, "date_from": _date(request, q.get("from")),
        "date_to": _date(request, q.get("to")),
    }


def _date(request: Request, value: str | None) -> str | None:
    """A YYYY-MM-DD date from the query, or a 400 page saying what is wrong with it."""
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise Halt(bad_request(
        request, f"日期 “{value[:40]}” 无效，请使用 年-月-日 格式，例如 2024-03-31 "
                 f"(“{value[:40]}” is not a valid date; use YYYY-MM-DD, e.g. 2024-03-31)"))


def _summary(row: dict, t, masked: bool) -> str:
    """What the decision did, in words (new and retired entities, the pairs it said are
    or are not one customer, a guard it overrode, a pin)."""
    after = json.loads(row.get("after") or "{}") if row.get("after") else {}
    bits = []
    if after.get("new_entities"):
        bits.append(t("audit_new") + " " + "、".join(after["new_entities"]))
    if after.get("retired_entities"):
        bits.append(t("audit_retired") + " " + "、".join(after["retired_entities"]))
    if after.get("undoes"):
        bits.append(t("audit_undoes") + " " + after["undoes"])
    kinds = [c[2] for c in after.get("constraints") or []]
    if kinds.count("must_link"):
        bits.append(t("audit_same").format(n=kinds.count("must_link")))
    if kinds.count("cannot_link"):
        bits.append(t("audit_different").format(n=kinds.count("cannot_link")))
    if after.get("override"):
        bits.append(t("audit_override") + "：" + "、".join(
            t.guard(c["kind"]) for c in after["override"]))
    if after.get("pin"):
        value = after["pin"]["value"]
        if masked:
            value = mask_row({after["pin"]["field"]: value})[after["pin"]["field"]]
        bits.append(f"{t('pin')}：{t.field(after['pin']['field'])} = {value}")
    return "；".join(bits) if t.lang == "zh" else "; ".join(bits)


def _changes(row: dict, masked: bool) -> list[tuple[str, str, object, object]]:
    """The golden values the decision changed: (entity, field, before, after)."""
    try:
        before = json.loads(row.get("before") or "{}").get("golden") or {}
        after = json.loads(row.get("after") or "{}").get("golden") or {}
    except (ValueError, AttributeError):
        return []
    out = []
    for eid in sorted(after):
        for f, new in after[eid].items():
            old = (before.get(eid) or {}).get(f)
            if masked:
                old, new = mask_row({f: old})[f], mask_row({f: new})[f]
            out.append((eid, f, old, new))
    return out
