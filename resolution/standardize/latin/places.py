"""Administrative divisions by pinyin: province, city and district names found from their
pinyin or English writings (exonyms included), consistent with each other
(``latin_divisions``).
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from resolution.standardize.divisions import (
    _MUNICIPALITIES,
    _PROVINCE_SHORT,
    _TOWN_SUFFIX,
    DivisionIndex,
    division_rows,
    strip_nations,
)
from resolution.standardize.latin.pinyin import (
    _CJK,
    _RX_LETTERS,
    _cn_syl,
    _fold,
    _guard,
    _key,
    _norm,
    _text,
    _words,
)

_LEVEL_SUFFIX = re.compile(
    r"(特别行政区|自治区|自治州|自治县|自治旗|新区|林区|特区|地区|街道|市|区|县|盟|旗|镇|乡|省|州)$"
)
# English names that are not the pinyin of the Chinese one
_EXONYMS = {
    "innermongolia": "内蒙古自治区",
    "neimongol": "内蒙古自治区",
    "tibet": "西藏自治区",
    "shaanxi": "陕西省",
    "hongkong": "香港特别行政区",
    "macau": "澳门特别行政区",
    "macao": "澳门特别行政区",
    "harbin": "哈尔滨市",
    "hohhot": "呼和浩特市",
    "huhhot": "呼和浩特市",
    "urumqi": "乌鲁木齐市",
    "urumchi": "乌鲁木齐市",
    "lhasa": "拉萨市",
    "kashgar": "喀什地区",
    "peking": "北京市",
    "canton": "广州市",
    "amoy": "厦门市",
    "tsingtao": "青岛市",
    "taipei": "台北市",
    "kaohsiung": "高雄市",
    "taichung": "台中市",
}
_COUNTRY = frozenset(
    _words("china prc pr p r c peoples people s republic of the mainland zhongguo cn")
)


def _short_name(name: str) -> str:
    """黔南布依族苗族自治州 → 黔南, 高淳区 → 高淳, 莞城街道 → 莞城 (may be one character).

    Not `divisions._short_name`, the one Chinese text is scanned with: this one also drops
    自治区, 特别行政区 and a final 州, and never returns ''."""
    if name in _PROVINCE_SHORT:
        return _PROVINCE_SHORT[name]
    return strip_nations(_LEVEL_SUFFIX.sub("", name)) or name


def _level_of(name: str) -> str:
    """The level word a unit's name ends with: 区, 县, 市, 省, 自治区, 新区, 街道, 镇 …"""
    m = _LEVEL_SUFFIX.search(name)
    return m.group(1) if m else ""


@lru_cache(maxsize=1)
def _rows() -> list[tuple[str, str, str, str]]:
    """(province, city, district, name written) for every row, aliases included."""
    out = []
    for p, c, d, alias in division_rows():
        if p in _MUNICIPALITIES and not c and not alias:
            out.append((p, p, "", p))
            continue
        out.append((p, c, d, alias or d or c or p))
    for p in ("香港特别行政区", "澳门特别行政区"):
        out.append((p, p, "", p))
    return out


@lru_cache(maxsize=1)
def _division_names() -> frozenset[str]:
    names = set()
    for _p, _c, _d, name in _rows():
        names.add(name)
        names.add(_short_name(name))
    return frozenset(n for n in names if n)


class _Places(DivisionIndex):
    """Division entries by the pinyin of their full and short names (and exonyms)."""

    def __init__(self) -> None:
        from pypinyin import Style, pinyin

        self.index: dict[str, list[tuple[tuple[str, str, str], str]]] = {}
        self.triples: set[tuple[str, str, str]] = set()
        self.prov_district: set[tuple[str, str]] = set()
        self.district_cities: dict[str, set[tuple[str, str]]] = {}
        self.full: dict[str, list[tuple[str, str, str]]] = {}
        self.name_prefixes: set[str] = set()  # region words a company name may start with
        by_real: dict[str, tuple[str, str, str]] = {}

        def readings(name: str) -> list[str]:
            primary = _key("".join(_cn_syl(name)))
            out = [primary]
            if len(name) <= 5:
                het = pinyin(name, style=Style.NORMAL, heteronym=True, errors="default")
                opts = [sorted({_key(_fold(x)) for x in h}) for h in het]
                n = 1
                for o in opts:
                    n *= max(1, len(o))
                if n <= 16:
                    for combo in itertools.product(*opts):
                        k = "".join(combo)
                        if k and k not in out:
                            out.append(k)
            return out

        for p, c, d, name in _rows():
            e = (p, c, d)
            real = d or c or p
            by_real.setdefault(real, e)
            self.triples.add(e)
            if d:
                self.prov_district.add((p, d))
                self.district_cities.setdefault(d, set()).add((p, c))
            self.full.setdefault(name, [])
            if e not in self.full[name]:
                self.full[name].append(e)
            level = _level_of(real)
            town = real.endswith(_TOWN_SUFFIX) or p == "台湾省" and bool(d)
            short = _short_name(name)
            keys = [_key("".join(_cn_syl(name)))]
            if name.startswith(short) and short != name:
                # other readings of the name's own part only: 市 may be read fu, but not here
                suffix = _key("".join(_cn_syl(name[len(short) :])))
                alts = readings(short)
                keys += [a + suffix for a in alts if a + suffix not in keys]
                if len(short) >= 2:
                    keys += [a for a in alts if a not in keys]
            else:
                keys += [a for a in readings(name) if a not in keys]
            for k in keys:
                lst = self.index.setdefault(k, [])
                if (e, level) not in lst:
                    lst.append((e, level))
                if not town or k == keys[0]:  # a town by its full name: 万江街道阿杰商行
                    self.name_prefixes.add(k)
        # in English, Shanxi is 山西 and Shaanxi is 陕西
        self.index["shanxi"] = [x for x in self.index.get("shanxi", []) if x[0][0] != "陕西省"]
        for k, real in _EXONYMS.items():
            e = by_real.get(real)
            if e is not None:
                self.index.setdefault(k, []).insert(0, (e, _level_of(real)))
                self.name_prefixes.add(k)
        self.name_prefixes.update({"china", "zhongguo", "prc"})
        self.name_starts = {k[:i] for k in self.name_prefixes for i in range(1, len(k) + 1)}



@lru_cache(maxsize=1)
def _places() -> _Places:
    return _Places()


class _Possible:
    """The divisions an address may lie in, narrowed mention by mention: 'Fuzhou' (福州 or 抚州)
    and 'Jinan District' (晋安 or 金安) together can only be 福州市晋安区."""

    def __init__(self, options=((None, None, None),)) -> None:
        self.options: list[tuple] = list(options)
        self._state: tuple | None = None  # computed on demand, reset by add()

    def add(self, cands: list[tuple[str, str, str]]) -> bool:
        pl = _places()
        new: list[tuple] = []
        for s in self.options:
            for e in cands:
                if pl.consistent(s, e):
                    o = tuple(a or b or None for a, b in zip(s, e))
                    if o not in new:
                        new.append(o)
        if not new:
            return False
        self.options = new[:64]
        self._state = None
        return True

    @property
    def state(self) -> tuple:
        if self._state is None:
            self._state = self._narrowed()
        return self._state

    def _narrowed(self) -> tuple:
        pl = _places()
        out = []
        for i in range(3):
            vals = {o[i] for o in self.options}
            out.append(vals.pop() if len(vals) == 1 else None)
        return pl.settle(*out)


# Latin level words → (level words of the Chinese names they may stand for, their pinyin)
_LEVELS: dict[tuple[str, ...], tuple[tuple[str, ...], str]] = {
    ("special", "administrative", "region"): (("特别行政区",), ""),
    ("autonomous", "region"): (("自治区",), "zizhiqu"),
    ("autonomous", "prefecture"): (("自治州",), "zizhizhou"),
    ("autonomous", "county"): (("自治县",), "zizhixian"),
    ("autonomous", "banner"): (("自治旗",), "zizhiqi"),
    ("new", "area"): (("新区",), "xinqu"),
    ("new", "district"): (("新区",), "xinqu"),
    ("sub", "district"): (("街道",), "jiedao"),
    ("district",): (("区", "新区", "林区", "特区"), "qu"),
    ("dist",): (("区", "新区"), "qu"),
    ("distr",): (("区", "新区"), "qu"),
    ("distric",): (("区", "新区"), "qu"),
    ("qu",): (("区", "新区"), "qu"),
    ("county",): (("县", "自治县", "旗"), "xian"),
    ("xian",): (("县", "自治县"), "xian"),
    ("city",): (("市",), "shi"),
    ("shi",): (("市",), "shi"),
    ("municipality",): (("市",), "shi"),
    ("province",): (("省",), "sheng"),
    ("prov",): (("省",), "sheng"),
    ("sheng",): (("省",), "sheng"),
    ("xinqu",): (("新区",), "xinqu"),
    ("subdistrict",): (("街道",), "jiedao"),
    ("jiedao",): (("街道",), "jiedao"),
    ("town",): (("镇",), "zhen"),
    ("zhen",): (("镇",), "zhen"),
    ("township",): (("乡",), "xiang"),
    ("banner",): (("旗", "自治旗"), "qi"),
    ("league",): (("盟",), "meng"),
    ("prefecture",): (("地区", "自治州", "州"), "diqu"),
    ("sar",): (("特别行政区",), ""),
    ("region",): (("自治区", "地区"), ""),
}
_LEVEL_MAX = max(len(k) for k in _LEVELS)
_LEVEL_WORDS = frozenset(w for k in _LEVELS for w in k)
# the English ones (a pinyin 'shi' or 'qu' is already part of a full name's reading)
_EN_LEVEL_WORDS = _LEVEL_WORDS - {
    "qu",
    "xian",
    "shi",
    "sheng",
    "xinqu",
    "jiedao",
    "zhen",
    "xiang",
    "qi",
    "meng",
}


def _split_level(words: list[str]) -> tuple[list[str], tuple[str, ...] | None, str]:
    """'gaochun district' → (['gaochun'], ('区', …), 'qu'); no level word → (words, None, '')."""
    for n in range(min(_LEVEL_MAX, len(words)), 0, -1):
        lv = _LEVELS.get(tuple(words[-n:]))
        if lv is not None:
            if n == len(words):  # 'Xian' alone is 西安, not a bare level word
                return words, None, ""
            return words[:-n], lv[0], lv[1]
    return words, None, ""


@lru_cache(maxsize=65536)
def _place_cands(words: tuple[str, ...], mode: str, state: tuple) -> tuple[list, bool]:
    """Division entries a run of Latin words may name, and whether it carried a level word.
    (Cached: callers must not change the list.)

    mode 'column' trusts a bare name; 'address' takes a bare district or town only inside
    a known city (or a known province where it is the only one of its name); 'tail' (the end
    of an address, after its road) also takes a district whose name is unique in China.
    """
    pl = _places()
    base, hint, hint_py = _split_level(list(words))
    tries = [base]
    if hint and ("自治区" in hint or "自治州" in hint or "自治县" in hint):
        tries += [base[:k] for k in range(len(base) - 1, 0, -1)]  # 'guangxi zhuang'
    found: list[tuple[tuple[str, str, str], str]] = []
    for b in tries:
        k = _key("".join(b))
        if not k:
            continue
        found = list(pl.index.get(k, []))
        if hint_py:
            found += [x for x in pl.index.get(k + hint_py, []) if x not in found]
        if found:
            break
    if not found:
        return [], hint is not None
    if hint:
        fits = [x for x in found if x[1] in hint or (x[0][0] in _MUNICIPALITIES and "省" in hint)]
        if fits:
            found = fits
    cands = []
    for e, level in found:
        town = level in ("镇", "乡", "街道")
        needs_city = hint is None and (town or (e[2] and mode != "column"))
        if needs_city and not (state[1] and e[1] == state[1]):
            continue
        cands.append(e)
    if not cands and mode != "column" and hint is None and not state[1]:
        # 'Kunshan, Jiangsu': the only 昆山 in the province; '..., Gaochun' the only 高淳
        inside = [
            e
            for e, lv in found
            if (e[0] == state[0] or (mode == "tail" and not state[0]))
            and lv not in ("镇", "乡", "街道")
        ]
        if len({e for e in inside}) == 1:
            cands = inside
    return cands, hint is not None


def _cn_place_cands(text: str) -> list[tuple[str, str, str]]:
    pl = _places()
    t = text.replace(" ", "")
    if t in pl.full:
        return pl.full[t]
    k = _key("".join(_cn_syl(t)))
    return [e for e, _lv in pl.index.get(k, [])]


# which entries a column names first: a city column's 'Xi'an' is 西安市, not 西安区
_ROLE = {
    "province": lambda e: not e[2] and (not e[1] or e[0] == e[1]),
    "city": lambda e: bool(e[1]) and not e[2],
    "district": lambda e: bool(e[2]),
}


@lru_cache(maxsize=65536)
def _latin_divisions(province: str | None, city: str | None, district: str | None) -> tuple:
    """The possible (province, city, district) triples the three columns allow."""
    poss = _Possible()
    for col, role in ((province, "province"), (city, "city"), (district, "district")):
        if not col:
            continue
        t = _norm(col).replace("'", " ")
        if _CJK.search(t):
            cands = _cn_place_cands(t)
        else:
            words = [w for w in _RX_LETTERS.findall(t) if w not in _COUNTRY]
            if not words:
                continue
            cands, _lv = _place_cands(tuple(words), "column", poss.state)
        cands = [e for e in cands if _ROLE[role](e)] or cands
        if cands:
            poss.add(cands)
    return tuple(poss.options)


@_guard((None, None, None))
def latin_divisions(province: object = None, city: object = None, district: object = None):
    """Canonical (province, city, district) from columns written in pinyin or English
    ('Sichuan Province', "Xi'an", 'Shunyi Qu'), or in Chinese; None where unknown."""
    p, c, d = _Possible(_latin_divisions(_text(province), _text(city), _text(district))).state
    return (p or None, c or None, d or None)
