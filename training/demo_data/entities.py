"""The customers behind the records, one row per entity: company or person, how many
records it has, its city, district and address (and an older one), phones, contact or own
name, dates, industry, legal form, brand and identifiers; and the hard non-duplicates,
different customers made to look alike: chain headquarters with their stores and branch
companies, a salesperson listed at several stores, families sharing an address and
landline, strangers with the same common name in one city."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from training.demo_data.arrays import _pick
from training.demo_data.identifiers import _make_ric, _make_uscc
from training.demo_data.schema import _CO, _PER
from training.demo_data.vocabulary import _IND_LEGAL

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
