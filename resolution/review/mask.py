"""Personal data masked for viewers: mobiles and phones (138****5678), ID cards
(110101********1234) and e-mail addresses (z***@example.com) — in the columns that hold
them, and where they turn up inside free text (a steward's comment: `mask_text`).

Masking happens on the server, before a value reaches a template, so a viewer's page
never holds the full value.
"""

from __future__ import annotations

import re
from typing import Any

_DIGITS = re.compile(r"\D")


def mask_phone(value: str) -> str:
    d = _DIGITS.sub("", value)
    if d.startswith("0086"):
        d = d[4:]
    elif d.startswith("86") and len(d) >= 12:
        d = d[2:]
    if d.startswith("0"):  # the trunk 0 of a landline (0571-…): +86 571… is the same number
        d = d[1:]
    if len(d) < 7:
        return "****"
    return f"{d[:3]}****{d[-4:]}"


def mask_id_card(value: str) -> str:
    v = value.strip()
    if len(v) < 10:
        return "*" * len(v)
    return f"{v[:6]}{'*' * (len(v) - 10)}{v[-4:]}"


def mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def masker_for(column: str):
    """The mask for a column by its name (raw, standardized and golden columns alike)."""
    c = column.lower()
    if "id_card" in c:
        return mask_id_card
    if "email" in c:
        return mask_email
    if "mobile" in c or "phone" in c:
        return mask_phone
    return None


def mask_value(column: str, value: Any) -> Any:
    fn = masker_for(column)
    if fn is None or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [fn(str(v)) if v is not None else None for v in value]
    return fn(str(value))


def mask_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: mask_value(k, v) for k, v in row.items()}


# In free text: an 18-character ID card, a mainland mobile (optionally +86), an e-mail
# address; digits glued to other digits or letters are part of something else.
_IN_TEXT = re.compile(
    r"(?P<id>(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z]))"
    r"|(?P<mobile>(?<![\d+])(?:(?:\+|00)?86[- ]?)?1[3-9]\d{9}(?!\d))"
    r"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
)


def mask_text(text: str | None) -> str | None:
    """`text` with the ID cards, mobiles and e-mail addresses in it masked as in columns."""
    if not text:
        return text

    def one(m: re.Match) -> str:
        if m.group("id"):
            return mask_id_card(m.group("id"))
        if m.group("mobile"):
            return mask_phone(m.group("mobile"))
        return mask_email(m.group("email"))

    return _IN_TEXT.sub(one, text)
