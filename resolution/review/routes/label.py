"""Labelling record pairs: the web face of `er label next` / `er label add` (issue 17).

- `/label`: one pair at a time, the one `resolution.labels.ask` would write first to
  `er label next` (near the match threshold, one per comparison pattern first, never
  one answered or decided): both records' fields side by side (masked for a viewer,
  as everywhere), the model's probability and its per-comparison evidence, and for a
  steward the buttons same / different / unsure (keys 1 / 2 / 3, static/app.js) and
  next (key N: pass over the pair for this session, at most `SKIP_LIMIT` remembered).
- `POST /label`: the answer, recorded by `resolution.labels.answer` exactly as
  `er label add` records a file of one row (an audited `label` decision; 1/0 a
  must-/cannot-link; unsure in the decision only), then the next pair. A pair answered
  or decided since the page showed it is refused (409): the first answer stands.

Two stewards labelling at once are not shown the same pair: the pair on a steward's
screen is held for them (`Holds`, in this process's memory, for `HOLD_SECONDS` or
until they answer or move on) and the others are served the next one. A hold is no
lock on the store and needs no audit: it only spares a steward a pair someone else is
answering, and the 409 above covers the rest (a hold that ran out, a second app).
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from resolution import labels
from resolution.errors import ResolutionError
from resolution.review import auth, views
from resolution.review.mask import mask_value
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

Pair = tuple[str, str]

# How long a pair shown to a steward is kept from the others (a steward who walks away
# releases it after this).
HOLD_SECONDS = 600.0
# Pairs passed over with "next" that the session remembers (the cookie stays small).
SKIP_LIMIT = 20
# The answers a form sends, as `resolution.labels.answer` takes them.
ANSWERS: dict[str, int | None] = {"1": 1, "0": 0, "unsure": None}


class Holds:
    """The pair each steward has on screen, kept from the other stewards for a while."""

    def __init__(self, seconds: float = HOLD_SECONDS):
        self.seconds = seconds
        self._lock = threading.Lock()
        self._held: dict[str, tuple[Pair, float]] = {}  # steward -> (pair, until)

    def mine(self, who: str) -> Pair | None:
        """The pair `who` holds now."""
        with self._lock:
            pair, until = self._held.get(who, (None, 0.0))
        return pair if until > time.monotonic() else None

    def others(self, who: str) -> set[Pair]:
        """The pairs other stewards hold now."""
        now = time.monotonic()
        with self._lock:
            return {pair for name, (pair, until) in self._held.items()
                    if name != who and until > now}

    def take(self, who: str, pair: Pair) -> None:
        with self._lock:
            self._held[who] = (pair, time.monotonic() + self.seconds)

    def drop(self, who: str) -> None:
        with self._lock:
            self._held.pop(who, None)


def holds(request: Request) -> Holds:
    return request.app.state.label_holds


@router.get("/label", response_class=HTMLResponse)
def label_page(request: Request, viewer: Viewer, skip: str = "") -> Response:
    if skip:  # "next": pass over the pair shown, then show the page without it
        l, _, r = skip.partition("~")
        if l and r:
            kept = [p for p in request.session.get("label_skip", []) if p != skip]
            request.session["label_skip"] = (kept + [skip])[-SKIP_LIMIT:]
        if auth.allows(viewer.role, "steward"):
            holds(request).drop(str(viewer.name))
        return RedirectResponse("/label", status_code=303)
    steward = auth.allows(viewer.role, "steward")
    name = str(viewer.name)
    passed = {p for p in map(_pair, request.session.get("label_skip", [])) if p}
    busy = holds(request).others(name) if steward else set()
    with store(request).read() as con:
        header, rows, asked = labels.ask(con, 1, passed | busy,
                                         keep=holds(request).mine(name) if steward else None)
        pair = _shown(con, header, rows[0], masked=not steward) if rows else None
    if pair is not None and steward:
        holds(request).take(name, (pair["record_id_l"], pair["record_id_r"]))
    return render(request, "label.html", {
        "pair": pair, "asked": asked, "masked": not steward, "passed": len(passed),
        "skip_link": "/label?" + urlencode({"skip": f"{pair['record_id_l']}~{pair['record_id_r']}"})
        if pair else "",
    })


@router.post("/label", name="act_label")
def label_answer(request: Request, steward: Steward, form: StewardForm) -> Response:
    """Record the answer (`answer`: 1, 0 or unsure) for the pair `l`, `r`."""
    t = translator_for(request)
    l, r = str(form.get("l", "")).strip(), str(form.get("r", "")).strip()
    given = str(form.get("answer", ""))
    if given not in ANSWERS:
        return refuse(request, steward, 400, "refused",
                      "请选择 同一客户 / 不同客户 / 不确定 (answer same, different or unsure)",
                      [("/label", t("label_pairs"))])
    try:
        with store(request).connect() as con:
            done = labels.answer(con, str(steward.name), l, r, ANSWERS[given])
    except labels.AlreadyAnswered as exc:
        holds(request).drop(str(steward.name))
        return refuse(request, steward, 409, "label_taken", str(exc),
                      [("/label", t("label_next_pair"))])
    except StoreBusy:
        raise
    except ResolutionError as exc:
        return refuse(request, steward, 400, "refused", str(exc), [("/label", t("label_pairs"))])
    holds(request).drop(str(steward.name))
    word = {"1": "label_same", "0": "label_different", "unsure": "label_unsure"}[given]
    request.session["flash"] = (f"{t('done')}: {t.action('label')} {l} ~ {r}: {t(word)} "
                                f"({done.decision_id})")
    return RedirectResponse("/label", status_code=303)


def _pair(text: str) -> Pair | None:
    l, _, r = str(text).partition("~")
    return (l, r) if l and r else None


def _shown(con, header: list[str], row: tuple, masked: bool) -> dict:
    """The pair as the page shows it: the fields side by side (masked for a viewer), the
    probability, the comparison pattern and the model's per-comparison evidence."""
    values = dict(zip(header, row))
    l, r = values["record_id_l"], values["record_id_r"]
    fields = []
    for f in labels.FIELDS:
        if f + "_l" not in values:
            continue
        a, b = values[f + "_l"], values[f + "_r"]
        fields.append({
            "field": f, "l": mask_value(f, a) if masked else a,
            "r": mask_value(f, b) if masked else b,
            "differs": a is not None and b is not None and str(a) != str(b),
        })
    found = con.execute("SELECT * FROM pairs WHERE record_id_l = ? AND record_id_r = ?", [l, r])
    cols = [d[0] for d in found.description]
    stored = [dict(zip(cols, x)) for x in found.fetchall()]
    views.explain_pairs(con, views.latest_settings(con), stored, masked)
    return {"record_id_l": l, "record_id_r": r, "fields": fields,
            "match_probability": values["match_probability"],
            "evidence": stored[0] if stored and "steps" in stored[0] else None}
