"""Config validation: bad keys and values name their path."""

from pathlib import Path

import pytest
import yaml

from resolution.config import load_config
from resolution.errors import ConfigError

DEFAULT = Path(__file__).resolve().parents[1] / "configs" / "customer_zh.yaml"


def _write(tmp_path, data) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def _default() -> dict:
    return yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))


def test_default_config_is_valid():
    cfg = load_config(DEFAULT)
    assert cfg.thresholds.match == 0.9
    assert len(cfg.model.training.em_blocking_rules) >= 2
    assert cfg.survivorship.source_priority[0] == "ERP"


def test_unknown_key_names_its_path(tmp_path):
    data = _default()
    data["thresholds"]["mach"] = 0.5
    with pytest.raises(ConfigError, match=r"unknown key 'thresholds\.mach'"):
        load_config(_write(tmp_path, data))


def test_nested_unknown_key(tmp_path):
    data = _default()
    data["model"]["comparisons"][0]["colour"] = "x"
    with pytest.raises(ConfigError, match=r"'model\.comparisons\.0\.colour'"):
        load_config(_write(tmp_path, data))


def test_bad_value_names_path_and_allowed(tmp_path):
    data = _default()
    data["model"]["comparisons"][0]["kind"] = "fuzzy"
    with pytest.raises(ConfigError, match=r"model\.comparisons\.0\.kind.*'name'"):
        load_config(_write(tmp_path, data))


def test_threshold_out_of_range(tmp_path):
    data = _default()
    data["thresholds"]["match"] = 1.5
    with pytest.raises(ConfigError, match=r"thresholds\.match"):
        load_config(_write(tmp_path, data))


def test_unknown_canonical_field_in_mapping(tmp_path):
    data = _default()
    data["source"]["columns"]["shoe_size"] = "x"
    with pytest.raises(ConfigError, match="shoe_size"):
        load_config(_write(tmp_path, data))


def test_em_needs_two_rules(tmp_path):
    data = _default()
    data["model"]["training"]["em_blocking_rules"] = [["name_core"]]
    with pytest.raises(ConfigError, match=r"em_blocking_rules"):
        load_config(_write(tmp_path, data))


def test_fixed_source_rule_needs_source(tmp_path):
    data = _default()
    data["survivorship"]["fields"]["uscc"] = {"rule": "fixed_source"}
    with pytest.raises(ConfigError, match=r"survivorship\.fields\.uscc"):
        load_config(_write(tmp_path, data))


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="YAML"):
        load_config(bad)
    top = tmp_path / "list.yaml"
    top.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(top)


def test_resources_apply_to_duckdb(tmp_path):
    import duckdb

    from resolution.config import config_from_dict
    from resolution.pipeline import duckdb_config

    data = _default()
    data["resources"] = {"memory_limit": "1GB", "threads": 1, "temp_directory": str(tmp_path)}
    cfg = config_from_dict(data)
    con = duckdb.connect(config=duckdb_config(cfg, tmp_path / "spill"))
    try:
        assert con.execute("SELECT current_setting('threads')").fetchall()[0][0] == 1
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        assert limit.replace(" ", "").upper().startswith(("953.6MIB", "1.0GB", "1GB", "953"))
    finally:
        con.close()
