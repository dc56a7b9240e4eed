"""API tokens for `er check serve`: issuing, listing, revoking and recognising them.

A token is `erc_<id>_<secret>`: `id` (8 hex characters) finds its row in `api_tokens`,
`secret` is 32 random bytes (URL-safe base64). The store keeps the id and the SHA-256 of
the secret only, so the token is shown once, by `er tokens create`, and never again; a
presented secret is compared with the stored hash in constant time (`hmac.compare_digest`).

Tokens are scoped to the entry check: the review app never reads `api_tokens`, and a
review-app user's password or session is no token. Roles, each allowing what the one
before it allows:
- `check`: `POST /check`, with the other customers' phones, e-mails and ID numbers
  masked (resolution/review/mask.py);
- `check_full`: the same candidates unmasked;
- `check_admin`: also `POST /reload`.

A running server keeps the tokens in memory (`TokenTable`) and reads them again whenever
the store file changes (resolution/check.py, `Watcher`), so a revoked token is refused
within one poll. Refusals are rows in `access_log`, as the review app's are
(`resolution.review.auth.log_refusal`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from resolution.errors import ResolutionError

ROLES = ("check", "check_full", "check_admin")
_RANK = {r: i for i, r in enumerate(ROLES)}
SCOPE = "check"  # what every token is for; the review app accepts none
PREFIX = "erc_"
_TOKEN = re.compile(r"erc_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
NAME_CAP = 64


def allows(role: str | None, needed: str) -> bool:
    return role in _RANK and _RANK[role] >= _RANK[needed]


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ResolutionError(f"unknown token role '{role}'; use one of: {', '.join(ROLES)}")
    return role


def _now() -> datetime:
    # naive UTC: the same clock for what the CLI writes and what a server compares
    return datetime.now(UTC).replace(tzinfo=None)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'api_tokens' "
        "AND database_name = current_database()"
    ).fetchall()[0][0])


def create_token(
    con: duckdb.DuckDBPyConnection, name: str, role: str, expires_days: int | None = None
) -> str:
    """Record a new token named `name` and return it (the only time it is seen whole)."""
    check_role(role)
    name = name.strip()
    if not name or len(name) > NAME_CAP or any(c.isspace() for c in name):
        raise ResolutionError(f"a token name needs 1-{NAME_CAP} characters and no spaces")
    if expires_days is not None and expires_days < 1:
        raise ResolutionError("--expires is a number of days, at least 1")
    live = con.execute(
        "SELECT count(*) FROM api_tokens WHERE name = ? AND revoked_at IS NULL", [name]
    ).fetchall()[0][0]
    if live:
        raise ResolutionError(f"a token named {name} exists; revoke it first "
                              f"(`er tokens revoke {name}`) or choose another name")
    token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    now = _now()
    expires = now + timedelta(days=expires_days) if expires_days else None
    con.execute(
        "INSERT INTO api_tokens (token_id, name, role, scope, secret_hash, created_at, "
        "expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
        [token_id, name, role, SCOPE, _digest(secret), now, expires],
    )
    return f"{PREFIX}{token_id}_{secret}"


def list_tokens(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(name, role, created_at, expires_at, revoked_at) of every token, newest first."""
    return con.execute(
        "SELECT name, role, created_at, expires_at, revoked_at FROM api_tokens "
        "ORDER BY created_at DESC, name"
    ).fetchall()


def revoke_token(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Revoke the live token named `name` (a running server refuses it from its next poll)."""
    found = con.execute(
        "SELECT count(*) FROM api_tokens WHERE name = ? AND revoked_at IS NULL", [name]
    ).fetchall()[0][0]
    if not found:
        raise ResolutionError(f"no live token named {name} (see `er tokens list`)")
    con.execute("UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                [_now(), name])


@dataclass(frozen=True)
class _Row:
    name: str
    role: str
    scope: str
    secret_hash: str
    expires_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class Verdict:
    """Who presented a token: `status` 200 (known, live), 401 (none, unknown, revoked,
    expired) or 403 (another scope), and why not."""

    status: int
    name: str | None = None
    role: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class TokenTable:
    """The store's tokens as a server holds them in memory, by id."""

    rows: dict[str, _Row] = field(default_factory=dict)

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> TokenTable:
        """The tokens of the connection's database (none if it has no `api_tokens` yet)."""
        if not _has_table(con):
            return cls()
        found = con.execute(
            "SELECT token_id, name, role, scope, secret_hash, expires_at, "
            "revoked_at IS NOT NULL FROM api_tokens"
        ).fetchall()
        return cls({r[0]: _Row(*r[1:]) for r in found})

    def live(self) -> int:
        now = _now()
        return sum(1 for r in self.rows.values()
                   if not r.revoked and (r.expires_at is None or r.expires_at > now))

    def identify(self, authorization: str | None) -> Verdict:
        """The verdict on an `Authorization: Bearer <token>` header value."""
        if not authorization:
            return Verdict(401, reason="no token")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Verdict(401, reason="no bearer token")
        m = _TOKEN.fullmatch(token.strip())
        row = self.rows.get(m.group(1)) if m else None
        # compare even without a row, so a wrong id costs the same time as a wrong secret
        secret = m.group(2) if m else token.strip()
        expected = row.secret_hash if row else "0" * 64
        ok = hmac.compare_digest(_digest(secret), expected)
        if row is None or not ok:
            return Verdict(401, reason="invalid token")
        if row.revoked:
            return Verdict(401, row.name, row.role, "token revoked")
        if row.expires_at is not None and row.expires_at <= _now():
            return Verdict(401, row.name, row.role, "token expired")
        if row.scope != SCOPE:
            return Verdict(403, row.name, row.role, f"token scope {row.scope}, not {SCOPE}")
        return Verdict(200, row.name, row.role)
