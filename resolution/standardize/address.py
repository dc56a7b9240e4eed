"""Addresses (``parse_address``): province, city and district as canonical full names
(from the columns and the address text), the street-level address and its road, house number,
building and room; Latin addresses through ``latin.parse_latin_address``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from resolution.standardize import latin
from resolution.standardize.divisions import _SEP, _scan_admin
from resolution.standardize.text import (
    _CJK,
    _RX_CJK_SPACES,
    _RX_CN_NUM_CHAR,
    _RX_SPACES,
    _cached,
    _clean,
    _numerals_to_digits,
    is_placeholder,
)

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
