"""Text folding and pinyin readings the Latin keys share: NFKC, traditional → simplified,
accents folded, Chinese read as tone-less pinyin (place names read as places), pinyin runs
segmented into syllables.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from functools import lru_cache

from resolution.standardize.text import _as_text as _text
from resolution.standardize.text import _t2s_phrases

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_RX_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_RX_NOT_KEY = re.compile(r"[^a-z0-9]")
_RX_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_BRACKETS = str.maketrans(
    {c: "(" for c in "（【〔［[｛{〖〘《〈"} | {c: ")" for c in "）】〕］]｝}〗〙》〉"}
)
_RX_ORDINAL = re.compile(r"\b(\d+)\s*(?:st|nd|rd|th)\b")
_RX_LETTERS = re.compile(r"[a-z]+")
_RX_LETTERS_OR_DIGITS = re.compile(r"[a-z]+|[0-9]+")


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
            except Exception:
                return default

        return wrapper

    return deco




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
            s = _t2s_phrases(s)
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
    from resolution.standardize.latin.places import _division_names  # places reads pinyin

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
