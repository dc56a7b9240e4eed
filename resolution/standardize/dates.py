"""Date-times in the formats customer systems write them (``parse_datetime``): ISO, Chinese,
day-first, English month names, Java's toString, Excel serials.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

from resolution.standardize.text import _as_text, _words

_RX_EXCEL_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")


# ---------------------------------------------------------------------------------------------
# Date-times
# ---------------------------------------------------------------------------------------------

_DT_YMD = re.compile(
    r"^(?:民国|民國)?(\d{2,4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
    r"(?:[\st]*(?:(上午|下午|晚上|早上|中午|am|pm)\s*)?(\d{1,2})\s*[:时点]\s*(\d{1,2})"
    r"(?:\s*[:分]\s*(\d{1,2})(?:[.,](\d{1,9}))?\s*秒?)?\s*分?)?\s*(am|pm|上午|下午)?\s*"
    r"(z|utc|gmt|[+-]\d{2}(?::?\d{2})?)?$"
)
_DT_DMY = re.compile(
    r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[\st]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?\s*(am|pm)?)?$"
)
_MONTHS = {
    m: i + 1 for i, m in enumerate(_words("jan feb mar apr may jun jul aug sep oct nov dec"))
}
_DT_EN = re.compile(
    r"^(?:(\d{1,2})\s+([a-z]{3})[a-z]*\.?,?\s+(\d{4})|([a-z]{3})[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?"
    r"\s+(\d{4}))(?:\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?\s*(am|pm)?)?$"
)
# Java's Date.toString(), common in exports from Chinese systems: CST is China Standard Time
_DT_JAVA = re.compile(
    r"^(?:[a-z]{3},?\s+)?([a-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+"
    r"(?:cst|ct|gmt\+0?8:?00|utc\+0?8:?00|china standard time)\s+(\d{4})$"
)
_CHINA_TZ = dt.timezone(dt.timedelta(hours=8))
_RX_WEEKDAY = re.compile(r"\(?(?:星期|周|週)[一二三四五六日天]\)?")


def _mk(y, mo, d, h=0, mi=0, sec=0, frac=None, ampm=None, tz=None) -> dt.datetime | None:
    try:
        y, mo, d, h, mi, sec = int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0)
        if ampm in ("pm", "下午", "晚上") and h < 12:
            h += 12
        elif ampm in ("am", "上午", "早上") and h == 12:
            h = 0
        us = int((frac or "0")[:6].ljust(6, "0"))
        v = dt.datetime(y, mo, d, h, mi, sec, us)
    except (ValueError, TypeError):
        return None
    if tz and tz not in ("", None):
        if tz in ("z", "utc", "gmt"):
            off = dt.timedelta(0)
        else:
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            off = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        v = (v.replace(tzinfo=dt.timezone(off)).astimezone(_CHINA_TZ)).replace(tzinfo=None)
    return v if 1900 <= v.year <= 2100 else None


def parse_datetime(s: object) -> dt.datetime | None:
    """A naive China-time datetime from common formats, or None.

    Handles 2024-03-05 10:22:01, 2024/3/5, 2024年3月5日 下午2点, ISO with T/Z/offsets (converted to
    UTC+8), 20240305[102201], dd/mm/yyyy (day first unless the day is > 12 in the middle), English
    month names, 民国 years, Unix seconds/milliseconds and Excel serial days.
    """
    if isinstance(s, dt.datetime):
        if s.tzinfo is not None:
            s = s.astimezone(_CHINA_TZ)
        return s.replace(tzinfo=None)
    if isinstance(s, dt.date):
        return dt.datetime(s.year, s.month, s.day)
    return _parse_datetime_text(_as_text(s))


@lru_cache(maxsize=65536)
def _parse_datetime_text(t: str | None) -> dt.datetime | None:
    if t is None:
        return None
    t = unicodedata.normalize("NFKC", t).strip().lower().replace("時", "时").replace("點", "点")
    if "星期" in t or "周" in t or "週" in t:  # 2024/03/05 星期二, 2024-03-05(周二)
        t = _RX_WEEKDAY.sub(" ", t).strip()
    if not t:
        return None
    m = _DT_YMD.match(t)
    if m:
        y = int(m.group(1))
        if len(m.group(1)) == 2:
            if not t.startswith(("民国", "民國")):
                y += 2000 if y < 70 else 1900
            else:
                y += 1911
        elif len(m.group(1)) == 3 or t.startswith(("民国", "民國")):
            y += 1911
        return _mk(
            y,
            m.group(2),
            m.group(3),
            m.group(5),
            m.group(6),
            m.group(7),
            m.group(8),
            m.group(4) or m.group(9),
            m.group(10),
        )
    m = _DT_DMY.match(t)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        d, mo = (b, a) if b > 12 and a <= 12 else (a, b)
        return _mk(m.group(3), mo, d, m.group(4), m.group(5), m.group(6), None, m.group(7))
    m = _DT_JAVA.match(t)
    if m and m.group(1) in _MONTHS:
        return _mk(m.group(6), _MONTHS[m.group(1)], m.group(2), m.group(3), m.group(4), m.group(5))
    m = _DT_EN.match(t)
    if m:
        if m.group(1):
            d, mon, y = m.group(1), m.group(2), m.group(3)
        else:
            mon, d, y = m.group(4), m.group(5), m.group(6)
        if mon not in _MONTHS:
            return None
        return _mk(y, _MONTHS[mon], d, m.group(7), m.group(8), m.group(9), None, m.group(10))
    if t.isdigit():
        if len(t) == 8:
            return _mk(t[:4], t[4:6], t[6:8])
        if len(t) == 14:
            return _mk(t[:4], t[4:6], t[6:8], t[8:10], t[10:12], t[12:14])
        if len(t) in (10, 13):
            secs = int(t) / (1000 if len(t) == 13 else 1)
            try:
                v = dt.datetime.fromtimestamp(secs, _CHINA_TZ).replace(tzinfo=None)
            except (OverflowError, OSError, ValueError):
                return None
            return v if 1990 <= v.year <= 2100 else None
    if _RX_EXCEL_SERIAL.fullmatch(t):  # Excel serial day number
        v = float(t)
        if 25000 <= v <= 80000:
            return (dt.datetime(1899, 12, 30) + dt.timedelta(days=v)).replace(microsecond=0)
    return None
