"""The decision log: who decided what, when, on which entity — as a page (the latest
rows, filtered) and as a CSV file for Excel (every row, UTF-8 with BOM)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from resolution.review import auth, views
from resolution.review.i18n import ACTIONS
from resolution.review.mask import mask_text
from resolution.review.web import Halt, Steward, Viewer, bad_request, render, store

router = APIRouter()


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, viewer: Viewer) -> Response:
    params = _audit_params(request)
    with store(request).connect() as con:
        rows = views.audit(con, **params)
        people = [r[0] for r in con.execute(
            "SELECT DISTINCT who FROM decisions ORDER BY who").fetchall()]
    masked = not auth.allows(viewer.role, "steward")
    for r in rows:
        r["after_summary"] = _summary(r)
        if masked:  # a steward's comment may quote a customer's mobile or ID card
            r["comment"] = mask_text(r["comment"])
    return render(request, "audit.html", {
        "rows": rows, "f": params, "people": people, "actions": list(ACTIONS)[:7],
        "csv_link": "/audit.csv?" + request.url.query,
    })


@router.get("/audit.csv")
def audit_csv(request: Request, steward: Steward) -> Response:
    """Every decision with its comments in full: stewards and admins only (viewers see
    the page, with personal data in comments masked)."""
    with store(request).connect() as con:
        rows = views.audit(con, limit=None, **_audit_params(request))
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
