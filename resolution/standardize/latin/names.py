"""Company-name keys across scripts: legal forms (typo'd ones too: 有限公思, "Coupany
Limited"), the bilingual dictionary of industry words, ``name_key`` and ``branch_key``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from resolution.standardize.latin.pinyin import (
    _CJK,
    _RX_LETTERS,
    _RX_LETTERS_OR_DIGITS,
    _RX_ORDINAL,
    _cn_syl,
    _fold,
    _guard,
    _key,
    _norm,
    _text,
    _weight,
    _words,
    _words_pattern,
)
from resolution.standardize.latin.places import _EN_LEVEL_WORDS, _places, _short_name, _split_level

_RX_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z]+|[0-9]+")
_RX_BRACKET_GROUP = re.compile(r"\(([^()]*)\)")
_RX_LETTERS_END = re.compile(r"([a-z]+)$")
_RX_ALNUM_END = re.compile(r"[a-z0-9]+$")
_RX_PUNCT = re.compile(r"[^\w\s]")


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
        if m and len(t) - m.end() >= 2 and t[m.end():].strip() not in ROAD_WORDS:
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
    stripped = _strip_regions(units)
    # a leading place goes (浦东张江 → zhangjiang), but not when only a road's generic word
    # would remain: 建设大道店 and 解放大道店 are two branches, not 大道 of two districts
    if _key("".join(u[0] for u in stripped)) not in _ROAD_WORD_KEYS:
        units = stripped
    k = _key("".join(u[0] for u in units))
    return k or None


# generic words that end a road's name (the words before them name the road), and keys
ROAD_WORDS = frozenset({"大道", "大街", "中路", "东路", "西路", "南路", "北路", "广场", "公路",
                        "街道", "胡同", "小区"})
_ROAD_WORD_KEYS = frozenset({"dadao", "dajie", "zhonglu", "donglu", "xilu", "nanlu", "beilu",
                             "guangchang", "gonglu", "jiedao", "hutong", "xiaoqu"})


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
