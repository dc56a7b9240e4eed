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
  number, building and room, in the forms ``standardize.parse_address`` gives Chinese ones.
- ``number_key``, ``fix_legal_typos``, ``strip_legal_suffix``, ``latin_divisions``: the small
  pieces the standardizer uses to make both scripts compare equal.

Every key goes through pinyin, so homophones written in Chinese and the pinyin a writer chose
give the same key; place names pypinyin reads wrongly (长宁, 朝阳) are read as places. All
functions are pure, cached, and never raise. This module reads only the divisions table and
pypinyin/OpenCC data; it does not import the standardizer (the standardizer imports it).
"""

from __future__ import annotations

import csv
import functools
import itertools
import math
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

__all__ = [
    "LatinAddress",
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

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_RX_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_RX_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z]+|[0-9]+")
_RX_NOT_KEY = re.compile(r"[^a-z0-9]")
_RX_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_RX_BRACKET_GROUP = re.compile(r"\(([^()]*)\)")
_BRACKETS = str.maketrans(
    {c: "(" for c in "（【〔［[｛{〖〘《〈"} | {c: ")" for c in "）】〕］]｝}〗〙》〉"}
)
_RX_ORDINAL = re.compile(r"\b(\d+)\s*(?:st|nd|rd|th)\b")
# precompiled: re.sub/re.search with a pattern string pay a cache lookup on every call
_RX_LETTER = re.compile(r"[a-z]")
_RX_LETTERS = re.compile(r"[a-z]+")
_RX_LETTERS_END = re.compile(r"([a-z]+)$")
_RX_ALNUM_END = re.compile(r"[a-z0-9]+$")
_RX_LETTERS_OR_DIGITS = re.compile(r"[a-z]+|[0-9]+")
_RX_DIGITS = re.compile(r"\d+")
_RX_SPACES = re.compile(r"\s+")
_RX_PUNCT = re.compile(r"[^\w\s]")
_RX_SLASH_FLOOR = re.compile(r"(\d+)\s*/\s*f\b")


def _words(text: str) -> list[str]:
    """Whitespace-separated word lists, kept readable in the source."""
    return text.split()


def _words_pattern(words) -> str:
    """A regex matching any of `words` (literals), the longest one where several start at a
    position: the same matches as their alternation sorted longest first, but as a character
    trie (风|风味|风味小吃 → 风(?:味(?:小吃)?)?), so the engine tries one branch per character
    instead of every word in turn."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        if "" not in node:
            return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return "(?:" + "|".join(alts) + ")?"

    return build(trie)


def _guard(default):
    """A standardizer never raises: a bug in a rule gives `default`, not a failed job."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception:  # noqa: BLE001 - keys are best effort, whatever the input
                return default

        return wrapper

    return deco


def _text(x: object) -> str | None:
    if x is None or isinstance(x, str):
        return x
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, (bytes, bytearray)):
        return bytes(x).decode("utf-8", "replace")
    try:
        return str(x)
    except Exception:  # noqa: BLE001
        return None


_opencc = None


def _t2s(s: str) -> str:
    global _opencc
    if _opencc is None:
        import opencc

        _opencc = opencc.OpenCC("t2s")
    return _opencc.convert(s)


def _fold(s: str) -> str:
    """Accents dropped (Zhāng → zhang, lǜ → lu), lower-cased; Chinese characters kept."""
    if s.isascii():
        return s.lower()
    s = unicodedata.normalize("NFKD", s)
    return _RX_COMBINING.sub("", s).lower()


@lru_cache(maxsize=65536)
def _norm(s: str) -> str:
    """NFKC, traditional → simplified, () for every bracket, accents folded, lower case."""
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
        if _CJK.search(s):
            s = _t2s(s)
        s = _fold(s.translate(_BRACKETS))
    return " ".join(s.lower().split())


def _key(s: str) -> str:
    """ASCII letters and digits only; ü written v is u (lv, lu and lü are one surname)."""
    return _RX_NOT_KEY.sub("", s).replace("v", "u")


def is_latin(text: object) -> bool:
    """True for text with Latin letters and no Chinese characters."""
    t = _text(text)
    return bool(t) and not _CJK.search(t) and any(c.isalpha() for c in t)


# ---------------------------------------------------------------------------------------------
# Pinyin
# ---------------------------------------------------------------------------------------------

# readings pypinyin gets wrong in place names (it reads 长宁 zhangning, 朝阳 zhaoyang); names
# of divisions that start with 长 or end with 都 are added from the table at load time
_PLACE_READINGS = {
    "朝阳": "chao yang",
    "重庆": "chong qing",
    "六合": "lu he",
    "六安": "lu an",
    "单县": "shan xian",
    "浚县": "xun xian",
    "涡阳": "guo yang",
    "莘县": "shen xian",
    "曾都": "zeng du",
    "番禺": "pan yu",
    "蚌埠": "beng bu",
    "厦门": "xia men",
    "铅山": "yan shan",
    "乐清": "yue qing",
    "乐亭": "lao ting",
    "尉氏": "wei shi",
    "长子": "zhang zi",
    "大厦": "da sha",
    "重百": "chong bai",
    "银行": "yin hang",
}


@lru_cache(maxsize=1)
def _mono() -> dict[str, str]:
    """Characters with one tone-less reading → that reading (no phrase context needed)."""
    from pypinyin.pinyin_dict import pinyin_dict

    out = {}
    for cp, v in pinyin_dict.items():
        rs = {_fold(r) for r in v.split(",")}
        if len(rs) == 1:
            out[chr(cp)] = rs.pop()
    return out


@lru_cache(maxsize=1)
def _readings_re() -> tuple[re.Pattern, dict[str, tuple[str, ...]]]:
    table = {k: tuple(v.split()) for k, v in _PLACE_READINGS.items()}
    for name in _division_names():
        if len(name) >= 2 and name.startswith("长") and name[:2] not in table:
            table[name] = ("chang", *_plain_syl(name[1:]))
        if len(name) >= 2 and name.endswith("都") and name not in table:
            table[name] = (*_plain_syl(name[:-1]), "du")
    return re.compile(_words_pattern(table)), table


@lru_cache(maxsize=1)
def _phrases() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[int, ...]]]:
    """pypinyin's phrase readings, tone-less, for the characters with more than one reading;
    and the lengths of those phrases by their first two characters, longest first."""
    from pypinyin.phrases_dict import phrases_dict

    mono = _mono()
    out = {}
    lengths: dict[str, set[int]] = {}
    for phrase, readings in phrases_dict.items():
        if any(c not in mono for c in phrase):
            out[phrase] = tuple(_fold(r[0]) for r in readings)
            if len(phrase) >= 2:
                lengths.setdefault(phrase[:2], set()).add(len(phrase))
    return out, {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}


@lru_cache(maxsize=1)
def _first_reading() -> dict[str, str]:
    from pypinyin.pinyin_dict import pinyin_dict

    return {chr(cp): _fold(v.split(",")[0]) for cp, v in pinyin_dict.items()}


def _plain_syl(s: str) -> tuple[str, ...]:
    """pypinyin's reading (forward maximum matching over its phrases, else each character's
    most common reading), without its per-call overhead."""
    mono = _mono()
    out = [mono.get(c) for c in s]
    if None not in out:
        return tuple(out)  # type: ignore[arg-type]
    phrases, lengths = _phrases()
    first = _first_reading()
    res: list[str] = []
    i, n = 0, len(s)
    last_poly = max(k for k, r in enumerate(out) if r is None)
    while i < n:
        if i > last_poly:  # no phrase can change the rest
            res.extend(out[i:])  # type: ignore[arg-type]
            break
        longest = min(n - i, last_poly - i + 1 + 3)
        for ln in lengths.get(s[i : i + 2], ()):
            r = phrases.get(s[i : i + ln]) if ln <= longest else None
            if r is not None:
                res.extend(r)
                i += ln
                break
        else:
            c = s[i]
            res.append(out[i] or first.get(c) or c)
            i += 1
    return tuple(res)


@lru_cache(maxsize=131072)
def _cn_syl(run: str) -> tuple[str, ...]:
    """Tone-less pinyin syllables of a run of Chinese characters (phrase-aware, places read
    as places)."""
    rx, table = _readings_re()
    out: list[str] = []
    pos = 0
    for m in rx.finditer(run):
        out.extend(_plain_syl(run[pos : m.start()]) if m.start() > pos else ())
        out.extend(table[m.group(0)])
        pos = m.end()
    if pos < len(run):
        out.extend(_plain_syl(run[pos:]))
    return tuple(out)


def _pinyin(s: str) -> str:
    """The key of mixed text: Chinese runs as pinyin, the rest as it is written."""
    if not _CJK.search(s):
        return _key(s)
    return _key(_RX_CJK_RUN.sub(lambda m: "".join(_cn_syl(m.group(0))), s))


@lru_cache(maxsize=1)
def _syllables() -> tuple[frozenset[str], int]:
    from pypinyin.pinyin_dict import pinyin_dict

    out = set()
    for v in pinyin_dict.values():
        for r in v.split(","):
            r = _fold(r).replace("ü", "v")
            if r.isalpha() and r.isascii() and any(c in "aeiouv" for c in r):
                out.add(r.replace("v", "u"))
    out.discard("m")
    return frozenset(out), max(len(x) for x in out)


@lru_cache(maxsize=65536)
def _segment(word: str) -> tuple[str, ...] | None:
    """A Latin word as pinyin syllables (fewest syllables), or None when it is not pinyin."""
    syl, mx = _syllables()
    w = word.replace("v", "u")
    n = len(w)
    if not n or not w.isalpha():
        return None
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[n] = ()
    for i in range(n - 1, -1, -1):
        for j in range(min(n, i + mx), i, -1):
            rest = best[j]
            if rest is not None and w[i:j] in syl:
                cand = (w[i:j], *rest)
                if best[i] is None or len(cand) < len(best[i]):  # type: ignore[arg-type]
                    best[i] = cand
    return best[0]


def _weight(word: str) -> int:
    """How much a Latin word says about a name: its pinyin syllables, or 2 for other words."""
    if word.isdigit():
        return 1
    seg = _segment(word)
    return len(seg) if seg else 2


# ---------------------------------------------------------------------------------------------
# Administrative divisions by pinyin
# ---------------------------------------------------------------------------------------------

_MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市", "香港特别行政区", "澳门特别行政区")
_TOWN_SUFFIX = ("镇", "乡", "街道")
_LEVEL_SUFFIX = re.compile(
    r"(特别行政区|自治区|自治州|自治县|自治旗|新区|林区|特区|地区|街道|市|区|县|盟|旗|镇|乡|省|州)$"
)
_NATIONS = sorted(
    _words("""汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 水 东乡 纳西
    景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克
    德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 高山 各"""),
    key=len,
    reverse=True,
)
_SHORT_FIXED = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏",
    "新疆维吾尔自治区": "新疆",
    "香港特别行政区": "香港",
    "澳门特别行政区": "澳门",
    "黑龙江省": "黑龙江",
}
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
    """黔南布依族苗族自治州 → 黔南, 高淳区 → 高淳, 莞城街道 → 莞城 (may be one character)."""
    if name in _SHORT_FIXED:
        return _SHORT_FIXED[name]
    s = _LEVEL_SUFFIX.sub("", name)
    changed = True
    while changed:
        changed = False
        for n in _NATIONS:
            if s.endswith(n + "族") and len(s) > len(n) + 2:
                s = s[: -len(n) - 1]
                changed = True
                break
    return s or name


def _level_of(name: str) -> str:
    """The level word a unit's name ends with: 区, 县, 市, 省, 自治区, 新区, 街道, 镇 …"""
    m = _LEVEL_SUFFIX.search(name)
    return m.group(1) if m else ""


@lru_cache(maxsize=1)
def _rows() -> list[tuple[str, str, str, str]]:
    """(province, city, district, name written) for every row, aliases included."""
    text = resources.files("resolution").joinpath("data/cn_divisions.csv").read_text("utf-8")
    out = []
    for row in csv.DictReader(text.splitlines()):
        p, c, d, alias = row["province"], row["city"], row["district"], row["alias_of"]
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
    for p, c, d, name in _rows():
        names.add(name)
        names.add(_short_name(name))
    return frozenset(n for n in names if n)


class _Places:
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
        p, c, d = out
        if p in _MUNICIPALITIES and not c:
            c = p
        if d and not c:
            pcs = {pc for pc in pl.district_cities.get(d, ()) if not p or pc[0] == p}
            if len(pcs) == 1:
                p, c = pcs.pop()
        return (p, c, d)


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


# ---------------------------------------------------------------------------------------------
# Legal forms
# ---------------------------------------------------------------------------------------------

_CN_LEGAL = sorted(
    _words("""集团股份有限公司 集团股份有限责任公司 股份有限责任公司 股份有限公司 集团有限责任公司 集团有限公司
    有限责任公司 有限公司 有限责任 股份合作公司 股份合作企业 股份公司 集团总公司 集团公司 控股集团 集团
    有限合伙企业 有限合伙 普通合伙企业 普通合伙 特殊普通合伙 合伙企业 个人独资企业 独资企业 个体工商户
    个体户 总公司 公司 有限"""),
    key=len,
    reverse=True,
)
_RX_CN_LEGAL_END = re.compile("(?:" + "|".join(map(re.escape, _CN_LEGAL)) + ")$")
_TYPO_FORMS = ("有限责任公司", "股份有限公司", "有限公司")
# positions of a form where any character is taken for a typo (the rest must sound the same)
_TYPO_ANY_AT_END = {"有限公司": (2, 3), "有限责任公司": (4, 5), "股份有限公司": (4, 5)}


@lru_cache(maxsize=8192)
def _char_readings(ch: str) -> frozenset[str]:
    from pypinyin.pinyin_dict import pinyin_dict

    v = pinyin_dict.get(ord(ch))
    return frozenset(_fold(r) for r in v.split(",")) if v else frozenset()


@lru_cache(maxsize=1)
def _typo_patterns() -> list[tuple[re.Pattern, str, int, str]]:
    out = []
    for form in _TYPO_FORMS:
        for i, ch in enumerate(form):
            rx = re.compile(re.escape(form[:i]) + f"([^{ch}\\W\\d_a-z])" + re.escape(form[i + 1 :]))
            out.append((rx, form, i, ch))
    return out


@lru_cache(maxsize=1)
def _typo_any() -> re.Pattern:
    return re.compile("|".join(p.pattern for p, _f, _i, _c in _typo_patterns()))


@lru_cache(maxsize=65536)
def _fix_legal_typos(t: str) -> str:
    if not ("公" in t or "司" in t or "限" in t) or not _typo_any().search(t):
        return t
    for rx, form, i, ch in _typo_patterns():
        m = rx.search(t)
        while m:
            sub = m.group(1)
            rest = t[m.end() :]
            at_end = (
                not rest
                or rest.startswith(")")
                or (len(rest) <= 12 and bool(_RX_CN_BRANCH_END.search(rest)))
            )  # the end of the name, or before its branch: 有限公贡张江店
            same_sound = bool(_char_readings(sub) & _char_readings(ch))
            if (same_sound or (at_end and i in _TYPO_ANY_AT_END[form])) and m.start() >= 2:
                t = t[: m.start()] + form + t[m.end() :]
            m = rx.search(t, m.start() + 1)
    return t


@_guard("")
def fix_legal_typos(text: object) -> str:
    """Legal forms one character off written right: 有限公思 / 有限贡司 / 股份有限供司 →
    有限公司 / 股份有限公司 (anywhere when the character sounds the same, or in 公司's place
    at the end or before a branch); other text unchanged."""
    t = _text(text)
    return _fix_legal_typos(t) if t else (t or "")


def _strip_cn_legal(t: str) -> str:
    t = _fix_legal_typos(t)
    while True:
        m = _RX_CN_LEGAL_END.search(t)
        if not m or m.start() < 2:
            return t
        t = t[: m.start()]


@_guard(("", None))
def strip_legal_suffix(text: object) -> tuple[str, str | None]:
    """Chinese text without the legal forms at its end (typo'd ones too), and what was cut."""
    t = _fix_legal_typos(_text(text) or "")
    rest = _strip_cn_legal(t)
    return rest, (t[len(rest) :] or None)


_LATIN_LEGAL = frozenset(
    _words("""co ltd limited company inc incorporated corp corporation llc plc gmbh group lp llp pte pty
    partnership jointstock stock joint liability shares by jituan gongsi youxian zeren gufen
    youxiangongsi youxianzerengongsi gufenyouxiangongsi jituanyouxiangongsi cooperative""")
)
_LATIN_LEGAL_LONG = (
    "company",
    "limited",
    "corporation",
    "incorporated",
    "liability",
    "gongsi",
    "youxian",
)
_GONGSI_HEADS = ("", "youxian", "youxianzeren", "gufenyouxian", "jituanyouxian", "jituan", "gufen")


@lru_cache(maxsize=16384)
def _is_latin_legal(w: str) -> bool:
    if w in _LATIN_LEGAL:
        return True
    if len(w) >= 6 and any(_one_edit(w, f) for f in _LATIN_LEGAL_LONG):
        return True  # 'coupany', 'limted', 'youxiani'
    if len(w) == 3 and sorted(w) == ["d", "l", "t"]:
        return True  # 'tld'
    if w.endswith("gongsi") and len(w) > 6:
        head = w[:-6]
        return any(head == h or (h and _one_edit(head, h)) for h in _GONGSI_HEADS)
    return False


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or transposition."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            return a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        return len(diff) == 1
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


# ---------------------------------------------------------------------------------------------
# The bilingual dictionary of industry words
# ---------------------------------------------------------------------------------------------

# canonical key: Chinese words | English words and phrases (comma-separated). The canonical key
# is the pinyin of the first Chinese word, so a Chinese name keeps the key it always had; the
# pinyin of every Chinese word is accepted in Latin text too ('Bianlidian', 'Canyin Guanli'),
# except for words marked '-', whose pinyin is as often a brand.
_TERMS = """
chaoshi: 超市 超级市场 大卖场 -卖场 | supermarket, supermarkets, super market, hypermarket, hyper market, superstore, superstores
chaoshiliansuo: 连锁超市 超市连锁 | supermarket chain, supermarket chains, chain supermarket, chain supermarkets
bianlidian: 便利店 便利超市 便利商店 便利 | convenience store, convenience stores, convenience, convenient store, convenience shop, convenience mart
baihuo: 百货 百货商店 百货商场 | department store, department stores, dept store, general merchandise
baihuodian: 百货店 | general store, general stores, variety store, variety shop
zahuo: 杂货 杂货店 食杂店 -食杂 -日杂 | grocery, groceries, grocery store, sundries, sundry store
shangmao: 商贸 贸易 | trading, trade, trades, commerce and trade, commercial and trading, trading and commerce
shanghang: 商行 | trading firm, trading house, firm
gongmao: 工贸 | industry and trade, industrial and trading, industry and trading
jinchukou: 进出口 | import and export, import export, imp and exp, import and export trading
canyin: 餐饮 餐厅 饭店 酒家 酒楼 餐馆 饭馆 菜馆 | catering, restaurant, restaurants, dining, food and beverage, f and b, eatery, catering services
jiudian: 酒店 大酒店 宾馆 旅馆 -旅店 | hotel, hotels, inn, hostel
shipin: 食品 | food, foods, foodstuff, foodstuffs, food products, food product
yinpin: 饮品 饮料 | beverage, beverages, drink, drinks, soft drinks
naicha: 奶茶 奶茶店 -茶饮 | milk tea, bubble tea, tea drinks, tea shop, tea store
shuiguo: 水果 -鲜果 | fruit, fruits, fresh fruit, fresh fruits
guoshu: 果蔬 -蔬果 | fruit and vegetable, fruits and vegetables, fruit and vegetables, vegetables and fruits
shucai: 蔬菜 | vegetable, vegetables
shengxian: 生鲜 | fresh, fresh food, fresh foods, fresh produce
shuichan: 水产 | aquatic products, seafood, seafoods
liangyou: 粮油 | grain and oil, grains and oils, grain and oils, grains and oil, cereals and oils, cereal and oil, grain oil
muying: 母婴用品 母婴 -孕婴 -婴童 | maternal and infant products, maternal and infant, maternal and infant supplies, maternal and child, maternal and baby, mother and baby, mother and baby products, mother and child, mother and infant, baby products, baby and maternity, maternity and baby, mom and baby, mum and baby, baby, infant products
riyongpin: 日用品 日用百货 | daily necessities, daily necessity, daily goods, daily use products, daily use, daily commodities, daily products, daily articles, daily use articles, household products, household goods
yanjiu: 烟酒 | tobacco and liquor, tobacco and wine, tobacco and alcohol, tobacco and liquors, cigarettes and liquor, cigarette and liquor, tobacco and wines
jiuye: 酒业 -酒类 -酒水 | wine, wines, liquor, liquors, spirits, wine and spirits
hongbei: 烘焙 烘焙食品 面包店 面包房 -糕点 -饼屋 烘培 | bakery, bakeries, bakery products, baked goods, baking, pastry, cake shop, bakery shop
yaofang: 大药房 药房 药店 -药铺 | pharmacy, pharmacies, drugstore, drug store, drugstores, drug stores, chemist, chemists
yiyao: 医药 药业 | pharmaceutical, pharmaceuticals, pharma, medicine, medicines
yiliao: 医疗 | medical, healthcare, health care
zhensuo: 诊所 | clinic, clinics
guanli: 管理 | management, managements, mgmt, administration
keji: 科技 技术 | technology, technologies, tech, sci tech, science and technology, sci and tech, scientific and technological, science technology
xinxijishu: 信息技术 | information technology, info tech
xinxi: 信息 | information, info
wangluo: 网络 | network, networks, internet, online technology
dianshang: 电子商务 电商 | e commerce, ecommerce, electronic commerce, online commerce, e business
wangdian: 网店 | online store, online shop, online stores, web shop, e shop, eshop, online
wuliu: 物流 | logistics, logistic
gongyinglian: 供应链 | supply chain, supply chains
kuaidi: 快递 | express, courier, express delivery
yunshu: 运输 -货运 | transport, transportation, freight, haulage
dianqi: 电器 | electrical appliances, electric appliances, electrical appliance, electric appliance, appliances, appliance, electrical, electric, electrics
jiadian: 家电 家用电器 | home appliances, household appliances, home appliance, household appliance, household electrical appliances, home electrical appliances
dianzi: 电子 | electronic, electronics
shuma: 数码 | digital
tongxun: 通讯 | communication, communications, telecom, telecommunication, telecommunications
ruanjian: 软件 | software
diannao: 电脑 计算机 | computer, computers
shouji: 手机 | mobile phone, mobile phones, cellphone, cellphones, cell phone
fushi: 服饰 服装 -制衣 -时装 | apparel, clothing, clothes, garment, garments, fashion, apparels
xieye: 鞋业 鞋店 | shoes, footwear, shoe, shoe store, shoe shop
yanjing: 眼镜 | optical, glasses, eyeglasses, spectacles, optics, eyewear
wujin: 五金 | hardware, hardwares
jiancai: 建材 | building materials, building material, construction materials, construction material
jiaju: 家具 家居 | furniture, home furnishing, home furnishings, furnishings, furnishing
zhuangshi: 装饰 装修 -装潢 | decoration, decorations, decor, renovation, interior decoration, fitment
jianshe: 建设 建筑 | construction, architecture, architectural
gongcheng: 工程 | engineering, project, projects
shiye: 实业 | industrial, industry, industries
qiye: 企业 | enterprise, enterprises
shangye: 商业 | commercial, commerce
ertong: 儿童 | children, childrens, kids, child
pijiu: 啤酒 | beer, brewery, breweries
fazhan: 发展 -开发 | development, developments, develop
touzi: 投资 | investment, investments, invest
konggu: 控股 | holding, holdings
zixun: 咨询 -顾问 | consulting, consultancy, consultant, consultants, advisory, consulting services
fuwu: 服务 | service, services
wenhua: 文化 | culture, cultural
chuanmei: 传媒 -媒体 | media
guanggao: 广告 | advertising, advertisement, advertisements
jiaoyu: 教育 | education, educational
peixun: 培训 | training, trainings
qiche: 汽车 | auto, autos, automobile, automobiles, automotive, motor, motors, car, cars, vehicle, vehicles
qixiu: 汽修 汽车维修 | auto repair, car repair, automobile repair, auto service, car service
jixie: 机械 | machinery, machine, machines, mechanical
shebei: 设备 | equipment, equipments
huagong: 化工 | chemical, chemicals, chemical industry
nongye: 农业 | agriculture, agricultural, agri
fangdichan: 房地产 地产 -置业 | real estate, property, properties, realty
wuye: 物业 | property management
guoji: 国际 | international, intl
nengyuan: 能源 | energy
huanbao: 环保 | environmental protection, environmental
shengwu: 生物 | biological, bio, biotech, biotechnology, biology
fangzhi: 纺织 | textile, textiles
yinshua: 印刷 | printing
baozhuang: 包装 | packaging, packing
suliao: 塑料 -塑胶 | plastic, plastics
cailiao: 材料 | material, materials
zhizao: 制造 | manufacturing, manufacture, manufacturer
yongpin: 用品 -制品 | supplies, products, product, goods, articles
bangongyongpin: 办公用品 | office supplies, office supply, stationery and office supplies
tiyu: 体育 | sports, sport, sporting
meirong: 美容 | beauty, cosmetology, beauty salon
meifa: 美发 -理发 | hair salon, hairdressing, hair, barber, barbershop, barber shop
huazhuangpin: 化妆品 美妆 | cosmetics, cosmetic, makeup
kafei: 咖啡 咖啡馆 咖啡厅 | coffee, cafe, coffee shop, coffee house
chaguan: 茶楼 茶馆 -茶社 | teahouse, tea house, tea houses
chaye: 茶叶 茶业 | tea, teas, tea leaves
huoguo: 火锅 | hot pot, hotpot
shaokao: 烧烤 | barbecue, bbq, grill
kuaican: 快餐 | fast food
xiaochi: 小吃 | snack, snacks, snack bar
mianguan: 面馆 | noodle house, noodle shop, noodle restaurant, noodles
xianhua: 鲜花 -花卉 | flowers, florist, floral
huadian: 花店 | flower shop, flower store
shudian: 书店 -图书 | bookstore, book store, bookshop, books
yinhang: 银行 | bank
baoxian: 保险 | insurance
jinrong: 金融 | finance, financial
luyou: 旅游 旅行社 | travel, tourism, travel agency, tours
yule: 娱乐 | entertainment
jianshen: 健身 | fitness, gym
shangchang: 商场 购物中心 | mall, shopping mall, shopping center, shopping centre
shichang: 市场 | market, markets, marketplace
pifa: 批发 | wholesale, wholesaler, wholesalers
lingshou: 零售 | retail, retailer, retailers
liansuo: 连锁 | chain, chains, chain store, chain stores
jingxiao: 经销 | distribution, distributor, distributors, dealer, dealers
dian: 商店 -店铺 门市部 | store, stores, shop, shops
gongyipin: 工艺品 工艺 | crafts, handicraft, handicrafts, arts and crafts, craft
dengshi: 灯饰 -灯具 | lighting, lamps, lamp
taoci: 陶瓷 | ceramic, ceramics
jinshu: 金属 | metal, metals
qingjie: 清洁 -保洁 | cleaning
jiazheng: 家政 | housekeeping, domestic service, domestic services
chongwu: 宠物 | pet, pets
wanju: 玩具 | toy, toys
zhubao: 珠宝 -首饰 | jewelry, jewellery, jewelers, jewellers
wenju: 文具 | stationery
roushi: 肉食 -肉类 -肉品 | meat, meats
tiaoweipin: 调味品 -调料 | seasoning, seasonings, condiments, condiment
baojianpin: 保健品 | health products, health care products, health food
sheying: 摄影 | photography, photo studio
gongzuoshi: 工作室 | studio
jiuba: 酒吧 | bar, pub
jingyingbu: 经营部 | business department, operating department
"""
_STOP = frozenset({"and", "of", "the"})
_RX_POSSESSIVE = re.compile(r"(?<=[a-z])['’]s\b")


class _Dict:
    def __init__(self) -> None:
        self.cn: dict[str, str] = {}
        self.en: dict[tuple[str, ...], str] = {}
        self.py: dict[str, str] = {}
        for line in _TERMS.strip().splitlines():
            canon, _, rest = line.partition(":")
            cn, _, en = rest.partition("|")
            canon = canon.strip()
            for w in cn.split():
                # '-': the pinyin of this word is too often a brand ('Zhiyi' 致益, not 制衣)
                sounds_like_brand = w.startswith("-")
                w = w.lstrip("-")
                self.cn[w] = canon
                if not sounds_like_brand:
                    self.py.setdefault(_key("".join(_cn_syl(w))), canon)
            for phrase in en.split(","):
                words = tuple(re.findall(r"[a-z0-9]+", phrase.lower()))
                if words:
                    self.en[words] = canon
        self.canons = frozenset(self.cn.values())
        for canon in self.canons:
            self.py[canon] = canon  # every key is its own fixed point
        self.cn_re = re.compile(_words_pattern(self.cn))
        self.en_max = max(len(k) for k in self.en)


@lru_cache(maxsize=1)
def _dict() -> _Dict:
    return _Dict()


# ---------------------------------------------------------------------------------------------
# Name keys
# ---------------------------------------------------------------------------------------------

# a unit of a name: (key text, weight, may be part of a place name)
_Unit = tuple[str, int, bool]


def _latin_units(words: list[str]) -> list[_Unit]:
    d = _dict()
    out: list[_Unit] = []
    i, n = 0, len(words)
    while i < n:
        matched = False
        for ln in range(min(d.en_max, n - i), 0, -1):
            phrase = tuple(words[i : i + ln])
            canon = d.en.get(phrase)
            if canon is None and phrase[-1].endswith("s") and len(phrase[-1]) > 3:
                canon = d.en.get((*phrase[:-1], phrase[-1][:-1]))
            if canon is not None:
                out.append((canon, 0, False))
                i += ln
                matched = True
                break
        if matched:
            continue
        for ln in range(min(4, n - i), 0, -1):
            joined = "".join(words[i : i + ln])
            canon = d.py.get(joined.replace("v", "u"))
            if canon is not None:
                out.append((canon, 0, True))
                i += ln
                matched = True
                break
        if matched:
            continue
        w = words[i]
        if w not in _STOP:
            out.append((w, _weight(w), True))
        i += 1
    return out


@_guard(False)
def industry_designator(words: object) -> bool:
    """True when a Latin name's last word (store, shop, …) ends an industry word rather than
    naming a branch: 'convenience store', 'tobacco and liquor store', 'department store',
    'bianlidian store'; False for 'zhangjiang store'."""
    ws = [w for w in (words or []) if isinstance(w, str)]  # type: ignore[union-attr]
    if len(ws) < 2:
        return False
    d = _dict()
    for n in range(2, min(d.en_max, len(ws)) + 1):
        if tuple(ws[-n:]) in d.en:
            return True
    for n in range(1, min(d.en_max, len(ws) - 1) + 1):
        phrase = tuple(ws[-1 - n : -1])
        if phrase in d.en or "".join(phrase) in d.py:
            return True
        if phrase[-1].endswith("s") and (*phrase[:-1], phrase[-1][:-1]) in d.en:
            return True
    return False


def _cn_units(run: str) -> list[_Unit]:
    d = _dict()
    out: list[_Unit] = []
    pos = 0
    while True:
        m = d.cn_re.search(run, pos)
        if m is None:
            break
        if m.start() > pos:
            out.extend((s, 1, True) for s in _cn_syl(run[pos : m.start()]))
        out.append((d.cn[m.group(0)], 0, False))
        pos = m.end()
        if run.startswith("店", pos):  # 水果店 is "Fruit Store", "Fruits" or 'Shuiguo'
            out.append(("dian", 0, False))
            pos += 1
    if pos < len(run):
        out.extend((s, 1, True) for s in _cn_syl(run[pos:]))
    return out


# restaurants of a kind: 火锅店 is "Hotpot Restaurant" as often as "Hotpot Shop"
_FOOD_SERVICE = frozenset(
    {"huoguo", "shaokao", "mianguan", "kuaican", "xiaochi", "kafei", "chaguan"}
)


def _drop_outlet_words(units: list[_Unit]) -> list[_Unit]:
    """The outlet word after an industry word says nothing an English writing keeps: 水果店 /
    "Fruit Store" / "Fruits", 火锅店 / "Hotpot Restaurant" / 'Huoguo'."""
    out: list[_Unit] = []
    for u in units:
        after_term = bool(out) and out[-1][1] == 0 and u[1] == 0 and out[-1][0] in _dict().canons
        if after_term and (u[0] == "dian" or (u[0] == "canyin" and out[-1][0] in _FOOD_SERVICE)):
            continue
        out.append(u)
    return out


def _units(text: str) -> list[_Unit]:
    """Dictionary words and pinyin syllables / Latin words, in order."""
    out: list[_Unit] = []
    latin: list[str] = []
    for tok in _RX_TOKEN.findall(text):
        if _CJK.match(tok):
            if latin:
                out.extend(_latin_units(latin))
                latin = []
            out.extend(_cn_units(tok))
        else:
            latin.append(tok)
    if latin:
        out.extend(_latin_units(latin))
    return _drop_outlet_words(out)


def _strip_regions(units: list[_Unit], keep: int = 2) -> list[_Unit]:
    """Drop leading region words while units weighing at least `keep` remain."""
    pl = _places()
    prefixes, starts = pl.name_prefixes, pl.name_starts
    start = 0
    while True:
        ends = []
        acc = ""
        syl = 0
        for k in range(start, min(len(units), start + 8)):
            key, w, placeish = units[k]
            if not placeish:
                break
            acc += key.replace("v", "u")
            if acc not in starts:
                break
            syl += w
            # two syllables at least: 'yuan' may be written for 裕安, but 远 is not a place
            if syl >= 2 and acc in prefixes:
                ends.append(k + 1)
        for end in reversed(ends):  # the longest place name that leaves enough of a name
            while end < len(units) and units[end][0] in _EN_LEVEL_WORDS:
                end += 1
            if sum(u[1] for u in units[end:]) >= keep:
                start = end
                break
        else:
            return units[start:]


def _region_like(content: str) -> bool:
    """Bracketed text that only names places or China: (上海), (广东省深圳市), (Shanghai)."""
    units = _units(content)
    return bool(units) and not _strip_regions(units, keep=0)


def _legal_like(content: str) -> bool:
    c = content.replace(" ", "")
    if _CJK.search(c):
        return bool(_RX_CN_LEGAL_END.fullmatch(c))
    words = _RX_LETTERS.findall(content)
    return bool(words) and all(_is_latin_legal(w) for w in words)


def _drop_brackets(t: str) -> str:
    def repl(m: re.Match) -> str:
        c = m.group(1).strip()
        if not c or _legal_like(c) or _region_like(c):
            return " "
        return " " + c + " "

    for _ in range(3):
        if "(" not in t:
            break
        t = _RX_BRACKET_GROUP.sub(repl, t)
    return t.replace("(", " ").replace(")", " ")


def _strip_legal(t: str) -> str:
    """Legal forms off the end, Chinese (有限公司, typo'd ones too) and Latin (Co., Ltd.)."""
    for _ in range(len(t)):
        before = t
        t = t.rstrip(" .,;:-&")
        m = _RX_ALNUM_END.search(t)
        if m and _is_latin_legal(m.group(0)) and _RX_TOKEN.search(t[: m.start()]):
            t = t[: m.start()]
        elif t and _CJK.match(t[-1]):
            t = _fix_legal_typos(t)
            m = _RX_CN_LEGAL_END.search(t)
            if m and len(_RX_TOKEN.findall(t[: m.start()])) and len(t[: m.start()].strip()) >= 2:
                t = t[: m.start()]
        if t == before:
            break
    return t


@lru_cache(maxsize=131072)
def _name_key(s: str) -> str | None:
    t = _norm(s).replace("&", " and ").replace("+", " and ")
    t = _RX_POSSESSIVE.sub("", t)  # "Children's"
    t = _drop_brackets(t)
    t = _strip_legal(t)
    units = _strip_regions(_units(t))
    k = _key("".join(u[0] for u in units))
    return k or None


@_guard(None)
def name_key(core: object) -> str | None:
    """One ASCII key for a company name in Chinese, pinyin or English.

    老袁超市, 'Laoyuan Chaoshi' and "Gaoming Laoyuan Supermarket" (高明 is a district) all give
    'laoyuanchaoshi'; 寧波一心堂大藥房 and 'Yixintang Pharmacy' give 'yixintangyaofang'.
    Industry words become one dictionary key in any script, legal forms at the end go
    (typo'd ones too), and leading region words go when at least two syllables of name remain.
    None when nothing is left.
    """
    t = _text(core)
    if not t or not t.strip():
        return None
    return _name_key(t)


# ---------------------------------------------------------------------------------------------
# Branch keys
# ---------------------------------------------------------------------------------------------

_CN_BRANCH = sorted(
    _words("""分公司 子公司 分店 门店 专卖店 旗舰店 直营店 加盟店 体验店 连锁店 分号 店 营业部 营业厅 营业所 办事处
    分部 分厂 分行 支行 分理处 分社 分院 分所 分中心 分场 分校 经营部 服务部 服务站 代表处 仓 分仓"""),
    key=len,
    reverse=True,
)
_RX_CN_BRANCH_END = re.compile("(?:" + "|".join(map(re.escape, _CN_BRANCH)) + ")$")
_LATIN_BRANCH = frozenset(
    _words("""branch branches subbranch store shop outlet office sales department dept factory warehouse
    showroom flagship franchise experience representative rep fengongsi fendian mendian
    zhihang fenhang yingyebu banshichu sub""")
)
_RX_LEAD_LEGAL = re.compile(r"(?:集团|股份|有限|责任|公司|控股)+")
_RX_CN_NUM = re.compile(r"^第?([0-9]+|[零〇一二两三四五六七八九十百]+)号?$")
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_EN_NUMS = {
    w: i + 1
    for i, w in enumerate(
        _words("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth")
    )
}


def _cn_number(s: str) -> int | None:
    """一 → 1, 十二 → 12, 二十 → 20, 一百零五 → 105, 12 → 12 (up to 999)."""
    if s.isdigit():
        return int(s)
    if "百" in s:
        h, _, rest = s.partition("百")
        hv = _CN_DIGITS.get(h, None) if h else 1
        rest = rest.lstrip("零〇")
        rv = _cn_number(rest) if rest else 0
        return None if hv is None or rv is None else hv * 100 + rv
    if "十" in s:
        t, _, u = s.partition("十")
        tv = _CN_DIGITS.get(t) if t else 1
        uv = _CN_DIGITS.get(u) if u else 0
        return None if tv is None or uv is None else tv * 10 + uv
    if len(s) == 1:
        return _CN_DIGITS.get(s)
    return None


@lru_cache(maxsize=65536)
def _branch_key(s: str) -> str | None:
    t = _norm(s).replace("(", " ").replace(")", " ")
    t = _RX_PUNCT.sub(" ", t).strip()
    # designators off the end, in either script: '海港分店', 'haigang店', 'shenzhen branch'
    marker_en = None
    strong_cn = False
    for _ in range(4):
        before = t
        t = t.strip()
        m = _RX_CN_BRANCH_END.search(t)
        if m and m.start() > 0:
            marker_en = marker_en or ("store" if m.group(0).endswith("店") else None)
            # 分店 / 门店 / 分公司 say "one of several" by themselves; a bare 店 does not
            strong_cn = strong_cn or m.group(0) != "店"
            t = t[: m.start()]
        else:
            m = _RX_LETTERS_END.search(t)
            if m and m.group(1) in _LATIN_BRANCH and t[: m.start()].strip():
                marker_en = marker_en or m.group(1)
                t = t[: m.start()]
        if t == before:
            # a designator typed wrong: 滨海点 / 龙华淀 (sound like 店), 幸福分庙 (分 + one more)
            typo = len(t) >= 3 and bool(_CJK.match(t[-1])) and bool(_CJK.match(t[-2]))
            if typo and ("dian" in _char_readings(t[-1]) or (t[-2] == "分" and len(t) >= 4)):
                t = t[:-2] if t[-2] == "分" else t[:-1]
                marker_en = marker_en or "store"
            break
    t = t.strip()
    if not t or _RX_CN_BRANCH_END.fullmatch(t.replace(" ", "")):
        return None
    # what a wrong split left before the place: 集团重庆, 用品集团龙华, 店桐庐
    while len(t) >= 3 and _CJK.match(t[0]):
        m = _RX_LEAD_LEGAL.match(t)
        if m and len(t) - m.end() >= 2:
            t = t[m.end() :]
            continue
        m = _dict().cn_re.match(t)
        if m and len(t) - m.end() >= 2:
            t = t[m.end() :]
            continue
        if t[0] == "店":
            t = t[1:]
            continue
        break
    # "General Store", 'convenience店': the designator is part of an industry word, no branch
    if (
        marker_en
        and tuple(t.split()[-2:] + [marker_en]) in _dict().en
        or (marker_en and tuple(t.split()[-1:] + [marker_en]) in _dict().en)
    ):
        return None
    # a designator first: 'Store No. 2', 'Branch 5'
    words = t.split()
    while len(words) > 1 and words[0] in _LATIN_BRANCH:
        words = words[1:]
    t = " ".join(words)
    if not t or t in _LATIN_BRANCH:
        return None
    # numbered branches: 第二分店, 2店, 'No. 2 Store', '2nd Branch', 'Second Store'
    compact = t.replace(" ", "")
    m = _RX_CN_NUM.match(compact)
    if m:
        v = _cn_number(m.group(1))
        if v is not None:
            return str(v)
    w = [x for x in _RX_LETTERS_OR_DIGITS.findall(_RX_ORDINAL.sub(r"\1", t)) if x not in ("no",)]
    if len(w) == 1 and (w[0].isdigit() or w[0] in _EN_NUMS):
        return str(int(w[0])) if w[0].isdigit() else str(_EN_NUMS[w[0]])
    # a division's full name is its short name: 浦东新区 → 浦东, 'Gaoming District' → gaoming
    cjk = _CJK.search(t)
    if cjk and compact in _places().full:
        compact = _short_name(compact)
        t = compact
    elif not cjk:
        base, hint, _py = _split_level(t.split())
        if hint is not None:
            t = " ".join(base)
    units = _units(t)
    # 'Convenience Store' and 便利店 are no branch; 科技分店 / 开发门店 are (科技路, 开发区)
    if not units or (all(u[1] == 0 for u in units) and not (strong_cn and _CJK.search(t))):
        return None
    units = _strip_regions(units)
    k = _key("".join(u[0] for u in units))
    return k or None


@_guard(None)
def branch_key(text: object) -> str | None:
    """The place or number of a branch designator as pinyin, the designator removed.

    海港店, (海港店), 海港分店, 海港门店, 'haigang店' and "Haigang Store" give 'haigang';
    深圳分公司 and "(Shenzhen Branch)" give 'shenzhen'; 第二分店 and "No. 2 Store" give '2'.
    None when there is no branch, or when the "place" is an industry word ("Convenience Store").
    """
    t = _text(text)
    if not t or not t.strip():
        return None
    return _branch_key(t)


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


def warm() -> None:
    """Load the tables once (before worker processes fork, so they share them)."""
    name_key("高明区老袁超市")
    name_key("Gaoming Laoyuan Supermarket Co., Ltd.")
    branch_key("海港店")
    road_key("中山北路")
    parse_latin_address("738 Datong Road, Gaochun District, Nanjing")
