"""`python -m training.demo_data [n_records] [seed]`: generate a set, print how long it
took and its `summary`."""

from __future__ import annotations

import json
import sys
import time

from training.demo_data import generate_with_groups, summary

n_arg = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
seed_arg = int(sys.argv[2]) if len(sys.argv) > 2 else 7
started = time.perf_counter()
df_, groups_ = generate_with_groups(n_arg, seed_arg)
print(f"generate({n_arg:,}, seed={seed_arg}): {time.perf_counter() - started:.1f} s")
print(json.dumps(summary(df_, groups_), ensure_ascii=False, indent=1))
