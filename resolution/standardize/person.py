"""Person names (``person_name``) and the pinyin keys they share with their pinyin and
English writings (``pinyin_key``): surnames read as surnames, compound surnames, titles dropped,
several names in one field.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from resolution.standardize.text import (
    _CJK,
    _RX_ALNUM_RUN,
    _RX_BRACKETED,
    _cached,
    _clean,
    _words,
    is_placeholder,
    text_basic,
)

# precompiled patterns used inside the standardizers (the re module's cache lookup is slow)
_RX_NOT_KEY = re.compile(r"[^a-z0-9]")
_RX_NOT_CJK_NAME = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff·]")


# ---------------------------------------------------------------------------------------------
# Pinyin
# ---------------------------------------------------------------------------------------------

_SURNAME_PINYIN = {
    "单": "shan",
    "曾": "zeng",
    "仇": "qiu",
    "解": "xie",
    "区": "ou",
    "朴": "piao",
    "查": "zha",
    "盖": "ge",
    "乐": "yue",
    "缪": "miao",
    "翟": "zhai",
    "秘": "bi",
    "覃": "qin",
    "员": "yun",
    "召": "shao",
    "句": "gou",
    "种": "chong",
    "重": "chong",
    "折": "she",
    "繁": "po",
    "能": "nai",
    "都": "du",
    "便": "pian",
    "应": "ying",
    "曲": "qu",
    "柏": "bai",
    "薄": "bo",
    "石": "shi",
    "纪": "ji",
    "燕": "yan",
    "宁": "ning",
    "车": "che",
    "贾": "jia",
    "粘": "nian",
    "隗": "wei",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "长孙": "zhangsun",
    "沈": "shen",
    "莘": "shen",
    "尉": "yu",
    "率": "shuai",
    "阚": "kan",
    "黑": "he",
    "藏": "zang",
    "朝": "chao",
    "盛": "sheng",
    "华": "hua",
    "任": "ren",
    "谌": "chen",
    "洗": "xian",
    "冼": "xian",
    "殷": "yin",
    "翁": "weng",
    "过": "guo",
}
_COMPOUND_SURNAMES = frozenset(
    _words("""欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 夏侯 司徒 端木 宇文 长孙 独孤 南宫 西门 轩辕 澹台 百里
    呼延 万俟 闻人 钟离 申屠 拓跋 赫连 公羊 东郭 太史 司空 濮阳 淳于 单于 仲孙 宗政 公冶 乐正 羊舌 微生 梁丘
    左丘 东门 第五 鲜于 闾丘 亓官 司寇 子车 颛孙 壤驷 公良 漆雕 谷梁 巫马 南门 夹谷 公西""")
)


@lru_cache(maxsize=65536)
def _char_pinyin(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(ch, style=Style.NORMAL, errors="default")[0]


@lru_cache(maxsize=32768)
def _phrase_pinyin(s: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(s, style=Style.NORMAL, errors="default"))


_RX_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _ascii_fold(s: str) -> str:
    """Lower-case with accents dropped (Zhāng → zhang) and ü written v, as pinyin keyboards do."""
    if s.isascii():
        return s.lower()
    s = unicodedata.normalize("NFKD", s.replace("ü", "v").replace("Ü", "v"))
    return _RX_COMBINING.sub("", s).lower()


def _key_chars(s: str) -> str:
    """Lower-case ASCII letters and digits only; ü/v both become u (people type lv, lu, lü)."""
    return _RX_NOT_KEY.sub("", _ascii_fold(s)).replace("v", "u")


def pinyin_key(s: str | None) -> str | None:
    """Tone-less pinyin of Chinese text (phrase-aware), or the folded Latin text; ASCII only."""
    t = text_basic(s)
    if not t:
        return None
    if _CJK.search(t):
        t = "".join(_phrase_pinyin(t))
    k = _key_chars(t)
    return k or None


@lru_cache(maxsize=1)
def _syllables() -> tuple[frozenset[str], int]:
    from pypinyin.pinyin_dict import pinyin_dict

    out = set()
    for v in pinyin_dict.values():
        for r in v.split(","):
            r = _ascii_fold(r)
            if r.isalpha() and any(c in "aeiou" for c in r):
                out.add(r.replace("v", "u"))
    return frozenset(out), max(len(x) for x in out)


@lru_cache(maxsize=65536)
def _segment(token: str) -> tuple[str, ...]:
    """Split a run of pinyin into syllables (fewest syllables, longest first); else the token."""
    syl, mx = _syllables()
    n = len(token)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[n] = ()
    for i in range(n - 1, -1, -1):
        for j in range(min(n, i + mx), i, -1):
            if best[j] is not None and token[i:j] in syl:
                cand = (token[i:j],) + best[j]
                if best[i] is None or len(cand) < len(best[i]):
                    best[i] = cand
    return best[0] if best[0] else (token,)


def _person_key(parts: list[str]) -> str | None:
    syl: list[str] = []
    for p in parts:
        k = _key_chars(p)
        if k:
            syl.extend(_segment(k) if k.isalpha() else (k,))
    return "".join(sorted(syl)) or None


# ---------------------------------------------------------------------------------------------
# Person names
# ---------------------------------------------------------------------------------------------


class PersonName(NamedTuple):
    std: str | None  # the name after text basics, titles removed, no spaces between Chinese
    surname: str | None  # Chinese surname (欧阳 for compound ones); None for Latin names
    given: str | None
    pinyin: str | None  # order-insensitive key: sorted pinyin syllables, e.g. 'weizhang'


_TITLES = re.compile(
    r"(?:总经理|副总经理|经理|副总|老总|总监|主管|董事长|董事|总裁|老板娘|老板|厂长|店长|店主|掌柜|主任|"
    r"会计|出纳|财务|采购|收货|仓管|库管|前台|联系人|负责人|法人|先生|女士|小姐|太太|夫人|阿姨|师傅|"
    r"老师|医生|大夫|律师|同志|总|姐|哥)$"
)
_LATIN_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "mx", "sir", "madam", "prof", "mister"})
_MULTI_SEP = re.compile(r"[/;|]|、|(?<=[\u4e00-\u9fff]),|及|和(?=[\u4e00-\u9fff]{2})")


@_cached(65536)
def person_name(s: object) -> PersonName:
    """Person name: simplified, titles (先生/经理/…) dropped, surname split, pinyin key."""
    return _person(_clean(s))


def _person(t: str | None) -> PersonName:
    none = PersonName(None, None, None, None)
    if t is None:
        return none
    t = _RX_BRACKETED.sub(" ", t)
    parts = [p for p in _MULTI_SEP.split(t) if p.strip()]
    if not parts:
        return none
    t = parts[0].strip()
    if _CJK.search(t):
        name = _RX_NOT_CJK_NAME.sub("", t).strip("·")
        while True:
            m = _TITLES.search(name)
            if not m or m.start() == 0:
                break
            name = name[: m.start()]
        if is_placeholder(name or None):
            return none
        if "·" in name:
            surname, given = None, name
            parts = [_key_chars("".join(_char_pinyin(c) for c in w)) for w in name.split("·")]
        else:
            surname = name[:2] if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else name[0]
            given = name[len(surname) :] or None
            sp = _SURNAME_PINYIN.get(surname) or "".join(_char_pinyin(c) for c in surname)
            parts = [sp, "".join(_char_pinyin(c) for c in (given or ""))]
        return PersonName(name, surname, given, _person_key(parts))
    tokens = [
        w
        for w in _RX_ALNUM_RUN.findall(_ascii_fold(t))
        if w not in _LATIN_TITLES and not w.isdigit()  # "Zhang Wei 13800138000"
    ]
    if not tokens or not any(w.isalpha() for w in tokens) or is_placeholder(" ".join(tokens)):
        return none
    return PersonName(" ".join(tokens), None, None, _person_key(tokens))
