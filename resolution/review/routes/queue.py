"""The review queue: entities the job was unsure about, most important first, filtered by
reason, source system and confidence (`views.queue`); `/` leads here."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from resolution.review import views
from resolution.review.i18n import REASONS
from resolution.review.web import Viewer, render, store

router = APIRouter()


@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, viewer: Viewer, reason: str = "", source: str = "",
               cmin: str = "", cmax: str = "", page: str = "1") -> Response:
    with store(request).connect() as con:
        q = views.queue(con, reason or None, source or None, _float(cmin), _float(cmax),
                        _page(page))
    filters = {"reason": reason, "source": source, "cmin": cmin, "cmax": cmax}
    return render(request, "queue.html", {
        "q": q, "filters": filters, "reasons": list(REASONS),
        "page_link": lambda p: "/queue?" + urlencode({**filters, "page": p}),
    })


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
