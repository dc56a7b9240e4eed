"""One entity: its page (golden record, lineage, pins, members, explained pairs,
history) and the steward decisions taken on it.

Every decision form carries the entity's version as the page showed it; the action
checks it and writes inside one store connection (`actions.check_versions`), so a page
that is out of date is refused with 409 (with a link back to the entity) and nothing is
applied. A decision that leaves the entity empty (merged away) leads to the entity its
records went to. A merge or a move is shown first (`/entity/ID/preview`: the resulting
golden record, the target's records, the evidence) and made from there; one that
overrules the guard needs the override box ticked (`override`), and is audited as such.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import duckdb
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from resolution.config import Config
from resolution.errors import ResolutionError
from resolution.review import actions, auth, views
from resolution.review.routes import queue as queue_routes
from resolution.review.store_access import StoreBusy
from resolution.review.web import (
    Caller,
    Steward,
    StewardForm,
    Viewer,
    refuse,
    render,
    store,
    translator_for,
)

router = APIRouter()


@router.get("/entity/{entity_id}", response_class=HTMLResponse)
def entity_page(request: Request, entity_id: str, viewer: Viewer, q: str = "") -> Response:
    masked = not auth.allows(viewer.role, "steward")
    with store(request).read() as con:
        e = views.entity(con, entity_id, masked, store(request).memo)
        found = views.search_entities(con, q, entity_id) if e and q else []
        if e is None:
            moved = con.execute(
                "SELECT related_entity_ids FROM entity_events WHERE entity_id = ? "
                "AND event = 'retire' ORDER BY happened_at DESC LIMIT 1", [entity_id]
            ).fetchall()
    if e is None:
        t = translator_for(request)
        return render(request, "message.html", {
            "title": t("no_entity"), "message": entity_id,
            "links": [(f"/entity/{x}", x) for x in (moved[0][0] if moved else [])],
        }, status=404)
    return render(request, "entity.html", {"e": e, "search_q": q, "found": found,
                                           "masked": masked})


@router.get("/entity/{entity_id}/preview", response_class=HTMLResponse)
def preview_page(request: Request, entity_id: str, steward: Steward, kind: str = "merge",
                 target: str = "", record_id: str = "", comment: str = "") -> Response:
    """What a merge or move would make; nothing is written until its form is sent."""
    target_id = target.strip().partition(":")[0]
    try:
        with store(request).connect() as con:
            cfg = actions.load_review_config(con, request.app.state.config_path)
            pv = views.preview(con, cfg, kind, entity_id, target_id, record_id or None)
    except StoreBusy:
        raise
    except ResolutionError as exc:
        return refuse(request, steward, 400, "refused", str(exc),
                      [(f"/entity/{entity_id}", translator_for(request)("back_to_entity"))])
    return render(request, "preview.html", {"p": pv, "comment": comment})


# --- decisions ------------------------------------------------------------------------
# Each route reads its form fields and hands `_decide` the action to run on the store.


@router.post("/entity/{entity_id}/confirm", name="act_confirm")
def confirm(request: Request, entity_id: str, steward: Steward,
            form: StewardForm) -> Response:
    return _decide(request, steward, entity_id, "confirm", lambda con, cfg: actions.confirm(
        con, cfg, steward.name, entity_id, _version(form), _note(form)), form)


@router.post("/entity/{entity_id}/split", name="act_split")
def split(request: Request, entity_id: str, steward: Steward,
          form: StewardForm) -> Response:
    records = [str(x) for x in form.getlist("record_ids")]
    return _decide(request, steward, entity_id, "split", lambda con, cfg: actions.split(
        con, cfg, steward.name, entity_id, _version(form), records, _note(form)))


@router.post("/entity/{entity_id}/move", name="act_move")
def move(request: Request, entity_id: str, steward: Steward,
         form: StewardForm) -> Response:
    target, target_version = _target(form)
    return _decide(request, steward, entity_id, "move", lambda con, cfg: actions.move(
        con, cfg, steward.name, entity_id, _version(form), str(form.get("record_id", "")),
        target, _note(form), target_version, _override(form)))


@router.post("/entity/{entity_id}/merge", name="act_merge")
def merge(request: Request, entity_id: str, steward: Steward,
          form: StewardForm) -> Response:
    target, target_version = _target(form)
    return _decide(request, steward, entity_id, "merge", lambda con, cfg: actions.merge(
        con, cfg, steward.name, entity_id, _version(form), target, _note(form),
        target_version, _override(form)))


@router.post("/entity/{entity_id}/pin", name="act_pin")
def pin(request: Request, entity_id: str, steward: Steward, form: StewardForm) -> Response:
    return _decide(request, steward, entity_id, "pin", lambda con, cfg: actions.pin(
        con, cfg, steward.name or "", entity_id, _version(form), str(form.get("field", "")),
        str(form.get("value", "")), _note(form) or ""))


@router.post("/entity/{entity_id}/unpin", name="act_unpin")
def unpin(request: Request, entity_id: str, steward: Steward,
          form: StewardForm) -> Response:
    return _decide(request, steward, entity_id, "unpin", lambda con, cfg: actions.unpin(
        con, cfg, steward.name or "", entity_id, _version(form), str(form.get("pin_id", "")),
        _note(form)))


@router.post("/entity/{entity_id}/different", name="act_different")
def different(request: Request, entity_id: str, steward: Steward,
              form: StewardForm) -> Response:
    return _decide(request, steward, entity_id, "different", lambda con, cfg: actions.different(
        con, cfg, steward.name, entity_id, _version(form), str(form.get("record_a", "")),
        str(form.get("record_b", "")), _note(form)))


@router.post("/entity/{entity_id}/comment", name="act_comment")
def comment(request: Request, entity_id: str, steward: Steward,
            form: StewardForm) -> Response:
    return _decide(request, steward, entity_id, "comment", lambda con, cfg: actions.comment(
        con, cfg, steward.name, entity_id, _note(form) or ""))


@router.post("/entity/{entity_id}/undo", name="act_undo")
def undo(request: Request, entity_id: str, steward: Steward,
         form: StewardForm) -> Response:
    return _decide(request, steward, entity_id, "undo", lambda con, cfg: actions.undo(
        con, cfg, steward.name, entity_id, _version(form), str(form.get("decision_id", "")),
        _note(form)))


def _decide(request: Request, steward: Caller, entity_id: str, kind: str,
            run: Callable[[duckdb.DuckDBPyConnection, Config], str],
            form: FormData | None = None) -> Response:
    """Run one decision on the store; on success flash what was done and show the entity
    (or where its records went), or with the form's `next` ("save & next") the next
    entry of the steward's queue view; a stale page or an entity another steward
    claimed is 409, any other refusal 400."""
    t = translator_for(request)
    goto = f"/entity/{entity_id}"
    then_next = form is not None and bool(form.get("next"))
    try:
        with store(request).connect() as con:
            actions.check_claim(con, steward.name, entity_id)
            before = queue_routes.order_before(request, con, steward.name) if then_next else []
            # the config the latest job stored, read now: a job may have run since start-up
            cfg = actions.load_review_config(con, request.app.state.config_path)
            did = run(con, cfg)
            if then_next:
                goto = queue_routes.after_decision(request, con, steward.name, before, entity_id)
            elif not actions.members(con, entity_id):
                after = json.loads(_after(con, did) or "{}")
                goto = f"/entity/{next(iter(after.get('membership', {}).values()), entity_id)}"
    except actions.StaleEntity as exc:
        return refuse(request, steward, 409, "stale", str(exc),
                      [(f"/entity/{entity_id}", t("back_to_entity"))])
    except actions.ClaimedByOther as exc:
        return refuse(request, steward, 409, "claimed", str(exc),
                      [(f"/entity/{entity_id}", t("back_to_entity"))])
    except StoreBusy:
        raise
    except ResolutionError as exc:
        return refuse(request, steward, 400, "refused", str(exc),
                      [(f"/entity/{entity_id}", t("back_to_entity"))])
    request.session["flash"] = f"{t('done')}: {t.action(kind)} {entity_id} ({did})"
    return RedirectResponse(goto, status_code=303)


def _version(form: FormData) -> str:
    """The entity's version as the page showed it."""
    return str(form.get("version", ""))


def _override(form: FormData) -> bool:
    """The preview's box "I overrule the engine's split" was ticked."""
    return str(form.get("override", "")) == "1"


def _note(form: FormData) -> str | None:
    return str(form.get("comment", "")).strip() or None


def _target(form: FormData) -> tuple[str, str | None]:
    """The other entity chosen on the page, sent as "ENTITY_ID:VERSION" (as shown)."""
    target, _, target_version = str(form.get("target", "")).strip().partition(":")
    return target, target_version or None


def _after(con: duckdb.DuckDBPyConnection, decision_id: str) -> str | None:
    rows = con.execute("SELECT after FROM decisions WHERE decision_id = ?",
                       [decision_id]).fetchall()
    return rows[0][0] if rows else None
