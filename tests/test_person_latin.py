"""Latin-script person names (issue 18): the `person_name_latin` standardizer through the
public API and a declared field, config errors through the CLI, and an English person data
set (benchmarks/english_data.py) deduplicated through `er train` / `er dedup` /
`er evaluate` with configs/english_persons.yaml."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from resolution.config import config_from_dict
from resolution.standardize import person_name, person_name_latin, standardize_table
from tests.conftest import error_line, run_cli, trained_model_uri

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "english_persons.yaml"


def _key(name: str, surname: str | None = None) -> str | None:
    return person_name_latin(name, surname).key


@pytest.mark.parametrize("raw, surname, given", [
    ("Takahashi", "takahashi", None),  # the Chinese key gives 'hakashita'
    ("Lee", "lee", None),  # ... 'ele'
    ("Jean-Pierre Dupont", "dupont", "jeanpierre"),
    ("Hiroshi Takahashi", "takahashi", "hiroshi"),
    ("Patrick O'Brien", "obrien", "patrick"),
    ("Seán O’Connor", "oconnor", "sean"),
    ("José García", "garcia", "jose"),
    ("MÜLLER, Jürgen", "muller", "jurgen"),
    ("Ludwig van Beethoven", "vanbeethoven", "ludwig"),
    ("Dr. Mary-Ann Smith-Jones", "smithjones", "maryann"),
    ("John F. Kennedy", "kennedy", "john"),  # a middle initial dropped
    ("J. Smith", "smith", "j"),
])
def test_surname_and_given_name_are_kept_apart_and_not_scrambled(raw, surname, given):
    p = person_name_latin(raw)
    assert (p.surname, p.given) == (surname, given)
    assert p.key == "".join(sorted(x for x in (surname, given) if x))


def test_one_person_written_several_ways_gets_one_key():
    assert _key("Jun Ho Lee") == _key("Junho Lee") == _key("Jun-Ho Lee") == "junholee"
    assert person_name_latin("Jun Ho Lee").given == person_name_latin("Jun-Ho Lee").given == "junho"
    assert _key("Smith, John") == _key("John Smith") == _key("john  SMITH") == "johnsmith"
    assert person_name_latin("Smith, John").surname == "smith"
    assert _key("José García") == _key("Jose Garcia")
    # pinyin either way round, and in Chinese characters: the Chinese family's key
    assert _key("Wang Wei") == _key("Wei Wang") == _key("王伟") == person_name("王伟").pinyin
    assert _key("Xiaoming Wang") == _key("WANG Xiao-Ming") == _key("王小明")
    assert person_name_latin("Wang Xiaoming").surname == "wang"
    assert person_name_latin("王小明")[1:3] == ("wang", "xiaoming")
    # the Chinese path itself is unchanged
    assert person_name("Takahashi").pinyin == "hakashita"


def test_titles_suffixes_initials_and_nicknames():
    p = person_name_latin("Mr. Robert Smith Jr.")
    assert (p.std, p.given, p.surname, p.suffix) == ("robert smith", "robert", "smith", "jr")
    assert person_name_latin("Smith, John, III").suffix == "iii"
    assert person_name_latin("John Smith, Sr.")[1:3] == ("smith", "john")
    assert person_name_latin("John Smith, Sr.").suffix == "sr"
    assert person_name_latin("Bob Smith").given_root == person_name_latin("Robert Smith").given
    assert person_name_latin("Peggy Lee").given_root == "margaret"
    assert person_name_latin("J. Smith").initial == person_name_latin("John Smith").initial
    assert person_name_latin("n/a") == person_name_latin(None) == person_name_latin("12345")
    assert person_name_latin(None).key is None


def test_names_in_two_columns():
    john = person_name_latin("John", "Smith")
    assert (john.given, john.surname, john.key) == ("john", "smith", "johnsmith")
    assert _key("Smith", "John") == john.key  # swapped columns: one key
    # a frequent given name in the surname column, an initial there: entered the wrong way
    assert person_name_latin("Wilson", "Mary")[1:3] == ("wilson", "mary")
    assert person_name_latin("Roberts", "P.")[1:3] == ("roberts", "p")
    assert person_name_latin("Thomas", "James")[1:3] == ("james", "thomas")  # as given
    assert person_name_latin("Matthew", "Miller Jr.").suffix == "jr"
    # the whole name in the first column, the other empty
    assert person_name_latin("Smith, John", "") == person_name_latin("Smith, John")
    assert _key("Wei", "Wang") == _key("Wang", "Wei") == _key("王伟")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.one_of(st.none(), st.text(max_size=20)))
def test_never_raises_on_any_text(name, surname):
    p = person_name_latin(name, surname)
    for part in (p.surname, p.given, p.given_root, p.initial, p.suffix, p.key):
        assert part is None or (part.isascii() and part.isalnum() and part == part.lower()), p
    if p.std is None:
        assert p == person_name_latin(None)
    else:
        assert person_name_latin(p.std).std is not None


_WORD = st.text(alphabet="abcdefghijklmnoprstuvwyzéüñøł", min_size=3, max_size=9).filter(
    lambda w: w not in {"mrs", "mac", "van", "von", "der", "den", "del", "della", "dos",
                        "das", "ter", "ten", "bin", "ibn", "ste", "phd", "dds", "mba", "cpa",
                        "esq", "iii", "don", "dona", "lady", "lord", "sir", "dame", "rev",
                        "miss", "herr", "frau", "mme", "mlle", "sra", "srta", "prof",
                        "madam", "mister", "junior", "senior"})


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=4), st.sampled_from([" ", "-", ", "]))
def test_a_cleaned_name_reads_back_as_itself(words, sep):
    """Names made of ordinary name words: standardizing `std` again gives the same."""
    name = sep.join(w.title() for w in words)
    p = person_name_latin(name)
    again = person_name_latin(p.std)
    assert again.std == p.std
    if sep != ", ":
        assert again == p


def test_a_declared_field_reads_both_columns():
    """(In worker processes too: tests/test_open_schema.py, every standardizer.)"""
    cfg = config_from_dict({
        "fields": {"person": {"column": "first", "surname_column": "last",
                              "standardizer": "person_name_latin"},
                   "whole": {"column": "full_name", "standardizer": "person_name_latin"}},
        "model": {"comparisons": [{"name": "k", "kind": "exact", "column": "person_key"}],
                  "blocking_rules": [["person_key"]],
                  "training": {"deterministic_rules": [["person_key"]],
                               "em_blocking_rules": [["person_key"], ["whole_key"]]}},
    })
    con = duckdb.connect()
    con.execute("""CREATE TABLE raw AS SELECT * FROM (VALUES
        ('1', 'Jun-Ho', 'Lee', 'Lee, Jun Ho'), ('2', 'Lee', 'Junho', 'Junho LEE Jr.'),
        ('3', NULL, NULL, NULL), ('4', 'Bob', 'O''Brien', 'Takahashi'))
        t(record_id, "first", "last", full_name)""")
    cols = ["person_std", "person_surname", "person_given", "person_given_root",
            "person_initial", "person_suffix", "person_key", "whole_surname", "whole_key",
            "whole_suffix"]
    standardize_table(con, "raw", "records", fields=cfg.fields)
    rows = [dict(zip(cols, r)) for r in con.execute(
        f"SELECT {', '.join(cols)} FROM records ORDER BY record_id").fetchall()]
    assert rows[0]["person_key"] == rows[1]["person_key"] == rows[0]["whole_key"] == "junholee"
    assert (rows[1]["whole_surname"], rows[1]["whole_suffix"]) == ("lee", "jr")
    assert all(v is None for v in rows[2].values())
    assert (rows[3]["person_given_root"], rows[3]["person_surname"],
            rows[3]["whole_key"]) == ("robert", "obrien", "takahashi")


def _write_config(path: Path, **fields) -> Path:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["fields"]["person"].update(fields)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, message", [
    ({"surname_column": "family"}, "fields.person.surname_column: column 'family' is not in"),
    ({"standardizer": "text"}, "bad value at 'fields.person': Value error, surname_column "
                               "is for the person_name_latin standardizer only"),
])
def test_a_bad_surname_column_is_one_error_line(tmp_path, change, message):
    data = tmp_path / "p.csv"
    data.write_text("record_id,first_name,last_name,dob,address,city,email\n"
                    "1,John,Smith,1970-01-01,1 Main St,Boston,j@x.com\n", encoding="utf-8")
    config = _write_config(tmp_path / "c.yaml", **change)
    result = run_cli("train", "--config", config, "--input", data, "--name", "never",
                     "--no-charts", expect=2)
    assert message in error_line(result)


def test_english_persons_deduplicate_through_the_cli(mlflow_store, tmp_path):
    """A small generated English data set (typos, swapped names, nicknames, initials,
    namesakes, twins, father and son) through the CLI with configs/english_persons.yaml."""
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "english_data.py"),
                    "--records", "1500", "--seed", "5", "--out", str(tmp_path)],
                   check=True, cwd=ROOT, capture_output=True)
    persons, truth = tmp_path / "persons.csv", tmp_path / "truth.csv"
    trained = run_cli("train", "--config", CONFIG, "--input", persons, "--name",
                      "english_test", "--no-charts")
    model = trained_model_uri(trained)
    run_cli("dedup", "--config", CONFIG, "--model", model, "--input", persons,
            "--out", tmp_path / "job")
    result = run_cli("evaluate", "--out", tmp_path / "job", "--truth", truth, "--json",
                     "--no-mlflow")
    metrics = json.loads(result.output)
    metrics = metrics[0] if isinstance(metrics, list) else metrics
    assert metrics["pairwise_f1"] >= 0.88, metrics  # 0.91 when written
    assert metrics["bcubed_f1"] >= 0.95, metrics  # 0.963
