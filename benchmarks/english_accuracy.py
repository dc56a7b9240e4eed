"""The English person data set (benchmarks/english_data.py): the engine through its CLI with
configs/english_persons.yaml, beside a plain Splink model on the same columns.

The engine runs as a user runs it: `er train` (unsupervised), `er dedup`, the crosswalk
scored against the truth as `er evaluate` does. The plain Splink model takes each column
trimmed and lower-cased (no name standardizer: "Bob"/"Robert", "Smith"/"SMITH JR." and
swapped names stay as typed), Splink's comparison library (NameComparison,
DamerauLevenshtein for the date of birth, EmailComparison, JaroWinkler for the address,
exact city), the same kind of blocking rules and training schedule, clustered at the same
threshold.

    python benchmarks/english_accuracy.py --records 10000 --seed 3
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from english_data import COLUMNS, write_english

from resolution.config import load_config
from training.evaluation import Metrics, evaluate_job, metrics_from_tables

CONFIG = ROOT / "configs" / "english_persons.yaml"


def _er(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "resolution.cli", *args], cwd=ROOT, env=env,
                          check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"er {' '.join(args)} exited {done.returncode}:\n"
                         f"{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def run_engine(persons: Path, truth: Path, work: Path) -> tuple[Metrics, float]:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    t0 = time.perf_counter()
    trained = _er("train", "--config", str(CONFIG), "--input", str(persons),
                  "--name", "english_persons", "--no-charts", env=env)
    for line in trained.splitlines():
        if line.startswith(("warning:", "trained:", "λ:", "EM ")):
            print(f"  engine: {line}")
    model = next(line.split()[-1] for line in trained.splitlines() if line.startswith("model:"))
    _er("dedup", "--config", str(CONFIG), "--model", model, "--input", str(persons),
        "--out", str(work / "out"), env=env)
    return evaluate_job(work / "out", truth), time.perf_counter() - t0


def run_plain_splink(persons: Path, truth: Path) -> tuple[Metrics, float]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    config = load_config(CONFIG)
    con = duckdb.connect()
    cleaned = ", ".join(f"nullif(lower(trim({c})), '') AS {c}_std" for c in COLUMNS[1:])
    con.execute(f"CREATE TABLE records AS SELECT record_id, {cleaned} "
                f"FROM read_csv(?, all_varchar = true)", [str(persons)])
    con.execute("CREATE TABLE truth AS SELECT record_id, entity_id "
                "FROM read_csv(?, all_varchar = true)", [str(truth)])
    t0 = time.perf_counter()
    first, last = "first_name_std", "last_name_std"
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison(first).configure(term_frequency_adjustments=True),
            cl.NameComparison(last).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("dob_std", [1, 2]),
            cl.EmailComparison("email_std"),
            cl.JaroWinklerAtThresholds("address_std", [0.9, 0.7]),
            cl.ExactMatch("city_std").configure(term_frequency_adjustments=True),
        ],
        # the config's rules on the plain columns (no whole-name key: no standardizer)
        blocking_rules_to_generate_predictions=[
            block_on(first, last), block_on(last, "dob_std"), block_on(first, "dob_std"),
            block_on("dob_std", "city_std"), block_on("email_std"), block_on("address_std"),
            block_on(last, "city_std"),
        ],
    )
    linker = Linker(DuckDBAPI(connection=con).register("records"), settings, log_level=None)
    logging.getLogger("splink").setLevel(logging.ERROR)
    t = config.model.training
    linker.training.estimate_probability_two_random_records_match(
        [block_on(first, last, "dob_std"), block_on("email_std", "dob_std")],
        recall=t.deterministic_recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=t.u_max_pairs, seed=t.seed)
    for rule in (block_on("dob_std"), block_on("email_std")):  # as the config's
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True)
    pred = linker.inference.predict(threshold_match_probability=config.thresholds.keep_pairs)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=config.thresholds.match)
    con.execute(f"CREATE TABLE plain_clusters AS SELECT record_id, "
                f"CAST(cluster_id AS VARCHAR) AS entity_id FROM {clusters.physical_name}")
    seconds = time.perf_counter() - t0
    try:
        return metrics_from_tables(con, "plain_clusters", "truth"), seconds
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="er-english-") as tmp:
        work = Path(tmp)
        persons, truth = write_english(work, args.records, args.seed)
        rows = [("engine (configs/english_persons.yaml)", *run_engine(persons, truth, work)),
                ("plain Splink", *run_plain_splink(persons, truth))]
    print(f"\n{'model':<40}{'pair P':>8}{'pair R':>8}{'pair F1':>9}{'B3 F1':>8}"
          f"{'FP pairs':>10}{'FN pairs':>10}{'clusters':>10}{'true':>7}{'secs':>7}")
    for system, m, s in rows:
        print(f"{system:<40}{m.pairwise_precision:>8.4f}{m.pairwise_recall:>8.4f}"
              f"{m.pairwise_f1:>9.4f}{m.bcubed_f1:>8.4f}{m.false_positive_pairs:>10,}"
              f"{m.false_negative_pairs:>10,}{m.predicted_clusters:>10,}{m.true_clusters:>7,}"
              f"{s:>7.1f}")


if __name__ == "__main__":
    main()
