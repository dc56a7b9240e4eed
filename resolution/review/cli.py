"""`er review …` (the web app, label export), `er label …` (active learning:
resolution/labels.py), `er users …` (accounts and roles) and `er tokens …` (API tokens
for `er check serve`, resolution/tokens.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from resolution.cli_errors import user_errors
from resolution.errors import ResolutionError

StoreOpt = Annotated[Path, typer.Option("--store", help="the store, e.g. demo/store.duckdb")]

review_app = typer.Typer(
    help="Steward review: the web page for low-confidence entities, and its decisions as "
    "training labels.\n\nExample: er review serve --store demo/store.duckdb",
    no_args_is_help=True,
)
users_app = typer.Typer(
    help="Review users and roles (viewer, steward, admin).\n\n"
    "Example: er users add wang --role steward --store demo/store.duckdb",
    no_args_is_help=True,
)

tokens_app = typer.Typer(
    help="API tokens for `er check serve` (roles check, check_full, check_admin); shown "
    "once, stored hashed.\n\n"
    "Example: er tokens create --name crm-form --role check --store demo/store.duckdb",
    no_args_is_help=True,
)


@review_app.command("serve")
@user_errors
def serve(
    store: StoreOpt,
    port: Annotated[int, typer.Option(help="port")] = 8000,
    host: Annotated[
        str, typer.Option(help="address to bind; the default serves this machine only")
    ] = "127.0.0.1",
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="config for survivorship when the store keeps "
                     "none (stores written before jobs kept their config)"),
    ] = None,
    hold_store: Annotated[
        float,
        typer.Option("--hold-store", help="seconds to keep the store open after a request "
                     "(saves ~40 ms per request; a waiting job or CLI command makes the app "
                     "close it at once); 0 opens it for every request"),
    ] = 0.5,
):
    """Start the review web app (Chinese, with an English switch).

    Example: er review serve --store demo/store.duckdb --port 8000
    """
    import uvicorn

    from resolution.config import DEFAULT_CONFIG
    from resolution.review.app import create_app

    app = create_app(store, config or DEFAULT_CONFIG, hold=hold_store)
    with app.state.store.connect() as con:
        users = con.execute("SELECT count(*) FROM users WHERE NOT disabled").fetchall()[0][0]
    if not users:
        typer.echo(f"no users yet: add one with `er users add NAME --role admin --store {store}`",
                   err=True)
    typer.echo(f"review app on http://{host}:{port}/  (store {store}; Ctrl+C stops)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        app.state.store.close()


@review_app.command("export-labels")
@user_errors
def export_labels(
    store: StoreOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV to write")],
):
    """Write steward decisions as labelled pairs (record_id_l, record_id_r, is_match) for
    `er train --labels-pairs`.

    Example: er review export-labels --store demo/store.duckdb --out pairs.csv
    """
    from resolution.store import export_labels as run

    n = run(store, out)
    typer.echo(f"{n} labelled pairs -> {out}")


label_app = typer.Typer(
    help="Active learning: the record pairs whose labels would teach the model most, and "
    "the stewards' answers recorded as audited decisions.\n\n"
    "Example: er label next --store demo/store.duckdb --n 50 --out ask.csv; fill in "
    "is_match; er label add ask.csv --store demo/store.duckdb --user wang",
    no_args_is_help=True,
)


@label_app.command("next")
@user_errors
def label_next(
    store: StoreOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV to write")],
    n: Annotated[int, typer.Option("--n", help="how many pairs to ask")] = 50,
):
    """Write the N pairs to label next: near the latest job's match threshold, diverse in
    their comparison patterns, never one already decided. Both records' fields side by
    side (unmasked, for stewards; the file is readable by its owner only); fill in
    is_match with 1 (same customer), 0 (different) or leave it blank (unsure).

    Example: er label next --store demo/store.duckdb --n 50 --out ask.csv
    """
    from resolution.labels import next_pairs

    asked = next_pairs(store, n, out)
    typer.echo(f"{asked.pairs} pairs ({asked.patterns} comparison patterns, of "
               f"{asked.uncertain} uncertain pairs near the match threshold "
               f"{asked.threshold:g}) -> {out}")


@label_app.command("add")
@user_errors
def label_add(
    file: Annotated[Path, typer.Argument(help="CSV with record_id_l, record_id_r, is_match")],
    store: StoreOpt,
    user: Annotated[str, typer.Option("--user", "--who",
                                      help="who labelled the pairs (recorded in the audit)")] = "cli",
):
    """Record labelled pairs (is_match 1 / 0 / blank = unsure) as one audited decision:
    1 and 0 become must-links and cannot-links that the next `er dedup` honours and
    `er review export-labels` exports. A bad row (unknown record ID, a missing column,
    another value) is named and nothing is recorded.

    Example: er label add ask.csv --store demo/store.duckdb --user wang
    """
    from resolution.labels import add_labels

    done = add_labels(store, file, user)
    typer.echo(f"{done.same} same, {done.different} different, {done.unsure} unsure "
               f"recorded as decision {done.decision_id}")


def _password(password_stdin: bool) -> str:
    if password_stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
    else:
        pw = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if not pw:
        raise ResolutionError("empty password")
    return pw


def _users(store: Path):
    from resolution.review.store_access import StoreAccess

    return StoreAccess(store).connect()


@users_app.command("add")
@user_errors
def add(
    name: str,
    store: StoreOpt,
    role: Annotated[str, typer.Option(help="viewer, steward or admin")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
):
    """Add a user; the password is asked for (or read from stdin), never an argument.

    Example: er users add wang --role steward --store demo/store.duckdb
    """
    from resolution.review import auth

    auth.check_role(role)
    pw = _password(password_stdin)
    with _users(store) as con:
        auth.add_user(con, name, role, pw)
    typer.echo(f"user {name} ({role}) added")


@users_app.command("list")
@user_errors
def list_(store: StoreOpt):
    """List users and roles.

    Example: er users list --store demo/store.duckdb
    """
    from resolution.review import auth

    with _users(store) as con:
        for name, role, created, disabled in auth.list_users(con):
            typer.echo(f"{name}\t{role}\t{str(created)[:19]}\t{'disabled' if disabled else ''}")


@users_app.command("set-role")
@user_errors
def set_role(name: str, role: str, store: StoreOpt):
    """Change a user's role.

    Example: er users set-role wang admin --store demo/store.duckdb
    """
    from resolution.review import auth

    with _users(store) as con:
        auth.set_role(con, name, role)
    typer.echo(f"user {name} is now {role}")


@users_app.command("set-password")
@user_errors
def set_password(
    name: str,
    store: StoreOpt,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
):
    """Set a user's password (asked for, or read from stdin).

    Example: er users set-password wang --store demo/store.duckdb
    """
    from resolution.review import auth

    pw = _password(password_stdin)
    with _users(store) as con:
        auth.set_password(con, name, pw)
    typer.echo(f"password of {name} changed")


@users_app.command("disable")
@user_errors
def disable(name: str, store: StoreOpt):
    """Disable a user (sessions stop working at once).

    Example: er users disable wang --store demo/store.duckdb
    """
    from resolution.review import auth

    with _users(store) as con:
        auth.set_disabled(con, name, True)
    typer.echo(f"user {name} disabled")


@tokens_app.command("create")
@user_errors
def tokens_create(
    store: StoreOpt,
    name: Annotated[str, typer.Option("--name", help="what the token is for, e.g. crm-form")],
    role: Annotated[
        str, typer.Option(help="check (masked candidates), check_full (unmasked) or "
                          "check_admin (also POST /reload)")
    ] = "check",
    expires: Annotated[
        int | None, typer.Option("--expires", help="days until the token stops working")
    ] = None,
):
    """Issue a token for POST /check; it is printed once (the last line) and never again.

    Example: er tokens create --name crm-form --role check --expires 365 --store demo/store.duckdb
    """
    from resolution import tokens

    tokens.check_role(role)
    with _users(store) as con:
        token = tokens.create_token(con, name, role, expires)
    until = f", expires in {expires} days" if expires else ""
    typer.echo(f"token {name} ({role}{until}); keep it now, it is not shown again:", err=True)
    typer.echo(token)


@tokens_app.command("list")
@user_errors
def tokens_list(store: StoreOpt):
    """List tokens (names, roles, dates in UTC; never the tokens themselves).

    Example: er tokens list --store demo/store.duckdb
    """
    from resolution import tokens

    with _users(store) as con:
        for name, role, created, expires, revoked in tokens.list_tokens(con):
            state = f"revoked {str(revoked)[:19]}" if revoked else (
                f"expires {str(expires)[:19]}" if expires else "")
            typer.echo(f"{name}\t{role}\t{str(created)[:19]}\t{state}")


@tokens_app.command("revoke")
@user_errors
def tokens_revoke(name: str, store: StoreOpt):
    """Revoke a token: a running `er check serve` refuses it within its poll interval.

    Example: er tokens revoke crm-form --store demo/store.duckdb
    """
    from resolution import tokens

    with _users(store) as con:
        tokens.revoke_token(con, name)
    typer.echo(f"token {name} revoked")
