"""Benchmark: standardize N customer records in DuckDB; print records/s and peak memory.

    python benchmarks/standardize.py --records 100000
    python benchmarks/standardize.py --records 1000000 --data demo

`--data synthetic` (default) builds records from a few hundred hand-written values combined at
random, with the variation real customer data has (traditional characters, full-width digits,
pinyin names, +86/0086 prefixes, extensions, Chinese numerals, several date formats), so most
addresses, phones and names are distinct values, as in real data. `--data demo` uses
`training.demo_data.generate` when that module is there.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb
import pyarrow as pa

from resolution.config import CANONICAL_FIELDS
from resolution.standardize import standardize_table

BRANDS = [
    "华联",
    "联华",
    "永辉",
    "家乐福",
    "大润发",
    "物美",
    "华润万家",
    "世纪联华",
    "好又多",
    "百佳",
    "农工商",
    "乐购",
    "苏果",
    "人人乐",
    "步步高",
    "北国",
    "新华都",
    "红旗",
    "美宜佳",
    "罗森",
    "快客",
    "良友",
    "可的",
    "喜士多",
    "天虹",
    "银泰",
    "王府井",
    "新世界",
    "百盛",
    "苏宁",
    "国美",
    "五星",
    "永旺",
    "卜蜂莲花",
    "全家",
    "十足",
    "红府",
    "见福",
    "中百",
    "武商",
    "欧尚",
    "麦德龙",
    "山姆",
    "盒马",
    "钱大妈",
    "百果园",
    "鲜丰",
    "每日优鲜",
    "叮咚",
    "朴朴",
    "名创",
    "屈臣氏",
    "万宁",
    "老百姓",
    "益丰",
    "大参林",
    "一心堂",
    "海王星辰",
    "国大",
    "华氏",
    "雷允上",
    "同仁堂",
    "九州通",
    "康佳",
    "金龙",
    "鑫源",
    "恒昌",
    "瑞丰",
    "宏达",
    "兴隆",
    "福满",
    "祥和",
    "和顺",
    "德顺",
    "金盛",
    "泰和",
    "富源",
    "嘉禾",
    "永盛",
    "正大",
    "新盛",
    "好邻居",
    "东方",
    "长江",
    "黄河",
    "明珠",
    "宝龙",
    "星光",
]
TYPES = [
    "超市",
    "便利店",
    "商贸",
    "贸易",
    "食品",
    "百货",
    "药房",
    "大药房",
    "商行",
    "餐饮管理",
    "实业",
    "电器",
    "五金",
    "粮油",
    "烟酒",
    "母婴用品",
    "水果",
    "生鲜",
    "连锁超市",
    "超市连锁",
]
LEGAL = ["有限公司", "有限责任公司", "股份有限公司", "有限公司", "", "商行", "集团有限公司"]
PLACES = [
    (
        "上海市",
        "上海市",
        "浦东新区",
        ["张江", "金桥", "陆家嘴", "川沙", "周浦"],
        ["科苑路", "张江路", "世纪大道", "浦东大道"],
    ),
    (
        "上海市",
        "上海市",
        "徐汇区",
        ["徐家汇", "漕河泾", "田林"],
        ["漕溪北路", "肇嘉浜路", "宜山路"],
    ),
    ("上海市", "上海市", "闵行区", ["七宝", "莘庄", "虹桥"], ["七莘路", "沪闵路", "莘松路"]),
    ("北京市", "北京市", "朝阳区", ["望京", "三里屯", "国贸"], ["建国路", "朝阳北路", "望京街"]),
    (
        "北京市",
        "北京市",
        "海淀区",
        ["中关村", "五道口", "西二旗"],
        ["中关村大街", "学院路", "知春路"],
    ),
    (
        "广东省",
        "广州市",
        "天河区",
        ["珠江新城", "天河北", "岗顶"],
        ["天河路", "体育西路", "中山大道"],
    ),
    (
        "广东省",
        "深圳市",
        "南山区",
        ["蛇口", "科技园", "后海"],
        ["深南大道", "南海大道", "科技南路"],
    ),
    (
        "广东省",
        "深圳市",
        "福田区",
        ["华强北", "车公庙", "梅林"],
        ["华强北路", "深南中路", "福华路"],
    ),
    ("浙江省", "杭州市", "西湖区", ["文三", "黄龙", "西溪"], ["文三路", "天目山路", "教工路"]),
    (
        "江苏省",
        "南京市",
        "鼓楼区",
        ["新街口", "湖南路", "山西路"],
        ["中山北路", "湖南路", "广州路"],
    ),
    (
        "江苏省",
        "苏州市",
        "工业园区",
        ["湖东", "湖西", "独墅湖"],
        ["星湖街", "现代大道", "苏州大道"],
    ),
    ("四川省", "成都市", "锦江区", ["春熙路", "东大街", "盐市口"], ["红星路", "东大街", "春熙路"]),
    (
        "湖北省",
        "武汉市",
        "江汉区",
        ["汉口", "王家墩", "唐家墩"],
        ["解放大道", "建设大道", "新华路"],
    ),
    ("重庆市", "重庆市", "渝中区", ["解放碑", "大坪", "两路口"], ["民族路", "中山三路", "邹容路"]),
    ("天津市", "天津市", "和平区", ["滨江道", "南市", "小白楼"], ["南京路", "滨江道", "营口道"]),
    (
        "山东省",
        "青岛市",
        "市南区",
        ["香港中路", "八大关", "中山路"],
        ["香港中路", "闽江路", "东海西路"],
    ),
    (
        "福建省",
        "福州市",
        "鼓楼区",
        ["五四路", "东街口", "屏山"],
        ["五四路", "八一七北路", "湖东路"],
    ),
    ("河南省", "郑州市", "金水区", ["花园路", "经三路", "农业路"], ["花园路", "经三路", "农业路"]),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈欧阳"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红建文辉力斌宇浩凯鹏飞俊峰鑫波丹婷雪琳"
)
TRAD = str.maketrans(
    "华联东广门书长马陈刘杨黄赵吴孙郑谢韩冯邓许张伟丽强军艳杰涛红建辉鹏飞俊鑫波丹琳区号楼路",
    "華聯東廣門書長馬陳劉楊黃趙吳孫鄭謝韓馮鄧許張偉麗強軍艷傑濤紅建輝鵬飛俊鑫波丹琳區號樓路",
)
MOBILE_PREFIXES = [
    str(p)
    for p in (
        *range(130, 140),
        145,
        147,
        *range(150, 154),
        *range(155, 160),
        166,
        173,
        176,
        177,
        178,
        *range(180, 190),
        191,
        198,
        199,
    )
]
CN_NUM = "零一二三四五六七八九"
FULL = str.maketrans("0123456789-", "０１２３４５６７８９－")


def _cn(n: int) -> str:
    if n < 10:
        return CN_NUM[n]
    if n < 20:
        return "十" + (CN_NUM[n % 10] if n % 10 else "")
    if n < 100:
        return CN_NUM[n // 10] + "十" + (CN_NUM[n % 10] if n % 10 else "")
    return "".join(CN_NUM[int(c)] for c in str(n))


def _uscc(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    w = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    body = (
        "91"
        + rng.choice(["310115", "110105", "440300", "330106", "320106"])
        + "".join(rng.choice(alphabet) for _ in range(9))
    )
    total = sum(alphabet.index(c) * x for c, x in zip(body, w))
    return body + alphabet[(31 - total) % 31]


def _id_card(rng: random.Random) -> str:
    body = rng.choice(["310115", "110105", "440305", "330106"]) + (
        f"{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        f"{rng.randint(0, 999):03d}"
    )
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(a) * b for a, b in zip(body, w)) % 11]


def _pinyin(s: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(p.capitalize() for p in lazy_pinyin(s))


def synthetic(n: int, seed: int = 7) -> pa.Table:
    """n records of about n/2.5 customers, each written 1–4 ways."""
    rng = random.Random(seed)
    rows: dict[str, list] = {
        k: []
        for k in CANONICAL_FIELDS
    }
    systems = ["crm", "erp", "ecom", "dms", "hk"]
    i = 0
    while i < n:
        person = rng.random() < 0.3
        p, c, d, towns, roads = rng.choice(PLACES)
        surname = rng.choice(SURNAMES)
        contact = surname + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        brand, kind = rng.choice(BRANDS), rng.choice(TYPES)
        branch = rng.choice(
            [
                "",
                "",
                f"{rng.choice(towns)}店",
                f"{rng.choice(towns)}分店",
                f"{_cn(rng.randint(1, 12))}分店",
                f"{rng.choice(towns)}分公司",
            ]
        )
        legal = rng.choice(LEGAL)
        mobile = f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99999999):08d}"
        area = {
            "上海市": "021",
            "北京市": "010",
            "广州市": "020",
            "深圳市": "0755",
            "杭州市": "0571",
            "南京市": "025",
            "成都市": "028",
            "武汉市": "027",
        }.get(c, "0" + str(rng.randint(300, 999)))
        landline = f"{area}-{rng.randint(2000000, 89999999)}"
        email = (
            f"{rng.choice(['info', 'sales', 'cs', 'zhang', 'li', 'wang'])}{rng.randint(1, 99999)}@"
            + rng.choice(
                ["qq.com", "163.com", "126.com", "sina.com", "hualian.com.cn", "gmail.com"]
            )
        )
        road, num = rng.choice(roads), rng.randint(1, 2000)
        bld, room = rng.randint(1, 30), rng.randint(1, 30) * 100 + rng.randint(1, 20)
        uscc, idc = _uscc(rng), _id_card(rng)
        when = (
            2019 + rng.randint(0, 6),
            rng.randint(1, 12),
            rng.randint(1, 28),
            rng.randint(0, 23),
            rng.randint(0, 59),
            rng.randint(0, 59),
        )
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            if i >= n:
                break
            v = rng.random()
            if person:
                name = contact
                if v < 0.15:
                    name = (
                        _pinyin(contact)
                        if rng.random() < 0.5
                        else " ".join(reversed(_pinyin(contact).split()))
                    )
                elif v < 0.3:
                    name = contact.translate(TRAD)
                ctype = rng.choice(["个人", "个人", None, "person"])
            else:
                region = rng.choice([c[:-1], c, "", f"({c[:-1]})"])
                base = f"{brand}{kind}"
                if region.startswith("("):
                    name = f"{base}{region}{legal}"
                else:
                    name = f"{region}{base}{legal}"
                if branch:
                    name += rng.choice([branch, f"({branch})", f"（{branch}）"])
                if v < 0.1:
                    name = _pinyin(f"{c[:-1]}{base}") + " Co., Ltd."
                elif v < 0.25:
                    name = name.translate(TRAD)
                ctype = rng.choice(["企业", "企业", None, "公司", "junk"])
            mob = rng.choice(
                [
                    mobile,
                    f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                    f"0086{mobile}",
                    mobile.translate(FULL),
                    f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
                    None,
                ]
            )
            tel = rng.choice(
                [
                    landline,
                    f"({area}){landline.split('-')[1]}",
                    f"{landline}转{rng.randint(100, 999)}",
                    landline.translate(FULL),
                    None,
                    None,
                ]
            )
            addr_num = rng.choice([f"{num}号", f"{_cn(num) if num < 100 else num}号"])
            street = f"{road}{addr_num}{rng.choice(['', f'{bld}号楼{room}室', f'{bld}栋{room}', f'{_cn(bld)}幢{room}室'])}"
            addr = rng.choice(
                [
                    street,
                    f"{p}{c if c != p else ''}{d}{street}",
                    f"{d}{street}",
                    f"{c}{d}{rng.choice(towns)}{street}",
                ]
            )
            if rng.random() < 0.2:
                addr = addr.translate(TRAD)
            stamp = rng.choice(
                [
                    "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*when),
                    "{}/{}/{}".format(*when[:3]),
                    "{}年{}月{}日".format(*when[:3]),
                    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}+08:00".format(*when),
                    None,
                ]
            )
            rows["record_id"].append(f"r{i:08d}")
            rows["source_system"].append(rng.choice(systems))
            rows["customer_name"].append(name)
            rows["customer_type"].append(ctype)
            rows["uscc"].append(
                None if person else rng.choice([uscc, uscc.lower(), uscc[:-1] + "0", None])
            )
            rows["contact_name"].append(
                rng.choice(
                    [contact, contact.translate(TRAD), surname + "经理", _pinyin(contact), None]
                )
            )
            rows["mobile"].append(mob)
            rows["phone"].append(tel)
            rows["email"].append(rng.choice([email, email.upper(), f" {email} ", None]))
            rows["province"].append(rng.choice([p, p.rstrip("省市"), None]))
            rows["city"].append(rng.choice([c, c.rstrip("市"), None]))
            rows["district"].append(rng.choice([d, None, None]))
            rows["address"].append(addr)
            rows["id_card"].append(rng.choice([idc, None]) if person else None)
            rows["updated_at"].append(stamp)
            i += 1
    return pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})


def demo(n: int, seed: int = 7) -> pa.Table:
    from training import demo_data  # optional: only when that module exists

    out = demo_data.generate(n, seed)
    if isinstance(out, tuple):
        out = out[0]
    if isinstance(out, pa.Table):
        return out
    return pa.Table.from_pandas(out, preserve_index=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--data", choices=["synthetic", "demo"], default="synthetic")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    t0 = time.perf_counter()
    table = synthetic(args.records) if args.data == "synthetic" else demo(args.records)
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    con.register("_arrow_src", table)
    con.execute("CREATE TABLE src AS SELECT * FROM _arrow_src")
    con.unregister("_arrow_src")
    del table
    n = con.execute("SELECT count(*) FROM src").fetchone()[0]
    print(f"built {n:,} {args.data} records in {time.perf_counter() - t0:.1f}s")
    for col in ("customer_name", "address", "mobile", "email", "updated_at"):
        if col in {r[0] for r in con.execute("DESCRIBE src").fetchall()}:
            d = con.execute(f"SELECT count(DISTINCT {col}) FROM src").fetchone()[0]
            print(f"  distinct {col}: {d:,}")

    def cpu() -> float:
        own, kids = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    # the workers are children of a forkserver, so getrusage(RUSAGE_CHILDREN) misses them:
    # a thread samples every descendant's CPU time and RSS while they live
    import threading

    import psutil

    seen: dict[int, tuple[float, float]] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for p in psutil.Process().children(recursive=True):
                try:
                    ct, rss = p.cpu_times(), p.memory_info().rss / 2**20
                    prev = seen.get(p.pid, (0.0, 0.0))
                    seen[p.pid] = (max(prev[0], ct.user + ct.system), max(prev[1], rss))
                except psutil.Error:
                    pass
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t1, c1 = time.perf_counter(), cpu()
    standardize_table(con, "src", "std")
    secs, cpu_secs = time.perf_counter() - t1, cpu() - c1
    stop.set()
    sampler.join()
    cpu_secs += sum(c for c, _ in seen.values())
    out = con.execute("SELECT count(*) FROM std").fetchone()[0]
    assert out == n, (out, n)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = max([m for _, m in seen.values()] + [0.0])
    print(
        f"standardized {n:,} records in {secs:.1f}s: {n / secs:,.0f} records/s; "
        f"peak RSS {peak_mb:,.0f} MB (largest worker process {child_mb:,.0f} MB)"
    )
    print(
        f"CPU time, all processes: {cpu_secs:.1f}s ({n / cpu_secs:,.0f} records per CPU-second; "
        "other load on the machine stretches the wall time, not this)"
    )
    print("load average (1/5/15 min, {} cores): {}".format(
        os.cpu_count(), " ".join(f"{x:.1f}" for x in os.getloadavg())))
    for col in ("name_core", "mobile_key", "email_key", "district_std", "updated_at_ts"):
        filled = con.execute(f"SELECT avg(({col} IS NOT NULL)::INT) FROM std").fetchone()[0]
        print(f"  {col} filled: {filled:.1%}")


if __name__ == "__main__":
    main()
