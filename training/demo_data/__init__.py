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

This module is the public API; the generator behind it, in the order data flows:
`vocabulary` (word lists and lookup tables), `entities` (the customers and the hard
non-duplicates, with `identifiers` for USCC / ID-card numbers), `records` (each source's
records of an entity, with `names` for name forms and `noise` for format habits,
traditional characters and typos), `chunks` (one seeded chunk with its ids); `schema`
holds the shared columns and codes, `arrays` the small numpy helpers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from training.demo_data.chunks import _iter
from training.demo_data.schema import (
    CANONICAL_COLUMNS,
    CUSTOMER_TYPES,
    HARD_NEGATIVE_KINDS,
    SOURCE_SYSTEMS,
)

# importable from here as from the single module this package replaced (tests read _vocab)
from training.demo_data.schema import GROUP_COLUMNS as GROUP_COLUMNS
from training.demo_data.vocabulary import _vocab as _vocab

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

#: records per independently seeded chunk; generate() and write_demo() use the same cut.
#: Read at call time, so setting ``training.demo_data.CHUNK_RECORDS`` changes the cut.
CHUNK_RECORDS = 200_000


def iter_chunks(
    n_records: int = 10_000, seed: int = 7, chunk_records: int | None = None
) -> Iterator[pd.DataFrame]:
    """Yield the data set in independently generated chunks (the frames `generate` joins)."""
    for frame, _ in _iter(n_records, seed, chunk_records or CHUNK_RECORDS):
        yield frame


def generate_with_groups(
    n_records: int = 10_000, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`generate` plus the hard non-duplicate groups: columns group_id, kind, entity_id.

    kind is one of HARD_NEGATIVE_KINDS; every entity in a group is a different customer.
    """
    frames, groups = [], []
    for frame, g in _iter(n_records, seed, CHUNK_RECORDS):
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
