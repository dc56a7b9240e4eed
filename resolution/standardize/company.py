"""Company names (``company_name``): core, region, legal form and branch, and the pinyin
key that Chinese, traditional, pinyin and English spellings share (the keys come from
``latin``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from resolution.standardize import latin
from resolution.standardize.divisions import _divisions, _region_short, _scan_admin
from resolution.standardize.person import _ascii_fold, _key_chars, _phrase_pinyin
from resolution.standardize.text import (
    _CJK,
    _CN_NUM_CHARS,
    _RX_ALNUM_RUN,
    _RX_BRACKETED,
    _cached,
    _clean,
    _cn_to_digits,
    _words,
)

_RX_NOT_BRANCH_CHAR = re.compile(r"[^\u3400-\u9fffa-z0-9]")
_RX_BRACKET_NOISE = re.compile(r"[\s\"'·.,]")
_RX_BRACKET_GROUP = re.compile(r"\(([^()]*)\)")
_RX_ALNUM = re.compile(r"[a-z0-9]")
_RX_NOT_NAME_CHAR = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z0-9\x00]")


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
# the characters of those words: what thousands of unrelated shops share (超市, 副食, 商行),
# as opposed to the trade name (字号) that tells one business from another
INDUSTRY_CHARACTERS = "".join(sorted(set("".join(_BUSINESS_WORDS)) - set("公司")))
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
            # a place prefix goes (上海张江 → 张江), but not when what remains is only a
            # road's generic word: 建设大道 and 解放大道 are two roads (and two branches),
            # not the districts 建设 and 解放 of one 大道
            if end and len(loc) - end >= 2 and loc[end:] not in latin.ROAD_WORDS:
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
