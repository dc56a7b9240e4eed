"""Latin-script keys: Chinese and English/pinyin writings of one customer get one key.

Hand cases in both scripts, hypothesis properties (never raises, idempotent, a Chinese name and
its English or pinyin writing keep one key whatever region and legal form they carry) and a
speed check.
"""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolution.standardize import latin as L
from resolution.standardize.latin import (
    LatinAddress,
    branch_key,
    fix_legal_typos,
    industry_designator,
    latin_divisions,
    name_key,
    names,
    number_key,
    parse_latin_address,
    road_key,
    strip_legal_suffix,
)

PROPS = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)

# ---------------------------------------------------------------------------------------------
# company names: (Chinese, English or pinyin writing of the same company)

NAME_PAIRS = [
    ("老袁超市", "Gaoming Laoyuan Supermarket"),  # 高明 is a district of 佛山
    ("新佳粮油", "Xinjia Grain and Oil"),
    ("爱婴室母婴用品", "Aiyingshi Maternal and Infant Products"),
    ("老孙便利店", "Huicheng Laosun Convenience"),
    ("物美超市", "Wumei Supermarket"),
    ("湖北王府井百货集团有限公司", "Hubei Wangfujing Department Store Group Co., Ltd."),
    ("寧波一心堂大藥房股份有限公司", "NINGBO YIXINTANG PHARMACY CO., LTD."),
    ("辽宁眉州东坡餐饮管理有限公司", "Meizhou Dongpo Catering Management"),
    ("福瑞水果股份有限公思", "Furui Fruit Co., Ltd."),
    ("小菜园餐饮管理股份有限贡司", "Xiaocaiyuan Catering Management Joint Stock Co., Ltd."),
    ("华为技术有限公司", "Huawei Technologies Co., Ltd."),
    ("北京京客隆商业集团股份有限公司", "Beijing Jingkelong Commercial Group Co., Ltd."),
    ("永辉超市股份有限公司", "Yonghui Superstores Co., Ltd."),
    ("杭州娃哈哈集团有限公司", "Hangzhou Wahaha Group Co., Ltd."),
    ("广州酒家集团股份有限公司", "Guangzhou Restaurant Group Co., Ltd."),
    ("周黑鸭食品", "Zhou Hei Ya Foods"),
    ("蜜雪冰城饮品", "Mixue Bingcheng Beverage"),
    ("老乡鸡餐饮有限公司", "Laoxiangji Catering Co., Ltd."),
    ("益丰大药房连锁股份有限公司", "Yifeng Pharmacy Chain Co., Ltd."),
    ("孩子王儿童用品", "Haiziwang Children's Products"),
    ("成都红旗连锁股份有限公司", "Chengdu Hongqi Chain Co., Ltd."),
    ("安徽德家商贸有限责任公司", "Anhui Dejia Shangmao Youxian Zeren Gongsi"),
    ("北京银天餐饮管理股份有限公司", "Beijing Yintian Canyin Guanli Gufen Youxian Gongsi"),
    ("郑州天明便利店有限公司", "Zhengzhou Tianming Bianlidian YouxianiGongsi"),
    ("杨记饭店", "YANGJI RESTAURANT"),
    ("青羊区王记百货店", "Qingyang Wangji General Store"),
    ("铁西区丰佳烟酒店", "Tiexi Fengjia Tobacco and Liquor Store"),
    ("长春远毅供应链管理有限公司", "Changchun Yuanyi Supply Chain Management Co., Ltd."),
    ("兰州鑫惠电子商务有限公司", "Lanzhou Xinhui E-commerce Co. Ltd"),
    ("丰灿烘焙食品有限公司", "Fengcan Bakery Ltd."),
    ("深圳华强电子科技有限公司", "Shenzhen Huaqiang Electronics Technology Co., Ltd."),
    ("朝阳汇龙服饰", "Chaoyang Huilong Apparel"),  # 朝阳 read as the place, chaoyang
    ("长宁东方酒店", "Changning Dongfang Hotel"),  # 长宁 read as the place, changning
    ("西安天源电器有限公司", "Xi'an Tianyuan Electrical Appliances Co., Ltd."),
    ("厦门建发物流", "Xiamen Jianfa Logistics"),
    ("格兰仕家用电器", "Gelanshi Household Appliances"),
    ("上海老凤祥首饰", "Shanghai Laofengxiang Jewelry"),
    ("海底捞火锅", "Haidilao Hot Pot"),
    ("瑞幸咖啡", "Ruixing Coffee"),
    ("南京新百药业", "Nanjing Xinbai Pharmaceutical"),
    ("浙江五芳斋实业", "Zhejiang Wufangzhai Industrial"),
    ("顺丰快递", "Shunfeng Express"),
    ("上海锦江国际酒店", "Shanghai Jinjiang International Hotel"),
    ("青岛啤酒", "Qingdao Beer"),
    ("浙江安元饮品有限公司", "Zhejiang Anyuan Beverage Coupany Limited"),  # typo'd legal form
    ("臻味轩食品（上海）有限公司", "Zhenweixuan Food (Shanghai) Co., Ltd."),
    ("宁波博洋家纺进出口有限公司", "Ningbo Boyang Jiafang Import and Export Co., Ltd."),
    ("沪上阿姨饮品", "Hushang Ayi Drinks"),
]


@pytest.mark.parametrize(("cn", "en"), NAME_PAIRS)
def test_chinese_and_latin_writings_share_a_name_key(cn, en):
    assert name_key(cn) == name_key(en) is not None


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("老袁超市", "laoyuanchaoshi"),
        ("Gaoming Laoyuan Supermarket", "laoyuanchaoshi"),
        ("laoyuan chaoshi", "laoyuanchaoshi"),
        ("高明区老袁超市", "laoyuanchaoshi"),
        ("一心堂大药房", "yixintangyaofang"),
        ("Yixintang Drugstore", "yixintangyaofang"),
        ("眉州东坡餐饮管理", "dongpocanyinguanli"),  # 眉州 sounds like 梅州, a city
        ("福瑞水果股份有限公思", "furuishuiguo"),
        ("小菜园餐饮管理股份有限贡司", "xiaocaiyuancanyinguanli"),
        ("Xinjia Grain & Oil", "xinjialiangyou"),
        ("Wumei Supermarket Co. Ltd", "wumeichaoshi"),
        ("百货", "baihuo"),
        ("上海银行", "shanghaiyinhang"),  # a region is kept when only industry words remain
        ("Bank of Shanghai", "yinhangshanghai"),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_name_key(raw, key):
    assert name_key(raw) == key


def test_name_key_keeps_brand_names_that_sound_like_places():
    # two syllables of brand must remain before a region word is dropped
    assert name_key("金华超市") == "jinhuachaoshi"
    assert name_key("Jinhua Supermarket") == "jinhuachaoshi"
    assert name_key("远拓超市") == "yuantuochaoshi"  # 'yuan' is 裕安 run together, not 远
    assert name_key("长安汽车") == name_key("Changan Automobile") == "changanqiche"


def test_name_key_synonyms_meet_in_one_dictionary_key():
    keys = {
        name_key(x)
        for x in (
            "鸿运商贸",
            "鸿运贸易",
            "Hongyun Trading",
            "Hongyun Trade",
            "Hongyun Maoyi",
            "Hongyun Shangmao",
        )
    }
    assert keys == {"hongyunshangmao"}
    keys = {
        name_key(x)
        for x in ("鸿运服装", "鸿运服饰", "Hongyun Apparel", "Hongyun Clothing", "Hongyun Fuzhuang")
    }
    assert keys == {"hongyunfushi"}


def test_dictionary_keys_are_fixed_points():
    d = names._dict()
    for canon in set(d.cn.values()):
        assert name_key(canon) == canon, canon
    for words, canon in d.en.items():
        assert name_key(" ".join(words)) == canon, words


REGIONS = [
    ("", ""),
    ("上海", "Shanghai "),
    ("广东省深圳市", "Guangdong Shenzhen "),
    ("北京市", "Beijing "),
    ("高明区", "Gaoming "),
]
CN_LEGAL = ["", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "有限公思", "有限供司"]
EN_LEGAL = [
    "",
    " Co., Ltd.",
    " Company Limited",
    " Ltd.",
    " Corp.",
    " Group Co., Ltd.",
    " Youxian Gongsi",
    " Limited Liability Company",
    " CO LTD",
    " (Group) Co., Ltd.",
]


@PROPS
@given(
    pair=st.sampled_from(NAME_PAIRS),
    region=st.sampled_from(REGIONS),
    cn_legal=st.sampled_from(CN_LEGAL),
    en_legal=st.sampled_from(EN_LEGAL),
    case=st.sampled_from([str, str.upper, str.lower, str.title]),
    bracket=st.booleans(),
)
def test_name_key_ignores_region_legal_form_and_case(
    pair, region, cn_legal, en_legal, case, bracket
):
    cn, en = pair
    cn_region, en_region = region
    # 华联超市（上海）有限公司 / 'Hualian Supermarket (Shanghai) Co., Ltd.'
    if bracket and cn_region:
        cn_name = cn + f"（{cn_region}）" + cn_legal
        en_name = en + f" ({en_region.strip()})" + en_legal
    else:
        cn_name = cn_region + cn + cn_legal
        en_name = en_region + en + en_legal
    assert name_key(cn_name) == name_key(case(en_name)) == name_key(cn)


# ---------------------------------------------------------------------------------------------
# legal forms


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("福瑞水果股份有限公思", "福瑞水果股份有限公司"),
        ("小菜园餐饮管理股份有限贡司涪城分公司", "小菜园餐饮管理股份有限公司涪城分公司"),
        ("盛恒便利店有限供司", "盛恒便利店有限公司"),
        ("亿天水果（北京）有限贡司", "亿天水果（北京）有限公司"),
        ("华联超市有线公司", "华联超市有限公司"),  # 线 sounds like 限
        ("华联超市有限公司", "华联超市有限公司"),
        ("有线电视台", "有线电视台"),
        ("中国有色金属公司", "中国有色金属公司"),
    ],
)
def test_fix_legal_typos(raw, fixed):
    assert fix_legal_typos(raw) == fixed


def test_strip_legal_suffix():
    assert strip_legal_suffix("福瑞水果股份有限公思") == ("福瑞水果", "股份有限公司")
    assert strip_legal_suffix("王府井百货集团有限公司") == ("王府井百货", "集团有限公司")
    assert strip_legal_suffix("有限公司") == ("有限公司", None)
    assert strip_legal_suffix("老袁超市") == ("老袁超市", None)


def test_industry_designator():
    assert industry_designator(["laopan", "convenience", "store"])
    assert industry_designator(["honglong", "tobacco", "and", "liquor", "store"])
    assert industry_designator(["wangji", "general", "store"])
    assert industry_designator(["awei", "daily", "goods", "store"])
    assert not industry_designator(["yintian", "zhangjiang", "store"])
    assert not industry_designator(["store"])


# ---------------------------------------------------------------------------------------------
# branches


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("海港店", "haigang"),
        ("(海港店)", "haigang"),
        ("（海港店）", "haigang"),
        ("海港分店", "haigang"),
        ("海港门店", "haigang"),
        ("haigang店", "haigang"),
        ("Haigang Store", "haigang"),
        ("Haigang Outlet", "haigang"),
        ("(Shenzhen Branch)", "shenzhen"),
        ("深圳分公司", "shenzhen"),
        ("shenzhen分公司", "shenzhen"),
        ("浦东新区分公司", "pudong"),
        ("Pudong New Area Branch", "pudong"),
        ("高明区店", "gaoming"),
        ("Gaoming District Store", "gaoming"),
        ("上海张江店", "zhangjiang"),
        ("Shanghai Zhangjiang Branch", "zhangjiang"),
        ("襄州分公司", "xiangzhou"),
        ("Xiangzhou Sub-branch", "xiangzhou"),
        ("朝阳店", "chaoyang"),
        ("滨海点", "binhai"),  # 店 typed as a word that sounds the same
        ("幸福分庙", "xingfu"),
        ("集团重庆分公司", "chongqing"),  # what a wrong split of 银座超市集团重庆分公司 leaves
        ("第二分店", "2"),
        ("2店", "2"),
        ("二店", "2"),
        ("No. 2 Store", "2"),
        ("Store No. 2", "2"),
        ("2nd Branch", "2"),
        ("Second Store", "2"),
        ("分公司", None),
        ("Branch", None),
        ("convenience店", None),  # "Convenience Store" names a trade, not a branch
        ("General Store", None),
        ("", None),
        (None, None),
    ],
)
def test_branch_key(raw, key):
    assert branch_key(raw) == key


# ---------------------------------------------------------------------------------------------
# roads

ROAD_PAIRS = [
    ("大同路", ["Datong Road", "datong rd", "Datong Rd.", "DATONG LU", "Datonglu"]),
    (
        "中山北路",
        [
            "Zhongshan North Road",
            "Zhongshan Rd N.",
            "North Zhongshan Road",
            "Zhongshan Bei Lu",
            "Zhongshan Beilu",
            "N. Zhongshan Rd",
        ],
    ),
    ("民主街", ["minzhu street", "Minzhu St.", "Minzhu Jie"]),
    ("体育大街", ["Tiyu Street", "Tiyu Dajie"]),
    ("龙腾大道", ["Longteng Avenue", "Longteng Ave", "Longteng Boulevard", "Longteng Dadao"]),
    ("中山三路", ["Zhongshan 3rd Road", "Zhongshan Third Road", "Zhongshan Road 3"]),
    ("中山东一路", ["Zhongshan East 1st Road", "East Zhongshan 1st Road"]),
    ("五一路", ["Wuyi Road"]),
    ("八一北路", ["Bayi North Road"]),
    ("东环中路", ["Donghuan Middle Road", "Donghuan Zhonglu", "Donghuan Central Road"]),
    ("南京西路", ["West Nanjing Road", "Nanjing Rd W", "Nanjing Road West", "Nanjing Xilu"]),
    ("长宁路", ["Changning Road"]),
    ("朝阳路", ["Chaoyang Rd"]),
    ("绿园路", ["Lvyuan Road", "Lüyuan Road", "Luyuan Road"]),
    ("湖北路", ["Hubei Road"]),
    ("科苑路", ["Keyuan Road"]),
    ("南锣鼓巷", ["Nanluogu Lane", "Nanluogu Xiang"]),
    ("沪宁高速公路", ["Huning Gaosu Highway", "Huning Gaosu Gonglu"]),
]


@pytest.mark.parametrize(("cn", "latin"), ROAD_PAIRS)
def test_road_key_is_script_blind(cn, latin):
    want = road_key(cn)
    assert want is not None
    for x in latin:
        assert road_key(x) == want, x


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("大同路", "datonglu"),
        ("Datong Road", "datonglu"),
        ("中山北路", "zhongshanbeilu"),
        ("Zhongshan Rd N.", "zhongshanbeilu"),
        ("民主街", "minzhujie"),
        ("龙腾大道", "longtengdadao"),
        ("738 Datong Road", "datonglu"),
        ("No. 20 Zhongshan North Road", "zhongshanbeilu"),
        ("中山路", "zhongshanlu"),
        ("", None),
    ],
)
def test_road_key(raw, key):
    assert road_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("88号", "88"),
        ("123弄45号", "123-45"),
        ("No. 738", "738"),
        ("12-3号", "12-3"),
        ("０８８号", "88"),
        ("", None),
        (None, None),
        ("无", None),
    ],
)
def test_number_key(raw, key):
    assert number_key(raw) == key


# ---------------------------------------------------------------------------------------------
# addresses


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (
            "room 2304, building 12, haitang yaju, 738 datong road, gaochun district, nanjing",
            ("江苏省", "南京市", "高淳区", "datonglu", "738", "12栋", "2304室"),
        ),
        (
            "shop 29, 1 minzhu street, nanhu district, jiaxing, china",
            ("浙江省", "嘉兴市", "南湖区", "minzhujie", "1", None, None),
        ),
        (
            "rm 1305, unit 3, bldg 4, no. 20 zhongshan north road, dongli district, tianjin",
            ("天津市", "天津市", "东丽区", "zhongshanbeilu", "20", "4栋3单元", "1305室"),
        ),
        (
            "No.738, Datong Rd., Gaochun Dist., Nanjing City, Jiangsu Province, P.R. China 211300",
            ("江苏省", "南京市", "高淳区", "datonglu", "738", None, None),
        ),
        (
            "Datong Road No. 738, Gaochun, Nanjing",
            ("江苏省", "南京市", "高淳区", "datonglu", "738", None, None),
        ),
        (
            "Jiangsu Nanjing Gaochun Datong Lu 738 Hao",
            ("江苏省", "南京市", "高淳区", "datonglu", "738", None, None),
        ),
        (
            "20F, 126 Qianjin Road, Gaoming District, Foshan, Guangdong",
            ("广东省", "佛山市", "高明区", "qianjinlu", "126", None, "20层"),
        ),
        (
            (
                "Room 3208, Building 5, Haitang Huayuan, Lane 1000, No. 134 Zhujiang Road, "
                "Huojia County, Xinxiang, Henan, China"
            ),
            ("河南省", "新乡市", "获嘉县", "zhujianglu", "1000-134", "5栋", "3208室"),
        ),
        (
            "No. 479 Baoan Road, Saihan District, Hohhot, Inner Mongolia",
            ("内蒙古自治区", "呼和浩特市", "赛罕区", "baoanlu", "479", None, None),
        ),
        (
            (
                "RM 202, UNIT 1, BLDG 18, KANGLE HUAYUAN, NO. 1 MINSHENG AVENUE, GUANCHENG "
                "SUBDISTRICT, DONGGUAN, GUANGDONG, CHINA"
            ),
            ("广东省", "东莞市", "莞城街道", "minshengdadao", "1", "18栋1单元", "202室"),
        ),
        (
            "Room 908, Building 11, No. 3 Yongan Road, Binhai New Area, Tianjin",
            ("天津市", "天津市", "滨海新区", "yonganlu", "3", "11栋", "908室"),
        ),
        (
            "29F, No. 27 Keji Nanlu, Xuanwu District, Nanjing, Jiangsu",
            ("江苏省", "南京市", "玄武区", "kejinanlu", "27", None, "29层"),
        ),
        (
            "29F, 4 Datong Road, Peixian County, Xuzhou, China",
            ("江苏省", "徐州市", "沛县", "datonglu", "4", None, "29层"),
        ),
        (
            "Room 2104, Building 30, 217 Tiyu Street, Tongxiang City, Jiaxing, Zhejiang",
            ("浙江省", "嘉兴市", "桐乡市", "tiyujie", "217", "30栋", "2104室"),
        ),
        (
            "5th Floor, 18 Zhongshan 1st Road, Yuexiu District, Guangzhou",
            ("广东省", "广州市", "越秀区", "zhongshan1lu", "18", None, "5层"),
        ),
        (
            "12 Chaoyang Road, Chaoyang District, Beijing",
            ("北京市", "北京市", "朝阳区", "chaoyanglu", "12", None, None),
        ),
        ("Xi'an, Shaanxi", ("陕西省", "西安市", None, None, None, None, None)),
        ("Kunshan, Jiangsu", ("江苏省", "苏州市", "昆山市", None, None, None, None)),
        (  # a district name unique in China, after the road
            "Bldg. 12, Rm. 2304, Da Tong Road 738, Gaochun",
            ("江苏省", "南京市", "高淳区", "datonglu", "738", "12栋", "2304室"),
        ),
        (
            "Unit 1203, 12/F, Tower A, No. 88 Zhongshan Road, Yuexiu District, Guangzhou",
            ("广东省", "广州市", "越秀区", "zhongshanlu", "88", "a栋", "1203室"),
        ),
        (
            "12th Floor, 18 Zhongshan Rd. (N), Gulou Dist., Nanjing",
            ("江苏省", "南京市", "鼓楼区", "zhongshanbeilu", "18", None, "12层"),
        ),
        (  # Shanghai lanes: Lane 20, No. 5 is 20弄5号
            "No. 5, Lane 20, Xiangyang Road, Xuhui District, Shanghai",
            ("上海市", "上海市", "徐汇区", "xiangyanglu", "20-5", None, None),
        ),
        ("Haitang Yaju, 738 Datong Road", (None, None, None, "datonglu", "738", None, None)),
        (
            "Shop 11, 3 Yingchun Lu, Jinan District, Fuzhou, China",
            ("福建省", "福州市", "晋安区", "yingchunlu", "3", None, None),
        ),
        ("南京市大同路738号", (None, None, None, None, None, None, None)),
        ("", (None, None, None, None, None, None, None)),
    ],
)
def test_parse_latin_address(raw, want):
    assert tuple(parse_latin_address(raw)) == want


def test_latin_address_uses_the_columns():
    a = parse_latin_address("976 Chuangye Road", "Sichuan Province", "Chengdu", "Xinjin District")
    assert a == LatinAddress("四川省", "成都市", "新津区", "chuangyelu", "976", None, None)
    # a district that disagrees with the columns is not taken
    b = parse_latin_address("8 Renmin Road, Gulou District", "Jiangsu", "Nanjing City", None)
    assert (b.province, b.city, b.district) == ("江苏省", "南京市", "鼓楼区")
    c = parse_latin_address("8 Renmin Road, Tianhe District", "Jiangsu", "Nanjing City", None)
    assert (c.province, c.city, c.district) == ("江苏省", "南京市", None)


@pytest.mark.parametrize(
    ("cols", "want"),
    [
        (("Sichuan Province", "Chengdu", "Xinjin District"), ("四川省", "成都市", "新津区")),
        (("Shaanxi", "Xi'an", None), ("陕西省", "西安市", None)),
        ((None, "Xi'an", None), ("陕西省", "西安市", None)),  # a city column names a city
        # 'Fuzhou' is 福州 or 抚州 and 'Jinan District' 晋安 or 金安: together only one fits
        ((None, "Fuzhou", "Jinan District"), ("福建省", "福州市", "晋安区")),
        ((None, "Wuxi", "Xishan Qu"), ("江苏省", "无锡市", "锡山区")),
        ((None, "Suzhou", None), (None, None, None)),  # 苏州 or 宿州
        (("Shanxi", "Taiyuan", None), ("山西省", "太原市", None)),
        (("Inner Mongolia", "Hohhot City", None), ("内蒙古自治区", "呼和浩特市", None)),
        (("Guangxi Zhuang Autonomous Region", "Guilin", None), ("广西壮族自治区", "桂林市", None)),
        (("Jiangsu", None, "Haimen District"), ("江苏省", "南通市", "海门区")),
        (("Zhejiang", "Jiaxing", "Tongxiang Shi"), ("浙江省", "嘉兴市", "桐乡市")),
        (("Anhui", "Hefei", "Lujiang Xian"), ("安徽省", "合肥市", "庐江县")),
        ((None, "Dongguan", "Guancheng Subdistrict"), ("广东省", "东莞市", "莞城街道")),
        (("Beijing", None, "Chaoyang Qu"), ("北京市", "北京市", "朝阳区")),
        (("Shanghai", "Shanghai", "Changning District"), ("上海市", "上海市", "长宁区")),
        (("广东省", "佛山市", "Gaoming District"), ("广东省", "佛山市", "高明区")),
        ((None, None, None), (None, None, None)),
    ],
)
def test_latin_divisions(cols, want):
    assert latin_divisions(*cols) == want


def test_the_chinese_and_latin_address_meet():
    """The parts the address comparison and blocking use agree across scripts."""
    from resolution.standardize import parse_address

    cn = parse_address(None, None, None, "南京市高淳区大同路738号海棠雅居12栋2304室")
    la = parse_latin_address(
        "Room 2304, Building 12, Haitang Yaju, 738 Datong Road, Gaochun District, Nanjing"
    )
    assert (cn.province, cn.city, cn.district) == (la.province, la.city, la.district)
    assert road_key(cn.road) == la.road_key
    assert number_key(cn.number) == la.number
    assert (cn.building, cn.room) == (la.building, la.room)


# ---------------------------------------------------------------------------------------------
# properties

KEYS = [
    name_key,
    branch_key,
    road_key,
    number_key,
    fix_legal_typos,
    strip_legal_suffix,
    latin_divisions,
    parse_latin_address,
]
PIECES = (
    list("abcdefghijklmnopqrstuvwxyz ,.()-'&#/0123456789")
    + list("超市便利店有限公司股份贡思深圳分海港路街大道北中号栋室区市省上京南东西长朝阳（）")
    + ["Road", "Store", "Co", "Ltd", " No. ", "District", "Branch", "Rm ", "Bldg ", "Lane "]
)
TEXT = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(PIECES), max_size=25).map("".join))


@PROPS
@given(TEXT)
def test_never_raises(s):
    # the unguarded functions: a bug must fail here, not hide behind the fallback
    for fn in KEYS:
        fn.__wrapped__(s)
    for fn in (name_key, branch_key, road_key, number_key):
        r = fn(s)
        assert r is None or (r.isascii() and r == r.lower() and r.strip() == r and r)


@PROPS
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=10), st.just([1])))
def test_never_raises_on_odd_types(x):
    for fn in KEYS:
        fn(x)


@PROPS
@given(TEXT)
def test_name_branch_and_number_keys_are_idempotent(s):
    for fn in (name_key, branch_key, number_key):
        k = fn(s)
        if k is not None:
            assert fn(k) == k, (fn.__name__, s, k)


ROAD_BASES = [
    "大同",
    "中山",
    "人民",
    "解放",
    "长江",
    "朝阳",
    "八一",
    "五四",
    "湖滨",
    "Datong",
    "Renmin",
    "Zhongshan",
    "Huada",
    "Keyuan",
]
CN_TYPES = ["路", "街", "大街", "大道", "东路", "西路", "南路", "北路", "中路", "三路", "巷"]
LATIN_TYPES = [
    "Road",
    "Rd.",
    "Street",
    "St",
    "Avenue",
    "Ave",
    "Boulevard",
    "Lu",
    "Jie",
    "Dajie",
    "Dadao",
    "North Road",
    "Rd S.",
    "Middle Road",
    "2nd Road",
    "Lane",
]


@PROPS
@given(
    st.sampled_from(ROAD_BASES),
    st.sampled_from(CN_TYPES + LATIN_TYPES),
    st.sampled_from(["", "12 ", "No. 5 "]),
)
def test_road_key_is_idempotent(base, typ, number):
    sep = "" if "\u4e00" <= typ[0] <= "\u9fff" and "\u4e00" <= base[0] <= "\u9fff" else " "
    k = road_key(number + base + sep + typ)
    assert k is not None and road_key(k) == k


# ---------------------------------------------------------------------------------------------
# speed


def test_one_hundred_thousand_names_key_in_seconds():
    chars = "鑫盛隆兴发达福祥瑞和泰康佳美华联嘉鸿宏源汇通丰利荣昌顺安信诚德益恒金银宝新天海东南万百千家好乐优品惠"
    trades = [
        "超市",
        "便利店",
        "商贸",
        "餐饮管理",
        "食品",
        "百货",
        "烟酒",
        "粮油",
        "大药房",
        "科技",
    ]
    regions = ["", "上海", "北京市", "广东省深圳市", "高明区"]
    forms = ["", "有限公司", "股份有限公司", "集团有限公司"]
    rng = random.Random(7)
    names: set[str] = set()
    while len(names) < 100_000:
        brand = "".join(rng.choice(chars) for _ in range(rng.choice((2, 3, 4))))
        names.add(rng.choice(regions) + brand + rng.choice(trades) + rng.choice(forms))
    L.warm()
    t0 = time.perf_counter()
    for n in names:
        name_key(n)
    seconds = time.perf_counter() - t0
    # about 3 s on one laptop core; generous for a loaded CI machine
    assert seconds < 15, f"{seconds:.1f}s for 100k names"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        # 分店 / 门店 / 分公司 mark a branch by themselves, even when the place is also an
        # industry word (科技路 → 科技分店); a bare 店 after an industry word is the business
        ("科技分店", "keji"),
        ("科技分公司", "keji"),
        ("便利店", None),
        ("Convenience Store", None),
    ],
)
def test_a_strong_designator_makes_a_branch_of_an_industry_word(raw, key):
    assert L.branch_key(raw) == key


def test_a_store_after_the_legal_form_keeps_its_place_key():
    from resolution.standardize import company_name

    c = company_name("长沙老娘舅餐饮管理股份有限公司科技分店")
    assert (c.core, c.legal_form, c.branch) == ("老娘舅餐饮管理", "股份有限公司", "keji")
    assert company_name("老娘舅餐饮管理股份有限公司").branch is None
    assert company_name("华联便利店").branch is None
