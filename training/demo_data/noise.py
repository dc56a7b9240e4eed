"""The per-source habits and slips laid over rendered record values: phone, e-mail and
timestamp formats, Hong Kong / Taiwan traditional characters, full-width digits and
bracket styles, typos (IME homophones, look-alike characters, dropped / doubled /
swapped characters, digit slips, e-mail domain slips) and stray copy-paste whitespace."""

from __future__ import annotations

import functools

import numpy as np

from training.demo_data.arrays import _fill, _map_unique, _pick_by, _s, _upper, _z
from training.demo_data.schema import _CRM, _HKTW

# Hong Kong / Taiwan habits: full-width digits and signs, half-width brackets in names
_FW_DIGITS = {**{ord(c): ord(c) + 0xFEE0 for c in "0123456789+-()"}, 0x20: 0x3000}
_HALF_BRACKETS = str.maketrans({"（": "(", "）": ")"})
# field -> per-source typo rate, order CRM, ERP, SHOP, HKTW, OVERSEAS
_TYPO = {
    "name": [0.06, 0.01, 0.04, 0.02, 0.03],
    "contact": [0.05, 0.01, 0.03, 0.02, 0.02],
    "address": [0.05, 0.015, 0.05, 0.02, 0.02],
    "digits": [0.03, 0.01, 0.02, 0.01, 0.01],
    "email": [0.03, 0.01, 0.03, 0.015, 0.015],
    "region": [0.01, 0.002, 0.005, 0.005, 0.005],
    "uscc": [0.015, 0.005, 0.01, 0.01, 0.01],
}


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
