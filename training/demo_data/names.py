"""How names are written: every form of a company's name the sources use (registered,
region bracketed or swapped, short, legal-form variant, without region, English and
pinyin), per entity; and person names per record (with a space, as 先生 / 女士, in pinyin
in either order and case)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from training.demo_data.arrays import _pick, _pick_by, _upper
from training.demo_data.schema import _OVS
from training.demo_data.vocabulary import _IND_LEGAL

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
