"""Company and person identifiers: valid unified social credit codes (USCC, with the
organisation code inside) and resident ID-card numbers built from the entity's district
and birth date, their check characters, and the ways records carry them wrong (bad check
character, letter O for zero, case, spaces, the old 15-digit card number)."""

from __future__ import annotations

import numpy as np

from training.demo_data.arrays import _z

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
