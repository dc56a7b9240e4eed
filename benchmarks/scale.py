"""Scale benchmark (issue #7): generate N demo records, train once, run the dedup job and
compare it with plain Splink predict + connected components on the same standardized data.

    .venv/bin/python benchmarks/scale.py --records 100000 [--work /tmp/scale-100k]

Prints per stage of the job (`summary.seconds`): seconds, records per second and peak RSS
(this process plus its live child processes, sampled every 0.1 s; standardize forks
workers), then the training time and the plain-Splink baseline with the ratio
whole job / baseline, and the candidate pairs per record (blocking that scales keeps it
flat from 100k to 10M). MLflow runs go to a tracking store inside the work folder.

Blocking growth check: pairs per record, in all and of each blocking rule as the job blocks
(without the key groups `model.blocking_caps` skips), are compared with an earlier run at
another size (`--reference`, default the 100k run's scale_result.json); a figure that grew
more than `--growth-limit` times (1.5) is flagged and the benchmark exits 1:

    .venv/bin/python benchmarks/scale.py --records 100000
    .venv/bin/python benchmarks/scale.py --records 1000000   # checked against the 100k run

RSS sampling needs psutil (the `benchmarks` extra, see the README); without it the run
goes on and reports getrusage's maxrss only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "customer_zh.yaml"


MONITOR = """
import sys, time, psutil
pid, path = int(sys.argv[1]), sys.argv[2]
proc = psutil.Process(pid)
with open(path, "w") as f:
    while True:
        try:
            total = proc.memory_info().rss
            for c in proc.children(recursive=True):
                try:
                    total += c.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            break
        f.write(f"{time.time()} {total}\\n")
        f.flush()
        time.sleep(0.1)
"""


def _has_psutil() -> bool:
    try:
        import psutil  # noqa: F401
    except ImportError:
        return False
    return True


class RssSampler:
    """Peak RSS (MB) of this process and its children, overall and per named stage.

    Sampled every 0.1 s by a separate monitor process, not a thread: the job forks
    standardize workers, and forking a process with extra threads can crash the children.
    Without psutil nothing is sampled and every peak is None.
    """

    def __init__(self, path: Path):
        self.path = path
        self.sampling = _has_psutil()
        self.marks: list[tuple[float, str]] = []
        self.stage = "start"
        self.t_start = time.time()

    def set_stage(self, stage: str):
        self.stage = stage
        self.marks.append((time.time(), stage))

    def __enter__(self):
        import subprocess

        self.monitor = None
        if self.sampling:
            self.monitor = subprocess.Popen(
                [sys.executable, "-c", MONITOR, str(os.getpid()), str(self.path)]
            )
        else:
            print("psutil is not installed (pip install -e '.[benchmarks]'): peak RSS is not "
                  "sampled; only getrusage's maxrss is reported at the end", flush=True)
        return self

    def __exit__(self, *exc):
        if self.monitor is not None:
            self.monitor.terminate()
            self.monitor.wait()

    def _samples(self) -> list[tuple[float, float]]:
        out = []
        if not self.path.exists():  # the monitor has not written yet (or could not start)
            return out
        for line in self.path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                out.append((float(parts[0]), int(parts[1]) / 2**20))
        return out

    def peak_between(self, t0: float, t1: float | None = None) -> float | None:
        if not self.sampling:
            return None
        vals = [mb for t, mb in self._samples() if t >= t0 and (t1 is None or t <= t1)]
        return max(vals) if vals else 0.0

    def stage_peaks(self, since: float) -> dict[str, float]:
        if not self.sampling:
            return {}
        marks = [m for m in self.marks if m[0] >= since] + [(time.time() + 1, "")]
        peaks: dict[str, float] = {}
        for (t0, stage), (t1, _) in itertools.pairwise(marks):
            peaks[stage] = max(peaks.get(stage, 0.0), self.peak_between(t0, t1) or 0.0)
        return peaks


def _mb(peak: float | None) -> str:
    return f"{peak:,.0f} MB" if peak is not None else "-"


def _fmt_row(stage: str, secs: float, n: int, peak: float | None) -> str:
    rps = f"{n / secs:>12,.0f}" if secs > 0 else f"{'-':>12}"
    pk = f"{peak:>9,.0f}" if peak is not None else f"{'-':>9}"
    return f"{stage:<22}{secs:>9.1f}{rps}{pk}"


def pairs_per_rule(
    job_db: Path, rules: list[list[str]], caps: list[int | None]
) -> list[tuple[str, float, float, int]]:
    """Each blocking rule alone (before the rules' overlap is removed): candidate pairs per
    record of its key groups, all of them and as the job blocks (without the groups over
    the rule's `model.blocking_caps` size), and its largest key group, from the job's
    standardized `records`. A rule whose figure grows with the input is a key that grows
    with the data."""
    import duckdb

    con = duckdb.connect(str(job_db), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM records").fetchall()[0][0] or 1
        out = []
        for rule, cap in zip(rules, caps, strict=True):
            keys = ", ".join(f"{expr} AS k{i}" for i, expr in enumerate(rule))
            present = " AND ".join(f"nullif(k{i}::VARCHAR, '') IS NOT NULL"
                                   for i in range(len(rule)))
            group = ", ".join(f"k{i}" for i in range(len(rule)))
            pairs, blocked, largest = con.execute(
                f"SELECT coalesce(sum(c * (c - 1) // 2), 0), "
                f"coalesce(sum(c * (c - 1) // 2) FILTER (WHERE c <= ?), 0), "
                f"coalesce(max(c), 0) FROM ("
                f"SELECT count(*) AS c FROM (SELECT {keys} FROM records) WHERE {present} "
                f"GROUP BY {group})", [cap if cap is not None else 2**62]
            ).fetchall()[0]
            out.append((" & ".join(rule), pairs / n, blocked / n, largest))
        return out
    finally:
        con.close()


def growth_check(
    n: int, total: float, by_rule: list[tuple[str, float, float, int]], reference: Path,
    limit: float,
) -> list[str]:
    """Blocking that scales: candidate pairs per record (in all, and of each rule as the job
    blocks) against an earlier run of this benchmark at another size (its
    scale_result.json, e.g. the 100k run). Returns the figures that grew more than `limit`
    times, and prints the comparison."""
    if not reference.exists():
        print(f"blocking growth check: no reference run at {reference} (run scale.py at "
              "100,000 records first, or pass --reference)")
        return []
    ref = json.loads(reference.read_text())
    if ref.get("records") == n:
        print(f"blocking growth check: the reference {reference} is this size; nothing to compare")
        return []
    # runs before blocking caps recorded only the uncapped figures, which were what they blocked
    ref_rules = ref.get("pairs_per_record_by_rule_blocked") or ref["pairs_per_record_by_rule"]
    print(f"blocking growth check, pairs per record at {ref['records']:,} -> {n:,} records "
          f"(flagged: grew more than {limit:g}x):")
    grown = []
    rows = [("all rules (candidate pairs)", ref["candidate_pairs_per_record"], total)]
    rows += [(rule, ref_rules.get(rule), blocked) for rule, _, blocked, _ in by_rule]
    for rule, before, now in rows:
        if before is None:
            print(f"  {rule:<52}{'-':>8} -> {now:7.3f}  (not in the reference run)")
            continue
        ratio = now / before if before > 0 else (float("inf") if now > 0 else 1.0)
        flag = ratio > limit
        if flag:
            grown.append(rule)
        print(f"  {rule:<52}{before:>8.3f} -> {now:7.3f}  {ratio:5.2f}x"
              + ("  GROWS" if flag else ""))
    return grown


def plain_splink(job_db: Path, settings: dict, config, sampler: RssSampler) -> dict:
    """Splink predict + connected components on the job's standardized `records`, blocked
    as the job blocks (the same rules and blocking caps)."""
    import duckdb

    from resolution.model.settings import blocking_rule_sql
    from resolution.predict import cap_blocking, make_linker

    con = duckdb.connect()
    r = config.resources
    con.execute(f"SET threads = {int(r.threads)}") if r.threads else None
    con.execute(f"SET memory_limit = '{r.memory_limit}'") if r.memory_limit else None
    con.execute(f"ATTACH '{job_db}' AS job (READ_ONLY)")
    con.execute("CREATE TABLE records AS SELECT * FROM job.records")
    con.execute("DETACH job")
    blocking = cap_blocking(con, "records", config.model.blocking_rules,
                            config.model.block_size_caps())
    s = {
        **settings,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": blocking_rule_sql(rule)} for rule in blocking.rules
        ],
    }
    sampler.set_stage("splink predict")
    t0 = time.perf_counter()
    linker = make_linker(con, blocking.table, s)
    pred = linker.inference.predict(threshold_match_probability=config.thresholds.keep_pairs or None)
    t1 = time.perf_counter()
    sampler.set_stage("splink cluster")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=config.thresholds.match
    )
    n_clusters = con.execute(
        f"SELECT count(DISTINCT cluster_id) FROM {clusters.physical_name}"
    ).fetchall()[0][0]
    t2 = time.perf_counter()
    n_pairs = con.execute(f"SELECT count(*) FROM {pred.physical_name}").fetchall()[0][0]
    con.close()
    return {"predict": t1 - t0, "cluster": t2 - t1, "pairs": n_pairs, "clusters": n_clusters}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=None, help="default /tmp/er-scale-N")
    ap.add_argument("--config", type=Path, default=CONFIG)
    ap.add_argument("--max-comparisons", type=float, default=None,
                    help="override model.max_comparisons (the default 5e7 admits 1M demo "
                    "records, 7.1M candidate pairs; 10M needs more)")
    ap.add_argument("--no-baseline", action="store_true", help="skip plain Splink")
    ap.add_argument("--settings", type=Path, default=None, help="reuse trained settings json")
    ap.add_argument("--trained-on", type=int, default=None,
                    help="with --settings: the record count the model was trained on, so its "
                    "prior λ is rescaled to this input (default: read from the trained_on.txt "
                    "the training run wrote beside the settings)")
    ap.add_argument("--rerun", action="store_true",
                    help="run the job a second time on the same input and store (the nightly "
                    "re-run: the store diffs every table) and check the entity IDs are unchanged")
    ap.add_argument("--std-cache", action="store_true",
                    help="set resources.standardize_cache to WORK/std_cache.duckdb: training "
                    "fills it, the job then reads the values it standardized (warm cache); "
                    "the file is emptied first, so the training run is a cold one")
    ap.add_argument("--reference", type=Path, default=Path("/tmp/er-scale-100000/scale_result.json"),
                    help="scale_result.json of an earlier run (default: the 100k run's) to check "
                    "that candidate pairs per record, in all and per blocking rule, stay flat")
    ap.add_argument("--growth-limit", type=float, default=1.5,
                    help="flag (and exit 1) when pairs per record grew more than this many times "
                    "over the reference run")
    ap.add_argument("--memory-limit", default=None,
                    help="override resources.memory_limit (DuckDB spills beyond it), e.g. 12GB")
    args = ap.parse_args()
    n = args.records
    work = args.work or Path(f"/tmp/er-scale-{n}")
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{work / 'mlflow.db'}")

    from resolution.config import load_config
    from training.demo_data import write_demo

    config = load_config(args.config)
    config = config.model_copy(
        update={"quality": config.quality.model_copy(update={"track_in_mlflow": False})}
    )
    if args.max_comparisons:
        config = config.model_copy(update={"model": config.model.model_copy(
            update={"max_comparisons": args.max_comparisons})})
    if args.memory_limit:
        config = config.model_copy(update={"resources": config.resources.model_copy(
            update={"memory_limit": args.memory_limit})})
    if args.std_cache:
        cache = work / "std_cache.duckdb"
        cache.unlink(missing_ok=True)
        config = config.model_copy(update={"resources": config.resources.model_copy(
            update={"standardize_cache": str(cache)})})

    with RssSampler(work / "rss.log") as sampler:
        data = work / "customers.csv"
        t0 = time.perf_counter()
        if not data.exists() or not (work / f".n{n}").exists():
            sampler.set_stage("generate")
            write_demo(work, n)
            (work / f".n{n}").touch()
        gen = time.perf_counter() - t0
        print("load average at the start: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
        print(f"records: {n:,}  data: {data} ({data.stat().st_size / 2**20:,.0f} MB, "
              f"generated in {gen:.1f} s)", flush=True)

        # --- train (the `er train` path, without labels and charts) ---
        if args.settings:
            settings = json.loads(args.settings.read_text())
            train_secs, train_total, train_peak = {}, 0.0, None
            meta = args.settings.parent / "trained_on.txt"
            trained_on = args.trained_on or (int(meta.read_text()) if meta.exists() else None)
            from resolution.model.loading import LoadedModel

            model = LoadedModel(settings=settings, config_yaml=None, reference=str(args.settings),
                                meta={"trained_on_records": trained_on})
        else:
            sampler.set_stage("train")
            t_train = time.time()
            t0 = time.perf_counter()
            import training

            res = training.train(
                data, config, name="scale_bench", register=True, charts=False,
                on_stage=lambda s: sampler.set_stage("train:" + s),
            )
            res.close()
            train_total = time.perf_counter() - t0
            settings = res.settings
            model = res.as_loaded()
            train_secs = res.seconds
            train_peak = sampler.peak_between(t_train)
            (work / "settings.json").write_text(json.dumps(settings))
            (work / "trained_on.txt").write_text(str(n))
        print(f"\ntrain: {train_total:.1f} s total, peak RSS {_mb(train_peak)}; stages "
              + ", ".join(f"{k} {v:.1f} s" for k, v in train_secs.items()), flush=True)

        # --- the dedup job ---
        from resolution.pipeline import dedup

        out = work / "out"
        if out.exists():
            import shutil

            shutil.rmtree(out)
        t_job = time.time()
        sampler.set_stage("ingest")
        t0 = time.perf_counter()
        summary = dedup(
            config, model, [data], out, "bench", on_stage=sampler.set_stage,
            store_path=work / "store.duckdb" if False else out / "store.duckdb",
        )
        wall = time.perf_counter() - t0
        t_job_end = time.time()
        time.sleep(0.3)
        job_peak = sampler.peak_between(t_job, t_job_end)
        peaks = sampler.stage_peaks(t_job)
        print(f"\ndedup: {wall:.1f} s wall, {n / wall:,.0f} records/s, peak RSS {_mb(job_peak)}"
              f"; entities {summary.entities:,}, pairs kept {summary.pairs_scored:,} of "
              f"{summary.candidate_pairs:,} candidates", flush=True)
        # blocking that scales keeps this flat from 100k to 10M: keys that grow with the
        # data make pairs grow faster than records
        pairs_per_record = summary.candidate_pairs / n
        print(f"candidate pairs per record: {pairs_per_record:.2f} "
              f"({summary.candidate_pairs:,} / {n:,} records); each rule alone, pairs per "
              "record of all its key groups / as blocked (capped: model.blocking_caps):",
              flush=True)
        caps = config.model.block_size_caps()
        by_rule = pairs_per_rule(out / "job.duckdb", config.model.blocking_rules, caps)
        for (rule, per_record, blocked, largest), cap in zip(by_rule, caps, strict=True):
            print(f"  {rule:<52}{per_record:>7.3f} / {blocked:7.3f} per record, largest key "
                  f"group {largest:,}" + (f", cap {cap:,}" if cap is not None else ""))
        for sk in summary.blocking_skipped:
            print(f"  skipped by the cap on {sk['rule']}: {sk['keys']:,} keys over "
                  f"{sk['max_block_size']:,} records ({sk['records']:,} records, "
                  f"{sk['pairs']:,} pairs)")
        grown = growth_check(n, pairs_per_record, by_rule, args.reference, args.growth_limit)
        if summary.prior:
            print(f"prior λ: trained {summary.prior['lambda_trained']:.3g} on "
                  f"{summary.prior['trained_on_records'] or 0:,} records, used "
                  f"{summary.prior['lambda_used']:.3g} for {n:,}")
        print(f"standardize: {summary.standardized_values:,} distinct values, "
              f"{summary.standardize_cache_hits:,} of them from the standardize cache")
        print(f"{'stage':<22}{'seconds':>9}{'records/s':>12}{'peak MB':>9}")
        for stage, secs in summary.seconds.items():
            print(_fmt_row(stage, secs, n, peaks.get(stage)))
        other = wall - sum(summary.seconds.values())
        print(_fmt_row("(outside stages)", other, n, None), flush=True)

        truth = work / "truth.csv"
        if truth.exists():
            from training.evaluation import evaluate_job

            m = evaluate_job(out, truth)
            print(f"accuracy vs the generator's truth: pairwise P/R/F1 {m.pairwise_precision:.4f}"
                  f" / {m.pairwise_recall:.4f} / {m.pairwise_f1:.4f}; B-cubed F1 "
                  f"{m.bcubed_f1:.4f}; {m.predicted_clusters:,} entities vs "
                  f"{m.true_clusters:,} true", flush=True)

        if args.rerun:
            import duckdb

            def ids() -> dict:
                c = duckdb.connect(str(out / "job.duckdb"), read_only=True)
                try:
                    return dict(c.execute("SELECT record_id, entity_id FROM crosswalk").fetchall())
                finally:
                    c.close()

            before = ids()
            t_re = time.time()
            sampler.set_stage("ingest")
            t0 = time.perf_counter()
            again = dedup(config, settings, [data], out, "bench", on_stage=sampler.set_stage,
                          store_path=out / "store.duckdb")
            re_wall = time.perf_counter() - t0
            peaks = sampler.stage_peaks(t_re)
            after = ids()
            moved = sum(1 for k, v in after.items() if before.get(k) != v)
            print(f"\nre-run, same input and store: {re_wall:.1f} s wall, "
                  f"{n / re_wall:,.0f} records/s, peak RSS {_mb(sampler.peak_between(t_re))}; "
                  f"records whose entity ID changed: {moved:,} of {len(after):,}")
            print(f"standardize: {again.standardized_values:,} distinct values, "
                  f"{again.standardize_cache_hits:,} of them from the standardize cache")
            print(f"{'stage':<22}{'seconds':>9}{'records/s':>12}{'peak MB':>9}")
            for stage, secs in again.seconds.items():
                print(_fmt_row(stage, secs, n, peaks.get(stage)))
            print(_fmt_row("(outside stages)", re_wall - sum(again.seconds.values()), n, None),
                  flush=True)

        # --- plain Splink on the same standardized records ---
        base_total = None
        if not args.no_baseline:
            t_base = time.time()
            b = plain_splink(out / "job.duckdb", settings, config, sampler)
            base_total = b["predict"] + b["cluster"]
            print(f"\nplain Splink on standardized records: predict {b['predict']:.1f} s "
                  f"({b['pairs']:,} pairs >= keep), cluster {b['cluster']:.1f} s "
                  f"({b['clusters']:,} clusters), total {base_total:.1f} s, peak RSS "
                  f"{_mb(sampler.peak_between(t_base))} (incl. loading records)")
            ours = summary.seconds.get("predict", 0) + summary.seconds.get("cluster", 0)
            print(f"ratio whole job / plain Splink: {wall / base_total:.2f}x; "
                  f"our predict+cluster / plain Splink: {ours / base_total:.2f}x; "
                  f"job without standardize+ingest / plain: "
                  f"{(wall - summary.seconds.get('standardize', 0) - summary.seconds.get('ingest', 0)) / base_total:.2f}x")
        time.sleep(0.3)
        whole = sampler.peak_between(0)
    print(f"load average at the end (1/5/15 min, {os.cpu_count()} cores): "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    self_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\nmaxrss (getrusage): self {self_max:,.0f} MB, largest child {child_max:,.0f} MB; "
          f"sampled peak (self + children) over the whole run {_mb(whole)}")
    result = {
        "records": n, "train_seconds": train_total, "train_stages": train_secs,
        "dedup_wall": wall, "dedup_seconds": summary.seconds, "dedup_peak_mb": job_peak,
        "baseline_seconds": base_total, "candidate_pairs": summary.candidate_pairs,
        "candidate_pairs_per_record": pairs_per_record,
        "pairs_per_record_by_rule": {rule: per for rule, per, _, _ in by_rule},
        "pairs_per_record_by_rule_blocked": {rule: b for rule, _, b, _ in by_rule},
        "blocking_skipped": summary.blocking_skipped,
        "blocking_grows": grown,
    }
    (work / "scale_result.json").write_text(json.dumps(result, indent=2))
    if grown:
        print(f"\nblocking does not scale: pairs per record grew more than {args.growth_limit:g}x "
              f"for {', '.join(grown)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
