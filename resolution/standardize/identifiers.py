"""Chinese identifiers: the unified social credit code (``parse_uscc``) and the resident
ID card (``parse_id_card``), with their check characters, birth date and gender. Invalid ones
keep their cleaned value but never get a match key.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from resolution.standardize.person import _ascii_fold
from resolution.standardize.text import _cached, _clean, _words, is_placeholder

_RX_NOT_ALNUM = re.compile(r"[^0-9a-z]")
_RX_NOT_ID_CHAR = re.compile(r"[^0-9x]")


# ---------------------------------------------------------------------------------------------
# USCC and resident ID card
# ---------------------------------------------------------------------------------------------


class Uscc(NamedTuple):
    std: str | None  # upper-case, separators removed; kept when invalid
    valid: bool | None


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _uscc_valid(c: str) -> bool:
    """``stdnum.cn.uscc.is_valid`` for the upper-case ASCII letters and digits parse_uscc
    passes: the same length, format and check-character test, without stdnum's cleaning of
    its input, character by character, which was three quarters of parse_uscc's time."""
    if len(c) != 18 or not c[:8].isdigit():  # ASCII: isdigit is [0-9]
        return False
    value = _USCC_VALUE
    if any(ch not in value for ch in c[8:]):
        return False
    total = sum(value[ch] * w for ch, w in zip(c, _USCC_WEIGHTS))
    return c[17] == _USCC_ALPHABET[(31 - total) % 31]


@_cached(65536)
def parse_uscc(s: object) -> Uscc:
    """Unified social credit code (GB 32100-2015): cleaned and checksum-validated.

    Validity is ``stdnum.cn.uscc.is_valid``; O/I typed for 0/1 are repaired only when that
    makes the checksum right.
    """
    t = _clean(s)
    if t is None:
        return Uscc(None, None)
    c = _RX_NOT_ALNUM.sub("", _ascii_fold(t)).upper()
    if not c:
        return Uscc(None, False)
    if is_placeholder(c.lower()):
        return Uscc(None, None)
    if _uscc_valid(c):
        return Uscc(c, True)
    if len(c) == 18:
        fixed = c.replace("O", "0").replace("I", "1")
        if fixed != c and _uscc_valid(fixed):
            return Uscc(fixed, True)
    return Uscc(c, False)


class IdCard(NamedTuple):
    std: str | None  # 18 characters, upper-case X; a valid 15-digit card is upgraded to 18
    valid: bool | None
    birth_date: dt.date | None  # from a valid card only
    gender: str | None  # 'M' | 'F', from a valid card only


_ID_PROVINCES = frozenset(
    _words(
        "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 "
        "71 81 82 83"
    )
)


def _id_check(first17: str) -> str:
    from stdnum.cn import ric

    return ric.calc_check_digit(first17 + "0")


def _id_birth(c: str) -> dt.date | None:
    try:
        d = dt.date(int(c[6:10]), int(c[10:12]), int(c[12:14]))
    except ValueError:
        return None
    return d if dt.date(1900, 1, 1) <= d <= dt.date.today() else None


@_cached(65536)
def parse_id_card(s: object) -> IdCard:
    """Resident ID card (GB 11643): 18 characters with check digit, a real birth date and a
    province code; a 15-digit first-generation card is converted to 18 characters.

    The area code is checked at province level only (stdnum's county table would reject real
    cards from counties it lacks); the checksum catches typing errors.
    """
    t = _clean(s)
    if t is None:
        return IdCard(None, None, None, None)
    c = _RX_NOT_ID_CHAR.sub("", t).upper()
    if not c:
        return IdCard(None, False, None, None)
    if is_placeholder(c.lower()):
        return IdCard(None, None, None, None)
    if len(c) == 15 and c.isdigit():
        c18 = c[:6] + "19" + c[6:]
        if c[:2] in _ID_PROVINCES and _id_birth(c18 + "0"):
            c = c18 + _id_check(c18)
    if len(c) == 18 and c[:17].isdigit() and c[:2] in _ID_PROVINCES and c[17] == _id_check(c[:17]):
        b = _id_birth(c)
        if b is not None:
            return IdCard(c, True, b, "M" if int(c[16]) % 2 else "F")
    return IdCard(c, False, None, None)
