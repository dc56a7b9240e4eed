"""Text basics every field gets: full-width → half-width (NFKC), traditional → simplified
(OpenCC t2s), brackets and punctuation unified, whitespace collapsed, Latin lower-cased
(``text_basic``); the values that mean "missing" (``is_placeholder``); Chinese numerals as digits;
and the small helpers (``_cached``, ``_as_text``) that make every standardizer total.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from functools import lru_cache

_RX_BRACKETED = re.compile(r"\([^()]*\)")
_RX_ALNUM_RUN = re.compile(r"[a-z0-9]+")
_RX_SPACES = re.compile(r"\s+")

# ---------------------------------------------------------------------------------------------
# Text basics
# ---------------------------------------------------------------------------------------------


# After NFKC: brackets of every kind become (), CJK punctuation its ASCII twin, dashes '-'.
def _words(text: str) -> list[str]:
    """Whitespace-separated word lists, kept readable in the source."""
    return text.split()


_PUNCT = str.maketrans(
    {
        "【": "(",
        "】": ")",
        "〔": "(",
        "〕": ")",
        "［": "(",
        "］": ")",
        "[": "(",
        "]": ")",
        "｛": "(",
        "｝": ")",
        "{": "(",
        "}": ")",
        "〖": "(",
        "〗": ")",
        "〘": "(",
        "〙": ")",
        "《": "(",
        "》": ")",
        "〈": "(",
        "〉": ")",
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "“": '"',
        "”": '"',
        "„": '"',
        "‘": "'",
        "’": "'",
        "、": ",",
        "。": ".",
        "｡": ".",
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
        "ー": "-",
        "〜": "~",
        "～": "~",
        "・": "·",
        "•": "·",
        "‧": "·",
        "∙": "·",
        "･": "·",
    }
)
_WS = re.compile(r"\s+")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_PUNCT_RE = re.compile("[" + re.escape("".join(chr(k) for k in _PUNCT)) + "]")
_trad_re: re.Pattern | None = None
_unstable_re: re.Pattern | None = None  # any character a text pass would change or drop


@lru_cache(maxsize=1)
def _opencc_t2s():
    """The one OpenCC traditional → simplified converter (loading it takes a while)."""
    import opencc

    return opencc.OpenCC("t2s")


def _t2s(s: str) -> str:
    """Traditional → simplified with OpenCC, skipped when no character has a simplified form
    of its own. So phrases whose characters are each simplified already stay as written
    (藉口, 瞭解; `_t2s_phrases` gives 借口, 了解): text_basic's behaviour, which the
    standardized values and their cache depend on."""
    global _trad_re, _unstable_re
    if _trad_re is None:
        converter = _opencc_t2s()
        probe = [chr(c) for c in range(0x3400, 0xA000)] + [chr(c) for c in range(0xF900, 0xFB00)]
        trad = re.escape("".join(c for c in probe if converter.convert(c) != c))
        _trad_re = re.compile("[" + trad + "]")
        _unstable_re = re.compile("[" + _PUNCT_RE.pattern[1:-1] + _CTRL.pattern[1:-1] + trad + "]")
    if _trad_re.search(s):
        return _opencc_t2s().convert(s)
    return s


def _t2s_phrases(s: str) -> str:
    """Traditional → simplified with OpenCC over the whole text, phrase conversions included
    (藉口 → 借口): what the Latin keys read Chinese with (`latin.pinyin._norm`)."""
    return _opencc_t2s().convert(s)


def _text_pass(s: str) -> str:
    if s.isascii():
        s = s.translate(_PUNCT)
        if not s.isprintable():
            s = _CTRL.sub("", s)
        return " ".join(s.split()).lower()
    s = unicodedata.normalize("NFKC", s)
    if _PUNCT_RE.search(s):  # a regex scan is cheaper than translating character by character
        s = s.translate(_PUNCT)
    s = _CTRL.sub("", s)
    s = _t2s(s)
    return " ".join(s.split()).lower()


def _stable(t: str) -> bool:
    """True when another _text_pass would not change t (checked without running one)."""
    return unicodedata.is_normalized("NFKC", t) and not _unstable_re.search(t) and t.lower() == t


def text_basic(s: object) -> str | None:
    """Text basics: NFKC, t2s, () for every bracket, unified punctuation, collapsed spaces, lower.

    Returns None for None or text that is empty after cleaning. Idempotent.
    """
    if s is None:
        return None
    if not isinstance(s, str):
        s = _as_text(s)
        if s is None:
            return None
    t = _text_pass(s)
    if not t.isascii():
        for _ in range(4):  # a few exotic characters change again on a second pass
            if _stable(t):
                break
            t = _text_pass(t)
    return t or None


_PLACEHOLDERS = frozenset(
    _words("""- -- --- / // . .. ... ? ?? * 0 00 000 无 暂无 没有 无无 空 空白 未知 不详 不明 未填 未填写 待定
    待补充 待完善 待确认 null none nil nan n/a na n.a. nil \\n unknown 不知道 测试 test 其他 其它 x xx xxx
    #n/a #null! 略 /// 0000 00000000000""")
)


def is_placeholder(t: str | None) -> bool:
    """True for values that stand for "missing" (无, 暂无, N/A, -, 0, …) after text basics."""
    return t is None or t in _PLACEHOLDERS


def _clean(s: object) -> str | None:
    t = text_basic(s)
    return None if is_placeholder(t) else t


def _as_text(x: object) -> str | None:
    if x is None or isinstance(x, str):
        return x
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, (bytes, bytearray)):
        return bytes(x).decode("utf-8", "replace")
    try:
        return str(x)
    except Exception:
        return None


def _cached(maxsize: int):
    """lru_cache over text inputs: any argument is first turned into str or None, so unhashable
    or odd inputs never raise."""

    def deco(fn):
        cached = lru_cache(maxsize=maxsize)(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return cached(
                *(_as_text(a) for a in args), **{k: _as_text(v) for k, v in kwargs.items()}
            )

        wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return wrapper

    return deco


# ---------------------------------------------------------------------------------------------
# Chinese numerals
# ---------------------------------------------------------------------------------------------

_CN_DIGIT = {
    "零": "0",
    "〇": "0",
    "○": "0",
    "o": "0",
    "一": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_CN_NUM_CHARS = "零〇○一二两三四五六七八九十百千"


@lru_cache(maxsize=4096)
def _cn_to_digits(s: str) -> str | None:
    """'一百二十三' → '123', '二〇一' → '201'; None when not a number."""
    if any(c in "十百千" for c in s):
        try:
            import cn2an

            v = cn2an.cn2an(s.replace("〇", "零").replace("○", "零"), "smart")
        except Exception:
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v) if isinstance(v, int) and v >= 0 else None
    if "两" in s and len(s) > 1:
        return None
    out = [_CN_DIGIT.get(c) for c in s]
    return None if None in out else "".join(out)


# numerals directly before an address or branch unit; road names like 五四路 are left alone
_UNIT = r"(?:号楼|号院|号|支弄|弄|栋|幢|座|楼|层|室|单元|巷|排|组|期|段|门|户|分店|分公司|店|街坊|区(?=\d))"
_RX_CJK_SPACES = re.compile(r"(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])")
_RX_CN_NUM_CHAR = re.compile(f"[{_CN_NUM_CHARS}]")
_CN_NUM_UNIT = re.compile(rf"第?([{_CN_NUM_CHARS}]{{1,8}})(?={_UNIT})")


def _numerals_to_digits(s: str) -> str:
    def repl(m: re.Match) -> str:
        d = _cn_to_digits(m.group(1))
        return m.group(0) if d is None else d

    return _CN_NUM_UNIT.sub(repl, s)
