"""The words the demo data is made of, and `_vocab()`, which turns them once into numpy
lookup tables: provinces, cities and districts with their administrative and area codes,
surnames and given names with popularity weights, industries, legal forms, chain and
generated brands, road and estate names, mobile prefixes and mail domains, each with its
pinyin / English rendering; and the typo partners of every character (homophones as a
pinyin IME offers them, plus look-alikes)."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np

from training.demo_data.arrays import _arr

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
