"""The customer-name field (``customer_name``): a company or a person, told apart by the
customer type and the name itself (``name_kind``), standardized by the matching family.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from resolution.standardize.company import _LEGAL_ANY, _company, _region_pinyin
from resolution.standardize.person import (
    _COMPOUND_SURNAMES,
    _ascii_fold,
    _person,
    _segment,
    _syllables,
)
from resolution.standardize.text import (
    _CJK,
    _as_text,
    _cached,
    _clean,
    _words,
    is_placeholder,
    text_basic,
)

_RX_NOT_CJK_DOT = re.compile(r"[^\u3400-\u9fff·]")
_RX_LATIN_LEGAL_WORD = re.compile(r"\b(co|ltd|limited|inc|corp|corporation|llc|plc|gmbh)\b")
_RX_LATIN_WORD = re.compile(r"[a-z]+")
_RX_DIGIT = re.compile(r"[0-9]")
_RX_HONORIFIC = re.compile(r"(?:先生|女士|小姐|太太|夫人)$")


class CustomerName(NamedTuple):
    std: str | None
    kind: str | None  # 'company' | 'person'
    core: str | None
    region: str | None
    legal_form: str | None
    branch: str | None
    pinyin: str | None


_TYPE_COMPANY = frozenset(
    _words("""企业 公司 单位 法人 机构 组织 商户 商家 经销商 分销商 代理商 门店 客户企业 团体 政府 企业客户 对公 公司客户
    company companies enterprise corporate corporation business b b2b org organization organisation
    firm legal entity 1 corp""")
)
_TYPE_PERSON = frozenset(
    _words("""个人 自然人 消费者 会员 散客 个人客户 私人 居民 对私 person personal individual consumer private
    natural c b2c p member 2""")
)
_COMPANY_HINT = re.compile(
    r"(公司|集团|企业|合伙|有限|商行|商店|超市|商场|便利|店|厂|中心|部|社|馆|所|行|院|局|会|站|处|室|坊|城|园|"
    r"酒家|酒楼|餐厅|宾馆|药房|诊所|学校|大学|医院|银行|科技|贸易|商贸|实业|工贸|物流|传媒|文化|网络|电子|"
    r"百货|食品|服装|五金|建材|家电|电器|批发|零售|连锁|工作室|合作社|个体|工程|设计|咨询|投资|控股|发展|"
    r"记|烧烤|烤|餐|饭|面馆|茶|酒|药|水果|生鲜|铺|吧|轩|阁|斋|堂|汽修|快递)"
)
_LATIN_COMPANY_HINT = re.compile(
    r"\b(co|ltd|limited|inc|corp|corporation|company|llc|plc|group|gmbh|trading|store|shop|"
    r"supermarket|market|mart|restaurant|hotel|cafe|bank|holdings|industries|technology|tech|"
    r"international|services|logistics|pharmacy|branch|studio|center|centre|foods?|coffee|"
    r"kitchen|bakery|bar|pub|salon|clinic|hospital|school|university|college|factory|"
    r"enterprises?|industrial|electronics|motors?|retail|wholesale|chain|mall|plaza|outlet)\b"
)


@lru_cache(maxsize=4096)
def _type_kind(customer_type: str | None) -> str | None:
    ct = text_basic(customer_type)
    if ct:
        c = ct.replace(" ", "")
        if c in _TYPE_COMPANY or ct in _TYPE_COMPANY:
            return "company"
        if c in _TYPE_PERSON or ct in _TYPE_PERSON:
            return "person"
    return None


def name_kind(customer_type: object, name_text: str | None = None) -> str | None:
    """'company' or 'person' from the customer type, else inferred from the (basic) name text.

    A name carrying a legal form (有限公司, Co., Ltd.) is a company whatever the type says: reps
    pick the wrong type far more often than a person is called 某某有限公司.
    """
    kind = _type_kind(_as_text(customer_type))
    if name_text is None or is_placeholder(name_text):
        return kind
    t = name_text
    if _CJK.search(t):
        if _LEGAL_ANY.search(t):
            return "company"
        if kind:
            return kind
        c = _RX_NOT_CJK_DOT.sub("", t)
        if _COMPANY_HINT.search(c):
            return "company" if "·" not in c else "person"
        # how a rep addresses a private customer (郑欣涵女士, 欧阳娜娜先生) is not part of
        # the name's length: no company is called 某某女士
        name = _RX_HONORIFIC.sub("", c)
        if len(name.replace("·", "")) > 4:
            return "company" if "·" not in name else "person"
        if len(c) >= 2 and (c[:2] in _COMPOUND_SURNAMES or c[0] in _common_surnames()):
            return "person"
        return "company"
    latin_legal = _RX_LATIN_LEGAL_WORD.search(_ascii_fold(t))
    if latin_legal:
        return "company"
    if kind:
        return kind
    if _LATIN_COMPANY_HINT.search(_ascii_fold(t)):
        return "company"
    # a Latin person name is pinyin: 2–4 syllables in 1–3 words, not led by a place name
    words = _RX_LATIN_WORD.findall(_ascii_fold(t))
    if not words:
        return None
    if 1 <= len(words) <= 3 and not _RX_DIGIT.search(t) and words[0] not in _region_pinyin():
        syl = [_segment(w) for w in words]
        n = sum(len(x) for x in syl)
        if all(len(x) > 1 or "".join(x) in _syllables()[0] for x in syl) and 2 <= n <= 4:
            return "person"
    return "company"


@lru_cache(maxsize=1)
def _common_surnames() -> frozenset[str]:
    return frozenset(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
        "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
        "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
        "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
        "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻"
        "苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练"
        "廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿"
        "鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
    )


@_cached(65536)
def customer_name(name: object, customer_type: object = None) -> CustomerName:
    """The customer name standardised by its kind (company or person)."""
    t = _clean(name)
    kind = name_kind(customer_type, t)
    if t is None:
        return CustomerName(None, kind, None, None, None, None, None)
    if kind == "person":
        p = _person(t)
        if p.std is not None:
            return CustomerName(t, kind, p.std, None, None, None, p.pinyin)
        kind = "company"
    c = _company(t)
    return CustomerName(t, kind, c.core, c.region, c.legal_form, c.branch, c.pinyin)
