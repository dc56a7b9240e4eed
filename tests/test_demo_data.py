"""The bundled demo-data generator: determinism, schema, and the variation it must carry."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric, uscc

from training import demo_data
from training.demo_data import CANONICAL_COLUMNS, generate, generate_with_groups, write_demo

N = 800


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_with_groups(N, seed=3)


@pytest.fixture(scope="module")
def df(data) -> pd.DataFrame:
    return data[0]


def test_same_seed_same_frame_other_seed_other_frame():
    a, b = generate(300, seed=5), generate(300, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert a.to_csv(index=False) == b.to_csv(index=False)
    c = generate(300, seed=6)
    assert not a.equals(c)
    assert a["customer_name"].tolist() != c["customer_name"].tolist()


@pytest.mark.parametrize("n", [1, 2, 7, 123])
def test_exact_row_count(n):
    frame = generate(n, seed=1)
    assert len(frame) == n
    assert frame["record_id"].is_unique


def test_schema_and_value_types(df):
    assert list(df.columns) == [*CANONICAL_COLUMNS, "entity_id"]
    assert len(df) == N
    assert all(dtype is object or dtype == "object" for dtype in df.dtypes)
    for col in df.columns:
        kinds = {type(v) for v in df[col]}
        assert kinds <= {str, type(None)}, (col, kinds)
    for col in ("record_id", "source_system", "customer_name", "customer_type", "entity_id"):
        assert df[col].notna().all(), col
    assert df["record_id"].is_unique
    assert df["entity_id"].str.fullmatch(r"E\d{6,}").all()
    assert set(df["customer_type"]) == {"企业", "个人"}
    assert set(df["source_system"]) == set(demo_data.SOURCE_SYSTEMS)


def test_entities_have_one_to_six_records_and_duplicates_exist(df):
    sizes = df.groupby("entity_id").size()
    assert sizes.min() >= 1 and sizes.max() <= 6
    assert (sizes == 1).sum() > 0 and (sizes == 2).sum() > 0 and (sizes >= 3).sum() > 0
    # an entity never mixes customer types
    assert (df.groupby("entity_id")["customer_type"].nunique() == 1).all()


def test_uscc_valid_codes_carry_real_region_and_some_are_invalid(df):
    codes = df["uscc"].dropna()
    assert len(codes) > 50
    valid = codes[codes.map(uscc.is_valid)]
    invalid = codes[~codes.map(uscc.is_valid)]
    assert len(valid) / len(codes) > 0.85
    assert len(invalid) >= 1
    regions = set(demo_data._vocab().d_code)
    compact = valid.map(uscc.compact)
    assert compact.str[2:8].isin(regions).all()
    assert compact.str[:2].isin(["91", "92"]).all()
    # persons carry no USCC, and ERP holds it for nearly every company it knows
    assert df.loc[df["customer_type"] == "个人", "uscc"].isna().all()


def test_id_cards_valid_with_birth_date_and_some_invalid():
    frame = generate(3000, seed=4)
    ids = frame["id_card"].dropna()
    assert len(ids) > 30
    ok = ids[ids.map(ric.is_valid)]
    assert len(ok) / len(ids) > 0.85
    assert (~ids.map(ric.is_valid)).sum() >= 1
    births = ok.map(ric.get_birth_date)
    assert births.map(lambda d: 1950 <= d.year <= 2006).all()
    assert frame.loc[frame["customer_type"] == "企业", "id_card"].isna().all()


def test_traditional_and_pinyin_records(df):
    import opencc

    t2s = opencc.OpenCC("t2s")
    hktw = df[df["source_system"] == "HKTW"]
    changed = hktw["customer_name"].map(lambda s: t2s.convert(s) != s)
    assert changed.mean() > 0.3
    assert (
        hktw["mobile"].dropna().str.contains("[０-９]").any()
        or hktw["phone"].dropna().str.contains("[０-９]").any()
    )
    overseas = df[df["source_system"] == "OVERSEAS"]
    assert overseas["customer_name"].map(str.isascii).all()
    assert (
        overseas["customer_name"]
        .str.contains(r"Co\.,? Ltd|Company Limited|CO LTD|Ltd\.", regex=True)
        .any()
    )
    assert overseas["address"].dropna().map(str.isascii).all()


def test_variants_in_names_phones_and_addresses(df):
    names = df["customer_name"]
    assert names.str.contains("（").any() and names.str.contains("有限责任公司|有限責任公司").any()
    phones = pd.concat([df["mobile"], df["phone"]]).dropna()
    for pattern in (
        r"^\+86",
        r"^0086",
        r"转|ext|分机|-\d{3,4}$",
        r"^\(0\d{2,3}\)",
        r"^1[3-9]\d{9}$",
    ):
        assert phones.str.contains(pattern).any(), pattern
    addresses = df["address"].dropna()
    assert addresses.str.contains("[一二三四五六七八九]+号").any()
    assert addresses.str.contains("栋|幢|号楼").any()
    assert df["updated_at"].isna().any()
    stamps = df["updated_at"].dropna()
    assert stamps.str.contains("/").any() and stamps.str.contains("-").any()
    parsed = pd.to_datetime(stamps.str.replace("/", "-").str.rstrip("Z"), format="mixed")
    assert parsed.min().year >= 2011 and parsed.max().year <= 2025


def test_mobiles_are_mostly_recoverable(df):
    half = str.maketrans("０１２３４５６７８９", "0123456789")
    digits = df["mobile"].dropna().map(lambda s: re.sub(r"\D", "", s.translate(half)))
    digits = digits.str.replace(r"^(0086|86)", "", regex=True)
    assert digits.str.fullmatch(r"1[3-9]\d{9}").mean() > 0.9


def test_hard_non_duplicate_groups(data):
    frame, groups = data
    assert set(groups["kind"]) == set(demo_data.HARD_NEGATIVE_KINDS)
    assert (
        groups.groupby("group_id")["entity_id"].nunique() == groups.groupby("group_id").size()
    ).all()
    assert groups["entity_id"].isin(frame["entity_id"]).all()
    by_entity = frame.set_index("entity_id")
    cn = frame[frame["source_system"].isin(["CRM", "ERP", "SHOP"])]

    def bigrams(entity_ids):
        sets = []
        for e in entity_ids:
            names = cn.loc[cn["entity_id"] == e, "customer_name"]
            if len(names):
                sets.append({n[i : i + 2] for n in names for i in range(len(n) - 1)})
        return sets

    chains = groups[groups["kind"] == "chain_branch"].groupby("group_id")["entity_id"].apply(list)
    shared = 0
    for members in chains:
        sets = bigrams(members)
        if len(sets) >= 2 and set.intersection(*sets):
            shared += 1
    assert shared >= 3  # branches: same brand word, different entity_id
    # families share the address but not the mobile
    fam = groups[groups["kind"] == "family"].groupby("group_id")["entity_id"].apply(list)
    assert len(fam) >= 3
    # same-name strangers: same name, different entity ids
    same = groups[groups["kind"] == "same_name"].groupby("group_id")["entity_id"].apply(list)
    assert len(same) >= 3
    # one salesperson's mobile at several companies
    sales = (
        groups[groups["kind"] == "shared_salesperson"].groupby("group_id")["entity_id"].apply(list)
    )
    assert len(sales) >= 3
    assert len(by_entity) == len(frame)


def test_default_demo_has_each_kind_of_variation():
    frame, groups = generate_with_groups()
    assert len(frame) == 10_000
    shares = frame["source_system"].value_counts(normalize=True)
    assert (shares > 0.08).all() and len(shares) == 5
    assert (frame["customer_type"] == "个人").mean() > 0.15
    kinds = groups.groupby("kind")["group_id"].nunique()
    assert (kinds >= 40).all(), kinds.to_dict()
    # very common names repeat among different people
    persons = pd.concat(
        [
            frame.loc[frame["customer_type"] == "个人", ["customer_name", "entity_id"]],
            frame[["contact_name", "entity_id"]].rename(columns={"contact_name": "customer_name"}),
        ]
    ).dropna()
    assert persons.groupby("customer_name")["entity_id"].nunique().max() >= 10


def test_write_demo_files(tmp_path):
    customers, truth = write_demo(tmp_path / "demo", n_records=400, seed=2)
    assert customers == tmp_path / "demo" / "customers.csv" and truth.name == "truth.csv"
    c = pd.read_csv(customers, dtype=str, keep_default_na=False, encoding="utf-8")
    t = pd.read_csv(truth, dtype=str, keep_default_na=False, encoding="utf-8")
    assert list(c.columns) == CANONICAL_COLUMNS
    assert list(t.columns) == ["record_id", "entity_id"]
    assert len(c) == 400 and set(t["record_id"]) == set(c["record_id"]) and t["record_id"].is_unique
    expected = generate(400, seed=2)
    assert c.astype(object).equals(expected[CANONICAL_COLUMNS].fillna(""))


def test_chunked_generation_matches_written_files(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_data, "CHUNK_RECORDS", 150)
    frame = generate(400, seed=9)
    assert len(frame) == 400 and frame["record_id"].is_unique
    chunks = list(demo_data.iter_chunks(400, seed=9))
    assert [len(x) for x in chunks] == [150, 150, 100]
    ents = [set(x["entity_id"]) for x in chunks]
    assert not (ents[0] & ents[1]) and not (ents[1] & ents[2])
    customers, truth = write_demo(tmp_path, n_records=400, seed=9)
    c = pd.read_csv(customers, dtype=str, keep_default_na=False)
    t = pd.read_csv(truth, dtype=str, keep_default_na=False)
    assert c.astype(object).equals(frame[CANONICAL_COLUMNS].fillna(""))
    assert t.astype(object).equals(frame[["record_id", "entity_id"]])


def test_rejects_non_positive_size():
    with pytest.raises(ValueError):
        generate(0)


def test_values_are_not_numpy_scalars(df):
    sample = df.to_numpy().ravel()
    assert not any(isinstance(v, np.generic) for v in sample)
