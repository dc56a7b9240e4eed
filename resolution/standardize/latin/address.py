"""Roads and Latin addresses: ``road_key`` in either script, ``parse_latin_address`` (an
English or pinyin address in its Chinese parts) and ``number_key``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from resolution.standardize.latin.names import _EN_NUMS, _STOP, _cn_number
from resolution.standardize.latin.pinyin import (
    _CJK,
    _RX_LETTERS_OR_DIGITS,
    _RX_ORDINAL,
    _guard,
    _key,
    _norm,
    _pinyin,
    _segment,
    _text,
    _weight,
)
from resolution.standardize.latin.places import _COUNTRY, _latin_divisions, _place_cands, _Possible

# precompiled: re.sub/re.search with a pattern string pay a cache lookup on every call
_RX_LETTER = re.compile(r"[a-z]")
_RX_DIGITS = re.compile(r"\d+")
_RX_SPACES = re.compile(r"\s+")
_RX_SLASH_FLOOR = re.compile(r"(\d+)\s*/\s*f\b")


# ---------------------------------------------------------------------------------------------
# Roads
# ---------------------------------------------------------------------------------------------

_CN_ROAD = re.compile(
    r"^(?P<base>.*?)(?P<dir>[东西南北中])?(?P<num>[0-9]+|[一二三四五六七八九十]{1,3})?"
    r"(?P<type>大道|大街|公路|路|街|巷|胡同|道)$"
)
_CN_TYPE = {
    "大道": "dadao",
    "大街": "jie",
    "公路": "gonglu",
    "路": "lu",
    "街": "jie",
    "巷": "xiang",
    "胡同": "hutong",
    "道": "dao",
}
_CN_DIR = {"东": "dong", "西": "xi", "南": "nan", "北": "bei", "中": "zhong"}
_LATIN_TYPE = {
    "road": "lu", "rd": "lu", "lu": "lu",
    "street": "jie", "st": "jie", "str": "jie", "jie": "jie", "dajie": "jie",
    "avenue": "dadao", "ave": "dadao", "av": "dadao", "avn": "dadao", "dadao": "dadao",
    "boulevard": "dadao", "blvd": "dadao", "blv": "dadao",
    "lane": "xiang", "ln": "xiang", "alley": "xiang", "xiang": "xiang",
    "hutong": "hutong",
    "highway": "gonglu", "hwy": "gonglu", "gonglu": "gonglu",
    "dao": "dao",
}  # fmt: skip
_LATIN_DIR = {
    "north": "bei", "n": "bei", "northern": "bei", "no": None,
    "south": "nan", "s": "nan", "southern": "nan",
    "east": "dong", "e": "dong", "eastern": "dong",
    "west": "xi", "w": "xi", "western": "xi",
    "middle": "zhong", "mid": "zhong", "central": "zhong", "centre": "zhong", "center": "zhong",
    "m": "zhong",
}  # fmt: skip
_LATIN_DIR.pop("no")
_PY_DIR = frozenset({"bei", "nan", "dong", "xi", "zhong"})
# 'Keji Nanlu', 'Renmin Dongdajie': direction and road type written as one word
_COMPOUND_TYPE = {
    d + t: d + _LATIN_TYPE[t] for d in _PY_DIR for t in ("lu", "jie", "dajie", "dadao", "gonglu")
}
_ROAD_SUFFIXES = ("dadao", "dajie", "gonglu", "hutong", "lu", "jie", "xiang", "dao")
_SECTION = frozenset({"section", "sec", "duan"})
_RX_LEADING_NUMBER = re.compile(
    r"^\W*(?:no\b\W*)?\d+(?:\s*-\s*\d+)*(?:\s*hao\b)?[\s,.;:#]+(?=[a-z])"
)


def _finish_road(k: str) -> str | None:
    if k.endswith("dajie"):
        k = k[:-5] + "jie"  # 大街 and 街 are one street in every writing ("Street", "Dajie")
    return k or None


def _cn_road_key(t: str) -> str | None:
    m = _CN_ROAD.match(t)
    if not m:
        return _finish_road(_pinyin(t))
    base, d, num, typ = m.group("base"), m.group("dir"), m.group("num"), m.group("type")
    if num and (len(base) < 2 or base[-1] in "一二三四五六七八九十0123456789"):
        base, num = base + (d or "") + num, None  # 五一路, 八一路: the number is the name
        d = None
    if d and not base:
        base, d = d, None
    n = ""
    if num:
        v = _cn_number(num)
        n = str(v) if v is not None else _pinyin(num)
    return _finish_road(_pinyin(base) + (_CN_DIR[d] if d else "") + n + _CN_TYPE[typ])


def _latin_road_key(t: str) -> str | None:
    t = _RX_ORDINAL.sub(r"\1", t)
    # a house number written first ('738 datong rd', 'no. 5, ...'), apart from the name
    t = _RX_LEADING_NUMBER.sub("", t)
    toks = _RX_LETTERS_OR_DIGITS.findall(t)
    for i, w in enumerate(toks):
        if w in _SECTION and i > 0:
            toks = toks[:i]
            break
    typ_at = max(
        (i for i, w in enumerate(toks) if (w in _LATIN_TYPE or w in _COMPOUND_TYPE) and i > 0),
        default=None,
    )
    if typ_at is None:
        return _finish_road(_key("".join(toks)))
    typ = _LATIN_TYPE.get(toks[typ_at]) or _COMPOUND_TYPE[toks[typ_at]]
    before, after = toks[:typ_at], toks[typ_at + 1 :]
    dirs: list[str] = []
    lead: list[str] = []
    while (
        len(before) > 1
        and before[0] in _LATIN_DIR
        and len(before[0]) > 1
        or (len(before) > 1 and before[0] in ("n", "s", "e", "w"))
    ):
        lead.append(_LATIN_DIR[before[0]])
        before = before[1:]
    nums: list[str] = []
    while (
        before
        and (before[-1].isdigit() or before[-1] in _EN_NUMS or before[-1] in ("no",))
        and len(before) > 1
    ):
        w = before.pop()
        if w != "no":
            nums.insert(0, w if w.isdigit() else str(_EN_NUMS[w]))
    mid: list[str] = []
    while len(before) > 1 and before[-1] in _LATIN_DIR:
        mid.insert(0, _LATIN_DIR[before.pop()])
    for w in after:
        if w in _LATIN_DIR:
            dirs.append(_LATIN_DIR[w])
        elif w.isdigit() and not nums:
            nums.append(w)
        else:
            break
    base = _key("".join(before))
    d = "".join(mid or lead or dirs)
    return _finish_road(base + d + "".join(nums) + typ)


@lru_cache(maxsize=65536)
def _road_key(s: str) -> str | None:
    t = _norm(s)
    if _CJK.search(t):
        t = _RX_SPACES.sub("", t)
        return _cn_road_key(t)
    return _latin_road_key(t.replace("'", ""))


@_guard(None)
def road_key(road: object) -> str | None:
    """One ASCII key for a road in Chinese, pinyin or English.

    大同路, "Datong Road" and 'datong rd' give 'datonglu'; 中山北路, "Zhongshan North Road",
    "Zhongshan Rd N." and "North Zhongshan Road" give 'zhongshanbeilu'; 民主街 and 'minzhu
    street' 'minzhujie' (大街 / "Dajie" too); 大道 / avenue / boulevard are 'dadao'; 中山三路 and
    "Zhongshan 3rd Road" 'zhongshan3lu'.
    """
    t = _text(road)
    if not t or not t.strip():
        return None
    return _road_key(t)


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------


class LatinAddress(NamedTuple):
    province: str | None  # canonical Chinese full names from cn_divisions.csv: 江苏省
    city: str | None  # 南京市
    district: str | None  # 高淳区
    road_key: str | None  # as road_key(): 'datonglu'
    number: str | None  # house number digits: '738'; with a lane (Lane 1000, No. 134) '1000-134'
    building: str | None  # as parse_address writes it: '12栋', '4栋3单元'
    room: str | None  # '2304室', or the floor '23层' when no room is given


_ROOM_WORDS = frozenset({"room", "rm", "flat", "suite", "ste", "apt", "apartment"})
_BLDG_WORDS = frozenset({"building", "bldg", "bld", "blk", "block", "tower", "twr"})
_FLOOR_WORDS = frozenset({"floor", "fl", "flr", "storey"})
_SHOP_WORDS = frozenset({"shop", "stall", "booth", "counter", "unit"})
_LANE_WORDS = frozenset({"lane", "ln", "alley", "nong"})
_NO_WORDS = frozenset({"no", "num", "number", "hao"})
_UNIT_WORDS = _ROOM_WORDS | _BLDG_WORDS | _FLOOR_WORDS | _SHOP_WORDS | _NO_WORDS | {"f"}
_SEP_TOK = ","
_RX_ADDR_TOKEN = re.compile(r"[a-z]+|\d+(?:\s*-\s*\d+)*|[,;()/|]")


def _is_num(tok: str) -> bool:
    return bool(tok) and tok[0].isdigit()


def _road_span(toks: list[str], used: list[bool]) -> tuple[int, int, int | None] | None:
    """(start, end, house-number index) of the road, or None. With several roads, the last
    one that has a house number next to it ('738 Datong Road', 'Datong Road No. 738')."""
    n = len(toks)
    spans = []
    for k, w in enumerate(toks):
        if used[k] or not w.isalpha():
            continue
        is_type = w in _LATIN_TYPE or w in _COMPOUND_TYPE
        if not is_type:
            # '738 Datonglu': a pinyin road written as one word, next to a number
            if not (len(w) >= 5 and w.endswith(_ROAD_SUFFIXES) and len(_segment(w) or ()) >= 3):
                continue
            if not ((k > 0 and _is_num(toks[k - 1])) or (k + 1 < n and _is_num(toks[k + 1]))):
                continue
        if w in _LANE_WORDS and k + 1 < n and _is_num(toks[k + 1]):
            continue  # 'Lane 1000' numbers a lane
        b = k
        if is_type:
            j = k - 1
            if j >= 1 and _is_num(toks[j]) and not used[j] and _base_word(toks[j - 1]):
                j -= 1  # 'Zhongshan 1 Road' (1st, after ordinals are folded)
            while j >= 0 and k - j <= 5 and not used[j] and _base_word(toks[j]):
                j -= 1
            b = j + 1
            if not any(toks[x].isalpha() for x in range(b, k)):
                continue  # a bare 'Road'
            b = _drop_leading_place(toks, b, k)
        e = k + 1
        while e < n and not used[e] and toks[e] in _LATIN_DIR:
            e += 1
        if (
            e + 1 < n
            and toks[e] == _SEP_TOK
            and toks[e + 1] in _LATIN_DIR
            and (e + 2 == n or toks[e + 2] == _SEP_TOK)
        ):
            e += 2  # 'Zhongshan Rd. (N)'

        num = None
        if b > 0 and _is_num(toks[b - 1]) and not used[b - 1]:
            num = b - 1
        else:
            j = e
            while j < n and (toks[j] == _SEP_TOK or toks[j] in _NO_WORDS) and j - e < 3:
                j += 1
            if j < n and _is_num(toks[j]) and not used[j]:
                nxt = toks[j + 1] if j + 1 < n else ""
                if nxt not in _BLDG_WORDS and nxt not in _FLOOR_WORDS and nxt != "f":
                    num = j
        spans.append((num is not None, k, b, e, num))
    if not spans:
        return None
    _has, _k, b, e, num = max(spans)
    return b, e, num


def _base_word(w: str) -> bool:
    return w.isalpha() and w not in _UNIT_WORDS and w not in _LANE_WORDS and w not in _STOP


def _drop_leading_place(toks: list[str], b: int, k: int) -> int:
    """'Jiangsu Nanjing Gaochun Datong Lu' → the road starts at 'Datong': places written
    before a road name in Chinese order are left for the division scan."""
    poss = _Possible()
    while k - b >= 2:
        for ln in range(min(3, k - b - 1), 0, -1):
            rest = toks[b + ln : k]
            if rest[0] in _LATIN_DIR or rest[0] in _PY_DIR or sum(_weight(w) for w in rest) < 2:
                continue
            cands, _lv = _place_cands(tuple(toks[b : b + ln]), "address", poss.state)
            if cands and poss.add(cands):
                b += ln
                break
        else:
            return b
    return b


def _scan_admin(toks: list[str], used: list[bool], poss: _Possible, backwards: bool) -> None:
    """Consume division names from one end of the address (up to the road or the units)."""
    n = len(toks)
    pos = n if backwards else 0
    while True:
        # skip separators, the country and postcodes
        while pos > 0 if backwards else pos < n:
            i = pos - 1 if backwards else pos
            w = toks[i]
            if used[i] or not (w == _SEP_TOK or w in _COUNTRY or (w.isdigit() and len(w) == 6)):
                break
            pos += -1 if backwards else 1
        if pos == 0 and backwards or pos == n and not backwards:
            return
        run = []
        i = pos - 1 if backwards else pos
        while 0 <= i < n and not used[i] and toks[i].isalpha() and len(run) < 6:
            run.append(i)
            i += -1 if backwards else 1
        if backwards:
            run.reverse()
        matched = False
        for ln in range(len(run), 0, -1):
            idx = run[-ln:] if backwards else run[:ln]
            words = tuple(toks[x] for x in idx)
            cands, leveled = _place_cands(words, "tail" if backwards else "address", poss.state)
            if not cands:
                continue
            if not poss.add(cands):
                if leveled:  # a named unit that disagrees: skip it, keep looking
                    for x in idx:
                        used[x] = True
                    pos = idx[0] if backwards else idx[-1] + 1
                    matched = True
                    break
                continue
            for x in idx:
                used[x] = True
            pos = idx[0] if backwards else idx[-1] + 1
            matched = True
            break
        if not matched:
            return


@lru_cache(maxsize=65536)
def _parse_latin(text: str | None, province, city, district) -> LatinAddress:
    poss = _Possible(_latin_divisions(province, city, district))
    t = _norm(text) if text else ""
    if not t or _CJK.search(t) or not _RX_LETTER.search(t):
        p, c, d = poss.state
        return LatinAddress(p or None, c or None, d or None, None, None, None, None)
    t = t.replace("'", " ").replace("’", " ").replace("#", " no ").replace("&", " and ")
    t = _RX_ORDINAL.sub(r"\1", t)
    t = _RX_SLASH_FLOOR.sub(r"\1 f", t)
    toks = [_SEP_TOK if x in ",;()/|" else _RX_SPACES.sub("", x) for x in _RX_ADDR_TOKEN.findall(t)]
    n = len(toks)
    used = [False] * n
    room = floor = building = unit = lane = None

    def num_after(i: int) -> int | None:
        j = i + 1
        if j < n and toks[j] in _NO_WORDS:
            j += 1
        return j if j < n and _is_num(toks[j]) else None

    def id_after(i: int) -> int | None:
        j = num_after(i)
        if j is None and i + 1 < n and len(toks[i + 1]) == 1 and toks[i + 1].isalpha():
            j = i + 1
        return j

    for i, w in enumerate(toks):
        if used[i]:
            continue
        if w in _ROOM_WORDS and (j := num_after(i)) is not None and room is None:
            room, used[i], used[j] = toks[j], True, True
        elif w == "unit" and (j := num_after(i)) is not None:
            if len(toks[j]) <= 2 and unit is None:
                unit = toks[j]
            elif room is None:
                room = toks[j]
            used[i] = used[j] = True
        elif w in _BLDG_WORDS and building is None and (j := id_after(i)) is not None:
            building, used[i], used[j] = toks[j], True, True  # 'Building 12', 'Tower A'
            if j > i + 1:
                used[i + 1] = True
        elif w in _FLOOR_WORDS and (j := num_after(i)) is not None:
            floor, used[i], used[j] = toks[j], True, True
        elif w in _SHOP_WORDS and (j := num_after(i)) is not None:
            used[i] = used[j] = True
        elif w in _LANE_WORDS and (j := num_after(i)) is not None:
            lane, used[i], used[j] = toks[j], True, True
        elif _is_num(w) and i + 1 < n and not used[i + 1]:
            nxt = toks[i + 1]
            if nxt in ("f",) or nxt in _FLOOR_WORDS:
                floor, used[i], used[i + 1] = w, True, True
            elif nxt in _BLDG_WORDS and len(w) <= 3 and building is None:
                building, used[i], used[i + 1] = w, True, True
    road = number = None
    span = _road_span(toks, used)
    if span is not None:
        b, e, num = span
        road = _latin_road_key(" ".join(toks[b:e]))
        for x in range(b, e):
            used[x] = True
        if num is not None:
            number = toks[num]
            used[num] = True
            if num > 0 and toks[num - 1] in _NO_WORDS:
                used[num - 1] = True
    if number is None:  # 'No. 5' anywhere
        for i, w in enumerate(toks):
            if w in _NO_WORDS and not used[i] and (j := num_after(i)) is not None and not used[j]:
                number, used[i], used[j] = toks[j], True, True
                break
    if number is not None and lane is not None:
        number = f"{lane}-{number}"
    elif number is None and lane is not None:
        number = lane
    for i, w in enumerate(toks):
        if w in _NO_WORDS and i + 1 < n and used[i + 1]:
            used[i] = True
    _scan_admin(toks, used, poss, backwards=True)
    _scan_admin(toks, used, poss, backwards=False)
    p, c, d = poss.state
    bld = f"{building}栋" + (f"{unit}单元" if unit else "") if building else None
    rm = f"{room}室" if room else (f"{floor}层" if floor else None)
    return LatinAddress(p or None, c or None, d or None, road, number, bld, rm)


@_guard(LatinAddress(None, None, None, None, None, None, None))
def parse_latin_address(
    text: object, province: object = None, city: object = None, district: object = None
) -> LatinAddress:
    """A Latin address in its Chinese parts.

    "Room 2304, Building 12, Haitang Yaju, 738 Datong Road, Gaochun District, Nanjing" →
    (江苏省, 南京市, 高淳区, 'datonglu', '738', '12栋', '2304室'). Province, city and district
    come from their pinyin or English names ("Inner Mongolia", "Xi'an", 'Shunyi Qu',
    "Binhai New Area"), consistent with each other and with the optional province / city /
    district columns (Latin or Chinese). Chinese text gives only what the columns say.
    """
    return _parse_latin(_text(text), _text(province), _text(city), _text(district))


@lru_cache(maxsize=65536)
def _number_key(s: str) -> str | None:
    runs = _RX_DIGITS.findall(unicodedata.normalize("NFKC", s))
    return "-".join(str(int(r)) for r in runs) or None


@_guard(None)
def number_key(number: object) -> str | None:
    """A house number as digits: 88号 → '88', 123弄45号 → '123-45', 'No. 738' → '738'."""
    t = _text(number)
    return _number_key(t) if t else None
