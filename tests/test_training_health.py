"""Training health through `er train`: an EM round that does not converge, a comparison or
level EM never trains, an exact-agreement level with an implausible m each give a
`warning:` line, the MLflow tag `training_health` and an entry in the run's artifact
`diagnostics/training_health.json`; unsupervised training prints its key figures."""

from __future__ import annotations

import csv
import json
import random

import mlflow

from tests.conftest import run_cli
from tests.test_open_schema import people_config, write_config, write_people


def _train(tmp_path, config: dict, name: str, data=None):
    data = data or write_people(tmp_path / "people.csv")
    result = run_cli("train", "--config", write_config(tmp_path / "c.yaml", config),
                     "--input", data, "--name", name, "--no-charts")
    run_id = next(line.split()[-1] for line in result.output.splitlines()
                  if line.startswith("run:"))
    return result.output, run_id


def _health(mlflow_store, run_id, tmp_path) -> tuple[str, dict]:
    client = mlflow.MlflowClient(tracking_uri=mlflow_store)
    tag = client.get_run(run_id).data.tags["training_health"]
    path = client.download_artifacts(run_id, "diagnostics/training_health.json",
                                     str(tmp_path))
    return tag, json.loads(open(path, encoding="utf-8").read())


def test_untrained_comparison_and_unconverged_rounds_warn(mlflow_store, tmp_path):
    # every EM round blocks on last_name, so it is never trained; two iterations are too
    # few for either round to converge
    config = people_config(**{
        "model.training.em_blocking_rules": [["last_name_std"], ["last_name_std", "born"]],
        "model.training.em_max_iterations": 2,
    })
    out, run_id = _train(tmp_path, config, "health_untrained")
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert any(w.startswith("warning: last_name: never trained") for w in warnings), out
    assert sum("did not converge" in w for w in warnings) == 2, out
    assert "EM 1:     2 iterations, did NOT converge" in out

    tag, artifact = _health(mlflow_store, run_id, tmp_path)
    assert tag.startswith("3 warning(s): ") and "(and 2 more)" in tag
    assert artifact["ok"] is False
    kinds = sorted(w["kind"] for w in artifact["warnings"])
    assert kinds == ["em_not_converged", "em_not_converged", "untrained"]


def test_an_implausible_exact_agreement_m_warns(mlflow_store, tmp_path):
    # most last names carry a typo of their own: few duplicates agree on it exactly
    data = write_people(tmp_path / "people.csv")
    rows = list(csv.DictReader(data.open(encoding="utf-8")))
    rnd = random.Random(5)
    for r in rows:
        if rnd.random() < 0.8:
            s = r["last_name"]
            i = rnd.randrange(1, len(s))
            r["last_name"] = s[:i] + rnd.choice("aeiouxyz") + s[i + 1:]
    with data.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out, run_id = _train(tmp_path, people_config(), "health_implausible", data)
    assert "warning: last_name: level 'exact' (exact agreement) learned m 0." in out, out
    tag, artifact = _health(mlflow_store, run_id, tmp_path)
    assert any(w["kind"] == "implausible_m" and w["comparison"] == "last_name"
               and w["m"] < 0.5 for w in artifact["warnings"])
    assert "implausible" not in tag and "last_name" in tag


def test_a_healthy_unsupervised_run_prints_its_key_figures(mlflow_store, tmp_path):
    # with Splink's default 25 iterations the first round stops just short of converging
    # here; more, as the warning advises, and it converges. The ten last names are never
    # near one another: compared exactly, there is no level no pair reaches
    config = people_config(**{
        "model.training.em_max_iterations": 200,
        "model.comparisons.1": {"name": "last_name", "kind": "exact", "column": "last_name_std"},
    })
    out, run_id = _train(tmp_path, config, "health_ok")
    n = sum(1 for _ in (tmp_path / "people.csv").open(encoding="utf-8")) - 1
    assert f"trained:  {n:,} records; u from ~{n * (n - 1) // 2:,} random pairs; m from EM" in out
    assert "λ:        " in out and "random pairs matches; deterministic rules" in out
    assert "EM 1:" in out and "EM 2:" in out and "did NOT converge" not in out
    assert "never trained" not in out and "(exact agreement)" not in out
    tag, artifact = _health(mlflow_store, run_id, tmp_path)
    assert tag == "ok" and artifact == {"ok": True, "warnings": []}


def test_the_customer_preset_warns_of_a_comparison_em_never_trains(
        mlflow_store, demo_files, tmp_path):
    """With the shipped customer config (no open-schema keys), EM rounds that all block on
    the mobile leave the mobile comparison untrained: said on the CLI and in MLflow."""
    import yaml

    from tests.conftest import CONFIG

    customers, _ = demo_files
    lines = customers.read_text(encoding="utf-8").splitlines(keepends=True)
    data = tmp_path / "customers.csv"
    data.write_text("".join(lines[:801]), encoding="utf-8")  # the header and 800 records
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["model"]["training"]["em_blocking_rules"] = [
        ["mobile_key"], ["mobile_key", "name_core"]]
    out, run_id = _train(tmp_path, config, "health_customer", data)
    assert "warning: mobile: never trained (no level has an m)" in out, out
    tag, artifact = _health(mlflow_store, run_id, tmp_path)
    assert tag.startswith(f"{len(artifact['warnings'])} warning(s): ")
    assert {"kind": "untrained", "comparison": "mobile"}.items() <= next(
        w for w in artifact["warnings"] if w["comparison"] == "mobile").items()
