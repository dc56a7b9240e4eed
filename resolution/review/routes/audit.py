"""The decision log: who decided what, when, on which entity — as a page (the latest
rows, filtered) and as a CSV file for Excel (every row, UTF-8 with BOM)."""

from __future__ import annotations

import csv
import io
import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from resolution.review import views
from resolution.review.i18n import ACTIONS
from resolution.review.web import Viewer, render, store

router = APIRouter()


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, viewer: Viewer) -> Response:
    params = _audit_params(request)
    with store(request).connect() as con:
        rows = views.audit(con, **params)
        people = [r[0] for r in con.execute(
            "SELECT DISTINCT who FROM decisions ORDER BY who").fetchall()]
    for r in rows:
        r["after_summary"] = _summary(r)
    return render(request, "audit.html", {
        "rows": rows, "f": params, "people": people, "actions": list(ACTIONS)[:7],
        "csv_link": "/audit.csv?" + request.url.query,
    })


@router.get("/audit.csv")
def audit_csv(request: Request, viewer: Viewer) -> Response:
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
