"""Email addresses (``parse_email``): the first address in a field, normalised and checked.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from resolution.standardize.text import _RX_SPACES, _cached, _clean, is_placeholder


class Email(NamedTuple):
    std: str | None  # lower-cased, trimmed
    valid: bool | None


_RX_EMAIL_TOKEN = re.compile(r"[^\s@;,/|<>()\"'\[\]]+@[^\s@;,/|<>()\"'\[\]]+")
_DOT_ATOM = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@lru_cache(maxsize=65536)
def _domain_ok(domain: str) -> bool:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email("a@" + domain, check_deliverability=False)
        return True
    except EmailNotValidError:
        return False


@lru_cache(maxsize=32768)
def _email_valid(e: str) -> bool:
    local, _, domain = e.rpartition("@")
    if local and local.isascii() and len(local) <= 64 and len(e) <= 254:
        return bool(_DOT_ATOM.fullmatch(local)) and _domain_ok(domain)
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(e, check_deliverability=False)
        return True
    except EmailNotValidError:
        return False


@_cached(65536)
def parse_email(s: object) -> Email:
    """Email lower-cased and trimmed ('mailto:', <>, spaces, full-width ＠ and 。 fixed); syntax check."""
    t = _clean(s)
    if t is None:
        return Email(None, None)
    t = t.replace("mailto:", "").replace("(at)", "@").replace("[at]", "@")
    m = _RX_EMAIL_TOKEN.search(t)
    if m:  # the first address in the field: "zhangwei@qq.com(私人)", "a@b.cn; c@d.cn"
        t = m.group(0)
    t = t.strip("<>\"'()., ")
    t = _RX_SPACES.sub("", t).replace("。", ".").replace("，", ".").rstrip(".")
    t = unicodedata.normalize("NFKC", t)  # removed spaces can let combining marks compose
    m = _RX_EMAIL_TOKEN.search(t)
    if m:  # again, now that spaces are gone: "0@ 0;" → "0@0"
        t = m.group(0).rstrip(".")
    if is_placeholder(t or None):
        return Email(None, None)
    return Email(t, "@" in t and _email_valid(t))
