"""Latin-script keys: one key for a Chinese value and its English or pinyin writing.

Overseas systems write Chinese customers in English or Hanyu pinyin ("Gaoming Laoyuan
Supermarket", "Rm 1305, Unit 3, Bldg 4, No. 20 Zhongshan North Road, Dongli District, Tianjin").
This module owns the keys that let those writings meet their Chinese twins (老袁超市,
天津市东丽区中山北路20号4栋3单元1305室):

- ``name_key`` — a company core name as tone-less pinyin, with industry words canonicalised
  through one bilingual dictionary (超市 / supermarket / chaoshi → ``chaoshi``), legal forms
  removed (also typo'd ones: 有限公思, 有限贡司, "Coupany Limited"), and leading region words
  (province / city / district names in either script) removed when a brand remains.
- ``branch_key`` — the place or number of a branch designator, designator removed
  (海港店, 'haigang店', "Haigang Store", "(Shenzhen Branch)", 深圳分公司 → ``haigang`` /
  ``shenzhen``; 第二分店, "No. 2 Store" → ``2``).
- ``road_key`` — a road in either script (大同路, "Datong Rd" → ``datonglu``; 中山北路,
  "Zhongshan Rd N." → ``zhongshanbeilu``; 大道 / avenue / boulevard → ``dadao``).
- ``parse_latin_address`` — province, city and district of a Latin address as the canonical
  Chinese names of ``data/cn_divisions.csv`` (found from their pinyin), its road key, house
  number, building and room, in the forms ``standardize.address.parse_address`` gives Chinese ones.
- ``number_key``, ``fix_legal_typos``, ``strip_legal_suffix``, ``latin_divisions``: the small
  pieces the standardizer uses to make both scripts compare equal.

Every key goes through pinyin, so homophones written in Chinese and the pinyin a writer chose
give the same key; place names pypinyin reads wrongly (长宁, 朝阳) are read as places. All
functions are pure, cached, and never raise. This package reads only the divisions table and
pypinyin/OpenCC data; it does not import the standardizer families (they import it).

Modules: ``pinyin`` (folding and readings), ``places`` (divisions by pinyin), ``names`` (legal
forms, the industry dictionary, name and branch keys), ``address`` (roads, Latin addresses).
"""


from __future__ import annotations

from resolution.standardize.latin.address import (
    LatinAddress,
    number_key,
    parse_latin_address,
    road_key,
)
from resolution.standardize.latin.names import (
    ROAD_WORDS,
    branch_key,
    fix_legal_typos,
    industry_designator,
    name_key,
    strip_legal_suffix,
)
from resolution.standardize.latin.pinyin import is_latin
from resolution.standardize.latin.places import latin_divisions

__all__ = [
    "LatinAddress",
    "ROAD_WORDS",
    "branch_key",
    "fix_legal_typos",
    "industry_designator",
    "is_latin",
    "latin_divisions",
    "name_key",
    "number_key",
    "parse_latin_address",
    "road_key",
    "strip_legal_suffix",
    "warm",
]


def warm() -> None:
    """Load the tables once (before worker processes fork, so they share them)."""
    name_key("高明区老袁超市")
    name_key("Gaoming Laoyuan Supermarket Co., Ltd.")
    branch_key("海港店")
    road_key("中山北路")
    parse_latin_address("738 Datong Road, Gaochun District, Nanjing")
