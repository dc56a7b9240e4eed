"""One independently seeded chunk of the data set (its entities, their records in
shuffled order, record and entity ids, the hard-non-duplicate groups), and the loop over
the chunks of a data set that keeps ids running across them."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from training.demo_data.arrays import _z
from training.demo_data.entities import _entities
from training.demo_data.records import _records
from training.demo_data.schema import CANONICAL_COLUMNS, GROUP_COLUMNS
from training.demo_data.vocabulary import _vocab


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
    n_records: int, seed: int, chunk_records: int
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """(records, groups) per chunk of chunk_records records (the last one shorter)."""
    if n_records < 1:
        raise ValueError("n_records must be at least 1")
    width = _id_width(n_records)
    ent_offset = rec_offset = 0
    for no, size in enumerate(_chunk_sizes(n_records, chunk_records)):
        frame, groups, n_ent = _chunk(size, seed, no, ent_offset, rec_offset, width)
        ent_offset += n_ent
        rec_offset += size
        yield frame, groups
