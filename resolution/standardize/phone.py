"""Phone numbers (``parse_phone``): E.164, extension, mobile / fixed / service type and
validity, for Chinese numbers written every common way.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from resolution.standardize.text import _cached, _clean, is_placeholder

_RX_SPREADSHEET_NUMBER = re.compile(r"\d+\.0+")
_RX_DIGIT_RUN = re.compile(r"\d+")


# ---------------------------------------------------------------------------------------------
# Phones
# ---------------------------------------------------------------------------------------------


class Phone(NamedTuple):
    e164: str | None  # +8613800138000 / +862112345678 (best effort even when invalid)
    ext: str | None
    type: str | None  # 'mobile' | 'fixed' | None
    valid: bool | None  # None when there was no number at all


_EXT = re.compile(r"(?:转|轉|分机|分機|ext\.?|extension|x|#|\*)\s*:?\s*(\d{1,6})\s*$")
_RX_NOT_DIGIT = re.compile(r"\D")
_RX_CARRIER_PREFIX = re.compile(r"1(?:[12]\d|79)\d\d")
_RX_WELL_FORMED_MOBILE = re.compile(r"1[3-9]\d{9}")
_PHONE_SPLIT = re.compile(r"[/,;|、]|或|\s{2,}|\bor\b")


@lru_cache(maxsize=1)
def _cn_types() -> list[tuple[str, str, tuple[int, ...]]]:
    """CN number-type patterns from phonenumbers' metadata, in the order its type check uses
    (the general pattern first)."""
    import phonenumbers

    md = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    out = []
    for attr, kind in [
        ("general_desc", "general"),
        ("premium_rate", "fixed"),
        ("toll_free", "fixed"),
        ("shared_cost", "fixed"),
        ("voip", "fixed"),
        ("personal_number", "fixed"),
        ("pager", "fixed"),
        ("uan", "fixed"),
        ("voicemail", "fixed"),
        ("fixed_line", "fixed"),
        ("mobile", "mobile"),
    ]:
        desc = getattr(md, attr)
        if desc is not None and desc.national_number_pattern:
            out.append((kind, desc.national_number_pattern, tuple(desc.possible_length)))
    return out


@lru_cache(maxsize=64)
def _cn_type_patterns(length: int) -> tuple[re.Pattern | None, re.Pattern | None, re.Pattern | None]:
    """(general, fixed, mobile) regexes for numbers of one length; None where none applies.

    The type check takes the first kind whose pattern fits, and every kind before mobile is
    'fixed': so 'fixed' is one alternation of those patterns, and 'mobile' only when it fails.
    """
    fits: dict[str, list[str]] = {"general": [], "fixed": [], "mobile": []}
    for kind, pat, lengths in _cn_types():
        if not lengths or length in lengths:
            fits[kind].append(f"(?:{pat})")
    return tuple(  # type: ignore[return-value]
        re.compile("|".join(fits[k])) if fits[k] else None for k in ("general", "fixed", "mobile")
    )


def _cn_type(nsn: str) -> str | None:
    """'mobile' / 'fixed' for a valid CN national significant number, else None.

    The same test as phonenumbers.is_valid_number + number_type, without its parsing overhead.
    """
    general, fixed, mobile = _cn_type_patterns(len(nsn))
    if general is None or not general.fullmatch(nsn):
        return None
    if fixed is not None and fixed.fullmatch(nsn):
        return "fixed"
    if mobile is not None and mobile.fullmatch(nsn):
        return "mobile"
    return None


# The forms that need no cleaning, splitting or cutting off: a mobile 13800138000 /
# 138-0013-8000 / 138 0013 8000, a landline 02112345678 / 021-12345678 / 0571-1234567.
# parse_phone reads their digits as one national number (0 a trunk prefix), nothing else.
_SQL_FORMS = (
    r"1[3-9]\d{9}|1[3-9]\d-\d{4}-\d{4}|1[3-9]\d \d{4} \d{4}"
    r"|0[1-9]\d{8,10}|0[1-9]\d{1,2}-\d{7,8}"
)


def phone_sql(keys: str) -> str:
    """SQL: the key column k0 of table `keys` and its ``parse_phone`` result ``r`` as a
    STRUCT, for the valid numbers in the plain forms (``_SQL_FORMS``), the bulk of a
    master's phones: the same type test as ``_cn_type`` (phonenumbers' CN patterns, which
    RE2 reads as Python does), run by DuckDB over all of them at once. Every other value
    (other forms, invalid numbers, whose result depends on more rules) is not in the result
    and goes through parse_phone."""
    from resolution.db import quote_literal

    def by_length(i: int) -> str:
        whens = " ".join(
            f"WHEN {n} THEN regexp_full_match(nsn, {quote_literal(rx.pattern)})"
            for n in range(7, 13)
            if (rx := _cn_type_patterns(n)[i]) is not None
        )
        return f"CASE length(nsn) {whens} ELSE false END"

    general, fixed, mobile = by_length(0), by_length(1), by_length(2)
    return f"""
        SELECT k0, struct_pack(e164 := '+86' || nsn, ext := CAST(NULL AS VARCHAR),
                               type := CASE WHEN is_fixed THEN 'fixed' ELSE 'mobile' END,
                               valid := true) AS r
        FROM (
            SELECT k0, nsn, {fixed} AS is_fixed, {mobile} AS is_mobile, {general} AS is_valid
            FROM (
                SELECT k0, CASE WHEN d[1] = '0' THEN d[2:] ELSE d END AS nsn
                FROM (SELECT k0, replace(replace(k0, '-', ''), ' ', '') AS d
                      FROM {keys} WHERE regexp_full_match(k0, {quote_literal(_SQL_FORMS)}))
            )
        )
        WHERE is_valid AND (is_fixed OR is_mobile)"""


@lru_cache(maxsize=65536)
def _check_number(candidate: str) -> tuple[str, str | None, bool] | None:
    """(e164, type, valid) for a national digit string, or '+…'/'00…' international ones."""
    if candidate.isdigit() and not candidate.startswith("00"):
        # a Chinese national number: phonenumbers' own patterns, without its parser, which
        # would also guess at country codes inside the digits ('86…') and break idempotence
        nsn = candidate[1:] if candidate.startswith("0") and candidate[1:2] != "0" else candidate
        kind = _cn_type(nsn)
        return ("+86" + nsn, kind, True) if kind else ("+86" + nsn, None, False)
    import phonenumbers

    try:
        num = phonenumbers.parse(candidate, "CN")
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(num):
        return e164, None, False
    nt = phonenumbers.number_type(num)
    kind = "mobile" if nt == phonenumbers.PhoneNumberType.MOBILE else "fixed"
    return e164, kind, True


@_cached(65536)
def parse_phone(s: object) -> Phone:
    """Mobile or landline: +86/0086/86 prefixes, area codes, 转/ext/-extensions, full-width digits.

    Mobiles and landlines are both accepted in either column; ``type`` says which it is.
    Invalid numbers keep a best-effort E.164 with ``valid`` False.
    """
    none = Phone(None, None, None, None)
    if s is None:
        return none
    t = s if isinstance(s, str) else str(s)
    if t.isascii() and t.isdigit():  # the commonest form: nothing to clean, split or cut off
        if is_placeholder(t):
            return none
        return _phone_digits(t, [t], None, False) if len(t) >= 5 else Phone(None, None, None, False)
    t = unicodedata.normalize("NFKC", t).lower().strip()
    if _RX_SPREADSHEET_NUMBER.fullmatch(t):  # a number that went through a spreadsheet
        t = t.split(".")[0]
    t = _clean(t)
    if t is None:
        return none
    segs = [x for x in _PHONE_SPLIT.split(t) if len(_RX_NOT_DIGIT.sub("", x)) >= 5]
    if not segs:
        return Phone(None, None, None, False)
    t = segs[0].strip()
    ext = None
    m = _EXT.search(t)
    if m and len(_RX_NOT_DIGIT.sub("", t[: m.start()])) >= 7:
        ext, t = m.group(1), t[: m.start()]
    plus = t.lstrip().startswith("+")
    groups = _RX_DIGIT_RUN.findall(t)
    digits = "".join(groups)
    if len(digits) < 5:
        return Phone(None, None, None, False)
    return _phone_digits(digits, groups, ext, plus)


def _phone_candidates(d: str, plus: bool) -> list[str]:
    """The national (or '+…' international) numbers a digit string may stand for, likeliest first."""
    out = []
    if plus:
        if d.startswith("86"):
            out.append(d[3:] if d[2:3] == "0" else d[2:])
        else:
            out.append("+" + d)
            return out
    elif d.startswith("0086"):
        out.append(d[5:] if d[4:5] == "0" else d[4:])
    elif d.startswith("86") and len(d) >= 12:
        out.append(d[2:])
    else:
        out.append(d)
    more = []
    if _RX_CARRIER_PREFIX.match(d) and len(d) >= 16:
        more.append(d[5:])  # IP-dialling carrier prefix such as 17951
    for c in out:
        if c.startswith("01") and len(c) == 12 and c[1:2] == "1" and c[2] in "3456789":
            more.append(c[1:])  # 0 dialled before a mobile
        if not c.startswith(("0", "1")) and 9 <= len(c) <= 11:
            more.append("0" + c)  # area code written without its trunk 0
    return out + more


def _phone_digits(digits: str, groups: list[str], ext: str | None, plus: bool) -> Phone:
    """The Phone for a number's digits (in their written groups), extension and '+'."""
    best = None
    cands = _phone_candidates(digits, plus)
    for cand in cands:
        r = _check_number(cand)
        if r is not None and r[2]:
            best = r
            break
    # '021-12345678-801': the last dash group is an extension
    if (best is None or not best[2]) and ext is None and len(groups) >= 3 and len(groups[-1]) <= 5:
        head = "".join(groups[:-1])
        for cand in _phone_candidates(head, plus):
            r = _check_number(cand)
            if r and r[2] and r[1] == "fixed":
                best, ext = r, groups[-1]
                break
    if best is None:
        # invalid: keep a Chinese number's digits as E.164 would write them, for the steward
        first = cands[0]
        nsn = first[1:] if first.startswith("0") and first[1:2] not in ("", "0") else first
        ok = len(nsn) >= 3 and nsn.isdigit() and not nsn.startswith("0")
        # A well-formed number the metadata does not know (a range opened after the library
        # release, a typo that still looks right) stays invalid (a data-quality flag) but
        # keeps its type, so the same digits on two records still count as a match key.
        # Mobiles only: landline area codes are complete in the metadata, while a 3-digit
        # "area code" that looks right is as often a typo as a real number.
        kind = "mobile" if ok and _RX_WELL_FORMED_MOBILE.fullmatch(nsn) else None
        return Phone("+86" + nsn if ok else None, ext, kind, False)
    e164, kind, _valid = best
    return Phone(e164, ext, kind, True)
