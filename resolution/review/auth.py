"""Users, roles and refusals.

Roles, each allowing what the one before it allows:
- `viewer` reads, with personal data masked (mobile 138****5678, ID card, email);
- `steward` reads unmasked data and takes decisions;
- `admin` also manages users.

Passwords are stored as salted scrypt hashes (`hashlib.scrypt`, n=2**14, r=8, p=1) and
compared in constant time. Every refusal — a failed login, a missing role, a bad CSRF
token, a stale page — is one row in `access_log`, with the name capped at 64 characters.

Sessions are revocable: a login records a random session ID (its SHA-256 only) in
`review_sessions`, and a request counts as signed in only while that row is neither
revoked nor older than `SESSION_HOURS`. Logout revokes it; disabling a user or changing
their password revokes all of theirs. Failed logins in `access_log` throttle further
attempts (`login_wait`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import duckdb

from resolution.errors import ResolutionError

ROLES = ("viewer", "steward", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}
_N, _R, _P = 2**14, 8, 1
SESSION_HOURS = 8
NAME_CAP = 64  # longest user name; longer names in the log are cut to this and "…"
# Failed logins within THROTTLE_MINUTES since the last success: this many for one user
# name, or this many from one client address (higher, so one office behind one address
# is not locked out by a colleague's typos), refuse further attempts.
THROTTLE_MINUTES, THROTTLE_PER_NAME, THROTTLE_PER_CLIENT = 15, 5, 20
LOGIN_FAILED = "login failed"


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
    revoke_sessions(con, name)  # whoever knew the old password is signed out


def set_role(con: duckdb.DuckDBPyConnection, name: str, role: str) -> None:
    check_role(role)
    _require_user(con, name)
    con.execute("UPDATE users SET role = ? WHERE name = ?", [role, name])


def set_disabled(con: duckdb.DuckDBPyConnection, name: str, disabled: bool) -> None:
    _require_user(con, name)
    con.execute("UPDATE users SET disabled = ? WHERE name = ?", [disabled, name])
    if disabled:  # enabling again does not bring the old sessions back
        revoke_sessions(con, name)


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


def capped(name: str | None) -> str | None:
    """`name` as the log keeps it: at most NAME_CAP characters, then "…"."""
    return name if name is None or len(name) <= NAME_CAP else name[:NAME_CAP] + "…"


def log_refusal(
    con: duckdb.DuckDBPyConnection, who: str | None, role: str | None, method: str,
    path: str, status: int, reason: str, client: str | None = None,
) -> None:
    con.execute(
        "INSERT INTO access_log (happened_at, who, role, method, path, status, reason, client) "
        "VALUES (now(), ?, ?, ?, ?, ?, ?, ?)",
        [capped(who), role, method, path[:500], status, reason[:500], client],
    )


# --- sessions -------------------------------------------------------------------------------


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start_session(con: duckdb.DuckDBPyConnection, name: str, client: str | None) -> str:
    """A new session ID for `name` (what the session cookie carries); the store keeps only
    its hash. Also the success that resets the login throttle."""
    session_id = secrets.token_urlsafe(32)
    con.execute("DELETE FROM review_sessions WHERE created_at < now() - INTERVAL 30 DAY")
    con.execute(
        "INSERT INTO review_sessions (id_hash, user_name, client, created_at) "
        "VALUES (?, ?, ?, now())", [_digest(session_id), name, client],
    )
    return session_id


def session_user(con: duckdb.DuckDBPyConnection, session_id: str | None) -> str | None:
    """The user of a live session: recorded, not revoked, younger than SESSION_HOURS."""
    if not session_id:
        return None
    found = con.execute(
        "SELECT user_name FROM review_sessions WHERE id_hash = ? AND revoked_at IS NULL "
        f"AND created_at > now() - INTERVAL {int(SESSION_HOURS)} HOUR",
        [_digest(session_id)],
    ).fetchall()
    return found[0][0] if found else None


def end_session(con: duckdb.DuckDBPyConnection, session_id: str | None) -> None:
    if session_id:
        con.execute("UPDATE review_sessions SET revoked_at = now() WHERE id_hash = ? "
                    "AND revoked_at IS NULL", [_digest(session_id)])


def revoke_sessions(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute("UPDATE review_sessions SET revoked_at = now() WHERE user_name = ? "
                "AND revoked_at IS NULL", [name])


def login_wait(con: duckdb.DuckDBPyConnection, name: str, client: str | None) -> int:
    """Seconds until a login for `name` from `client` may be tried again (0: now).

    Counts the failed logins in `access_log` of the last THROTTLE_MINUTES that came after
    the latest successful login (of that name, resp. from that client)."""
    wait = 0
    for column, value, limit in (("who", capped(name), THROTTLE_PER_NAME),
                                 ("client", client, THROTTLE_PER_CLIENT)):
        if not value:
            continue
        since = "user_name = ?" if column == "who" else "client = ?"
        rows = con.execute(
            f"""SELECT happened_at, now()::TIMESTAMP FROM access_log
                WHERE {column} = ? AND reason = ? AND path = '/login'
                  AND happened_at > now() - INTERVAL {int(THROTTLE_MINUTES)} MINUTE
                  AND happened_at > coalesce((SELECT max(created_at) FROM review_sessions
                                              WHERE {since}), TIMESTAMP '1970-01-01')
                ORDER BY happened_at DESC""",
            [value, LOGIN_FAILED, value],
        ).fetchall()
        if len(rows) >= limit:
            # free again once the limit-th latest failure leaves the window
            oldest: datetime = rows[limit - 1][0]
            now: datetime = rows[0][1]
            left = oldest + timedelta(minutes=THROTTLE_MINUTES) - now
            wait = max(wait, int(left.total_seconds()) + 1)
    return wait


def _require_user(con: duckdb.DuckDBPyConnection, name: str) -> None:
    if not con.execute("SELECT count(*) FROM users WHERE name = ?", [name]).fetchall()[0][0]:
        raise ResolutionError(f"no user named {name}")
