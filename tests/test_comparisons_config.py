"""Comparisons as data, through the CLI on small CSVs: a comparison of Splink's comparison
library by name with arguments, SQL levels, a list column (a field with standardizer
`list`) by Jaccard and shared items, and date distance each train and deduplicate end
to end, and reach the levels they should on crafted pairs (the job's `pairs` gammas);
each mistake in them is one `error:` line naming the config key, exit 2, before any
training."""

from __future__ import annotations

import copy
import csv
import json
import random
from pathlib import Path

import duckdb
import pytest

from tests.conftest import error_line, run_cli, trained_model_uri
from tests.test_open_schema import FIRST, LAST, people_config, write_config

TAGS = [f"t{i:02d}" for i in range(40)]


def write_data(path: Path, entities: int = 100, seed: int = 3) -> Path:
    """Persons with a date of birth (`dob`, text), a join date (`joined`) and a
    ';'-separated list (`tags`); duplicates keep 2 or 3 of their 3 tags and may have
    their join date a day off. Two crafted records, c1 and c2, are one person whose last
    name is misspelt (Schmidt / Schmitt), who shares 2 of 3 tags, and whose join dates
    are one day apart."""
    rnd = random.Random(seed)
    rows = []
    for _e in range(entities):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        dob = f"{rnd.randint(1940, 2000)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        joined = f"2020-{rnd.randint(1, 12):02d}-{rnd.randint(10, 20):02d}"
        tags = rnd.sample(TAGS, 3)
        for k in range(rnd.choice([1, 1, 2, 3])):
            mine = tags if k == 0 or rnd.random() < 0.5 else [*tags[:2], rnd.choice(TAGS)]
            day_off = k > 0 and rnd.random() < 0.3
            rows.append({"pid": f"p{len(rows)}", "first_name": first.title(), "last_name": last,
                         "born": dob[:4], "dob": dob,
                         "joined": joined[:-2] + f"{int(joined[-2:]) + day_off:02d}",
                         "tags": ";".join(mine)})
    rows += [
        {"pid": "c1", "first_name": "Quentin", "last_name": "Schmidt", "born": "1971",
         "dob": "1971-03-04", "joined": "2021-05-01", "tags": "alpha;beta;gamma"},
        {"pid": "c2", "first_name": "Quentin", "last_name": "Schmitt", "born": "1971",
         "dob": "1971-03-04", "joined": "2021-05-02", "tags": " Beta; gamma ;delta"},
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


# the comparisons under test, after people_config's four (first_name, last_name, born, town)
NEW = [
    # Splink's comparison library by name, with arguments; term frequencies on its exact level
    {"name": "first_jw", "splink": "JaroWinklerAtThresholds", "column": "first_name_std",
     "args": {"score_threshold_or_thresholds": [0.9, 0.8]}, "term_frequency": True},
    {"name": "dob", "splink": "DateOfBirthComparison", "column": "dob",
     "args": {"input_is_string": True}},
    # your own SQL levels, most similar first; term frequencies on the first
    {"name": "last_sql", "column": "last_name_std", "term_frequency": True, "levels": [
        {"sql": "last_name_std_l = last_name_std_r", "label": "same"},
        {"sql": "left(last_name_std_l, 4) = left(\"last_name_std_r\", 4)",
         "label": "same first four letters"}]},
    # a list: Jaccard, then shared items; term frequencies add a "same items" level first
    {"name": "tags", "kind": "list", "column": "tags_list", "jaccard": [0.6],
     "overlap": [2, 1], "term_frequency": True},
    # date distance on a `date` field
    {"name": "joined", "kind": "date_distance", "column": "joined_date",
     "within": ["1 day", "1 year"]},
]


def config_dict(**changes) -> dict:
    config = people_config(**{"fields.tags": {"standardizer": "list", "separator": ";"},
                              "fields.joined": "date"})
    del config["fields"]["town"]
    model = config["model"]
    model["comparisons"] = [c for c in model["comparisons"] if c["name"] != "town"] + [
        copy.deepcopy(c) for c in NEW]
    model["blocking_rules"] = [["last_name_std"], ["first_name_std"], ["dob"]]
    model["training"]["em_blocking_rules"] = [["last_name_std"], ["dob"]]
    model["training"]["deterministic_rules"] = [["first_name_std", "last_name_std", "dob"]]
    for path, value in changes.items():  # "model.comparisons.3.args": {...}
        *parents, last = path.split(".")
        node = config
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return config


def test_each_comparison_form_trains_and_dedups_to_the_levels_it_should(mlflow_store, tmp_path):
    data = write_data(tmp_path / "people.csv")
    config = write_config(tmp_path / "forms.yaml", config_dict())
    trained = run_cli("train", "--config", config, "--input", data, "--name", "forms",
                      "--no-charts")
    model = trained_model_uri(trained)
    run_cli("dedup", "--config", config, "--model", model, "--input", data,
            "--out", tmp_path / "out")

    con = duckdb.connect(str(tmp_path / "out" / "job.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT tags_list FROM records WHERE record_id = 'c2'"
                           ).fetchone()[0] == ["beta", "delta", "gamma"]
        gammas = con.execute(
            "SELECT gamma_first_jw, gamma_dob, gamma_last_sql, gamma_tags, gamma_joined, "
            "match_probability FROM pairs WHERE [record_id_l, record_id_r] "
            "IN (['c1', 'c2'], ['c2', 'c1'])").fetchone()
        assert gammas is not None, "the crafted pair was not kept"
        first_jw, dob, last_sql, tags, joined, probability = gammas
        assert first_jw == 3  # exact (null, exact, >= 0.9, >= 0.8, else)
        assert dob == 5  # exact date of birth, Splink's top level
        assert last_sql == 1  # Schmidt / Schmitt: the second SQL level
        assert tags == 2  # 2 of 3 shared: Jaccard 2/4 < 0.6, at least 2 shared (of 4)
        assert joined == 2  # one day apart (null, exact, <= 1 day, <= 1 year, else)
        same = con.execute("SELECT count(DISTINCT entity_id) FROM crosswalk "
                           "WHERE record_id IN ('c1', 'c2')").fetchone()[0]
        assert same == 1 and probability >= 0.9
        # the generated duplicates are found too: fewer entities than records
        n = con.execute("SELECT count(*), count(DISTINCT entity_id) FROM crosswalk").fetchone()
        assert n[1] < n[0]
    finally:
        con.close()
    # every comparison was trained (each level has an m), with its term frequencies
    store = duckdb.connect(str(tmp_path / "out" / "store.duckdb"), read_only=True)
    try:
        settings = json.loads(store.execute("SELECT settings FROM jobs").fetchone()[0])
    finally:
        store.close()
    by_name = {c["output_column_name"]: c for c in settings["comparisons"]}
    assert by_name["last_sql"]["comparison_levels"][1]["tf_adjustment_column"] == "last_name_std"
    assert by_name["first_jw"]["comparison_levels"][1]["tf_adjustment_column"] == "first_name_std"
    tags_levels = by_name["tags"]["comparison_levels"]
    assert [lv["label_for_charts"] for lv in tags_levels] == [
        "missing", "exact", "Jaccard >= 0.6", "at least 2 shared", "at least 1 shared",
        "nothing shared"]
    assert tags_levels[1]["tf_adjustment_column"] == "tags_list"
    for name in ("first_jw", "dob", "last_sql", "tags", "joined"):
        levels = by_name[name]["comparison_levels"]
        assert all(lv.get("m_probability") is not None
                   for lv in levels if not lv.get("is_null_level")), name


@pytest.mark.parametrize(
    ("changes", "key", "says"),
    [
        # a Splink name the library lacks
        ({"model.comparisons.3.splink": "JaroWinklr"}, "model.comparisons.3.splink",
         "no comparison 'JaroWinklr' in splink.comparison_library"),
        # an argument it does not take, and one it refuses
        ({"model.comparisons.3.args": {"score_threshold": 0.9}}, "model.comparisons.3.args",
         "score_threshold"),
        ({"model.comparisons.3.args": {"score_threshold_or_thresholds": "high"}},
         "model.comparisons.3.args", "must be numeric"),
        # a column the Splink comparison names that nobody has
        ({"model.comparisons.4.column": "birthday"}, "model.comparisons.4.column",
         "'birthday'"),
        # a SQL level that is not SQL, one on a column nobody has, one on the wrong type
        ({"model.comparisons.5.levels.1.sql": "left(last_name_std_l, 4) = = 1"},
         "model.comparisons.5.levels.1.sql", "not a SQL condition"),
        ({"model.comparisons.5.levels.1.sql": "surname_l = surname_r"},
         "model.comparisons.5.levels.1.sql", "'surname'"),
        ({"model.comparisons.5.levels.1.sql": "len(list_intersect(last_name_std_l, "
          "last_name_std_r)) > 0"}, "model.comparisons.5.levels.1.sql",
         "level 'same first four letters' of comparison 'last_sql' does not run"),
        ({"model.comparisons.5.levels.1.sql": "ELSE"}, "model.comparisons.5.levels.1.sql",
         "added for you"),
        ({"model.comparisons.5.levels.1.label": "same"}, "model.comparisons.5",
         "the label 'same' is used twice"),
        # term frequencies need a plain column
        ({"model.comparisons.5.column": None}, "model.comparisons.5", "term_frequency"),
        # two forms in one comparison; an option of another kind
        ({"model.comparisons.6.splink": "ArrayIntersectAtSizes"}, "model.comparisons.6",
         "exactly one of `kind`"),
        ({"model.comparisons.7.jaccard": [0.5]}, "model.comparisons.7", "`jaccard` belongs"),
        ({"model.comparisons.6.jaccard": [0.3, 0.6]}, "model.comparisons.6.jaccard",
         "descending"),
        ({"model.comparisons.7.within": ["1 fortnight"]}, "model.comparisons.7.within",
         "'1 fortnight'"),
        # a date distance of a list column
        ({"model.comparisons.7.column": "tags_list"}, "model.comparisons.7",
         "comparison 'joined' does not run"),
        # a separator for a standardizer that does not split
        ({"fields.first_name": {"standardizer": "text", "separator": ","}}, "fields.first_name",
         "separator belongs to the standardizer list"),
    ],
)
def test_each_comparison_mistake_is_one_error_line_naming_the_key(
        mlflow_store, tmp_path, changes, key, says):
    data = write_data(tmp_path / "people.csv", entities=20)
    config = write_config(tmp_path / "bad.yaml", config_dict(**changes))
    result = run_cli("train", "--config", config, "--input", data, "--name", "never",
                     "--no-charts", expect=2)
    line = error_line(result)
    assert str(config) in line and key in line and says in line, line
