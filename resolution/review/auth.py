"""Users, roles and refusals.

Roles, each allowing what the one before it allows:
- `viewer` reads, with personal data masked (mobile 138****5678, ID card, email);
- `steward` reads unmasked data and takes decisions;
- `admin` also manages users.

Passwords are stored as salted scrypt hashes (`hashlib.scrypt`, n=2**14, r=8, p=1) and
compared in constant time. Every refusal — a failed login, a missing role, a bad CSRF
token, a stale page — is one row in `access_log`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import duckdb

from resolution.errors import ResolutionError

ROLES = ("viewer", "steward", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}
_N, _R, _P = 2**14, 8, 1


def allows(role: str | None, needed: str) -> bool:
    return role in _RANK and _RANK[role] >= _RANK[needed]


def hash_password(password: str, salt: str | None = None) -> tuple[str, str]:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=bytes.fromhex(salt), n=_N, r=_R, p=_P, dklen=32
    )
    return salt, digest.hex()


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ResolutionError(f"unknown role '{role}'; use one of: {', '.join(ROLES)}")
    return role


def add_user(con: duckdb.DuckDBPyConnection, name: str, role: str, password: str) -> None:
    check_role(role)
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise ResolutionError("a user name needs 1-64 characters and no spaces")
    if len(password) < 8:
        raise ResolutionError("a password needs at least 8 characters")
    if con.execute("SELECT count(*) FROM users WHERE name = ?", [name]).fetchall()[0][0]:
        raise ResolutionError(f"user {name} already exists (use `er users set-role` or "
                              "`er users set-password`)")
    salt, digest = hash_password(password)
    con.execute(
        "INSERT INTO users VALUES (?, ?, ?, ?, now(), false)", [name, role, salt, digest]
    )


def set_password(con: duckdb.DuckDBPyConnection, name: str, password: str) -> None:
    _require_user(con, name)
    if len(password) < 8:
        raise ResolutionError("a password needs at least 8 characters")
    salt, digest = hash_password(password)
    con.execute("UPDATE users SET salt = ?, password_hash = ? WHERE name = ?", [salt, digest, name])


def set_role(con: duckdb.DuckDBPyConnection, name: str, role: str) -> None:
    check_role(role)
    _require_user(con, name)
    con.execute("UPDATE users SET role = ? WHERE name = ?", [role, name])


def set_disabled(con: duckdb.DuckDBPyConnection, name: str, disabled: bool) -> None:
    _require_user(con, name)
    con.execute("UPDATE users SET disabled = ? WHERE name = ?", [disabled, name])


def list_users(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT name, role, created_at, disabled FROM users ORDER BY name"
    ).fetchall()


def authenticate(con: duckdb.DuckDBPyConnection, name: str, password: str) -> str | None:
    """The user's role when the name and password match an enabled user, else None."""
    found = con.execute(
        "SELECT role, salt, password_hash, disabled FROM users WHERE name = ?", [name]
    ).fetchall()
    if not found:
        hash_password(password, "00" * 16)  # same work either way: no timing hint
        return None
    role, salt, digest, disabled = found[0]
    ok = hmac.compare_digest(hash_password(password, salt)[1], digest)
    return role if ok and not disabled else None


def current_role(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The role a session's user has now (a changed role or a disabled user takes effect
    on the next request, not the next login)."""
    found = con.execute("SELECT role, disabled FROM users WHERE name = ?", [name]).fetchall()
    if not found or found[0][1]:
        return None
    return found[0][0]


def log_refusal(
    con: duckdb.DuckDBPyConnection, who: str | None, role: str | None, method: str,
    path: str, status: int, reason: str,
) -> None:
    con.execute(
        "INSERT INTO access_log VALUES (now(), ?, ?, ?, ?, ?, ?)",
        [who, role, method, path[:500], status, reason[:500]],
    )


def _require_user(con: duckdb.DuckDBPyConnection, name: str) -> None:
    if not con.execute("SELECT count(*) FROM users WHERE name = ?", [name]).fetchall()[0][0]:
        raise ResolutionError(f"no user named {name}")
