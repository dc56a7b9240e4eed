"""Open schema through the CLI: a data set with its own columns (not the customer fields),
declared in the config's `fields`, trains and deduplicates; every input column reaches
`records`; and each config naming something the data or the engine lacks is one `error:`
line naming the config file and the key, exit 2, before any training or scoring."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import error_line, run_cli, trained_model_uri

FIRST = ["anna", "ben", "carl", "dora", "emil", "fritz", "greta", "hans", "ida", "jan",
         "karl", "lena", "max", "nora", "otto", "paul", "rita", "sven", "tina", "uwe"]
LAST = ["Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann"]


def write_people(path: Path, entities: int = 120, seed: int = 1) -> Path:
    """Persons with their own columns: pid, first_name, last_name, born, town, member_no,
    note; duplicates carry a typo in the first name now and then."""
    rnd = random.Random(seed)
    rows = []
    for e in range(entities):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        born, town = str(rnd.randint(1940, 2000)), rnd.choice(["Berlin", "Bonn", "Essen"])
        for k in range(rnd.choice([1, 1, 2, 3])):
            typo = first if rnd.random() > 0.2 else first[:-1] + "x"
            rows.append({"pid": f"p{len(rows)}", "first_name": f" {typo.title()} ",
                         "last_name": last, "born": born, "town": town,
                         "member_no": f"M-{e:04d}", "note": f"  kept as given {e}/{k} "})
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def people_config(**changes) -> dict:
    config = {
        "source": {"columns": {"record_id": "pid"}, "default_source_system": "people"},
        "fields": {"first_name": "text", "last_name": "text", "born": "none",
                   "town": {"column": "town", "standardizer": "text"}},
        "model": {
            "comparisons": [
                {"name": "first_name", "kind": "text", "column": "first_name_std"},
                {"name": "last_name", "kind": "text", "column": "last_name_std"},
                {"name": "born", "kind": "code", "column": "born"},
                {"name": "town", "kind": "exact", "column": "town_std"},
            ],
            "blocking_rules": [["last_name_std"], ["born"]],
            "training": {
                "deterministic_rules": [["first_name_std", "last_name_std", "born"]],
                "deterministic_recall": 0.8,
                "em_blocking_rules": [["last_name_std"], ["born"]],
            },
        },
        "survivorship": {"source_priority": [], "fields": {}},
        "clustering": {"conflict_columns": []},
        "quality": {"required": [], "scored_fields": [], "track_in_mlflow": False},
    }
    for path, value in changes.items():  # "model.comparisons.0.column": "name_first"
        *parents, last = path.split(".")
        node = config
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return config


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_own_columns_train_and_dedup_and_every_input_column_reaches_records(
        mlflow_store, tmp_path):
    data = write_people(tmp_path / "people.csv")
    config = write_config(tmp_path / "people.yaml", people_config())
    trained = run_cli("train", "--config", config, "--input", data, "--name", "people_os",
                      "--no-charts")
    model = trained_model_uri(trained)
    run_cli("dedup", "--config", config, "--model", model, "--input", data,
            "--out", tmp_path / "out")

    con = duckdb.connect(str(tmp_path / "out" / "job.duckdb"), read_only=True)
    try:
        cols = {r[0] for r in con.execute("DESCRIBE records").fetchall()}
        # every input column, the ID column included, beside the standardized ones
        assert {"pid", "first_name", "last_name", "born", "town", "member_no", "note",
                "first_name_std", "last_name_std", "town_std"} <= cols
        assert "born_std" not in cols  # standardizer none: compared as given
        row = con.execute(
            "SELECT record_id, pid, first_name, first_name_std, town_std, member_no, note "
            "FROM records WHERE record_id = 'p0'").fetchone()
        with data.open(encoding="utf-8") as fh:
            first = next(csv.DictReader(fh))
        # kept exactly as given (spaces too); the standardized column trimmed, lower-case
        assert row[1:3] == ("p0", first["first_name"])
        assert row[3] == first["first_name"].strip().lower()
        assert row[4] == first["town"].lower()
        assert row[5:] == (first["member_no"], first["note"])
        n_in = sum(1 for _ in data.open(encoding="utf-8")) - 1
        assert con.execute("SELECT count(*) FROM crosswalk").fetchone()[0] == n_in
        # duplicates were found on the own columns: fewer entities than records
        assert con.execute("SELECT count(DISTINCT entity_id) FROM crosswalk").fetchone()[0] < n_in
    finally:
        con.close()

    # new records with a column the stored ones lack: matched, and the column kept
    new = tmp_path / "new.csv"
    new.write_text("pid,first_name,last_name,born,town,member_no,note,channel\n"
                   f"x1,{first['first_name']},{first['last_name']},{first['born']},"
                   f"{first['town']},{first['member_no']},late,web\n", encoding="utf-8")
    run_cli("match", "--config", config, "--model", model, "--input", new,
            "--store", tmp_path / "out" / "store.duckdb")
    con = duckdb.connect(str(tmp_path / "out" / "store.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT channel, note FROM records WHERE record_id = 'x1'"
                           ).fetchone() == ("web", "late")
        same = con.execute("SELECT count(DISTINCT entity_id) FROM crosswalk "
                           "WHERE record_id IN ('x1', 'p0')").fetchone()[0]
        assert same == 1  # the same person as p0
    finally:
        con.close()


@pytest.mark.parametrize(
    ("changes", "key", "names"),
    [
        # a comparison of a column that is neither in the input nor standardized
        ({"model.comparisons.0.column": "name_first"}, "model.comparisons.0.column",
         "'name_first'"),
        # conflict_columns naming a column nobody has (crashed after scoring before)
        ({"clustering.conflict_columns": ["member"]}, "clustering.conflict_columns.0",
         "'member'"),
        # a declared field whose column the input lacks
        ({"fields.town": {"column": "stadt", "standardizer": "text"}}, "fields.town.column",
         "'stadt'"),
        ({"fields.first_name": "latin_name"}, "fields.first_name.standardizer", "text"),
        ({"model.comparisons.1.kind": "fuzzy"}, "model.comparisons.1.kind", "code"),
        # a blocking rule's SQL expression that does not run on the records
        ({"model.blocking_rules.0.0": "substr(surname_std, 1, 2)"},
         "model.blocking_rules.0.0", "surname_std"),
        # an EM rule on a column of the input that no field standardizes into _std
        ({"model.training.em_blocking_rules.1.0": "born_std"},
         "model.training.em_blocking_rules.1.0", "'born_std'"),
        ({"survivorship.fields": {"member": {"rule": "most_recent", "column": "member"}}},
         "survivorship.fields.member.column", "'member'"),
        # the ID column mapped in source.columns is not in the file
        ({"source.columns": {"record_id": "person_id"}}, "source.columns.record_id",
         "'person_id'"),
    ],
)
def test_each_config_error_is_one_line_naming_the_file_and_key(
        mlflow_store, tmp_path, changes, key, names):
    data = write_people(tmp_path / "people.csv", entities=30)
    config = write_config(tmp_path / "bad.yaml", people_config(**changes))
    result = run_cli("train", "--config", config, "--input", data, "--name", "never",
                     "--no-charts", expect=2)
    line = error_line(result)
    assert str(config) in line and key in line and names in line, line


def test_dedup_refuses_a_config_column_the_input_lacks_before_scoring(tmp_path):
    """The same check guards `er dedup`: a conflict column the data lacks is refused
    before the model is applied (a settings file that would score is not even needed)."""
    data = write_people(tmp_path / "people.csv", entities=30)
    config = write_config(tmp_path / "bad.yaml",
                          people_config(**{"clustering.conflict_columns": ["member"]}))
    settings = tmp_path / "settings.json"
    settings.write_text('{"link_type": "dedupe_only", "comparisons": []}', "utf-8")
    result = run_cli("dedup", "--config", config, "--model", settings, "--input", data,
                     "--out", tmp_path / "out", expect=2)
    line = error_line(result)
    assert "clustering.conflict_columns.0" in line and str(config) in line
    assert not (tmp_path / "out" / "job.duckdb").exists()


def test_input_columns_with_names_the_engine_uses_are_kept_renamed(tmp_path):
    """An `entity_id` in the input (a truth column) cannot shadow the engine's own: it is
    kept as input_entity_id, with a warning, and the job still runs."""
    from resolution.config import config_from_dict
    from resolution.ingest import ingest

    path = tmp_path / "in.csv"
    path.write_text("pid,entity_id,_row,phone,tel\np1,e1,x,123,456\n", "utf-8")
    cfg = config_from_dict(people_config(**{"source.columns": {"record_id": "pid",
                                                               "phone": "tel"},
                                            "fields": {}}))
    con = duckdb.connect()
    result = ingest(con, [path], cfg.source, fields=cfg.fields)
    row = con.execute("SELECT * FROM raw_records").df().iloc[0].to_dict()
    assert row["input_entity_id"] == "e1" and row["input__row"] == "x"
    assert row["phone"] == "456" and row["input_phone"] == "123" and row["tel"] == "456"
    assert any("'entity_id' as 'input_entity_id'" in w for w in result.warnings)


def test_every_declared_standardizer_adds_its_columns_in_and_out_of_process(monkeypatch):
    """`fields` with each standardizer: the columns columns.field_columns names, the same
    values whether standardized in DuckDB or in worker processes."""
    from resolution.config import STANDARDIZERS, config_from_dict
    from resolution.standardize import engine, standardize_table
    from resolution.standardize.columns import field_columns

    declared = {"co": ("company", "company_name"), "pn": ("person", "person_name"),
                "pl": ("person", "person_name_latin"),
                "tel": ("tel", "phone"), "mail": ("mail", "email"), "adr": ("addr", "address"),
                "credit": ("credit", "uscc"), "idno": ("idno", "id_card"),
                "dob": ("dob", "date"), "txt": ("txt", "text"), "raw": ("txt", "none"),
                "items": ("items", "list")}
    assert sorted(s for _c, s in declared.values()) == sorted(STANDARDIZERS)
    cfg = config_from_dict(people_config(**{"fields": {
        name: {"column": col, "standardizer": s} for name, (col, s) in declared.items()}}))
    con = duckdb.connect()
    con.execute("""CREATE TABLE raw_records AS SELECT * FROM (VALUES
        ('1', '華聯超市（上海）有限公司', '張偉', '138 1234 5678', 'A@B.CN',
         '上海市浦东新区科苑路88号', '91350100M000100Y43', '11010519491231002X', '2001-02-03',
         ' Hello  World ', 'b; A;;a'),
        ('2', NULL, NULL, 'x', 'bad', NULL, NULL, NULL, 'junk', NULL, ' ; '))
        t(record_id, company, person, tel, mail, addr, credit, idno, dob, txt, items)""")
    want = [c for name, (_col, s) in declared.items() for c in field_columns(name, s)]
    results = []
    for minimum in (10**9, 0):  # in DuckDB, then in worker processes
        monkeypatch.setattr(engine, "PARALLEL_MIN_VALUES", minimum)
        standardize_table(con, "raw_records", "records", fields=cfg.fields, workers=2)
        results.append(con.execute(
            f"SELECT {', '.join(want)} FROM records ORDER BY record_id").fetchall())
    assert results[0] == results[1]
    row = dict(zip(want, results[0][0]))
    assert (row["co_core"], row["pn_std"], row["tel_key"], row["mail_key"]) == (
        "华联超市", "张伟", "+8613812345678", "a@b.cn")
    assert (row["pl_surname"], row["pl_given"], row["pl_key"]) == ("zhang", "wei", "weizhang")
    assert (row["adr_district"], row["credit_valid"], row["idno_gender"]) == ("浦东新区", True, "F")
    assert (str(row["dob_date"]), row["txt_std"]) == ("2001-02-03", "hello world")
    assert row["items_list"] == ["a", "b"]  # distinct items, trimmed, lower-case, sorted
    assert not any(c.startswith("raw_") for c in want)  # none: compare the column itself
    other = dict(zip(want, results[0][1]))
    assert other["tel_key"] is None and other["mail_valid"] is False and other["dob_ts"] is None
    assert other["items_list"] is None  # no item: NULL


def test_a_conflict_column_of_the_users_own_splits_and_names_itself(mlflow_store, tmp_path):
    """`clustering.conflict_columns` on an input column of the user's own (member_no): two
    people alike in every compared field but with different member numbers are kept
    apart, and the split's reason names the column (it crashed with a KeyError before)."""
    data = write_people(tmp_path / "people.csv")
    with data.open("a", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        for pid, member in (("twin-a", "M-9001"), ("twin-b", "M-9002"), ("twin-c", "")):
            w.writerow([pid, "Annegret", "Zimmermann", "1961", "Essen", member, ""])
    config = write_config(tmp_path / "people.yaml", people_config(
        **{"clustering.conflict_columns": ["member_no"]}))
    trained = run_cli("train", "--config", config, "--input", data, "--name", "people_cc",
                      "--no-charts")
    model = trained_model_uri(trained)
    run_cli("dedup", "--config", config, "--model", model, "--input", data,
            "--out", tmp_path / "out")
    con = duckdb.connect(str(tmp_path / "out" / "job.duckdb"), read_only=True)
    try:
        entity = dict(con.execute("SELECT record_id, entity_id FROM crosswalk WHERE "
                                  "record_id LIKE 'twin-%'").fetchall())
        reasons = [r[0] for r in con.execute("SELECT reason FROM cluster_splits").fetchall()]
    finally:
        con.close()
    assert entity["twin-a"] != entity["twin-b"]
    assert any("member_no" in r for r in reasons), reasons
