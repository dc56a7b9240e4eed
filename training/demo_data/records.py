"""Records from entities: which source holds each of an entity's records, which fields a
source fills, which records are stale (older phone, address, ``updated_at``), and each
record's values: name, contact, identifiers, phones, e-mail, region columns and address
(in Chinese, or in English for the overseas system); `noise` then adds format habits and
typos."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from training.demo_data.arrays import _fill, _none, _pick, _pick_by, _s, _upper, _z
from training.demo_data.entities import _DAY
from training.demo_data.identifiers import _ric_variants, _uscc_variants
from training.demo_data.names import _NAME_FORMS, _company_forms, _person_name
from training.demo_data.noise import (
    _email_variants,
    _format_landline,
    _format_mobile,
    _format_time,
    _hktw,
    _typos,
)
from training.demo_data.schema import (
    _CO,
    _CRM,
    _ERP,
    _HKTW,
    _OVS,
    _PER,
    CUSTOMER_TYPES,
    SOURCE_SYSTEMS,
)

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
