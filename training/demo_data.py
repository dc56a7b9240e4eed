"""Deterministic demo data: Chinese customer master data merged from five source systems.

`generate(n_records, seed)` returns a frame of ``CANONICAL_COLUMNS`` plus the ground-truth
``entity_id``; `write_demo` writes ``customers.csv`` and ``truth.csv``. The same
``(n_records, seed)`` always gives the same bytes.

What the data carries (see shared/DOMAIN.md for the habits it imitates):

* entities: companies (stores, supermarkets, distributors, restaurants, individual
  businesses) and persons (online-shop consumers), placed in real provinces, cities and
  districts whose administrative codes feed the USCC and ID-card numbers;
* 1..6 records per entity spread over five systems, each with its own habits:
  CRM (sales reps: short names, typos, gaps), ERP (full legal names, USCC), SHOP (persons,
  sparse fields), HKTW (traditional characters, full-width digits), OVERSEAS
  (pinyin / English names and addresses);
* variants in every field: legal forms, region prefix vs bracketed region, short names,
  phone formats and extensions, address levels, Chinese numerals, road-type swaps, email
  case, typos (homophones as a pinyin IME makes them, digit slips), missing values, stale
  records (older phone/address, older ``updated_at``), invalid check characters;
* hard non-duplicates (different entities that look alike): chain-store branches,
  salespeople listed as contact of several stores, family members sharing an address and
  landline, different people with the same common name in one city.

Generation is vectorised with numpy and done in chunks of ``CHUNK_RECORDS`` records,
each from its own seeded stream, so memory stays bounded and `write_demo` streams large
sets to disk. `generate_with_groups` also returns the hard-non-duplicate groups.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from resolution.config import CANONICAL_FIELDS

__all__ = [
    "CANONICAL_COLUMNS",
    "CUSTOMER_TYPES",
    "HARD_NEGATIVE_KINDS",
    "SOURCE_SYSTEMS",
    "generate",
    "generate_with_groups",
    "iter_chunks",
    "summary",
    "write_demo",
]

CANONICAL_COLUMNS = list(CANONICAL_FIELDS)  # the config's canonical customer schema
SOURCE_SYSTEMS = ("CRM", "ERP", "SHOP", "HKTW", "OVERSEAS")
CUSTOMER_TYPES = ("企业", "个人")
HARD_NEGATIVE_KINDS = ("chain_branch", "shared_salesperson", "family", "same_name")
GROUP_COLUMNS = ["group_id", "kind", "entity_id"]

#: records per independently seeded chunk; generate() and write_demo() use the same cut.
CHUNK_RECORDS = 200_000

_CRM, _ERP, _SHOP, _HKTW, _OVS = range(5)
_CO, _PER = 0, 1

# ---------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------

# province | city | 4-digit admin prefix | area code | weight | province pinyin | city pinyin
_CITY_TABLE = """
北京市|北京市|1101|010|7.0|Beijing|Beijing
上海市|上海市|3101|021|8.0|Shanghai|Shanghai
天津市|天津市|1201|022|2.5|Tianjin|Tianjin
重庆市|重庆市|5001|023|3.0|Chongqing|Chongqing
广东省|广州市|4401|020|5.5|Guangdong|Guangzhou
广东省|深圳市|4403|0755|6.0|Guangdong|Shenzhen
广东省|东莞市|4419|0769|2.2|Guangdong|Dongguan
广东省|佛山市|4406|0757|2.0|Guangdong|Foshan
广东省|珠海市|4404|0756|0.8|Guangdong|Zhuhai
广东省|汕头市|4405|0754|0.8|Guangdong|Shantou
广东省|惠州市|4413|0752|0.8|Guangdong|Huizhou
广东省|中山市|4420|0760|0.8|Guangdong|Zhongshan
浙江省|杭州市|3301|0571|4.0|Zhejiang|Hangzhou
浙江省|宁波市|3302|0574|2.0|Zhejiang|Ningbo
浙江省|温州市|3303|0577|1.5|Zhejiang|Wenzhou
浙江省|绍兴市|3306|0575|1.0|Zhejiang|Shaoxing
浙江省|金华市|3307|0579|1.2|Zhejiang|Jinhua
浙江省|嘉兴市|3304|0573|0.9|Zhejiang|Jiaxing
江苏省|南京市|3201|025|3.5|Jiangsu|Nanjing
江苏省|苏州市|3205|0512|3.5|Jiangsu|Suzhou
江苏省|无锡市|3202|0510|1.8|Jiangsu|Wuxi
江苏省|常州市|3204|0519|1.2|Jiangsu|Changzhou
江苏省|南通市|3206|0513|1.1|Jiangsu|Nantong
江苏省|徐州市|3203|0516|1.1|Jiangsu|Xuzhou
江苏省|扬州市|3210|0514|0.8|Jiangsu|Yangzhou
山东省|济南市|3701|0531|2.2|Shandong|Jinan
山东省|青岛市|3702|0532|2.4|Shandong|Qingdao
山东省|烟台市|3706|0535|1.0|Shandong|Yantai
山东省|潍坊市|3707|0536|1.0|Shandong|Weifang
山东省|临沂市|3713|0539|1.0|Shandong|Linyi
河南省|郑州市|4101|0371|2.8|Henan|Zhengzhou
河南省|洛阳市|4103|0379|1.0|Henan|Luoyang
河南省|新乡市|4107|0373|0.6|Henan|Xinxiang
湖北省|武汉市|4201|027|3.5|Hubei|Wuhan
湖北省|宜昌市|4205|0717|0.6|Hubei|Yichang
湖北省|襄阳市|4206|0710|0.6|Hubei|Xiangyang
湖南省|长沙市|4301|0731|2.8|Hunan|Changsha
湖南省|株洲市|4302|0731|0.6|Hunan|Zhuzhou
湖南省|衡阳市|4304|0734|0.6|Hunan|Hengyang
四川省|成都市|5101|028|4.0|Sichuan|Chengdu
四川省|绵阳市|5107|0816|0.6|Sichuan|Mianyang
四川省|南充市|5113|0817|0.5|Sichuan|Nanchong
福建省|福州市|3501|0591|1.8|Fujian|Fuzhou
福建省|厦门市|3502|0592|1.6|Fujian|Xiamen
福建省|泉州市|3505|0595|1.4|Fujian|Quanzhou
安徽省|合肥市|3401|0551|2.2|Anhui|Hefei
安徽省|芜湖市|3402|0553|0.7|Anhui|Wuhu
河北省|石家庄市|1301|0311|1.6|Hebei|Shijiazhuang
河北省|唐山市|1302|0315|0.9|Hebei|Tangshan
河北省|保定市|1306|0312|0.8|Hebei|Baoding
辽宁省|沈阳市|2101|024|1.8|Liaoning|Shenyang
辽宁省|大连市|2102|0411|1.6|Liaoning|Dalian
吉林省|长春市|2201|0431|1.4|Jilin|Changchun
黑龙江省|哈尔滨市|2301|0451|1.4|Heilongjiang|Harbin
陕西省|西安市|6101|029|2.8|Shaanxi|Xi'an
山西省|太原市|1401|0351|1.2|Shanxi|Taiyuan
江西省|南昌市|3601|0791|1.4|Jiangxi|Nanchang
广西壮族自治区|南宁市|4501|0771|1.3|Guangxi|Nanning
广西壮族自治区|桂林市|4503|0773|0.5|Guangxi|Guilin
云南省|昆明市|5301|0871|1.6|Yunnan|Kunming
贵州省|贵阳市|5201|0851|1.2|Guizhou|Guiyang
海南省|海口市|4601|0898|0.7|Hainan|Haikou
甘肃省|兰州市|6201|0931|0.8|Gansu|Lanzhou
内蒙古自治区|呼和浩特市|1501|0471|0.6|Inner Mongolia|Hohhot
新疆维吾尔自治区|乌鲁木齐市|6501|0991|0.7|Xinjiang|Urumqi
宁夏回族自治区|银川市|6401|0951|0.4|Ningxia|Yinchuan
青海省|西宁市|6301|0971|0.3|Qinghai|Xining
西藏自治区|拉萨市|5401|0891|0.2|Xizang|Lhasa
"""

# Current districts per city (from the GB/T 2260 table that python-stdnum ships), as
# "last two code digits + name + first year the code was valid" (no year: always valid).
_DISTRICTS = {
    "1101": "01东城区,02西城区,05朝阳区,06丰台区,07石景山区,08海淀区,09门头沟区,11房山区1986,12通州区1997,13顺义区1998,14昌平区1999,15大兴区2001",
    "1201": "01和平区,02河东区,03河西区,04南开区,05河北区,06红桥区,10东丽区1992,11西青区1992,12津南区1992,13北辰区1992,14武清区2000,15宝坻区2001,16滨海新区2009",
    "3101": "01黄浦区,04徐汇区,05长宁区,06静安区,07普陀区,09虹口区,10杨浦区,12闵行区1981,13宝山区1988,14嘉定区1992,15浦东新区1992,16金山区1997,17松江区1998,18青浦区1999",
    "5001": "01万州区1998,02涪陵区1997,03渝中区1997,04大渡口区1997,06沙坪坝区1997,07九龙坡区1997,08南岸区1997,09北碚区1997,12渝北区1997,13巴南区1997,15长寿区2001,16江津区2006",
    "4401": "03荔湾区1983,04越秀区1983,05海珠区1983,06天河区1985,11白云区1987,12黄埔区1983,13番禺区2000,14花都区2000,15南沙区2005,17从化区2014,18增城区2014",
    "4403": "03罗湖区1990,04福田区1990,05南山区1990,06宝安区1992,07龙岗区1992,08盐田区1997,09龙华区2016,10坪山区2016,11光明区2018",
    "4419": "00莞城街道1988,00南城街道1988,00东城街道1988,00万江街道1988,00长安镇1988,00虎门镇1988,00厚街镇1988,00常平镇1988,00塘厦镇1988,00樟木头镇1988",
    "4406": "04禅城区2002,05南海区2002,06顺德区2002,07三水区2002,08高明区2002",
    "4404": "02香洲区1984,03斗门区2001,04金湾区2001",
    "4405": "07龙湖区1991,11金平区2003,12濠江区2003,13潮阳区2003,14潮南区2003,15澄海区2003,23南澳县1983",
    "4413": "02惠城区1988,03惠阳区2003,22博罗县1988,23惠东县1988,24龙门县1988",
    "4420": "00石岐街道1988,00东区街道1988,00西区街道1988,00南区街道1988,00小榄镇1988,00古镇镇1988,00坦洲镇1988,00三乡镇1988",
    "3301": "02上城区1983,05拱墅区1983,06西湖区1983,08滨江区1996,09萧山区2001,10余杭区2001,11富阳区2014,12临安区2017,22桐庐县,27淳安县,82建德市1992",
    "3302": "03海曙区1983,05江北区1983,06北仑区1987,11镇海区1985,12鄞州区2002,13奉化区2016,25象山县1983,26宁海县1983,81余姚市1989,82慈溪市1989",
    "3303": "02鹿城区1984,03龙湾区1984,04瓯海区1992,05洞头区2015,24永嘉县1981,26平阳县1981,27苍南县1981,81瑞安市1989,82乐清市1993",
    "3306": "02越城区1983,03柯桥区2013,04上虞区2013,24新昌县1983,81诸暨市1989,83嵊州市1995",
    "3307": "02婺城区1985,03金东区2000,23武义县1985,26浦江县1985,81兰溪市1989,82义乌市1989,83东阳市1989,84永康市1992",
    "3304": "02南湖区2005,11秀洲区1999,21嘉善县1983,24海盐县1983,81海宁市1989,82平湖市1991,83桐乡市1993",
    "3201": "02玄武区1983,04秦淮区1983,05建邺区1983,06鼓楼区1983,11浦口区1983,13栖霞区1983,14雨花台区1983,15江宁区2000,16六合区2002,17溧水区2013,18高淳区2013",
    "3205": "05虎丘区2000,06吴中区2000,07相城区2000,08姑苏区2012,09吴江区2012,81常熟市1989,82张家港市1989,83昆山市1989,85太仓市1993",
    "3202": "05锡山区2000,06惠山区2000,11滨湖区2000,13梁溪区2015,14新吴区2015,81江阴市1989,82宜兴市1989",
    "3204": "02天宁区1983,04钟楼区1983,11新北区2002,12武进区2002,13金坛区2015,81溧阳市1990",
    "3206": "12通州区2009,13崇川区2020,14海门区2020,23如东县1983,81启东市1989,82如皋市1991,85海安市2018",
    "3203": "02鼓楼区1983,03云龙区1983,05贾汪区1983,11泉山区1993,12铜山区2010,21丰县1983,22沛县1983,24睢宁县1983,81新沂市1990,82邳州市1992",
    "3210": "02广陵区1983,03邗江区2000,12江都区2011,23宝应县1983,81仪征市1989,84高邮市1991",
    "3701": "02历下区1983,03市中区1983,04槐荫区1983,05天桥区1983,12历城区1987,13长清区2001,14章丘区2016,15济阳区2018,16莱芜区2018,24平阴县1985,26商河县1989",
    "3702": "02市南区1983,03市北区1983,11黄岛区1983,12崂山区1988,13李沧区1994,14城阳区1994,15即墨区2017,81胶州市1989,83平度市1989,85莱西市1990",
    "3706": "02芝罘区1983,11福山区1983,12牟平区1994,13莱山区1994,14蓬莱区2020,81龙口市1989,82莱阳市1989,83莱州市1989,85招远市1991",
    "3707": "02潍城区1983,03寒亭区1983,04坊子区1983,05奎文区1994,24临朐县1983,25昌乐县1983,81青州市1989,82诸城市1989,83寿光市1993,84安丘市1994",
    "3713": "02兰山区1994,11罗庄区1994,12河东区1994,21沂南县1994,22郯城县1994,23沂水县1994,24兰陵县2014,25费县1994,26平邑县1994,27莒南县1994",
    "4101": "02中原区1983,03二七区1983,05金水区1983,06上街区1983,08惠济区2003,22中牟县1983,81巩义市1991,82荥阳市1994,83新密市1994,84新郑市1994,85登封市1994",
    "4103": "02老城区1983,03西工区1983,05涧西区1983,07偃师区2021,08孟津区2021,11洛龙区2000,23新安县1983,24栾川县1986,27宜阳县1986",
    "4107": "02红旗区1983,03卫滨区2003,04凤泉区2003,11牧野区2003,21新乡县1983,24获嘉县1986,25原阳县1986,81卫辉市1989,82辉县市1989",
    "4201": "02江岸区1983,03江汉区1983,04硚口区1983,05汉阳区1983,06武昌区1983,07青山区1983,11洪山区1983,12东西湖区1983,13汉南区1984,14蔡甸区1992,15江夏区1995,16黄陂区1998",
    "4205": "02西陵区1986,03伍家岗区1986,04点军区1986,05猇亭区1995,06夷陵区2001,25远安县1992,81宜都市1998,82当阳市1992,83枝江市1996",
    "4206": "02襄城区1984,06樊城区1995,07襄州区2010,24南漳县1983,25谷城县1983,82老河口市1989,83枣阳市1989,84宜城市1994",
    "4301": "02芙蓉区1996,03天心区1996,04岳麓区1996,05开福区1996,11雨花区1996,12望城区2011,21长沙县,81浏阳市1993,82宁乡市2017",
    "4302": "02荷塘区1997,03芦淞区1997,04石峰区1997,11天元区1997,12渌口区2018,23攸县1983,24茶陵县1983,81醴陵市1989",
    "4304": "05珠晖区2001,06雁峰区2001,07石鼓区2001,08蒸湘区2001,12南岳区1984,21衡阳县1983,22衡南县1983,81耒阳市1989,82常宁市1996",
    "5101": "04锦江区1990,05青羊区1990,06金牛区1990,07武侯区1990,08成华区1990,12龙泉驿区1983,13青白江区1983,14新都区2001,15温江区2002,16双流区2015,17郫都区2016,18新津区2020",
    "5107": "03涪城区1992,04游仙区1992,05安州区2016,22三台县1985,23盐亭县1985,25梓潼县1985,81江油市1989",
    "5113": "02顺庆区1993,03高坪区1993,04嘉陵区1993,21南部县1993,22营山县1993,23蓬安县1993,81阆中市1993",
    "3501": "02鼓楼区1983,03台江区1983,04仓山区1983,05马尾区1983,11晋安区1995,12长乐区2017,21闽侯县,22连江县1983,81福清市1990",
    "3502": "03思明区1983,05海沧区2003,06湖里区1987,11集美区1987,12同安区1996,13翔安区2003",
    "3505": "02鲤城区1985,03丰泽区1997,04洛江区1997,05泉港区2000,21惠安县1985,24安溪县1985,81石狮市1989,82晋江市1992,83南安市1993",
    "3401": "02瑶海区2002,03庐阳区2002,04蜀山区2002,11包河区2002,21长丰县,22肥东县1983,23肥西县1983,24庐江县2011,81巢湖市2011",
    "3402": "02镜湖区1983,07鸠江区1990,09弋江区2020,10湾沚区2020,12繁昌区2020,23南陵县1983,81无为市2019",
    "1301": "02长安区1983,04桥西区1983,05新华区1983,07井陉矿区1983,08裕华区2001,09藁城区2014,10鹿泉区2014,11栾城区2014,23正定县1986",
    "1302": "02路南区1983,03路北区1983,04古冶区1995,05开平区1983,07丰南区2002,08丰润区2002,09曹妃甸区2012,29玉田县1983,81遵化市1992",
    "1306": "02竞秀区2015,06莲池区2015,07满城区2015,08清苑区2015,09徐水区2015,26定兴县1994,29容城县1994",
    "2101": "02和平区1983,03沈河区1983,04大东区1983,05皇姑区1983,06铁西区1983,11苏家屯区1983,12浑南区2014,13沈北新区2006,14于洪区1983,15辽中区2016,81新民市1993",
    "2102": "02中山区1983,03西岗区1983,04沙河口区1983,11甘井子区1983,12旅顺口区1983,13金州区1987,14普兰店区2015,81瓦房店市1989,83庄河市1992",
    "2201": "02南关区1983,03宽城区1983,04朝阳区1983,05二道区1995,06绿园区1995,12双阳区1995,13九台区2014,22农安县1983,82榆树市1990,83德惠市1994",
    "2301": "02道里区1983,03南岗区1983,04道外区1983,08平房区1983,09松北区2004,10香坊区2006,11呼兰区2004,12阿城区2006,13双城区2014,25宾县1991",
    "6101": "02新城区1983,03碑林区1983,04莲湖区1983,11灞桥区1983,12未央区1983,13雁塔区1983,14阎良区1983,15临潼区1997,16长安区2002,17高陵区2014,18鄠邑区2016,22蓝田县1983",
    "1401": "05小店区1997,06迎泽区1997,07杏花岭区1997,08尖草坪区1997,09万柏林区1997,10晋源区1997,21清徐县,22阳曲县,81古交市1989",
    "3601": "02东湖区1983,03西湖区1983,04青云谱区1983,11青山湖区2002,12新建区2015,13红谷滩区2019,21南昌县,23安义县1983,24进贤县1983",
    "4501": "02兴宁区1983,03青秀区2004,05江南区1983,07西乡塘区2004,08良庆区2004,09邕宁区2004,10武鸣区2015,26宾阳县2002,81横州市2021",
    "4503": "02秀峰区1983,03叠彩区1983,04象山区1983,05七星区1983,11雁山区1996,12临桂区2013,21阳朔县1981,23灵川县1998",
    "5301": "02五华区1983,03盘龙区1983,11官渡区1983,12西山区1983,13东川区1998,14呈贡区2011,15晋宁区2016,24富民县,25宜良县1983,81安宁市1995",
    "5201": "02南明区1983,03云岩区1983,11花溪区1983,12乌当区1983,13白云区1983,15观山湖区2012,21开阳县1995,81清镇市1995",
    "4601": "05秀英区2002,06龙华区2002,07琼山区2002,08美兰区2002",
    "6201": "02城关区1983,03七里河区1983,04西固区1983,05安宁区1983,11红古区1983,21永登县,22皋兰县,23榆中县",
    "1501": "02新城区1983,03回民区1983,04玉泉区1983,05赛罕区2000,22托克托县,23和林格尔县1995,25武川县1996",
    "6501": "02天山区1983,03沙依巴克区1983,04新市区1983,05水磨沟区1983,06头屯河区1983,07达坂城区2002,09米东区2007",
    "6401": "04兴庆区2002,05西夏区2002,06金凤区2002,21永宁县,22贺兰县,81灵武市2002",
    "6301": "02城东区1983,03城中区1983,04城西区1983,05城北区1986,06湟中区2019,23湟源县1999",
    "5401": "02城关区1983,03堆龙德庆区2015,04达孜区2017,21林周县,22当雄县,24曲水县",
}

# surname, pinyin, relative frequency (per mille, rough national figures)
_SURNAMES = """
王wang71 李li70 张zhang68 刘liu54 陈chen46 杨yang31 黄huang22 赵zhao20 吴wu19 周zhou19
徐xu13 孙sun13 马ma11 朱zhu11 胡hu10 郭guo10 何he9 林lin9 高gao9 罗luo8 郑zheng8
梁liang7 谢xie6 宋song5 唐tang5 许xu5 韩han5 冯feng5 邓deng5 曹cao4 彭peng4 曾zeng4
肖xiao4 田tian4 董dong4 袁yuan4 潘pan3 于yu3 蒋jiang3 蔡cai3 余yu3 杜du3 叶ye3 程cheng3
苏su3 魏wei3 吕lv3 丁ding3 任ren2 沈shen2 姚yao2 卢lu2 姜jiang2 崔cui2 钟zhong2 谭tan2
陆lu2 汪wang2 范fan2 金jin2 石shi2 廖liao2 贾jia2 夏xia2 韦wei2 付fu2 方fang2 白bai2
邹zou2 孟meng1 熊xiong1 秦qin1 邱qiu1 江jiang1 尹yin1 薛xue1 闫yan1 段duan1 雷lei1
侯hou1 龙long1 史shi1 陶tao1 黎li1 贺he1 顾gu1 毛mao1 郝hao1 龚gong1 邵shao1 万wan1
钱qian1 严yan1 覃qin1 武wu1 戴dai1 莫mo1 孔kong1 向xiang1 汤tang1 欧阳ouyang0.3
司马sima0.1 上官shangguan0.1 诸葛zhuge0.1
"""

# Very common given names with a popularity weight (male / female); rarer ones are built
# from the character pools below, so the top names repeat by the dozen.
_GIVEN_M = (
    "伟30 强12 磊12 军11 勇11 杰10 涛9 斌8 超8 明8 刚7 平6 辉7 鹏6 华6 飞6 鑫5 波5 宇6 浩6 "
    "凯5 健5 俊5 帆4 帅4 旭4 宁4 龙4 林4 阳4 亮5 峰5 毅3 东4 建华5 建国5 建军5 志强5 "
    "志明4 海涛4 俊杰4 浩然4 子轩5 宇轩4 晓东4 文博3 明辉3 国强4 永强3 家豪3 振华3 博文3 "
    "建平3 红军3 晓明4 德华2 国庆3 立新2"
)
_GIVEN_F = (
    "芳28 娜25 敏18 静18 丽14 艳13 娟12 霞10 秀英12 燕10 玲9 桂英8 丹8 萍8 红7 玉兰6 婷8 雪6 "
    "琳6 晶5 欣怡6 梓涵6 雨涵5 诗涵5 子涵5 佳怡4 思琪4 慧5 颖5 倩5 洁5 莉5 美玲3 晓红4 海燕4 "
    "丽娟4 春梅3 淑珍3 秀兰4 凤英3 丽华3 雪梅3 文静3 晓燕3"
)
_GIVEN_M_POOL = (
    "志建国文明海俊晓永振宏子浩宇天家嘉思博鹏少立德世承金光正",
    "伟强明华军平杰涛斌辉鹏飞宇轩豪峰龙林生成东波刚勇超然阳民新荣",
)
_GIVEN_F_POOL = (
    "秀丽美晓雅静婷雨欣佳梓诗梦慧玉春淑凤金海思紫小文月晨若一可心",
    "英兰芳华红玲娟燕霞萍婷琳怡涵琪雪丹洁静敏慧梅珍莹然萱妍欣悦宁",
)

# key | word in legal name | short word | individual-business word | English |
# English (individual) | weight | usable for chains
_INDUSTRY_TABLE = """
超市|超市|超市|超市|Supermarket|Supermarket|16|1
便利店|便利店|便利店|便利店|Convenience Store|Convenience Store|10|1
商贸|商贸|商贸|商行|Trading|Trading Firm|14|0
贸易|贸易|贸易|商行|Trade|Trading Firm|10|0
食品|食品|食品|食品店|Food|Food Store|10|1
餐饮|餐饮管理|餐饮|饭店|Catering Management|Restaurant|9|1
百货|百货|百货|百货店|Department Store|General Store|4|1
烟酒|烟酒|烟酒|烟酒店|Tobacco and Liquor|Tobacco and Liquor Store|4|0
粮油|粮油|粮油|粮油店|Grain and Oil|Grain and Oil Store|3|0
水果|水果|水果|水果店|Fruit|Fruit Store|3|1
日用品|日用品|日用品|日用品店|Daily Necessities|Daily Goods Store|3|0
母婴|母婴用品|母婴|母婴店|Maternal and Infant Products|Baby Store|2|1
饮品|饮品|饮品|奶茶店|Beverage|Tea Shop|3|1
烘焙|烘焙食品|烘焙|面包店|Bakery|Bakery|2|1
药房|大药房|大药房|药店|Pharmacy|Pharmacy|2|1
供应链|供应链管理|供应链|商行|Supply Chain Management|Trading Firm|2|0
电商|电子商务|电商|网店|E-commerce|Online Store|2|0
"""

# chain brands and their industry key
_CHAIN_BRANDS = """
超市:华联 联华 永辉 物美 家家悦 步步高 苏果 华润万家 人人乐 新华都 北国 银座 大张 中百 利群 天虹 世纪联华 京客隆 红旗 百佳
便利店:美宜佳 便利蜂 快客 好德 可的 十足 见福 唐久 易捷 喜士多 天福
水果:百果园 鲜丰水果 果多美
食品:钱大妈 良品铺子 来伊份 周黑鸭 绝味
餐饮:老乡鸡 西贝 外婆家 真功夫 乡村基 眉州东坡 大娘水饺 杨国福 永和大王 老娘舅 小菜园 绿茶
饮品:蜜雪冰城 古茗 书亦 沪上阿姨 茶百道 一点点
烘焙:好利来 鲍师傅 元祖 味多美 克莉丝汀
药房:老百姓 大参林 益丰 一心堂 海王星辰 国大
母婴:孩子王 爱婴室 乐友
百货:王府井 银泰 大商 重百
"""

# characters for generated two-character brand words (鑫盛, 华联, 福旺, ...)
_BRAND_CHARS = (
    "鑫盛隆兴发达福祥瑞和泰康佳美华联嘉鸿宏源汇通丰利荣昌顺安信诚德益恒金银宝新天海东南万"
    "百千家好乐优品惠客多旺润亿辉腾阳光明星悦禾田园合众壹致远邦创拓晟灿豪欣"
)

_LEGAL_TABLE = [
    # legal form, weight, English renderings
    ("有限公司", 66, ("Co., Ltd.", "Co. Ltd", "Company Limited", "Ltd.")),
    ("有限责任公司", 10, ("Co., Ltd.", "Limited Liability Company", "LLC")),
    ("股份有限公司", 5, ("Co., Ltd.", "Joint Stock Co., Ltd.", "Stock Co., Ltd.")),
    ("集团有限公司", 3, ("Group Co., Ltd.", "Group Limited", "Group Co. Ltd")),
    ("", 16, ("",)),  # individual business (个体工商户): no legal form, USCC starts 92
]
_IND_LEGAL = 4
# legal-form variants a careless record may carry instead of the registered one
_LEGAL_VARIANTS = {
    "有限公司": ("有限责任公司", "公司", "有限公司"),
    "有限责任公司": ("有限公司", "有限公司", "公司"),
    "股份有限公司": ("有限公司", "股份公司", "有限公司"),
    "集团有限公司": ("集团", "集团公司", "有限公司"),
    "": ("（个体工商户）", "（个体）", ""),
}
_LEGAL_PINYIN = {
    "有限公司": "Youxian Gongsi",
    "有限责任公司": "Youxian Zeren Gongsi",
    "股份有限公司": "Gufen Youxian Gongsi",
    "集团有限公司": "Jituan Youxian Gongsi",
    "": "",
}

_ROAD_BASES = (
    "人民 解放 中山 建设 和平 新华 文化 胜利 青年 东风 长江 黄河 湖滨 学府 科技 创业 工业 金桥 "
    "张江 南京 北京 延安 淮海 深南 滨海 迎宾 光明 幸福 朝阳 团结 振兴 繁荣 友谊 健康 育才 花园 "
    "滨江 江南 沿江 环城 府前 西湖 凤凰 龙华 宝安 海港 世纪 银河 星光 站前 车站 新村 体育 公园 "
    "民主 复兴 红旗 五一 八一 东方 太平 长安 金融 商业 文昌 兴业 开发 高新 中华 华山 泰山 衡山 "
    "天山 昆仑 黄山 虹桥 天河 珠江 越秀 东湖 金陵 锦绣 龙腾 万寿 永安 建国 交通 环湖 兴华 前进 "
    "向阳 红星 劳动 平安 新民 大同 富强 民生 学院 春晖 桂林 松山 清河 石门 白云 紫金 翠湖 银湖 "
    "绿洲 金沙 江滨 望江 迎春 新港 广场 汉阳 北环 南环 西环 东环"
)
# road type, weight, English, pinyin, the type a careless record swaps it for
_ROAD_SUFFIXES = [
    ("路", 50, "Road", "Lu", "大道"),
    ("大道", 8, "Avenue", "Dadao", "路"),
    ("街", 10, "Street", "Jie", "路"),
    ("大街", 4, "Street", "Dajie", "街"),
    ("东路", 7, "East Road", "Donglu", "路"),
    ("西路", 7, "West Road", "Xilu", "路"),
    ("南路", 5, "South Road", "Nanlu", "路"),
    ("北路", 5, "North Road", "Beilu", "路"),
    ("中路", 4, "Middle Road", "Zhonglu", "路"),
]
_COMMUNITY_BASES = (
    "阳光 金色 锦绣 幸福 和谐 紫荆 碧水 绿城 万科 碧桂园 保利 龙湖 世纪 东方 名都 翡翠 蓝湾 花城 "
    "康乐 安居 怡景 丽景 滨江 城市 香榭 凯旋 御景 天悦 新城 盛世 海棠 桃源 枫林 嘉园 春晓 明珠"
)
_COMMUNITY_SUFFIXES = "花园 小区 家园 苑 公寓 新村 华庭 名苑 雅居 府 城 湾"

_MOBILE_PREFIXES = (
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139] * 3
    + [150, 151, 152, 153, 155, 156, 157, 158, 159] * 2
    + [180, 181, 182, 183, 184, 185, 186, 187, 188, 189] * 2
    + [145, 147, 166, 172, 173, 175, 176, 177, 178, 191, 193, 195, 198, 199]
)
_PERSON_MAIL_DOMAINS = [
    ("qq.com", 32),
    ("163.com", 25),
    ("126.com", 10),
    ("sina.com", 4),
    ("139.com", 5),
    ("gmail.com", 5),
    ("hotmail.com", 5),
    ("foxmail.com", 4),
    ("outlook.com", 4),
    ("yeah.net", 3),
    ("sohu.com", 3),
]
_COMPANY_FREE_DOMAINS = ["163.com", "126.com", "qq.com", "sina.com", "aliyun.com"]

# characters easily confused by shape (形近字); homophones come from pinyin at build time
_SHAPE_PAIRS = (
    "己已 未末 土士 日曰 人入 天夭 大太 王玉 华化 联连 超起 汇江 鑫鑫 晶品 辉挥 鹏朋 杰木 "
    "斌彬 娟鹃 婷亭 琳林 丽莉 芳方 静净 敏民 涛滔 刚钢 磊石 浩皓 宇字 轩杆 佳住 嘉喜 贸货 "
    "商啇 店庙 区匹 路络 街衔 号弓 栋冻 楼搂 室窒 幢憧 弄异 园圆 苑宛"
)
# extra everyday characters so that homophone typos have realistic partners
_COMMON_CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能"
    "下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加"
    "量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与"
    "关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者"
    "最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少"
    "图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光"
    "门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采"
    "转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节"
    "话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际"
    "商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精"
    "值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住"
    "调满县局照参红细引听该铁价严龙飞芳娜敏静丽艳娟霞燕玲丹萍婷雪琳晶欣怡涵琪慧颖倩洁莉梅珍"
    "伟磊勇杰涛斌超刚辉鹏鑫波宇浩凯健俊帆帅旭宁峰毅轩豪荣盛隆兴福祥瑞泰康佳嘉鸿宏源汇丰昌顺"
)


def _split_weighted(text: str) -> tuple[list[str], list[float]]:
    names, weights = [], []
    for token in text.split():
        i = next(k for k, ch in enumerate(token) if ch.isdigit() or ch == ".")
        names.append(token[:i])
        weights.append(float(token[i:]))
    return names, weights


def _cn_number(n: int) -> str:
    """123 -> 一百二十三, 10 -> 十, 105 -> 一百零五 (0 < n < 10000)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    out, started, zero = "", False, False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // unit % 10
        if d == 0:
            zero = started
            continue
        if zero:
            out += "零"
            zero = False
        if not (unit == 10 and d == 1 and not started):
            out += digits[d]
        out += name
        started = True
    return out


_PINYIN_OVERRIDES = {
    "闵行": "Minhang",
    "塘厦": "Tangxia",
    "重百": "Chongbai",
    "大参林": "Dashenlin",
}


def _place_pinyin(word: str, lazy_pinyin) -> str:
    if word in _PINYIN_OVERRIDES:
        return _PINYIN_OVERRIDES[word]
    syl = lazy_pinyin(word)
    if word.endswith("都"):
        syl[-1] = "du"
    if word.startswith("长"):
        syl[0] = "chang"
    if word.startswith("朝阳"):
        syl[0] = "chao"
    if word.startswith("六"):
        syl[0] = "lu"
    return "".join(syl).capitalize()


def _short_place(name: str) -> str:
    for suf in ("新区", "街道", "区", "县", "市", "镇"):
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            return name[: -len(suf)]
    return name


def _arr(values, dtype=object) -> np.ndarray:
    values = list(values)
    out = np.empty(len(values), dtype=dtype)
    out[:] = values
    return out


@functools.lru_cache(maxsize=1)
def _vocab() -> SimpleNamespace:
    from pypinyin import lazy_pinyin

    v = SimpleNamespace()
    # --- regions
    rows = [ln.split("|") for ln in _CITY_TABLE.strip().splitlines()]
    v.c_prov = _arr(r[0] for r in rows)
    v.c_city = _arr(r[1] for r in rows)
    v.c_code4 = [r[2] for r in rows]
    v.c_area = _arr(r[3] for r in rows)
    v.c_area1 = _arr(r[3][1:] for r in rows)
    v.c_weight = np.array([float(r[4]) for r in rows])
    v.c_prov_py = _arr(r[5] for r in rows)
    v.c_city_py = _arr(r[6] for r in rows)
    v.c_muni = np.array([r[0] == r[1] for r in rows])
    v.c_city_short = _arr(r[1][:-1] for r in rows)
    prov_short = {
        "内蒙古自治区": "内蒙古",
        "广西壮族自治区": "广西",
        "新疆维吾尔自治区": "新疆",
        "宁夏回族自治区": "宁夏",
        "西藏自治区": "西藏",
    }
    v.c_prov_short = _arr(prov_short.get(p, p[:-1]) for p in v.c_prov)
    v.c_local_len = np.array([7 if r[3] in ("0891", "0951", "0971") else 8 for r in rows])
    d_city, d_name, d_code, d_start, d_w = [], [], [], [], []
    for ci, code4 in enumerate(v.c_code4):
        for item in _DISTRICTS[code4].split(","):
            tail = item[2:]
            j = len(tail)
            while tail[j - 1].isdigit():
                j -= 1
            name, year = tail[:j], tail[j:]
            d_city.append(ci)
            d_name.append(name)
            d_code.append(code4 + item[:2])
            d_start.append(int(year) if year else 0)
            d_w.append(3.0 if name.endswith(("区", "街道")) else 1.0)
    v.d_city = np.array(d_city)
    v.d_name = _arr(d_name)
    v.d_code = _arr(d_code)
    v.d_start = np.array(d_start)
    v.d_short = _arr(_short_place(n) for n in d_name)
    v.d_py = _arr(_place_pinyin(s, lazy_pinyin) for s in v.d_short)
    en_suffix = {
        "区": " District",
        "县": " County",
        "市": " City",
        "镇": " Town",
        "道": " Subdistrict",
    }
    v.d_en = _arr(
        p + (" New Area" if n.endswith("新区") else en_suffix.get(n[-1], ""))
        for p, n in zip(v.d_py, d_name)
    )
    v.d_qu_py = _arr(  # "Nanshan Qu" style
        p
        + {"区": " Qu", "县": " Xian", "市": " Shi", "镇": " Zhen", "道": " Jiedao"}.get(n[-1], "")
        for p, n in zip(v.d_py, d_name)
    )
    # sampling a district inside a city: global cumulative weights offset by city index
    cum = np.zeros(len(d_w))
    for ci in range(len(v.c_city)):
        idx = np.flatnonzero(v.d_city == ci)
        w = np.cumsum(np.array(d_w)[idx])
        cum[idx] = ci + w / w[-1]
    v.d_cum = cum
    v.d_always_valid = np.flatnonzero(v.d_start == 0)

    # --- people
    sn = []
    for token in _SURNAMES.split():
        i = next(k for k, ch in enumerate(token) if ch.isascii())
        j = next(k for k, ch in enumerate(token) if ch.isdigit())
        sn.append((token[:i], token[i:j].capitalize(), float(token[j:])))
    v.s_str = _arr(s for s, _, _ in sn)
    v.s_py = _arr(p for _, p, _ in sn)
    v.s_w = np.array([w for _, _, w in sn])
    g_str, g_sex, g_w = [], [], []
    for sex, text, pool in ((0, _GIVEN_M, _GIVEN_M_POOL), (1, _GIVEN_F, _GIVEN_F_POOL)):
        names, weights = _split_weighted(text)
        top = sum(weights)
        seen = set(names)
        gen = [a + b for a in pool[0] for b in pool[1] if a != b and a + b not in seen]
        gen += [b for b in pool[1] if b not in seen][:10]
        g_str += names + gen
        g_sex += [sex] * (len(names) + len(gen))
        # explicit names carry ~55% of the mass, the generated ones share the rest
        g_w += weights + [top * 0.8 / len(gen)] * len(gen)
    v.g_str = _arr(g_str)
    v.g_sex = np.array(g_sex)
    v.g_w = np.array(g_w)
    v.g_by_sex = [np.flatnonzero(v.g_sex == s) for s in (0, 1)]
    v.g_cdf_by_sex = [np.cumsum(v.g_w[ix]) / v.g_w[ix].sum() for ix in v.g_by_sex]
    char_py: dict[str, str] = {}

    def cpy(ch: str) -> str:
        if ch not in char_py:
            char_py[ch] = lazy_pinyin(ch)[0]
        return char_py[ch]

    v.g_py = _arr("".join(cpy(c) for c in g).capitalize() for g in g_str)  # Xiaoming
    v.g_py_sp = _arr(" ".join(cpy(c).capitalize() for c in g) for g in g_str)  # Xiao Ming

    # --- industries, legal forms, brands
    rows = [ln.split("|") for ln in _INDUSTRY_TABLE.strip().splitlines()]
    v.i_key = [r[0] for r in rows]
    v.i_full = _arr(r[1] for r in rows)
    v.i_short = _arr(r[2] for r in rows)
    v.i_store = _arr(r[3] for r in rows)
    v.i_en = _arr(r[4] for r in rows)
    v.i_store_en = _arr(r[5] for r in rows)
    v.i_w = np.array([float(r[6]) for r in rows])
    v.i_chain_ok = np.flatnonzero([r[7] == "1" for r in rows])
    v.i_py = _arr(  # 餐饮管理 -> Canyin Guanli
        " ".join(
            "".join(lazy_pinyin(w)).capitalize() for w in ((s[:-2], s[-2:]) if len(s) > 3 else (s,))
        )
        for s in v.i_full
    )
    v.l_str = _arr(x[0] for x in _LEGAL_TABLE)
    v.l_w = np.array([x[1] for x in _LEGAL_TABLE], dtype=float)
    v.l_en = np.array([[x[2][k % len(x[2])] for k in range(4)] for x in _LEGAL_TABLE], dtype=object)
    v.l_var = np.array([list(_LEGAL_VARIANTS[x[0]]) for x in _LEGAL_TABLE], dtype=object)
    v.l_py = _arr(_LEGAL_PINYIN[x[0]] for x in _LEGAL_TABLE)

    brands, brand_py = [], []
    chain_brand_idx, chain_brand_ind = [], []
    for line in _CHAIN_BRANDS.strip().splitlines():
        key, words = line.split(":")
        for w in words.split():
            chain_brand_idx.append(len(brands))
            chain_brand_ind.append(v.i_key.index(key))
            brands.append(w)
            if len(w) <= 3:
                brand_py.append(_place_pinyin(w, lazy_pinyin))
            else:  # 华润万家 -> Huarun Wanjia
                brand_py.append(
                    _place_pinyin(w[:2], lazy_pinyin) + " " + _place_pinyin(w[2:], lazy_pinyin)
                )
    v.cb_idx = np.array(chain_brand_idx)
    v.cb_ind = np.array(chain_brand_ind)
    v.gen_brand_start = len(brands)
    chars = list(dict.fromkeys(_BRAND_CHARS))
    for a in chars:
        for b in chars:
            brands.append(a + b)
            brand_py.append((cpy(a) + cpy(b)).capitalize())
    v.gen_brand_end = len(brands)
    # individual-business names: 老王, 陈记, 阿强
    for s, p in zip(v.s_str[:40], v.s_py[:40]):
        brands += ["老" + s, s + "记"]
        brand_py += ["Lao" + p.lower(), p + "ji"]
    for g in "强杰明华芳娟伟辉军勇":
        brands.append("阿" + g)
        brand_py.append("A" + cpy(g))
    v.b_str = _arr(brands)
    v.b_py = _arr(brand_py)
    v.person_brand_start = v.gen_brand_end

    # --- addresses
    v.r_base = _arr(dict.fromkeys(_ROAD_BASES.split()))
    v.r_py = _arr(_place_pinyin(r, lazy_pinyin) for r in v.r_base)
    v.rs_str = _arr(x[0] for x in _ROAD_SUFFIXES)
    v.rs_w = np.array([x[1] for x in _ROAD_SUFFIXES], dtype=float)
    v.rs_en = _arr(x[2] for x in _ROAD_SUFFIXES)
    v.rs_py = _arr(x[3] for x in _ROAD_SUFFIXES)
    v.rs_alt = np.array([[x[0] for x in _ROAD_SUFFIXES].index(x[4]) for x in _ROAD_SUFFIXES])
    comms = [b + s for b in _COMMUNITY_BASES.split() for s in _COMMUNITY_SUFFIXES.split()]
    v.comm_str = _arr(comms)
    v.comm_py = _arr(
        " ".join("".join(lazy_pinyin(part)).capitalize() for part in (b, s))
        for b in _COMMUNITY_BASES.split()
        for s in _COMMUNITY_SUFFIXES.split()
    )
    v.cn_num = _arr([""] + [_cn_number(i) for i in range(1, 10000)])
    v.mob_prefix = np.array(_MOBILE_PREFIXES, dtype=np.int64)
    v.pm_domain = _arr(d for d, _ in _PERSON_MAIL_DOMAINS)
    v.pm_w = np.array([w for _, w in _PERSON_MAIL_DOMAINS], dtype=float)
    v.cm_domain = _arr(_COMPANY_FREE_DOMAINS)

    # --- typo partners: homophones (what a pinyin IME offers) plus look-alikes
    pool = set(_COMMON_CHARS) | set(_BRAND_CHARS) | set("".join(v.r_base)) | set("".join(g_str))
    pool |= set("".join(v.s_str)) | set("".join(comms)) | set("".join(v.i_full))
    pool |= set("".join(d_name)) | set("".join(brands))
    by_py: dict[str, list[str]] = {}
    for ch in sorted(pool):
        if "\u4e00" <= ch <= "\u9fff":
            by_py.setdefault(cpy(ch), []).append(ch)
    alts: dict[str, list[str]] = {}
    for group in by_py.values():
        for ch in group:
            others = [c for c in group if c != ch]
            if others:
                alts[ch] = others
    for pair in _SHAPE_PAIRS.split():
        a, b = pair[0], pair[1]
        if a != b:
            alts.setdefault(a, []).append(b)
            alts.setdefault(b, []).append(a)
    v.typo_alts = {k: "".join(val) for k, val in sorted(alts.items())}
    return v


# ---------------------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, n: int, weights) -> np.ndarray:
    cdf = np.cumsum(np.asarray(weights, dtype=float))
    return np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(n), side="right"), len(cdf) - 1)


def _pick_by(rng: np.random.Generator, group: np.ndarray, table) -> np.ndarray:
    """Categorical draw per row whose probabilities depend on `group` (row of `table`)."""
    cdf = np.cumsum(np.asarray(table, dtype=float), axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(group))
    return np.minimum((u[:, None] >= cdf[group]).sum(axis=1), cdf.shape[1] - 1)


def _s(a) -> np.ndarray:
    return np.asarray(a, dtype=np.int64).astype(str).astype(object)


def _z(a, width: int) -> np.ndarray:
    return np.char.zfill(np.asarray(a, dtype=np.int64).astype(str), width).astype(object)


def _none(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def _fill(out: np.ndarray, code: np.ndarray, forms: dict) -> None:
    """out[code == k] = forms[k](index array) for each k."""
    for k, make in forms.items():
        ix = np.flatnonzero(code == k)
        if len(ix):
            out[ix] = make(ix)


_FW_DIGITS = {**{ord(c): ord(c) + 0xFEE0 for c in "0123456789+-()"}, 0x20: 0x3000}
_HALF_BRACKETS = str.maketrans({"（": "(", "）": ")"})


def _map_unique(values: np.ndarray, fn) -> np.ndarray:
    """Apply fn to each distinct non-null value once."""
    out = values.copy()
    mask = np.array([v is not None for v in values], dtype=bool)
    if not mask.any():
        return out
    codes, uniques = pd.factorize(pd.Series(values[mask], dtype=object))
    mapped = np.array([fn(u) for u in uniques], dtype=object)
    out[mask] = mapped[codes]
    return out


# USCC / org-code / ID-card check characters, vectorised over fixed-width strings
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_W = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_ORG_W = np.array([3, 7, 9, 10, 5, 8, 4, 2])
_RIC_W = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_USCC_VAL = np.full(128, -1, dtype=np.int64)
for _i, _c in enumerate(_USCC_ALPHABET):
    _USCC_VAL[ord(_c)] = _i
_ORG_VAL = np.full(128, -1, dtype=np.int64)
for _i, _c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    _ORG_VAL[ord(_c)] = _i


def _codes(strings: np.ndarray, width: int) -> np.ndarray:
    return np.asarray(strings, dtype=f"U{width}").view(np.uint32).reshape(-1, width)


def _uscc_check(body17: np.ndarray) -> np.ndarray:
    vals = _USCC_VAL[_codes(body17, 17)]
    total = (vals * _USCC_W).sum(axis=1)
    return np.array(list(_USCC_ALPHABET), dtype=object)[(31 - total % 31) % 31]


def _org_check(body8: np.ndarray) -> np.ndarray:
    vals = _ORG_VAL[_codes(body8, 8)]
    c = 11 - (vals * _ORG_W).sum(axis=1) % 11
    return np.array(list("0123456789X0"), dtype=object)[c]


def _ric_check(body17: np.ndarray) -> np.ndarray:
    vals = _codes(body17, 17).astype(np.int64) - 48
    return np.array(list("10X98765432"), dtype=object)[(vals * _RIC_W).sum(axis=1) % 11]


# ---------------------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------------------

_SIZE_P = {  # records per entity: 1..6
    _CO: [0.46, 0.30, 0.12, 0.07, 0.03, 0.02],
    _PER: [0.62, 0.25, 0.08, 0.03, 0.015, 0.005],
}
_PERSON_SHARE = 0.30
_T0 = int(np.datetime64("2023-01-01T00:00:00", "s").astype(np.int64))
_T1 = int(np.datetime64("2025-06-30T00:00:00", "s").astype(np.int64))
_DAY = 86_400


def _draw_sizes(rng, n: int) -> tuple[np.ndarray, np.ndarray]:
    est = int(n / 1.6) + 32
    while True:
        etype = (rng.random(est) < _PERSON_SHARE).astype(np.int8)
        sizes = (
            np.where(etype == _CO, _pick(rng, est, _SIZE_P[_CO]), _pick(rng, est, _SIZE_P[_PER]))
            + 1
        )
        cs = np.cumsum(sizes)
        if cs[-1] >= n:
            e = int(np.searchsorted(cs, n)) + 1
            sizes = sizes[:e].copy()
            sizes[-1] -= int(cs[e - 1] - n)
            return etype[:e], sizes
        est *= 2


def _draw_district(rng, v, city: np.ndarray) -> np.ndarray:
    return np.searchsorted(v.d_cum, city + rng.random(len(city)) * 0.999999, side="right")


def _draw_address(rng, v, e: SimpleNamespace, dist: np.ndarray) -> dict:
    n = len(dist)
    person = e.etype == _PER
    no = np.exp(rng.uniform(0, np.log(1600), n)).astype(np.int64)
    kind = np.where(
        person, _pick(rng, n, [0, 0.45, 0, 0, 0.55]), _pick(rng, n, [0.45, 0.2, 0.15, 0.2, 0])
    )
    shanghai_like = np.isin(v.d_city[dist], [1, 3])  # 上海 / 重庆 style lanes
    lane = np.where(
        (rng.random(n) < np.where(shanghai_like, 0.35, 0.04)) & person,
        rng.integers(1, 1200, n),
        0,
    )
    floor = rng.integers(1, 34, n)
    return {
        "dist": dist,
        "road": rng.integers(0, len(v.r_base), n),
        "rsuf": _pick(rng, n, v.rs_w),
        "no": np.maximum(no, 1),
        "lane": lane,
        "kind": kind,
        "bld": rng.integers(1, 31, n),
        "unit": rng.integers(1, 7, n),
        "room": floor * 100 + rng.integers(1, 9, n),
        "floor": floor,
        "shop": rng.integers(1, 200, n),
        "comm": np.where(person & (rng.random(n) < 0.9), rng.integers(0, len(v.comm_str), n), -1),
    }


def _draw_mobile(rng, v, n: int) -> np.ndarray:
    return v.mob_prefix[rng.integers(0, len(v.mob_prefix), n)] * 10**8 + rng.integers(0, 10**8, n)


def _draw_landline(rng, v, city: np.ndarray) -> np.ndarray:
    n = len(city)
    seven = v.c_local_len[city] == 7
    return np.where(
        seven,
        rng.integers(2, 9, n) * 10**6 + rng.integers(0, 10**6, n),
        rng.integers(2, 9, n) * 10**7 + rng.integers(0, 10**7, n),
    )


def _draw_names(rng, v, sex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(sex)
    surname = _pick(rng, n, v.s_w)
    given = np.empty(n, dtype=np.int64)
    for s in (0, 1):
        ix = np.flatnonzero(sex == s)
        pos = np.searchsorted(v.g_cdf_by_sex[s], rng.random(len(ix)), side="right")
        given[ix] = v.g_by_sex[s][np.minimum(pos, len(v.g_by_sex[s]) - 1)]
    return surname, given


def _make_uscc(rng, v, dist: np.ndarray, individual: np.ndarray) -> np.ndarray:
    n = len(dist)
    letters = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
    new_style = rng.random(n) < 0.65  # post-2015 codes: organisation part starts "MA"
    body = np.where(
        new_style[:, None],
        np.concatenate([np.tile(["M", "A"], (n, 1)), letters[rng.integers(0, 31, (n, 6))]], axis=1),
        np.array(list("0123456789"))[rng.integers(0, 10, (n, 8))],
    )
    org8 = np.ascontiguousarray(body).view("U8").reshape(-1).astype(object)
    org9 = org8 + _org_check(org8)
    head = np.where(individual, "92", "91").astype(object)
    body17 = head + v.d_code[dist] + org9
    return body17 + _uscc_check(body17)


def _make_ric(rng, v, dist: np.ndarray, birth: np.ndarray, sex: np.ndarray) -> np.ndarray:
    n = len(dist)
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    # birthplace: the home district if its code existed then, else somewhere that always did
    home_ok = (v.d_start[dist] <= year) & (rng.random(n) < 0.7)
    fallback = v.d_always_valid[rng.integers(0, len(v.d_always_valid), n)]
    place = np.where(home_ok, dist, fallback)
    ymd = np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "").astype(object)
    seq = rng.integers(0, 500, n) * 2 + np.where(sex == 0, 1, 0)  # odd = male
    body = v.d_code[place] + ymd + _z(seq, 3)
    return body + _ric_check(body)


def _entities(rng, v, n: int) -> SimpleNamespace:
    e = SimpleNamespace()
    e.etype, e.size = _draw_sizes(rng, n)
    E = len(e.size)
    co = e.etype == _CO
    per = ~co
    e.city = _pick(rng, E, v.c_weight)
    e.sex = (rng.random(E) < np.where(co, 0.45, 0.55)).astype(np.int8)  # contact / person
    e.surname, e.given = _draw_names(rng, v, e.sex)
    e.addr = _draw_address(rng, v, e, _draw_district(rng, v, e.city))
    moved_city = rng.random(E) < 0.1
    old_city = np.where(moved_city, _pick(rng, E, v.c_weight), e.city)
    e.old_city = old_city
    e.old_addr = _draw_address(rng, v, e, _draw_district(rng, v, old_city))
    e.mobile = _draw_mobile(rng, v, E)
    e.old_mobile = _draw_mobile(rng, v, E)
    e.has_land = rng.random(E) < np.where(co, 0.85, 0.15)
    e.land = _draw_landline(rng, v, e.city)
    e.old_land = _draw_landline(rng, v, old_city)
    e.ext = np.where(co & (rng.random(E) < 0.22), rng.integers(100, 9000, E), 0)
    e.has_email = rng.random(E) < np.where(co, 0.7, 0.6)
    e.t_latest = rng.integers(_T0 // _DAY, _T1 // _DAY, E) * _DAY + rng.integers(
        8 * 3600, 21 * 3600, E
    )
    # persons
    days = (
        rng.beta(2.2, 2.0, E)
        * (np.datetime64("2005-12-31") - np.datetime64("1955-01-01")).astype(int)
    ).astype(int)
    e.birth = np.datetime64("1955-01-01") + days
    e.has_id = per & (rng.random(E) < 0.55)
    # companies
    e.ind = _pick(rng, E, v.i_w)
    e.legal = _pick(rng, E, v.l_w)
    e.brand = rng.integers(v.gen_brand_start, v.gen_brand_end, E)
    indiv = e.legal == _IND_LEGAL
    e.brand = np.where(
        indiv & (rng.random(E) < 0.3), rng.integers(v.person_brand_start, len(v.b_str), E), e.brand
    )
    e.style = _pick(rng, E, [0.72, 0.16, 0.12])  # region prefix / bracketed region / none
    e.style = np.where(np.isin(e.legal, [2, 3]) & (rng.random(E) < 0.5), 2, e.style)
    e.pref = _pick(rng, E, [0.5, 0.4, 0.1])  # 上海 / 上海市 / province
    e.role = np.zeros(E, dtype=np.int8)  # 0 plain, 1 chain HQ, 2 chain store, 3 branch company
    e.en_legal = rng.integers(0, 4, E)
    e.en_alt = rng.integers(0, 3, E)
    e.legal_var = rng.integers(0, 3, E)
    e.email_kind = rng.integers(0, 100, E)
    e.email_num = rng.integers(1, 999, E)
    e.qq = rng.integers(10**5, 4 * 10**9, E)
    e.groups = []  # (kind, [entity indices])
    e.chain_fields = {}  # per chain-member overrides for names and emails
    e.land_city_override = {}  # branches answering on the HQ switchboard
    _hard_negatives(rng, v, e)
    e.land_city = e.city.copy()
    for m, c in e.land_city_override.items():
        e.land_city[m] = c
    # identifiers after the group edits (districts may have changed)
    e.uscc = _make_uscc(rng, v, e.addr["dist"], indiv)
    e.uscc_ok = co & (e.role != 2)
    e.id_card = _make_ric(rng, v, e.addr["dist"], e.birth, e.sex)
    return e


def _partition(rng, members: np.ndarray, sizes_p: list[float], min_size: int) -> list[np.ndarray]:
    out, i = [], 0
    while i + min_size <= len(members):
        k = min_size + int(_pick(rng, 1, sizes_p)[0])
        if i + k > len(members):
            break
        out.append(members[i : i + k])
        i += k
    return out


def _hard_negatives(rng, v, e: SimpleNamespace) -> None:
    co = np.flatnonzero(e.etype == _CO)
    per = np.flatnonzero(e.etype == _PER)
    # chains: HQ (sometimes a customer itself) and branches of one brand
    pool = rng.permutation(co)
    n_chain = int(len(co) * 0.12)
    chains = _partition(rng, pool[:n_chain], [0.3, 0.25, 0.17, 0.12, 0.08, 0.0, 0.05, 0.0, 0.03], 2)
    for members in chains:
        _make_chain(rng, v, e, members)
        e.groups.append(("chain_branch", members))
    # a distributor's salesperson listed as the contact of several stores
    pool = rng.permutation(co)[: int(len(co) * 0.07)]
    for members in _partition(rng, pool, [0.45, 0.25, 0.15, 0.1, 0.05], 2):
        head = members[0]
        e.surname[members] = e.surname[head]
        e.given[members] = e.given[head]
        e.sex[members] = e.sex[head]
        e.mobile[members] = e.mobile[head]
        e.groups.append(("shared_salesperson", members))
    # persons: families and same-name strangers (disjoint)
    pool = rng.permutation(per)
    n_fam = int(len(per) * 0.14)
    for members in _partition(rng, pool[:n_fam], [0.5, 0.3, 0.2], 2):
        head = members[0]
        for arr in e.addr.values():
            arr[members] = arr[head]
        e.city[members] = e.city[head]
        e.has_land[members] = True
        e.land[members] = e.land[head]
        used = {(int(e.surname[head]), int(e.given[head]))}
        for k, m in enumerate(members[1:]):
            if k != 0 or rng.random() < 0.4:  # the spouse often keeps their own surname
                e.surname[m] = e.surname[head]
            g = int(e.given[m])
            while (int(e.surname[m]), g) in used:
                g = int(rng.integers(0, len(v.g_str)))
            e.given[m] = g
            e.sex[m] = v.g_sex[g]
            used.add((int(e.surname[m]), g))
        e.groups.append(("family", members))
    rest = pool[n_fam:]
    n_same = int(len(per) * 0.12)
    for members in _partition(rng, rest[:n_same], [0.55, 0.3, 0.15], 2):
        head = members[0]
        e.surname[members] = e.surname[head]
        e.given[members] = e.given[head]
        e.sex[members] = e.sex[head]
        e.city[members] = e.city[head]
        e.addr["dist"][members] = _draw_district(rng, v, e.city[members])
        e.groups.append(("same_name", members))


def _make_chain(rng, v, e: SimpleNamespace, members: np.ndarray) -> None:
    if rng.random() < 0.55:
        k = int(rng.integers(0, len(v.cb_idx)))
        brand, ind = int(v.cb_idx[k]), int(v.cb_ind[k])
    else:
        brand = int(rng.integers(v.gen_brand_start, v.gen_brand_end))
        ind = int(v.i_chain_ok[rng.integers(0, len(v.i_chain_ok))])
    head = int(members[0])
    hq_city = int(e.city[head])
    hq_legal = (0, 2, 3)[int(_pick(rng, 1, [0.6, 0.25, 0.15])[0])]
    hq_region = v.c_prov_short[hq_city] if rng.random() < 0.3 else v.c_city_short[hq_city]
    hq_region_py = (
        v.c_prov_py[hq_city] if hq_region == v.c_prov_short[hq_city] else v.c_city_py[hq_city]
    )
    b, bpy = v.b_str[brand], v.b_py[brand]
    mid = b + v.i_full[ind]
    no_region = rng.random() < 0.3
    hq_name = (mid if no_region else hq_region + mid) + v.l_str[hq_legal]
    hq_var = (mid if no_region else hq_region + mid) + v.l_var[hq_legal][0]
    en_legal = v.l_en[hq_legal][int(rng.integers(0, 4))]
    hq_en = ("" if no_region else hq_region_py + " ") + f"{bpy} {v.i_en[ind]} {en_legal}"
    domain = bpy.lower().replace(" ", "") + (".com", ".com.cn", ".cn")[int(rng.integers(0, 3))]
    hq_email = ("service@", "info@", "kf@", "hr@", "caiwu@")[int(rng.integers(0, 5))] + domain
    hq_land, hq_has_land = int(e.land[head]), True
    has_hq = rng.random() < 0.6
    e.brand[members] = brand
    e.ind[members] = ind
    labels: set[str] = set()
    for pos, m in enumerate(members):
        m = int(m)
        if pos == 0 and has_hq:
            e.role[m] = 1
            e.legal[m] = hq_legal
            f = {
                "full": hq_name,
                "swap": b + v.i_full[ind] + f"（{v.c_city_short[hq_city]}）" + v.l_str[hq_legal],
                "short": b + v.i_short[ind],
                "var": hq_var,
                "noreg": mid + v.l_str[hq_legal],
                "en": hq_en,
                "en_alt": f"{bpy} {v.i_en[ind]} Group".upper(),
                "en_short": f"{bpy} {v.i_en[ind]}",
                "email": hq_email,
            }
            e.chain_fields[m] = f
            e.has_land[m] = hq_has_land
            continue
        # a branch: mostly in the HQ's city, elsewhere otherwise
        if rng.random() < 0.75:
            e.city[m] = hq_city
        else:
            e.city[m] = int(_pick(rng, 1, v.c_weight)[0])
        e.addr["dist"][m] = _draw_district(rng, v, e.city[m : m + 1])[0]
        e.land[m] = _draw_landline(rng, v, e.city[m : m + 1])[0]
        city_short = v.c_city_short[e.city[m]]
        dist = int(e.addr["dist"][m])
        if rng.random() < 0.7:  # a store (分店 / 门店 / （XX店）): no legal person of its own
            e.role[m] = 2
            label = v.r_base[e.addr["road"][m]]
            label_py = v.r_py[e.addr["road"][m]]
            if label in labels:
                label, label_py = v.d_short[dist], v.d_py[dist]
            if label in labels:
                label, label_py = label + "二", label_py + " 2"
            labels.add(label)
            word = ("店", "分店", "门店")[int(rng.integers(0, 3))]
            f = {
                "full": hq_name + label + word,
                "swap": b + v.i_short[ind] + f"（{label}店）",
                "short": b + v.i_short[ind] + label + "店",
                "var": hq_var + label + word,
                "noreg": b + v.i_short[ind] + f"（{city_short}{label}店）",
                "en": f"{hq_en} {label_py} Store",
                "en_alt": f"{bpy} {v.i_en[ind]} ({label_py} Store)",
                "en_short": f"{bpy} {label_py} Store",
            }
        else:  # a branch company (分公司): registered, with its own USCC
            e.role[m] = 3
            e.legal[m] = hq_legal
            label = v.d_short[dist] if e.city[m] == hq_city else city_short
            label_py = v.d_py[dist] if e.city[m] == hq_city else v.c_city_py[e.city[m]]
            if label in labels:
                label, label_py = (
                    city_short + v.d_short[dist],
                    v.c_city_py[e.city[m]] + " " + v.d_py[dist],
                )
            if label in labels:
                label, label_py = label + "第二", label_py + " No.2"
            labels.add(label)
            f = {
                "full": hq_name + label + "分公司",
                "swap": hq_name + f"（{label}）分公司",
                "short": b + v.i_short[ind] + label + "分公司",
                "var": hq_var + label + "分公司",
                "noreg": mid + v.l_str[hq_legal] + label + "分公司",
                "en": f"{hq_en} {label_py} Branch",
                "en_alt": f"{hq_en} ({label_py} Branch)".upper(),
                "en_short": f"{bpy} {label_py} Branch",
            }
        if rng.random() < 0.45:  # the HQ switchboard, often with the store's extension
            e.land[m] = hq_land
            e.has_land[m] = True
            e.ext[m] = int(rng.integers(100, 999)) if rng.random() < 0.6 else 0
            e.land_city_override[m] = hq_city
        if rng.random() < 0.5:
            f["email"] = hq_email
            e.has_email[m] = True
        else:
            f["email"] = label_py.lower().replace(" ", "") + "@" + domain
        e.chain_fields[m] = f


# ---------------------------------------------------------------------------------------
# Company / person name forms (per entity)
# ---------------------------------------------------------------------------------------

_NAME_FORMS = ("full", "swap", "short", "var", "noreg", "en", "en_alt", "en_short")


def _company_forms(v, e: SimpleNamespace) -> dict[str, np.ndarray]:
    city = e.city
    brand, bpy = v.b_str[e.brand], v.b_py[e.brand]
    ind_full, ind_short, ind_en, ind_py = (
        v.i_full[e.ind],
        v.i_short[e.ind],
        v.i_en[e.ind],
        v.i_py[e.ind],
    )
    legal, legal_var = v.l_str[e.legal], v.l_var[e.legal, e.legal_var]
    region = np.where(
        e.pref == 0,
        v.c_city_short[city],
        np.where(e.pref == 1, v.c_city[city], v.c_prov_short[city]),
    )
    region_short = np.where(e.pref == 2, v.c_prov_short[city], v.c_city_short[city])
    region_py = np.where(e.pref == 2, v.c_prov_py[city], v.c_city_py[city])
    dist = e.addr["dist"]
    mid = brand + ind_full
    bracket = mid + "（" + region_short + "）"
    full = np.where(
        e.style == 0, region + mid + legal, np.where(e.style == 1, bracket + legal, mid + legal)
    )
    swap = np.where(e.style == 1, v.c_city_short[city] + mid + legal, bracket + legal)
    var = np.where(
        e.style == 0,
        region + mid + legal_var,
        np.where(e.style == 1, bracket + legal_var, mid + legal_var),
    )
    legal_en = v.l_en[e.legal, e.en_legal]
    en = np.where(
        e.style == 1,
        bpy + " " + ind_en + " (" + region_py + ") " + legal_en,
        np.where(
            e.style == 2,
            bpy + " " + ind_en + " " + legal_en,
            region_py + " " + bpy + " " + ind_en + " " + legal_en,
        ),
    )
    en_alt = np.where(
        e.en_alt == 0,
        region_py + " " + bpy + " " + ind_py + " " + legal_en,
        np.where(
            e.en_alt == 1,
            _upper(
                region_py + " " + bpy + " " + ind_py + " " + np.where(legal_en == "", "", "CO LTD")
            ),
            region_py + " " + bpy + " " + ind_py + " " + v.l_py[e.legal],
        ),
    )
    forms = {
        "full": full,
        "swap": swap,
        "short": brand + ind_short,
        "var": var,
        "noreg": mid + legal,
        "en": en,
        "en_alt": en_alt,
        "en_short": bpy + " " + ind_en,
    }
    indiv = np.flatnonzero(e.legal == _IND_LEGAL)
    if len(indiv):
        c, d = city[indiv], dist[indiv]
        b, bp, st, st_en = (
            brand[indiv],
            bpy[indiv],
            v.i_store[e.ind[indiv]],
            v.i_store_en[e.ind[indiv]],
        )
        forms["full"][indiv] = v.d_name[d] + b + st
        forms["swap"][indiv] = v.c_city_short[c] + b + st
        forms["short"][indiv] = b + st
        forms["var"][indiv] = v.d_name[d] + b + st + legal_var[indiv]
        forms["noreg"][indiv] = b + st
        forms["en"][indiv] = v.d_py[d] + " " + bp + " " + st_en
        forms["en_alt"][indiv] = _upper(bp + " " + st_en)
        forms["en_short"][indiv] = bp + " " + st_en
    for m, f in e.chain_fields.items():
        for k in _NAME_FORMS:
            forms[k][m] = f[k]
    return forms


def _upper(a: np.ndarray) -> np.ndarray:
    return np.array([s.upper() for s in a], dtype=object)


# ---------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------

# per-source probabilities, order CRM, ERP, SHOP, HKTW, OVERSEAS
_SRC_P = {_CO: [0.40, 0.27, 0.03, 0.14, 0.16], _PER: [0.20, 0.05, 0.57, 0.09, 0.09]}
_CO_NAME_P = [  # full swap short var noreg en en_alt en_short
    [0.27, 0.15, 0.30, 0.12, 0.16, 0, 0, 0],
    [0.82, 0.06, 0.00, 0.09, 0.03, 0, 0, 0],
    [0.22, 0.05, 0.68, 0.00, 0.05, 0, 0, 0],
    [0.50, 0.20, 0.15, 0.10, 0.05, 0, 0, 0],
    [0.00, 0.00, 0.00, 0.00, 0.00, 0.5, 0.35, 0.15],
]
_PRESENT = {  # field -> {type: per-source probability}
    "uscc": {_CO: [0.35, 0.97, 0.05, 0.30, 0.20]},
    "contact": {_CO: [0.85, 0.50, 0.40, 0.70, 0.70]},
    "mobile": {_CO: [0.85, 0.50, 0.80, 0.60, 0.55], _PER: [0.90, 0.80, 0.97, 0.85, 0.80]},
    "phone": {_CO: [0.55, 0.85, 0.30, 0.75, 0.70], _PER: [0.30, 0.50, 0.10, 0.40, 0.30]},
    "email": {_CO: [0.35, 0.55, 0.50, 0.50, 0.75], _PER: [0.30, 0.40, 0.60, 0.50, 0.80]},
    "id_card": {_PER: [0.45, 0.70, 0.25, 0.20, 0.10]},
    "province": {_CO: [0.65, 0.90, 0.80, 0.60, 0.60], _PER: [0.50, 0.80, 0.90, 0.60, 0.50]},
    "city": {_CO: [0.85, 0.95, 0.85, 0.75, 0.75], _PER: [0.75, 0.90, 0.92, 0.70, 0.65]},
    "district": {_CO: [0.55, 0.85, 0.80, 0.50, 0.45], _PER: [0.50, 0.80, 0.90, 0.50, 0.40]},
    "address": {_CO: [0.85, 0.95, 0.90, 0.80, 0.85], _PER: [0.80, 0.90, 0.97, 0.80, 0.85]},
    "updated_at": {_CO: [0.92, 0.99, 0.97, 0.95, 0.95], _PER: [0.92, 0.99, 0.97, 0.95, 0.95]},
}
_TYPO = {  # field -> per-source typo rate
    "name": [0.06, 0.01, 0.04, 0.02, 0.03],
    "contact": [0.05, 0.01, 0.03, 0.02, 0.02],
    "address": [0.05, 0.015, 0.05, 0.02, 0.02],
    "digits": [0.03, 0.01, 0.02, 0.01, 0.01],
    "email": [0.03, 0.01, 0.03, 0.015, 0.015],
    "region": [0.01, 0.002, 0.005, 0.005, 0.005],
    "uscc": [0.015, 0.005, 0.01, 0.01, 0.01],
}


def _present(rng, etype: np.ndarray, src: np.ndarray, field: str) -> np.ndarray:
    spec = _PRESENT[field]
    table = np.zeros((2, 5))
    for t, probs in spec.items():
        table[t] = probs
    return rng.random(len(src)) < table[etype, src]


def _records(rng, v, e: SimpleNamespace, n: int) -> dict[str, np.ndarray]:
    E = len(e.size)
    ent = np.repeat(np.arange(E), e.size)
    starts = np.repeat(np.cumsum(e.size) - e.size, e.size)
    rank = np.arange(n) - starts
    et = e.etype[ent]
    co = et == _CO
    src = np.where(co, _pick(rng, n, _SRC_P[_CO]), _pick(rng, n, _SRC_P[_PER]))
    # the legal master usually holds a company's first record
    src = np.where(co & (rank == 0) & (e.size[ent] > 1) & (rng.random(n) < 0.5), _ERP, src)
    stale = (rank > 0) & (rng.random(n) < 0.33)
    st_addr = stale & (rng.random(n) < 0.55)
    st_mob = stale & (rng.random(n) < 0.5)
    st_land = stale & (rng.random(n) < 0.35)
    st_addr |= stale & ~st_mob & ~st_land
    out: dict[str, np.ndarray] = {}
    out["source_system"] = np.array(SOURCE_SYSTEMS, dtype=object)[src]
    out["customer_type"] = np.array(CUSTOMER_TYPES, dtype=object)[et]
    trad = (src == _HKTW) & (rng.random(n) < 0.6)  # s2hk, otherwise s2tw
    en = src == _OVS

    # --- names
    forms = _company_forms(v, e)
    name = _none(n)
    code = _pick_by(rng, src, _CO_NAME_P)
    ico = np.flatnonzero(co)
    for k, form in enumerate(_NAME_FORMS):
        ix = ico[code[ico] == k]
        name[ix] = forms[form][ent[ix]]
    iper = np.flatnonzero(~co)
    name[iper] = _person_name(rng, v, e, ent[iper], src[iper])
    out["customer_name"] = name

    contact = _none(n)
    has_contact = co & _present(rng, et, src, "contact")
    ic = np.flatnonzero(has_contact)
    contact[ic] = _person_name(rng, v, e, ent[ic], src[ic], titles=False)
    out["contact_name"] = contact

    # --- identifiers
    uscc = _none(n)
    iu = np.flatnonzero(co & e.uscc_ok[ent] & _present(rng, et, src, "uscc"))
    uscc[iu] = _uscc_variants(rng, e.uscc[ent[iu]])
    out["uscc"] = uscc
    idc = _none(n)
    ii = np.flatnonzero(~co & e.has_id[ent] & _present(rng, et, src, "id_card"))
    idc[ii] = _ric_variants(rng, e.id_card[ent[ii]])
    out["id_card"] = idc

    # --- phones
    mob_num = np.where(st_mob, e.old_mobile[ent], e.mobile[ent])
    mobile = _none(n)
    im = np.flatnonzero(_present(rng, et, src, "mobile"))
    mobile[im] = _format_mobile(rng, mob_num[im], src[im])
    land_city = e.land_city[ent]
    land_num = np.where(st_land, e.old_land[ent], e.land[ent])
    land_city = np.where(st_land, e.old_city[ent], land_city)
    phone = _none(n)
    ip = np.flatnonzero(e.has_land[ent] & _present(rng, et, src, "phone"))
    phone[ip] = _format_landline(rng, v, land_num[ip], land_city[ip], e.ext[ent[ip]], src[ip])
    # careless entry: the mobile typed into the phone field (and the mobile left empty)
    swap = np.flatnonzero(
        (src == _CRM) & (rng.random(n) < 0.03) & np.array([m is not None for m in mobile])
    )
    phone[swap] = mobile[swap]
    mobile[swap] = None
    out["mobile"], out["phone"] = mobile, phone

    # --- email
    emails = _entity_emails(rng, v, e)
    email = _none(n)
    ie = np.flatnonzero(e.has_email[ent] & _present(rng, et, src, "email"))
    email[ie] = _email_variants(rng, emails[ent[ie]], src[ie])
    out["email"] = email

    # --- region columns and address
    a = {k: np.where(st_addr, e.old_addr[k][ent], arr[ent]) for k, arr in e.addr.items()}
    dist = a["dist"]
    city = v.d_city[dist]
    _regions(rng, v, out, et, src, city, dist, en)
    address = _none(n)
    ia = np.flatnonzero(_present(rng, et, src, "address"))
    address[ia] = _address(rng, v, {k: x[ia] for k, x in a.items()}, src[ia], en[ia])
    out["address"] = address

    # --- updated_at
    gap = rank * rng.integers(20, 400, n) * _DAY + np.where(
        stale, rng.integers(365, 5 * 365, n) * _DAY, 0
    )
    t = np.maximum(e.t_latest[ent] - gap - rng.integers(0, 6 * 3600, n) * (rank > 0), 1_300_000_000)
    out["updated_at"] = _format_time(rng, t, src)
    out["updated_at"][~_present(rng, et, src, "updated_at")] = None

    # --- Hong Kong / Taiwan: traditional characters, full-width digits, bracket habits
    _hktw(rng, out, src, trad)
    # --- typos and whitespace noise
    _typos(rng, v, out, src, en)
    out["_ent"] = ent
    return out


def _person_name(rng, v, e, ents: np.ndarray, src: np.ndarray, titles: bool = True) -> np.ndarray:
    sur, giv = e.surname[ents], e.given[ents]
    base = v.s_str[sur] + v.g_str[giv]
    out = base.copy()
    # Chinese-script variants
    code = _pick_by(
        rng,
        src,
        [[0.9, 0.05, 0.05], [0.98, 0.02, 0], [0.85, 0.03, 0.12], [0.95, 0.05, 0], [1, 0, 0]],
    )
    ix = np.flatnonzero(code == 1)
    out[ix] = v.s_str[sur[ix]] + " " + v.g_str[giv[ix]]
    if titles:
        ix = np.flatnonzero(code == 2)
        out[ix] = v.s_str[sur[ix]] + np.where(e.sex[ents[ix]] == 0, "先生", "女士")
    # English / pinyin
    ie = np.flatnonzero(src == _OVS)
    if len(ie):
        s_py, g_py, g_sp = v.s_py[sur[ie]], v.g_py[giv[ie]], v.g_py_sp[giv[ie]]
        c = _pick(rng, len(ie), [0.42, 0.30, 0.12, 0.06, 0.05, 0.05])
        en = np.where(
            c == 0,
            s_py + " " + g_py,
            np.where(
                c == 1,
                g_py + " " + s_py,
                np.where(
                    c == 2,
                    _upper(s_py) + " " + g_py,
                    np.where(
                        c == 3,
                        _upper(s_py + " " + g_py),
                        np.where(c == 4, s_py + ", " + g_py, s_py + " " + g_sp),
                    ),
                ),
            ),
        )
        out[ie] = en
    return out


def _uscc_variants(rng, codes: np.ndarray) -> np.ndarray:
    out = codes.copy()
    m = len(out)
    u = rng.random(m)
    # wrong check character (copied badly from a scan) ~2.5%
    ix = np.flatnonzero(u < 0.025)
    if len(ix):
        shift = rng.integers(1, 31, len(ix))
        for j, s in zip(ix, shift):
            c = out[j]
            out[j] = c[:17] + _USCC_ALPHABET[(_USCC_ALPHABET.index(c[17]) + s) % 31]
    # letter O typed for zero (invalid format) ~0.6%
    ix = np.flatnonzero((u >= 0.025) & (u < 0.031))
    for j in ix:
        c = out[j]
        out[j] = c.replace("0", "O", 1) if "0" in c else c.lower()
    # lower case ~2%, spaced out ~1%
    ix = np.flatnonzero((u >= 0.031) & (u < 0.051))
    out[ix] = np.array([c.lower() for c in out[ix]], dtype=object)
    ix = np.flatnonzero((u >= 0.051) & (u < 0.061))
    out[ix] = np.array([c[:2] + " " + c[2:8] + " " + c[8:] for c in out[ix]], dtype=object)
    return out


def _ric_variants(rng, codes: np.ndarray) -> np.ndarray:
    out = codes.copy()
    u = rng.random(len(out))
    ix = np.flatnonzero(u < 0.025)  # wrong check digit
    for j in ix:
        c = out[j]
        alt = "0123456789X".replace(c[17], "")
        out[j] = c[:17] + alt[int(rng.integers(0, len(alt)))]
    ix = np.flatnonzero((u >= 0.025) & (u < 0.035))  # old 15-digit card number
    out[ix] = np.array([c[:6] + c[8:17] for c in out[ix]], dtype=object)
    ix = np.flatnonzero((u >= 0.035) & (u < 0.05))  # lower-case x / spaces
    out[ix] = np.array(
        [c.lower() if c.endswith("X") else c[:6] + " " + c[6:14] + " " + c[14:] for c in out[ix]],
        dtype=object,
    )
    return out


def _format_mobile(rng, num: np.ndarray, src: np.ndarray) -> np.ndarray:
    a, b, c = _s(num // 10**8), _z(num // 10**4 % 10**4, 4), _z(num % 10**4, 4)
    plain = a + b + c
    out = plain.copy()
    code = _pick_by(
        rng,
        src,
        [
            # plain, a b c, a-b-c, +86 a b c, +86abc, 0086-abc, 86 a-b-c, +86-abc, (+86)abc
            [0.55, 0.12, 0.07, 0.05, 0.05, 0.05, 0.04, 0.04, 0.03],
            [0.80, 0.04, 0.04, 0.02, 0.04, 0.02, 0.01, 0.02, 0.01],
            [0.90, 0.04, 0.02, 0.01, 0.02, 0.00, 0.00, 0.01, 0.00],
            [0.30, 0.15, 0.05, 0.25, 0.10, 0.05, 0.02, 0.05, 0.03],
            [0.10, 0.05, 0.05, 0.45, 0.15, 0.05, 0.05, 0.10, 0.00],
        ],
    )
    _fill(
        out,
        code,
        {
            1: lambda i: a[i] + " " + b[i] + " " + c[i],
            2: lambda i: a[i] + "-" + b[i] + "-" + c[i],
            3: lambda i: "+86 " + a[i] + " " + b[i] + " " + c[i],
            4: lambda i: "+86" + plain[i],
            5: lambda i: "0086-" + plain[i],
            6: lambda i: "86 " + a[i] + "-" + b[i] + "-" + c[i],
            7: lambda i: "+86-" + plain[i],
            8: lambda i: "(+86)" + plain[i],
        },
    )
    return out


def _format_landline(rng, v, num, city, ext, src) -> np.ndarray:
    area = v.c_area[city]
    area1 = v.c_area1[city]
    local = _s(num)
    head, tail = _s(num // 10**4), _z(num % 10**4, 4)
    out = (area + "-" + local).astype(object)
    code = _pick_by(
        rng,
        src,
        [
            # A-L, A-L1 L2, (A)L, AL, A L, +86 A1 L1 L2, 0086-A1-L, L, +86-A1-L
            [0.35, 0.12, 0.10, 0.12, 0.05, 0.02, 0.02, 0.20, 0.02],
            [0.60, 0.05, 0.12, 0.10, 0.05, 0.02, 0.02, 0.02, 0.02],
            [0.50, 0.10, 0.05, 0.25, 0.05, 0.00, 0.00, 0.05, 0.00],
            [0.20, 0.10, 0.25, 0.05, 0.05, 0.20, 0.05, 0.05, 0.05],
            [0.05, 0.05, 0.05, 0.05, 0.05, 0.50, 0.10, 0.00, 0.15],
        ],
    )
    _fill(
        out,
        code,
        {
            1: lambda i: area[i] + "-" + head[i] + " " + tail[i],
            2: lambda i: "(" + area[i] + ")" + local[i],
            3: lambda i: area[i] + local[i],
            4: lambda i: area[i] + " " + local[i],
            5: lambda i: "+86 " + area1[i] + " " + head[i] + " " + tail[i],
            6: lambda i: "0086-" + area1[i] + "-" + local[i],
            7: lambda i: local[i],
            8: lambda i: "+86-" + area1[i] + "-" + local[i],
        },
    )
    # extensions: shown in ~75% of the records of a line that has one
    has_ext = (ext > 0) & (rng.random(len(ext)) < 0.75)
    ix = np.flatnonzero(has_ext)
    if len(ix):
        x = _s(ext[ix])
        ecode = _pick_by(
            rng,
            src[ix],
            [
                [0.3, 0.3, 0.2, 0.0, 0.2],
                [0.2, 0.2, 0.5, 0.0, 0.1],
                [0.4, 0.2, 0.3, 0, 0.1],
                [0.2, 0.2, 0.3, 0.1, 0.2],
                [0, 0, 0.3, 0.7, 0],
            ],
        )
        suffix = np.where(
            ecode == 0,
            " 转 " + x,
            np.where(
                ecode == 1,
                "转" + x,
                np.where(
                    ecode == 2, "-" + x, np.where(ecode == 3, " ext. " + x, "（分机" + x + "）")
                ),
            ),
        )
        out[ix] = out[ix] + suffix
    return out


def _entity_emails(rng, v, e: SimpleNamespace) -> np.ndarray:
    E = len(e.etype)
    co = e.etype == _CO
    s_py = np.array([s.lower() for s in v.s_py], dtype=object)[e.surname]
    g_py = np.array([g.lower() for g in v.g_py], dtype=object)[e.given]
    yy = _z(e.birth.astype("datetime64[Y]").astype(np.int64) % 100, 2)
    num = _s(e.email_num)
    qq = _s(e.qq)
    dom = v.pm_domain[_pick(rng, E, v.pm_w)]
    k = e.email_kind
    person = np.where(
        k < 25,
        s_py + g_py + yy + "@" + dom,
        np.where(
            k < 40,
            s_py + "." + g_py + "@" + dom,
            np.where(
                k < 50,
                g_py + s_py + num + "@" + dom,
                np.where(
                    k < 78,
                    qq + "@" + np.where(k < 74, "qq.com", "foxmail.com"),
                    s_py + g_py + num + "@" + dom,
                ),
            ),
        ),
    )
    bpy = np.array([b.lower().replace(" ", "") for b in v.b_py], dtype=object)[e.brand]
    city_py = np.array([c.lower().replace("'", "") for c in v.c_city_py], dtype=object)[e.city]
    tld = np.array([".com", ".cn", ".com.cn"], dtype=object)[e.email_num % 3]
    free = v.cm_domain[e.email_num % len(v.cm_domain)]
    company = np.where(
        k < 30,
        bpy + num + "@" + free,
        np.where(
            k < 45,
            bpy + "_" + city_py + "@" + free,
            np.where(
                k < 65,
                "sales@" + bpy + tld,
                np.where(k < 85, qq + "@qq.com", s_py + g_py + "@" + bpy + ".com.cn"),
            ),
        ),
    )
    out = np.where(co, company, person)
    for m, f in e.chain_fields.items():
        out[m] = f["email"]
    return out


def _email_variants(rng, emails: np.ndarray, src: np.ndarray) -> np.ndarray:
    out = emails.copy()
    code = _pick_by(
        rng,
        src,
        [
            [0.88, 0.06, 0.03, 0.03],
            [0.94, 0.03, 0.03, 0],
            [0.93, 0.05, 0.01, 0.01],
            [0.85, 0.08, 0.05, 0.02],
            [0.80, 0.12, 0.05, 0.03],
        ],
    )
    _fill(
        out,
        code,
        {
            1: lambda i: np.array([s[:1].upper() + s[1:] for s in out[i]], dtype=object),
            2: lambda i: _upper(out[i]),
            3: lambda i: out[i] + " ",
        },
    )
    return out


def _regions(rng, v, out, et, src, city, dist, en) -> None:
    n = len(src)
    prov = v.c_prov[city].copy()
    cty = v.c_city[city].copy()
    dst = v.d_name[dist].copy()
    short = rng.random(n) < np.array([0.25, 0.05, 0.1, 0.15, 0.0])[src]
    prov[short] = v.c_prov_short[city[short]]
    ix = np.flatnonzero(short & (rng.random(n) < 0.6))
    cty[ix] = v.c_city_short[city[ix]]
    # municipalities: some systems put 市辖区 (the code table's level name) as the city
    ix = np.flatnonzero(v.c_muni[city] & (src == _ERP) & (rng.random(n) < 0.2))
    cty[ix] = "市辖区"
    ie = np.flatnonzero(en)
    prov[ie] = np.where(
        rng.random(len(ie)) < 0.7,
        v.c_prov_py[city[ie]],
        v.c_prov_py[city[ie]] + np.where(v.c_muni[city[ie]], "", " Province"),
    )
    cty[ie] = np.where(
        rng.random(len(ie)) < 0.8, v.c_city_py[city[ie]], v.c_city_py[city[ie]] + " City"
    )
    dst[ie] = np.where(rng.random(len(ie)) < 0.7, v.d_en[dist[ie]], v.d_qu_py[dist[ie]])
    for field, col in (("province", prov), ("city", cty), ("district", dst)):
        col[~_present(rng, et, src, field)] = None
        out[field] = col


def _address(rng, v, a: dict, src: np.ndarray, en: np.ndarray) -> np.ndarray:
    m = len(src)
    out = _none(m)
    icn = np.flatnonzero(~en)
    out[icn] = _address_cn(rng, v, {k: x[icn] for k, x in a.items()}, src[icn])
    ien = np.flatnonzero(en)
    out[ien] = _address_en(rng, v, {k: x[ien] for k, x in a.items()})
    return out


def _address_cn(rng, v, a: dict, src: np.ndarray) -> np.ndarray:
    m = len(src)
    dist = a["dist"]
    city = v.d_city[dist]
    # administrative prefix: none / district / city+district / province+city+district
    level = _pick_by(
        rng,
        src,
        [
            [0.25, 0.2, 0.3, 0.25],
            [0.1, 0.05, 0.3, 0.55],
            [0.02, 0.03, 0.2, 0.75],
            [0.15, 0.15, 0.35, 0.35],
            [0, 0, 0, 1],
        ],
    )
    prov_part = np.where(v.c_muni[city], "", v.c_prov[city])
    prefix = np.where(
        level == 0,
        "",
        np.where(
            level == 1,
            v.d_name[dist],
            np.where(
                level == 2,
                v.c_city[city] + v.d_name[dist],
                prov_part + v.c_city[city] + v.d_name[dist],
            ),
        ),
    )
    # road, with an occasional swapped road type (路 / 大道 / 街)
    rsuf = np.where(rng.random(m) < 0.04, v.rs_alt[a["rsuf"]], a["rsuf"])
    road = v.r_base[a["road"]] + v.rs_str[rsuf]
    cn_style = rng.random(m) < np.array([0.08, 0.02, 0.04, 0.05, 0])[src]
    no = np.where(cn_style, v.cn_num[np.minimum(a["no"], 9999)], _s(a["no"]))
    lane = np.where(a["lane"] > 0, _s(a["lane"]) + "弄", "")
    number = lane + no + "号"
    comm = np.where(a["comm"] >= 0, v.comm_str[np.maximum(a["comm"], 0)], "")
    # a resident often leaves the road out and just writes the estate
    drop_road = (a["comm"] >= 0) & (rng.random(m) < 0.3)
    street = np.where(drop_road, comm, road + number + comm)
    b, u, r, f, s = _s(a["bld"]), _s(a["unit"]), _s(a["room"]), _s(a["floor"]), _s(a["shop"])
    unit = np.full(m, "", dtype=object)
    fmt = rng.integers(0, 4, m)
    kind = a["kind"]
    for k, forms in {
        1: [
            lambda i: b[i] + "栋" + r[i] + "室",
            lambda i: b[i] + "号楼" + r[i] + "室",
            lambda i: b[i] + "幢" + r[i],
            lambda i: b[i] + "-" + r[i],
        ],
        2: [
            lambda i: f[i] + "楼",
            lambda i: f[i] + "层",
            lambda i: f[i] + "F",
            lambda i: f[i] + "楼",
        ],
        3: [
            lambda i: s[i] + "号铺",
            lambda i: s[i] + "号商铺",
            lambda i: "铺位" + s[i] + "号",
            lambda i: s[i] + "号铺面",
        ],
        4: [
            lambda i: b[i] + "栋" + u[i] + "单元" + r[i] + "室",
            lambda i: b[i] + "号楼" + u[i] + "单元" + r[i],
            lambda i: b[i] + "-" + u[i] + "-" + r[i],
            lambda i: b[i] + "幢" + u[i] + "单元" + r[i] + "室",
        ],
    }.items():
        for j, make in enumerate(forms):
            ix = np.flatnonzero((kind == k) & (fmt == j))
            if len(ix):
                unit[ix] = make(ix)
    sep = np.where(rng.random(m) < np.array([0.1, 0.02, 0.15, 0.05, 0])[src], " ", "")
    return prefix + sep + street + sep + unit


def _address_en(rng, v, a: dict) -> np.ndarray:
    m = len(a["dist"])
    dist = a["dist"]
    city = v.d_city[dist]
    road_en = np.where(
        rng.random(m) < 0.65,
        v.r_py[a["road"]] + " " + v.rs_en[a["rsuf"]],
        v.r_py[a["road"]] + " " + v.rs_py[a["rsuf"]],
    )
    no = _s(a["no"])
    number = np.where(rng.random(m) < 0.5, "No. " + no + " ", no + " ")
    number = np.where(a["lane"] > 0, "Lane " + _s(a["lane"]) + ", " + number, number)
    b, u, r, f, s = _s(a["bld"]), _s(a["unit"]), _s(a["room"]), _s(a["floor"]), _s(a["shop"])
    kind = a["kind"]
    unit = np.full(m, "", dtype=object)
    _fill(
        unit,
        kind,
        {
            1: lambda i: "Room " + r[i] + ", Building " + b[i] + ", ",
            2: lambda i: f[i] + "F, ",
            3: lambda i: "Shop " + s[i] + ", ",
            4: lambda i: "Rm " + r[i] + ", Unit " + u[i] + ", Bldg " + b[i] + ", ",
        },
    )
    comm = np.where(a["comm"] >= 0, v.comm_py[np.maximum(a["comm"], 0)] + ", ", "")
    tail = ", " + v.d_en[dist] + ", " + v.c_city_py[city]
    tail = np.where(v.c_muni[city] | (rng.random(m) < 0.5), tail, tail + ", " + v.c_prov_py[city])
    tail = np.where(rng.random(m) < 0.4, tail + ", China", tail)
    out = unit + comm + number + road_en + tail
    up = np.flatnonzero(rng.random(m) < 0.1)
    out[up] = _upper(out[up])
    return out


def _format_time(rng, t: np.ndarray, src: np.ndarray) -> np.ndarray:
    iso = np.datetime_as_string(t.astype("datetime64[s]"), unit="s").astype(
        "U19"
    )  # 2024-03-05T10:22:01
    codes = iso.view(np.uint32).reshape(-1, 19).copy()
    fmt = _pick_by(
        rng,
        src,
        [
            # "Y-m-d H:M:S", "Y-m-d", "Y-m-dTH:M:S", "Y/m/d H:M", "Y/m/d"
            [0.85, 0.10, 0.00, 0.00, 0.05],
            [0.40, 0.60, 0.00, 0.00, 0.00],
            [0.50, 0.00, 0.50, 0.00, 0.00],
            [0.00, 0.05, 0.00, 0.60, 0.35],
            [0.30, 0.20, 0.50, 0.00, 0.00],
        ],
    )
    space, slash = ord(" "), ord("/")
    codes[fmt != 2, 10] = space
    codes[(fmt == 3) | (fmt == 4), 4] = slash
    codes[(fmt == 3) | (fmt == 4), 7] = slash
    text = codes.reshape(-1).view("U19")
    out = text.astype(object)
    short = np.isin(fmt, [1, 4])
    out[short] = text[short].astype("U10").astype(object)
    hm = fmt == 3
    out[hm] = text[hm].astype("U16").astype(object)
    return out


@functools.lru_cache(maxsize=1)
def _converters():
    import opencc

    return opencc.OpenCC("s2hk"), opencc.OpenCC("s2tw")


def _hktw(rng, out: dict, src: np.ndarray, trad: np.ndarray) -> None:
    hk, tw = _converters()
    for conv, mask in ((hk, trad), (tw, (src == _HKTW) & ~trad)):
        ix = np.flatnonzero(mask)
        if not len(ix):
            continue
        for field in (
            "customer_name",
            "contact_name",
            "province",
            "city",
            "district",
            "address",
            "phone",
        ):
            out[field][ix] = _map_unique(out[field][ix], conv.convert)
    ih = np.flatnonzero(src == _HKTW)
    u = rng.random(len(ih))
    fw = ih[u < 0.35]  # full-width digits and signs
    for field in ("mobile", "phone", "address"):
        col = out[field]
        col[fw] = np.array(
            [x.translate(_FW_DIGITS) if x is not None else None for x in col[fw]], dtype=object
        )
    hb = ih[(u >= 0.35) & (u < 0.65)]  # half-width brackets in names
    col = out["customer_name"]
    col[hb] = np.array([x.translate(_HALF_BRACKETS) for x in col[hb]], dtype=object)
    ic = np.flatnonzero((src == _CRM) & (rng.random(len(src)) < 0.05))
    col[ic] = np.array([x.translate(_HALF_BRACKETS) for x in col[ic]], dtype=object)


def _typo_cn(s: str, u: np.ndarray, alts: dict) -> str:
    if len(s) < 2:
        return s
    kind = u[0]
    if kind < 0.75:  # homophone / look-alike from the IME candidate list
        cands = [i for i, ch in enumerate(s) if ch in alts]
        if cands:
            i = cands[int(u[1] * len(cands))]
            pool = alts[s[i]]
            return s[:i] + pool[int(u[2] * len(pool))] + s[i + 1 :]
        kind = 0.8
    i = int(u[1] * (len(s) - 1))
    if kind < 0.87 and len(s) >= 4:  # dropped character
        return s[:i] + s[i + 1 :]
    if kind < 0.93:  # doubled character
        return s[: i + 1] + s[i:]
    return s[:i] + s[i + 1] + s[i] + s[i + 2 :]  # transposed


def _typo_latin(s: str, u: np.ndarray) -> str:
    if len(s) < 3:
        return s
    i = 1 + int(u[1] * (len(s) - 2))
    if u[0] < 0.35:
        return s[:i] + s[i + 1 :]
    if u[0] < 0.6:
        return s[:i] + s[i] + s[i:]
    if u[0] < 0.85:
        return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]
    vowel = "aeiou"[int(u[2] * 5)]
    return s[:i] + (vowel.upper() if s[i].isupper() else vowel) + s[i + 1 :]


def _typo_digits(s: str, u: np.ndarray) -> str:
    pos = [i for i, ch in enumerate(s) if ch.isdigit()]
    if len(pos) < 3:
        return s
    k = int(u[1] * (len(pos) - 1))
    i = pos[k]
    if u[0] < 0.6:
        d = str((int(s[i]) + 1 + int(u[2] * 9)) % 10)
        return s[:i] + d + s[i + 1 :]
    if u[0] < 0.9:
        j = pos[k + 1]
        return s[:i] + s[j] + s[i + 1 : j] + s[i] + s[j + 1 :]
    return s[:i] + s[i + 1 :]


_EMAIL_DOMAIN_TYPOS = (
    ("163.com", "163.con"),
    ("qq.com", "qq.con"),
    ("gmail.com", "gmial.com"),
    (".com", ",com"),
    ("126.com", "126.cn"),
    ("@", "@@"),
)


def _typo_email(s: str, u: np.ndarray) -> str:
    if u[0] < 0.4:
        for a, b in _EMAIL_DOMAIN_TYPOS:
            if a in s:
                return s.replace(a, b, 1)
    return _typo_latin(s, u)


def _typos(rng, v, out: dict, src: np.ndarray, en: np.ndarray) -> None:
    n = len(src)
    alts = v.typo_alts

    def apply(field: str, rate_key: str, fn) -> None:
        col = out[field]
        hit = np.flatnonzero(rng.random(n) < np.array(_TYPO[rate_key])[src])
        if not len(hit):
            return
        us = rng.random((len(hit), 3))
        col[hit] = np.array(
            [
                fn(x, u, bool(en[i])) if x is not None else None
                for x, u, i in zip(col[hit], us, hit)
            ],
            dtype=object,
        )

    def cn_or_latin(x, u, is_en):
        return _typo_latin(x, u) if is_en else _typo_cn(x, u, alts)

    apply("customer_name", "name", cn_or_latin)
    apply("contact_name", "contact", cn_or_latin)
    apply(
        "address",
        "address",
        lambda x, u, is_en: (
            _typo_digits(x, u)
            if u[0] > 0.7 and any(c.isdigit() for c in x)
            else cn_or_latin(x, u, is_en)
        ),
    )
    apply("mobile", "digits", lambda x, u, _: _typo_digits(x, u))
    apply("phone", "digits", lambda x, u, _: _typo_digits(x, u))
    apply("id_card", "digits", lambda x, u, _: _typo_digits(x, u))
    apply("uscc", "uscc", lambda x, u, _: _typo_digits(x, u))
    apply("email", "email", lambda x, u, _: _typo_email(x, u))
    for field in ("province", "city", "district"):
        apply(field, "region", cn_or_latin)
    # stray whitespace from copy-paste: leading/trailing blanks, an ideographic space
    for field in ("customer_name", "contact_name", "address"):
        col = out[field]
        hit = np.flatnonzero((src == _CRM) & (rng.random(n) < 0.02))
        col[hit] = np.array(
            [None if x is None else (" " + x if len(x) % 2 else x + "\u3000") for x in col[hit]],
            dtype=object,
        )


# ---------------------------------------------------------------------------------------
# Chunks and public API
# ---------------------------------------------------------------------------------------


def _id_width(n_records: int) -> int:
    return max(6, len(str(max(n_records, 1))))


def _chunk_sizes(n_records: int, chunk_records: int) -> list[int]:
    full, rest = divmod(n_records, chunk_records)
    return [chunk_records] * full + ([rest] if rest else [])


def _chunk(
    n: int, seed: int, chunk_no: int, ent_offset: int, rec_offset: int, width: int
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    v = _vocab()
    rng = np.random.default_rng([seed, chunk_no, 20240305])
    e = _entities(rng, v, n)
    cols = _records(rng, v, e, n)
    E = len(e.size)
    ent_num = ent_offset + rng.permutation(E)  # ids carry no hint of the groups
    ent_ids = np.char.add("E", np.char.zfill(ent_num.astype(str), width)).astype(object)
    order = rng.permutation(n)
    rec_num = _z(rec_offset + np.arange(n), width)
    src = cols["source_system"][order]
    data = {"record_id": src + "-" + rec_num}
    for c in CANONICAL_COLUMNS[1:]:
        data[c] = cols[c][order]
    data["entity_id"] = ent_ids[cols["_ent"][order]]
    frame = pd.DataFrame(
        {c: pd.Series(data[c], dtype=object) for c in [*CANONICAL_COLUMNS, "entity_id"]}
    )
    rows = []
    for counter, (kind, members) in enumerate(e.groups):
        gid = f"G{chunk_no:03d}-{counter:06d}"
        rows += [(gid, kind, ent_ids[m]) for m in members]
    groups = pd.DataFrame(rows, columns=GROUP_COLUMNS, dtype=object)
    return frame, groups, E


def _iter(
    n_records: int, seed: int, chunk_records: int | None
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    if n_records < 1:
        raise ValueError("n_records must be at least 1")
    chunk = chunk_records or CHUNK_RECORDS
    width = _id_width(n_records)
    ent_offset = rec_offset = 0
    for no, size in enumerate(_chunk_sizes(n_records, chunk)):
        frame, groups, n_ent = _chunk(size, seed, no, ent_offset, rec_offset, width)
        ent_offset += n_ent
        rec_offset += size
        yield frame, groups


def iter_chunks(
    n_records: int = 10_000, seed: int = 7, chunk_records: int | None = None
) -> Iterator[pd.DataFrame]:
    """Yield the data set in independently generated chunks (the frames `generate` joins)."""
    for frame, _ in _iter(n_records, seed, chunk_records):
        yield frame


def generate_with_groups(
    n_records: int = 10_000, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`generate` plus the hard non-duplicate groups: columns group_id, kind, entity_id.

    kind is one of HARD_NEGATIVE_KINDS; every entity in a group is a different customer.
    """
    frames, groups = [], []
    for frame, g in _iter(n_records, seed, None):
        frames.append(frame)
        groups.append(g)
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    gr = groups[0] if len(groups) == 1 else pd.concat(groups, ignore_index=True)
    return df, gr


def generate(n_records: int = 10_000, seed: int = 7) -> pd.DataFrame:
    """Exactly n_records rows: CANONICAL_COLUMNS plus the ground-truth entity_id.

    Every value is a str or None; record_id is unique; same arguments, same frame.
    """
    return generate_with_groups(n_records, seed)[0]


def write_demo(out_dir, n_records: int = 10_000, seed: int = 7) -> tuple[Path, Path]:
    """Write out_dir/customers.csv (CANONICAL_COLUMNS) and out_dir/truth.csv (record_id,
    entity_id), UTF-8, chunk by chunk so memory stays bounded. Returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    customers, truth = out / "customers.csv", out / "truth.csv"
    with (
        open(customers, "w", encoding="utf-8", newline="") as fc,
        open(truth, "w", encoding="utf-8", newline="") as ft,
    ):
        for i, frame in enumerate(iter_chunks(n_records, seed)):
            frame.to_csv(
                fc, columns=CANONICAL_COLUMNS, index=False, header=i == 0, lineterminator="\n"
            )
            frame.to_csv(
                ft,
                columns=["record_id", "entity_id"],
                index=False,
                header=i == 0,
                lineterminator="\n",
            )
    return customers, truth


def summary(frame: pd.DataFrame, groups: pd.DataFrame | None = None) -> dict:
    """Quick statistics of a generated set: records per source and type, entity sizes,
    hard non-duplicate groups by kind."""
    sizes = frame.groupby("entity_id").size()
    out = {
        "records": len(frame),
        "entities": int(sizes.size),
        "per_source": frame["source_system"].value_counts().to_dict(),
        "per_type": frame["customer_type"].value_counts().to_dict(),
        "entity_sizes": {int(k): int(c) for k, c in sizes.value_counts().sort_index().items()},
        "missing_share": frame[CANONICAL_COLUMNS].isna().mean().round(3).to_dict(),
    }
    if groups is not None:
        out["hard_negative_groups"] = groups.groupby("kind")["group_id"].nunique().to_dict()
        out["hard_negative_entities"] = groups.groupby("kind").size().to_dict()
    return out


if __name__ == "__main__":  # python -m training.demo_data [n_records] [seed]
    import json
    import sys
    import time

    n_arg = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    seed_arg = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    started = time.perf_counter()
    df_, groups_ = generate_with_groups(n_arg, seed_arg)
    print(f"generate({n_arg:,}, seed={seed_arg}): {time.perf_counter() - started:.1f} s")
    print(json.dumps(summary(df_, groups_), ensure_ascii=False, indent=1))
