"""A second synthetic customer master, written independently of `training/demo_data/`.

The engine's defaults were tuned on the demo generator; this one exists so accuracy can be
measured on data the defaults were not tuned on (issue 15: "never tune on one generator").
Nothing here is taken from the demo generator: the lists, the noise model and the rates are
this module's own, built from what Chinese CRM/ERP customer masters look like
(/work/shared/DOMAIN.md): FMCG sellers whose customers are stores, restaurants and
distributors (企业) plus online-shop and loyalty consumers (个人), entered through five
doors (CRM, ERP, SHOP, HKTW in traditional characters, OVERSEAS in pinyin/Latin).

What it produces, for a seed (deterministic: one `random.Random(seed)`, no set iteration):
- `customers.csv` with the engine's customer columns;
- `truth.csv` with `record_id, entity_id, group_id, cause`: `group_id` names the
  hard-negative group an entity belongs to (empty for most), `cause` its kind:
  - `household`: two people with different names sharing a landline and a home address;
  - `namesake`: two or three people with one very common name in one city; their
    mailboxes are often the name's pinyin at different providers;
  - `salesperson`: stores whose contact name + mobile are the same sales rep;
  - `branch`: branches (and sometimes the head office) of one chain, sharing the head
    office's phone or email, at different addresses;
  - `owner`: a 个体工商户 shop and its owner as a private customer, sharing mobile and
    address.
  Every entity is in at most one group, so a false pair is attributable to one cause.

Noise, per record and source: missing fields (more than a clean master would have),
company names without legal form or city prefix, brackets half/full width, similar-looking
and same-sound character typos, +86/0086/86 prefixes, spaces and dashes in phones, one digit
off, full-width digits, Chinese-numeral house numbers, traditional characters (OpenCC
s2t) for HKTW, pinyin and Latin addresses for OVERSEAS, USCCs (GB 32100 check character)
and ID cards (GB 11643 check digit) mostly valid and some broken, a person's second mobile
or mailbox, a company's move, and entities of up to eight records.

    python benchmarks/second_data.py --records 10000 --seed 7 --out /tmp/second
"""

from __future__ import annotations

import argparse
import csv
import random
import string
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

COLUMNS = [
    "record_id", "source_system", "customer_name", "customer_type", "uscc", "contact_name",
    "mobile", "phone", "email", "province", "city", "district", "address", "id_card",
    "updated_at",
]
CAUSES = ("household", "namesake", "salesperson", "branch", "owner")

# ------------------------------------------------------------------------------ vocabulary

# (province, city, pinyin of city, landline area code, [(district, admin code, pinyin)], roads)
# Municipalities name the city as the province. Admin codes are real county codes (they are
# characters 3-8 of a USCC and the first six digits of an ID card).
CITIES = [
    ("上海市", "上海市", "Shanghai", "021",
     [("徐汇区", "310104", "Xuhui"), ("浦东新区", "310115", "Pudong"), ("静安区", "310106", "Jing'an"),
      ("闵行区", "310112", "Minhang"), ("杨浦区", "310110", "Yangpu")],
     ["漕溪北路", "肇嘉浜路", "张杨路", "南京西路", "七莘路", "国权路", "虹梅路", "世纪大道"]),
    ("北京市", "北京市", "Beijing", "010",
     [("朝阳区", "110105", "Chaoyang"), ("海淀区", "110108", "Haidian"), ("丰台区", "110106", "Fengtai"),
      ("东城区", "110101", "Dongcheng")],
     ["建国路", "中关村大街", "望京西路", "丰台北路", "安定门外大街", "学院南路", "三里屯路"]),
    ("广东省", "广州市", "Guangzhou", "020",
     [("天河区", "440106", "Tianhe"), ("越秀区", "440104", "Yuexiu"), ("白云区", "440111", "Baiyun"),
      ("番禺区", "440113", "Panyu")],
     ["天河路", "中山五路", "黄埔大道西", "机场路", "市桥大道", "环市东路", "体育西路"]),
    ("广东省", "深圳市", "Shenzhen", "0755",
     [("南山区", "440305", "Nanshan"), ("福田区", "440304", "Futian"), ("宝安区", "440306", "Bao'an"),
      ("龙岗区", "440307", "Longgang")],
     ["深南大道", "科苑路", "福华三路", "新安六路", "龙翔大道", "华强北路", "南海大道"]),
    ("浙江省", "杭州市", "Hangzhou", "0571",
     [("西湖区", "330106", "Xihu"), ("上城区", "330102", "Shangcheng"), ("滨江区", "330108", "Binjiang")],
     ["文三路", "延安路", "江南大道", "天目山路", "庆春路", "滨盛路"]),
    ("四川省", "成都市", "Chengdu", "028",
     [("锦江区", "510104", "Jinjiang"), ("青羊区", "510105", "Qingyang"), ("金牛区", "510106", "Jinniu")],
     ["春熙路", "蜀都大道", "一环路北三段", "人民南路", "抚琴西路", "总府路"]),
    ("湖北省", "武汉市", "Wuhan", "027",
     [("江汉区", "420103", "Jianghan"), ("武昌区", "420106", "Wuchang"), ("洪山区", "420111", "Hongshan")],
     ["解放大道", "中南路", "珞喻路", "武珞路", "建设大道", "中北路"]),
    ("江苏省", "南京市", "Nanjing", "025",
     [("鼓楼区", "320106", "Gulou"), ("玄武区", "320102", "Xuanwu"), ("秦淮区", "320104", "Qinhuai")],
     ["中山北路", "北京东路", "太平南路", "中央路", "汉中路", "龙蟠中路"]),
    ("陕西省", "西安市", "Xi'an", "029",
     [("雁塔区", "610113", "Yanta"), ("碑林区", "610103", "Beilin"), ("未央区", "610112", "Weiyang")],
     ["小寨东路", "长安北路", "东大街", "凤城八路", "高新路", "太白南路"]),
    ("天津市", "天津市", "Tianjin", "022",
     [("和平区", "120101", "Heping"), ("南开区", "120104", "Nankai"), ("河西区", "120103", "Hexi")],
     ["南京路", "卫津路", "友谊路", "黄河道", "滨江道", "紫金山路"]),
    ("湖南省", "长沙市", "Changsha", "0731",
     [("岳麓区", "430104", "Yuelu"), ("芙蓉区", "430102", "Furong"), ("天心区", "430103", "Tianxin")],
     ["麓山南路", "五一大道", "韶山北路", "芙蓉中路", "劳动西路"]),
    ("河南省", "郑州市", "Zhengzhou", "0371",
     [("金水区", "410105", "Jinshui"), ("二七区", "410103", "Erqi"), ("中原区", "410102", "Zhongyuan")],
     ["花园路", "农业路", "大学路", "建设西路", "经三路", "嵩山南路"]),
    ("山东省", "青岛市", "Qingdao", "0532",
     [("市南区", "370202", "Shinan"), ("市北区", "370203", "Shibei"), ("崂山区", "370212", "Laoshan")],
     ["香港中路", "辽宁路", "东海西路", "延吉路", "秦岭路"]),
    ("福建省", "厦门市", "Xiamen", "0592",
     [("思明区", "350203", "Siming"), ("湖里区", "350206", "Huli")],
     ["湖滨南路", "厦禾路", "嘉禾路", "莲前西路", "吕岭路"]),
    ("辽宁省", "沈阳市", "Shenyang", "024",
     [("和平区", "210102", "Heping"), ("沈河区", "210103", "Shenhe"), ("皇姑区", "210105", "Huanggu")],
     ["青年大街", "中山路", "北陵大街", "三好街", "市府大路"]),
]
CITY_WEIGHTS = [14, 12, 9, 9, 8, 7, 6, 6, 5, 5, 5, 4, 4, 3, 3]

# birth places for ID cards: county codes that exist for births from the 1950s on
BIRTH_AREAS = [
    "110101", "110105", "110108", "120101", "120104", "310104", "310110", "320102", "320106",
    "330102", "330106", "350203", "370202", "410103", "410105", "420103", "420106", "430102",
    "440104", "440106", "610103", "210102", "210103", "130102", "140105", "150102", "220102",
    "230103", "340102", "360102", "450103", "520102", "530102", "620102", "640104", "650102",
]

# surnames weighted roughly by frequency (the big five carry a third of the population)
SURNAMES = (
    "王" * 9 + "李" * 9 + "张" * 8 + "刘" * 7 + "陈" * 6 + "杨" * 4 + "黄" * 3 + "赵" * 3
    + "吴" * 3 + "周" * 3 + "徐" * 2 + "孙" * 2 + "马" * 2 + "朱" * 2 + "胡" * 2 + "郭" * 2
    + "何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉波宇鑫浩凯健俊帆帅旭宁龙林欣悦"
    "婷雪琳晨阳博文斌峰建国志海霖子涵梓轩一诺思雨佳怡欣然嘉豪晓东立新春梅淑珍秀英丹凤永亮成"
)
# names shared by thousands: the namesake groups draw from these
COMMON_NAMES = [
    "王伟", "张伟", "王芳", "李伟", "李娜", "王静", "张敏", "李静", "刘伟", "王秀英",
    "张丽", "王丽", "刘洋", "李强", "张静", "王磊", "李军", "张勇", "刘杰", "陈静",
    "李秀英", "张秀英", "王敏", "李敏", "王艳", "王勇", "李杰", "张杰", "张磊", "王强",
    "李娟", "王军", "张艳", "张涛", "王涛", "李明", "王超", "李艳", "王明", "刘敏",
    "陈伟", "刘芳", "杨洋", "李勇", "王娟", "刘静", "张军", "杨伟", "陈杰", "黄伟",
]

TRADE_A = "金鑫宏恒华永盛隆兴旺福瑞祥嘉佳德润源泰安康和美鼎丰达利新天海明汇聚博诚信正顺益晨辰宝雅"
TRADE_B = "源达发利盛昌通泰宇丰茂鑫华美佳辉腾航远祥瑞德成嘉信业邦豪鸿晟凯越星诺峰禾悦"
# industry word, its English, and whether the business is a store (for branches/sales reps)
INDUSTRIES = [
    ("商贸", "Trading", False), ("贸易", "Trade", False), ("食品", "Food", False),
    ("副食品", "Grocery", True), ("百货", "Department Store", True), ("超市", "Supermarket", True),
    ("便利店", "Convenience Store", True), ("餐饮管理", "Catering Management", False),
    ("酒业", "Wine", False), ("烟酒商行", "Tobacco and Liquor", True), ("粮油", "Grain and Oil", False),
    ("日用品", "Daily Necessities", False), ("供应链管理", "Supply Chain Management", False),
    ("连锁超市", "Chain Supermarket", True), ("大药房", "Pharmacy", True), ("水果店", "Fruit Store", True),
]
LEGAL_FORMS = [("有限公司", 60), ("有限责任公司", 15), ("股份有限公司", 5), ("商行", 8), ("经营部", 6), ("", 6)]
SHOPS = ["五金店", "烟酒店", "水果店", "小吃店", "面馆", "便利店", "粮油店", "干洗店", "茶叶店", "文具店", "副食店", "百货商店"]
ESTATES = [
    "阳光花园", "锦绣华庭", "翠湖苑", "金色家园", "幸福里", "枫林雅苑", "碧水湾", "绿地世纪城",
    "万科城市花园", "朝阳新村", "和平里小区", "东方明珠苑", "滨江一号", "梧桐苑", "书香门第", "世纪华府",
]
PROVIDERS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com", "sohu.com", "outlook.com"]
MOBILE_PREFIXES = (
    ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199", "135", "138", "139", "186", "188", "159"]
)
# ranges opened after most number metadata releases (or typed wrong): well-formed, unknown
NEW_PREFIXES = ["1940", "1941", "1449", "1740"]

# similar-looking (形近) and same-sound (同音, the pinyin input method's typos) characters
LOOKALIKE = dict(zip("己未戊日人土贝王大天田申拔候折茶刺晴历洁兔", "已末戌曰入士见玉太夫由甲拨侯拆荼剌睛厉沽免"))
SOUNDALIKE = dict(zip(
    "伟明华丽静军芳娜强磊洋勇敏杰涛辉峰平红霞刚燕鑫源达盛兴昌祥隆海波宇凯俊",
    "玮铭化莉晶君方那墙垒阳永民洁滔晖锋萍宏侠钢艳新元大胜星常翔龙海博雨恺骏",
))
CN_DIGITS = "零一二三四五六七八九"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

SOURCES = ["CRM", "ERP", "SHOP", "HKTW", "OVERSEAS"]
COMPANY_SOURCES = [42, 33, 5, 10, 10]
PERSON_SOURCES = [30, 3, 55, 7, 5]
# records per entity, 1..8: fewer singletons and a longer tail than a clean master
SIZE_WEIGHTS = [38, 25, 14, 9, 6, 4, 2, 2]

# chance a field is filled, per source: (company, person)
PRESENT = {
    "uscc": {"CRM": 0.45, "ERP": 0.85, "SHOP": 0.15, "HKTW": 0.35, "OVERSEAS": 0.25},
    "id_card": {"CRM": 0.30, "ERP": 0.50, "SHOP": 0.08, "HKTW": 0.20, "OVERSEAS": 0.10},
    "contact": {"CRM": 0.85, "ERP": 0.55, "SHOP": 0.70, "HKTW": 0.70, "OVERSEAS": 0.60},
    "mobile": {"CRM": 0.80, "ERP": 0.50, "SHOP": 0.95, "HKTW": 0.60, "OVERSEAS": 0.55},
    "phone": {"CRM": 0.55, "ERP": 0.80, "SHOP": 0.30, "HKTW": 0.65, "OVERSEAS": 0.60},
    "email": {"CRM": 0.40, "ERP": 0.45, "SHOP": 0.60, "HKTW": 0.50, "OVERSEAS": 0.75},
    "address": {"CRM": 0.80, "ERP": 0.95, "SHOP": 0.90, "HKTW": 0.85, "OVERSEAS": 0.85},
    "region": {"CRM": 0.70, "ERP": 0.95, "SHOP": 0.60, "HKTW": 0.75, "OVERSEAS": 0.80},
    "type": {"CRM": 0.85, "ERP": 0.95, "SHOP": 0.60, "HKTW": 0.80, "OVERSEAS": 0.75},
}


# ------------------------------------------------------------------------------ entities


@dataclass
class Place:
    province: str
    city: str
    city_py: str
    area: str
    district: str
    admin: str
    district_py: str
    road: str
    number: int
    unit: str  # building / room part, may be empty
    estate: str = ""
    lane: bool = False


@dataclass
class Entity:
    entity_id: str
    kind: str  # company | person
    name: str
    place: Place
    mobile: str | None
    phone: str | None
    email: str | None
    contact: str | None = None
    uscc: str | None = None
    id_card: str | None = None
    # company naming parts, for abbreviations and transliteration
    city_prefix: str = ""
    trade: str = ""
    industry: str = ""
    industry_en: str = ""
    legal: str = ""
    branch: str = ""  # 分店 designator, e.g. "漕溪北路"
    type_label: str = ""
    alt_mobile: str | None = None
    alt_email: str | None = None
    alt_place: Place | None = None
    group_id: str = ""
    cause: str = ""
    size: int = 1
    sources: list[str] = field(default_factory=list)


def _py(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return [s for s in lazy_pinyin(text) if s.strip()]


class Generator:
    """Draws entities and their records from one seeded `random.Random`."""

    def __init__(self, seed: int, surname_titles: float = 0.0) -> None:
        import opencc

        self.r = random.Random(seed)
        # share of person records written by surname and title alone (王先生), as shops and
        # phone orders write them; 0 (the default) leaves the random stream as it was
        self.surname_titles = surname_titles
        self.t2 = opencc.OpenCC("s2t")
        self.n_entities = 0
        self.used_mobiles: set[str] = set()
        self.used_phones: set[str] = set()
        self.used_uscc: set[str] = set()
        self.used_ids: set[str] = set()
        self.used_emails: set[str] = set()
        self.n_groups = 0

    # ---- small draws
    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, seq, weights=None):
        if weights is None:
            return seq[self.r.randrange(len(seq))]
        return self.r.choices(seq, weights=weights, k=1)[0]

    def new_id(self) -> str:
        self.n_entities += 1
        return f"S2-{self.n_entities:07d}"

    def person_name(self) -> str:
        given = self.pick(GIVEN) + (self.pick(GIVEN) if self.chance(0.7) else "")
        return self.pick(SURNAMES) + given

    def mobile(self) -> str:
        while True:
            if self.chance(0.02):
                m = self.pick(NEW_PREFIXES) + "".join(self.r.choices(string.digits, k=7))
            else:
                m = self.pick(MOBILE_PREFIXES) + "".join(self.r.choices(string.digits, k=8))
            if m not in self.used_mobiles:
                self.used_mobiles.add(m)
                return m

    def landline(self, area: str) -> str:
        while True:
            n = 8 if len(area) == 3 else self.pick([7, 8], [1, 3])
            local = str(self.r.randint(2, 8)) + "".join(self.r.choices(string.digits, k=n - 1))
            p = f"{area}-{local}"
            if p not in self.used_phones:
                self.used_phones.add(p)
                return p

    def uscc(self, admin: str, individual: bool = False) -> str:
        while True:
            head = "92" if individual else self.pick(["91", "91", "91", "91", "93", "12"])
            body = head + admin + "".join(self.r.choices(USCC_ALPHABET, k=9))
            code = body + _uscc_check(body)
            if code not in self.used_uscc:
                self.used_uscc.add(code)
                return code

    def id_card(self) -> str:
        from stdnum.cn import ric

        while True:
            born = date(1950, 1, 1) + timedelta(days=self.r.randrange(365 * 55))
            body = self.pick(BIRTH_AREAS) + born.strftime("%Y%m%d") + f"{self.r.randrange(1000):03d}"
            code = body + ric.calc_check_digit(body + "0")
            # valid in full: python-stdnum also checks the birth place existed on the birth date
            if code not in self.used_ids and ric.is_valid(code):
                self.used_ids.add(code)
                return code

    def place(self, kind: str, city=None) -> Place:
        c = city or self.pick(CITIES, CITY_WEIGHTS)
        d = self.pick(c[4])
        road = self.pick(c[5])
        if kind == "person":
            estate = self.pick(ESTATES) if self.chance(0.6) else ""
            if estate:
                unit = f"{self.r.randint(1, 30)}栋{self.r.randint(1, 4)}单元{self.r.randint(1, 33)}{self.r.randint(1, 4):02d}室"
            else:
                # a lane address: 七莘路120弄15号404室 (the lane number stands where the house number would)
                unit = f"{self.r.randint(1, 60)}号{self.r.randint(1, 6)}0{self.r.randint(1, 4)}室"
            return Place(c[0], c[1], c[2], c[3], d[0], d[1], d[2], road, self.r.randint(1, 999), unit, estate,
                         lane=not estate)
        unit = self.pick([
            "", "", f"{self.r.randint(1, 30)}楼", f"{self.pick('ABCD')}座{self.r.randint(1, 28)}{self.r.randint(1, 20):02d}室",
            f"{self.r.randint(1, 3)}层{self.r.randint(1, 80)}号商铺", f"B1-{self.r.randint(1, 60)}",
        ])
        return Place(c[0], c[1], c[2], c[3], d[0], d[1], d[2], road, self.r.randint(1, 1999), unit)

    def email_for(self, name: str, kind: str, trade: str = "") -> str:
        """A mailbox no other customer has (an address belongs to one person or company)."""
        for _ in range(50):
            email = self._email(name, kind, trade)
            if email not in self.used_emails:
                break
        else:
            local, dom = email.split("@")
            email = f"{local}{self.r.randint(1000, 99999)}@{dom}"
        self.used_emails.add(email)
        return email

    def _email(self, name: str, kind: str, trade: str) -> str:
        if kind == "company" and trade and self.chance(0.5):
            dom = "".join(_py(trade)) + self.pick(["", "-sh", "group", "sm", "trade", "88"])
            return f"{self.pick(['info', 'sales', 'service', 'caiwu', 'admin', 'hr'])}@{dom}.{self.pick(['com', 'cn', 'com.cn'])}"
        if self.chance(0.3):
            return f"{self.r.randint(10000, 3999999999)}@qq.com"
        syl = _py(name)
        local = self.pick([
            "".join(syl), ".".join(syl), syl[0] + "".join(s[0] for s in syl[1:]),
            "".join(syl) + str(self.r.randint(1960, 2005)), "".join(syl) + str(self.r.randint(1, 999)),
        ])
        return f"{local}@{self.pick(PROVIDERS)}"

    def sources(self, kind: str, n: int) -> list[str]:
        w = COMPANY_SOURCES if kind == "company" else PERSON_SOURCES
        return [self.pick(SOURCES, w) for _ in range(n)]

    def size(self) -> int:
        return self.pick(range(1, 9), SIZE_WEIGHTS)

    # ---- entities
    def person(self, name=None, city=None, place=None, phone=None) -> Entity:
        pl = place or self.place("person", city)
        name = name or self.person_name()
        e = Entity(
            self.new_id(), "person", name, pl, self.mobile(),
            phone if phone is not None else (self.landline(pl.area) if self.chance(0.3) else None),
            self.email_for(name, "person") if self.chance(0.75) else None,
            contact=name, id_card=self.id_card(),
            type_label=self.pick(["个人", "个人", "个人", "个人客户", "会员", "消费者"]),
        )
        if self.chance(0.15):
            e.alt_mobile = self.mobile()
        if e.email and self.chance(0.15):
            e.alt_email = self.email_for(name, "person")
        if self.chance(0.05):
            e.alt_place = self.place("person", _city_of(pl))
        return e

    def company(self, city=None, industry=None, trade=None, legal=None, store=False) -> Entity:
        c = city or self.pick(CITIES, CITY_WEIGHTS)
        pl = self.place("company", c)
        trade = trade or self.pick(TRADE_A) + self.pick(TRADE_B)
        ind = industry or (self.pick([i for i in INDUSTRIES if i[2]]) if store else self.pick(INDUSTRIES))
        legal = legal if legal is not None else self.pick([f[0] for f in LEGAL_FORMS], [f[1] for f in LEGAL_FORMS])
        prefix = _short_city(c[1]) if self.chance(0.6) else ""
        name = f"{prefix}{trade}{ind[0]}{legal}"
        contact = self.person_name()
        e = Entity(
            self.new_id(), "company", name, pl, self.mobile(), self.landline(pl.area),
            self.email_for(contact, "company", trade), contact=contact, uscc=self.uscc(pl.admin),
            city_prefix=prefix, trade=trade, industry=ind[0], industry_en=ind[1], legal=legal,
            type_label=self.pick(["企业", "企业", "企业", "公司", "企业客户", "经销商"]),
        )
        if self.chance(0.08):
            e.alt_place = self.place("company", c)
        if self.chance(0.1):
            e.alt_mobile = self.mobile()
        return e

    def group(self, cause: str, members: list[Entity], gid: str = "") -> list[Entity]:
        self.n_groups += 1
        gid = gid or f"{cause[:2].upper()}{self.n_groups:05d}"
        for m in members:
            m.group_id, m.cause = gid, cause
        return members

    def household(self) -> list[Entity]:
        a = self.person()
        phone = a.phone or self.landline(a.place.area)
        a.phone = phone
        name = self.pick(SURNAMES) + self.pick(GIVEN) + (self.pick(GIVEN) if self.chance(0.6) else "")
        if self.chance(0.45):  # parent and child share the surname
            name = a.name[0] + name[1:]
        if name == a.name:
            name = a.name[0] + self.pick(GIVEN) + self.pick(GIVEN)
        b = self.person(name=name, place=replace(a.place), phone=phone)
        return self.group("household", [a, b])

    def namesakes(self) -> list[Entity]:
        name = self.pick(COMMON_NAMES)
        c = self.pick(CITIES, CITY_WEIGHTS)
        same_mailbox = self.chance(0.6)
        local = "".join(_py(name))
        out = []
        for _ in range(self.pick([2, 2, 3])):
            p = self.person(name=name, city=c)
            free = [pr for pr in PROVIDERS if f"{local}@{pr}" not in self.used_emails]
            if same_mailbox and free:  # the name's pinyin, at a provider no namesake has used
                p.email, p.alt_email = f"{local}@{self.pick(free)}", None
                self.used_emails.add(p.email)
            out.append(p)
        # one group per name: two people of that name are namesakes in any city
        return self.group("namesake", out, gid=f"NA-{local}")

    def salesperson(self) -> list[Entity]:
        c = self.pick(CITIES, CITY_WEIGHTS)
        rep, mob = self.person_name(), self.mobile()
        out = []
        for _ in range(self.pick([2, 3, 3, 4])):
            s = self.company(city=c, store=True, legal=self.pick(["", "商行", "经营部", "有限公司"]))
            s.contact, s.mobile, s.alt_mobile = rep, mob, None
            if self.chance(0.5):
                s.email = None
            out.append(s)
        return self.group("salesperson", out)

    def branches(self) -> list[Entity]:
        c = self.pick(CITIES, CITY_WEIGHTS)
        brand = self.pick(TRADE_A) + self.pick(TRADE_B) + self.pick(["", "优选", "生活", "鲜"])
        ind = self.pick([i for i in INDUSTRIES if i[2]])
        hq_phone = self.pick([f"400-{self.r.randint(100, 999)}-{self.r.randint(1000, 9999)}", self.landline(c[3])])
        hq_email = f"{self.pick(['service', 'kefu', 'info'])}@{''.join(_py(brand))}.com"
        out = []
        spots: list[str] = []
        for _ in range(self.pick([2, 3, 3, 4, 5])):
            b = self.company(city=c, industry=ind, trade=brand, legal="有限公司")
            while True:  # each branch its own designator: a road or a district
                spot = self.pick([b.place.road, b.place.district[:-1], b.place.road[:2]])
                if spot not in spots:
                    break
                b.place = self.place("company", c)
            spots.append(spot)
            b.branch = spot
            b.name = f"{b.city_prefix}{brand}{ind[0]}有限公司{spot}分店"
            b.phone = hq_phone if self.chance(0.7) else b.phone
            b.email = hq_email if self.chance(0.6) else b.email
            out.append(b)
        if self.chance(0.35):  # the head office is a customer too
            h = self.company(city=c, industry=ind, trade=brand, legal="有限公司")
            h.phone, h.email = hq_phone, hq_email
            out.append(h)
        return self.group("branch", out)

    def owner(self) -> list[Entity]:
        p = self.person()
        p.place = self.place("company", _city_of(p.place))  # lives in (or above) the shop
        p.alt_place = None
        shop_name = self.pick([
            f"{p.name[0]}记{self.pick(SHOPS)}", f"{p.name}{self.pick(SHOPS)}",
            f"{p.place.district[:-1]}{p.name}{self.pick(SHOPS)}",
            f"{self.pick(TRADE_A)}{self.pick(TRADE_B)}{self.pick(SHOPS)}（个体工商户）",
        ])
        s = Entity(
            self.new_id(), "company", shop_name, replace(p.place), p.mobile,
            self.landline(p.place.area) if self.chance(0.4) else None,
            p.email if self.chance(0.3) else None, contact=p.name,
            uscc=self.uscc(p.place.admin, individual=True), type_label=self.pick(["企业", "个体工商户", "个体户", "商户"]),
            legal="", trade=shop_name,
        )
        return self.group("owner", [s, p])

    # ---- records
    def records(self, e: Entity) -> list[dict]:
        e.size = self.size()
        e.sources = self.sources(e.kind, e.size)
        # a type-entry slip: a few company records typed as persons (rare true cross pairs)
        wrong_type = e.kind == "company" and e.size > 1 and self.chance(0.01)
        out = []
        for i, src in enumerate(e.sources):
            rec = self.record(e, src, i)
            if wrong_type and i == e.size - 1:
                rec["customer_type"] = "个人"
            out.append(rec)
        return out

    def record(self, e: Entity, src: str, i: int) -> dict:
        k = 0 if e.kind == "company" else 1

        def has(f: str) -> bool:
            return self.chance(PRESENT[f][src])

        place = e.alt_place if e.alt_place is not None and self.chance(0.4) else e.place
        mob = e.alt_mobile if e.alt_mobile and self.chance(0.4) else e.mobile
        email = e.alt_email if e.alt_email and self.chance(0.4) else e.email
        rec = dict.fromkeys(COLUMNS, "")
        rec["source_system"] = src
        rec["customer_name"] = self.company_name(e) if e.kind == "company" else self.name_variant(e.name)
        if self.chance(0.03 if i else 0.01):
            rec["customer_name"] = self.typo(rec["customer_name"])
        rec["customer_type"] = e.type_label if has("type") else ""
        if e.kind == "company" and e.uscc and has("uscc"):
            rec["uscc"] = self.code_variant(e.uscc)
        if e.kind == "person" and e.id_card and has("id_card"):
            rec["id_card"] = self.code_variant(e.id_card)
        if e.contact and has("contact"):
            rec["contact_name"] = e.contact
            if self.chance(0.03):
                rec["contact_name"] = self.typo(rec["contact_name"])
        if mob and has("mobile"):
            rec["mobile"] = self.mobile_variant(mob)
        if e.phone and has("phone"):
            rec["phone"] = self.phone_variant(e.phone, company=k == 0)
        elif k == 1 and not rec["mobile"] and mob and self.chance(0.5):
            rec["phone"] = self.mobile_variant(mob)  # the mobile typed into the phone field
        if email and has("email"):
            rec["email"] = self.email_variant(email)
        if has("region"):
            rec["province"] = self.pick([place.province, place.province.rstrip("省市")])
            rec["city"] = self.pick([place.city, place.city[:-1]])
            rec["district"] = place.district if self.chance(0.75) else ""
        elif self.chance(0.5):
            rec["city"] = place.city
        if has("address"):
            rec["address"] = self.address_variant(place, with_region=not rec["city"] or self.chance(0.4))
        rec["updated_at"] = self.updated_at(src)
        if src == "HKTW":
            for c in ("customer_name", "contact_name", "province", "city", "district", "address", "customer_type"):
                if rec[c]:
                    rec[c] = self.t2.convert(rec[c])
        elif src == "OVERSEAS":
            self.latinize(rec, e, place)
        return rec

    def company_name(self, e: Entity) -> str:
        n = e.name
        if e.branch:  # the same branch written as a chain outlet: 品牌超市（漕溪北路店）
            if self.chance(0.4):
                n = f"{e.trade}{e.industry}{self.pick(['（', '('])}{e.branch}店{self.pick(['）', ')'])}"
            elif self.chance(0.3):
                n = f"{e.city_prefix}{e.trade}{e.industry}有限公司{e.branch}分公司"
            return n
        if not e.industry:  # a 个体 shop: written as is, brackets vary
            return n.replace("（", "(").replace("）", ")") if self.chance(0.3) else n
        roll = self.r.random()
        if roll < 0.15 and e.legal:
            n = n[: -len(e.legal)]  # 华美商贸
        elif roll < 0.30 and e.city_prefix:
            n = n[len(e.city_prefix):]  # 华美商贸有限公司
        elif roll < 0.38 and e.city_prefix and e.legal:
            n = n[len(e.city_prefix): -len(e.legal)]
        elif roll < 0.45 and not e.city_prefix:
            n = f"{_short_city(e.place.city)}{n}"
        elif roll < 0.50 and e.city_prefix:
            n = f"{e.trade}{e.industry}（{e.city_prefix}）{e.legal}"
        if self.chance(0.05):
            n = n[:2] + " " + n[2:]
        return n

    def name_variant(self, name: str) -> str:
        if self.surname_titles and len(name) >= 2 and self.chance(self.surname_titles):
            return name[0] + self.pick(["先生", "女士"])
        if self.chance(0.04):
            return name[0] + " " + name[1:]
        if self.chance(0.03):
            return name + self.pick(["先生", "女士", "(会员)"])
        return name

    def typo(self, text: str) -> str:
        spots = [i for i, ch in enumerate(text) if ch in LOOKALIKE or ch in SOUNDALIKE]
        if not spots:
            return text
        i = self.pick(spots)
        table = SOUNDALIKE if text[i] in SOUNDALIKE and (text[i] not in LOOKALIKE or self.chance(0.6)) else LOOKALIKE
        return text[:i] + table[text[i]] + text[i + 1:]

    def code_variant(self, code: str) -> str:
        if self.chance(0.04):  # one character wrong: the check character no longer fits
            i = self.r.randrange(len(code) - 1)
            alphabet = string.digits if code[i].isdigit() else USCC_ALPHABET
            code = code[:i] + self.pick([c for c in alphabet if c != code[i]]) + code[i + 1:]
        roll = self.r.random()
        if roll < 0.08:
            code = code.lower()
        elif roll < 0.12:
            code = " ".join([code[:6], code[6:14], code[14:]])
        elif roll < 0.15:
            code = _fullwidth(code)
        return code

    def mobile_variant(self, m: str) -> str:
        if self.chance(0.04):
            m = self.digit_off(m)
        fmt = self.pick([
            m, m, m, f"+86 {m}", f"+86-{m}", f"0086{m}", f"86{m}", f"{m[:3]}-{m[3:7]}-{m[7:]}",
            f"{m[:3]} {m[3:7]} {m[7:]}", f"(+86){m}",
        ])
        return _fullwidth(fmt) if self.chance(0.03) else fmt

    def phone_variant(self, p: str, company: bool) -> str:
        if p.startswith("400"):
            return self.pick([p, p.replace("-", ""), p.replace("-", " ")])
        area, local = p.split("-")
        if self.chance(0.04):
            local = self.digit_off(local)
        fmt = self.pick([
            f"{area}-{local}", f"{area}-{local}", f"{area}{local}", f"({area}){local}",
            f"{area} {local[:4]} {local[4:]}", f"+86 {area[1:]} {local}", f"0086-{area[1:]}-{local}", local,
        ])
        if company and self.chance(0.1):
            fmt += self.pick(["转", "-", " ext ", "转分机"]) + str(self.r.randint(100, 8999))
        return _fullwidth(fmt) if self.chance(0.02) else fmt

    def digit_off(self, digits: str) -> str:
        i = self.r.randrange(3, len(digits))
        if self.chance(0.5) and i < len(digits) - 1:  # two neighbours swapped
            return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
        return digits[:i] + self.pick([d for d in string.digits if d != digits[i]]) + digits[i + 1:]

    def email_variant(self, email: str) -> str:
        roll = self.r.random()
        if roll < 0.15:
            return email.upper() if self.chance(0.3) else email[0].upper() + email[1:]
        if roll < 0.18:
            return " " + email
        if roll < 0.20:
            local, dom = email.split("@")
            return f"{local}@{dom.replace('.com', '.con') if '.com' in dom else dom}"
        return email

    def address_variant(self, pl: Place, with_region: bool) -> str:
        num = str(pl.number)
        if self.chance(0.08):
            num = _cn_number(pl.number)
        street = f"{pl.road}{num}{'弄' if pl.lane else '号'}"
        unit = pl.unit
        if pl.estate:
            street = self.pick([f"{street}{pl.estate}", pl.estate, f"{pl.estate}小区"]) if self.chance(0.7) else street
        if unit and not pl.lane and self.chance(0.25):
            unit = ""
        addr = street + unit
        if with_region:
            prefix = self.pick([
                f"{pl.province}{pl.city}{pl.district}", f"{pl.city}{pl.district}", pl.district,
                f"{pl.city[:-1]}{pl.district}",
            ])
            if pl.province == pl.city and prefix.startswith(pl.province + pl.city):
                prefix = prefix[len(pl.province):]
            addr = prefix + addr
        if self.chance(0.03):
            addr = self.typo(addr)
        if self.chance(0.05):
            addr = addr.replace("号", "号 ", 1)
        return addr

    def updated_at(self, src: str) -> str:
        t = date(2016, 1, 1) + timedelta(days=self.r.randrange(365 * 9))
        h, mi, s = self.r.randrange(8, 20), self.r.randrange(60), self.r.randrange(60)
        return {
            "CRM": f"{t.isoformat()} {h:02d}:{mi:02d}:{s:02d}",
            "ERP": t.strftime("%Y%m%d") if self.chance(0.5) else t.isoformat(),
            "SHOP": f"{t.isoformat()}T{h:02d}:{mi:02d}:{s:02d}+08:00",
            "HKTW": f"{t.year}/{t.month:02d}/{t.day:02d}",
            "OVERSEAS": f"{t.isoformat()} {h:02d}:{mi:02d}",
        }[src]

    def latinize(self, rec: dict, e: Entity, pl: Place) -> None:
        if rec["customer_name"]:
            if e.kind == "company" and e.industry:
                city = (pl.city_py + " ") if (e.city_prefix and self.chance(0.6)) else ""
                trade = "".join(_py(e.trade)).capitalize()
                what = e.industry_en if self.chance(0.6) else "".join(_py(e.industry)).capitalize()
                legal = "Co., Ltd." if "有限" in e.legal else ("Trading Firm" if e.legal else "")
                branch = f" {''.join(_py(e.branch)).capitalize()} Branch" if e.branch else ""
                rec["customer_name"] = f"{city}{trade} {what} {legal}{branch}".strip()
            elif e.kind == "company":  # a 个体 shop: its name in pinyin
                rec["customer_name"] = "".join(_py(e.name.split("（")[0])).capitalize()
            else:
                rec["customer_name"] = _latin_person(_py(e.name), self)
        if rec["contact_name"]:
            rec["contact_name"] = _latin_person(_py(rec["contact_name"]), self)
        if rec["province"]:
            rec["province"] = "".join(_py(pl.province.rstrip("省市"))).capitalize()
        if rec["city"]:
            rec["city"] = pl.city_py
        if rec["district"]:
            rec["district"] = f"{pl.district_py} District"
        if rec["address"]:
            road = pl.road
            kind = "Road"
            for suffix, en in (("大道", "Avenue"), ("大街", "Street"), ("路", "Road"), ("街", "Street"), ("道", "Road")):
                if road.endswith(suffix):
                    road, kind = road[: -len(suffix)], en
                    break
            road_py = "".join(_py(road)).capitalize()
            unit = ""
            if pl.unit and self.chance(0.6):
                digits = "".join(ch for ch in pl.unit if ch.isdigit())[-4:]
                unit = f"Room {digits}, " if digits else ""
            number = f"Lane {pl.number}, No. {pl.unit.split('号')[0]}" if pl.lane else f"No. {pl.number}"
            rec["address"] = f"{unit}{number} {road_py} {kind}, {pl.district_py} District, {pl.city_py}"
        if rec["customer_type"]:
            rec["customer_type"] = "Company" if e.kind == "company" else "Individual"


def _uscc_check(body17: str) -> str:
    from stdnum.cn import uscc

    return uscc.calc_check_digit(body17)


def _short_city(city: str) -> str:
    return city.removesuffix("市")


def _city_of(pl: Place):
    return next(c for c in CITIES if c[1] == pl.city)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _cn_number(n: int) -> str:
    """Chinese numerals as written in addresses: 188 -> 一百八十八, 1203 -> 一千二百零三."""
    if n < 10:
        return CN_DIGITS[n]
    parts, zero = [], False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            if zero:
                parts.append("零")
            parts.append(("" if (unit == "十" and n < 20) else CN_DIGITS[d]) + unit)
            zero = False
        elif parts:
            zero = True
    return "".join(parts)


def _latin_person(syl: list[str], g: Generator) -> str:
    if not syl:
        return ""
    sur, given = syl[0].capitalize(), "".join(syl[1:]).capitalize()
    return g.pick([f"{sur} {given}", f"{given} {sur}", f"{sur.upper()} {given}", f"{sur}{given}"]).strip()


# ------------------------------------------------------------------------------ writer

# share of draws (each draw is one entity or one hard-negative group)
DRAWS = [("company", 40), ("person", 36), ("household", 5), ("namesake", 5),
         ("salesperson", 3), ("branch", 3), ("owner", 5)]


def generate(n_records: int, seed: int, surname_titles: float = 0.0
             ) -> tuple[list[dict], list[dict]]:
    """`n_records` customer records and their truth rows (record_id, entity_id, group_id, cause)."""
    g = Generator(seed, surname_titles)
    records: list[tuple[dict, Entity]] = []
    kinds, weights = [d[0] for d in DRAWS], [d[1] for d in DRAWS]
    while len(records) < n_records:
        kind = g.pick(kinds, weights)
        ents = {
            "company": lambda: [g.company()], "person": lambda: [g.person()],
            "household": g.household, "namesake": g.namesakes, "salesperson": g.salesperson,
            "branch": g.branches, "owner": g.owner,
        }[kind]()
        for e in ents:
            records.extend((rec, e) for rec in g.records(e))
    records = records[:n_records]
    g.r.shuffle(records)
    prefixes = {"CRM": "CRM", "ERP": "K", "SHOP": "WX", "HKTW": "HK", "OVERSEAS": "OV"}
    numbers = g.r.sample(range(10_000_000, 99_999_999), len(records))
    customers, truth = [], []
    for (rec, e), num in zip(records, numbers):
        rec["record_id"] = f"{prefixes[rec['source_system']]}{num}"
        customers.append(rec)
        truth.append({"record_id": rec["record_id"], "entity_id": e.entity_id,
                      "group_id": e.group_id, "cause": e.cause})
    return customers, truth


def write_second(out_dir: str | Path, n_records: int = 10_000, seed: int = 7,
                 surname_titles: float = 0.0) -> tuple[Path, Path]:
    """Write `customers.csv` and `truth.csv` (record_id, entity_id, group_id, cause) to `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    customers, truth = generate(n_records, seed, surname_titles)
    cpath, tpath = out / "customers.csv", out / "truth.csv"
    with cpath.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(customers)
    with tpath.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["record_id", "entity_id", "group_id", "cause"])
        w.writeheader()
        w.writerows(truth)
    return cpath, tpath


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="second_data")
    args = ap.parse_args()
    customers, truth = write_second(args.out, args.records, args.seed)
    print(f"wrote {customers} and {truth}")


if __name__ == "__main__":
    main()
