"""The job config: one YAML file, validated once into typed pydantic models.

Everything inward receives these objects, never raw dicts. A bad key or value is a
`ConfigError` naming the key path and what is allowed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from resolution.errors import ConfigError


def preset(name: str) -> Path:
    """A config preset shipped with the package (`configs/NAME.yaml` in the source tree,
    installed as package data `resolution.presets`)."""
    from importlib.resources import files

    try:  # an installed wheel
        return Path(str(files("resolution.presets") / f"{name}.yaml"))
    except ModuleNotFoundError:  # the source tree (editable install, tests)
        return Path(__file__).resolve().parents[1] / "configs" / f"{name}.yaml"


# The default config: the preset for Chinese customer master data.
DEFAULT_CONFIG = preset("customer_zh")

CANONICAL_FIELDS: tuple[str, ...] = (
    "record_id",
    "source_system",
    "customer_name",
    "customer_type",
    "uscc",
    "contact_name",
    "mobile",
    "phone",
    "email",
    "province",
    "city",
    "district",
    "address",
    "id_card",
    "updated_at",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """How input columns map onto the canonical customer fields."""

    columns: dict[str, str] = Field(
        default_factory=dict,
        description="canonical field -> input column name; unmapped fields default to "
        "an input column of the same name when present, else NULL",
    )
    required: list[str] = Field(
        default_factory=lambda: ["record_id"],
        description="canonical fields whose input column must exist",
    )
    default_source_system: str | None = Field(
        default=None, description="source_system for inputs that have no such column"
    )
    encoding: str | None = Field(default=None, description="CSV encoding; detected when unset")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown canonical field(s) {unknown}; allowed: {', '.join(CANONICAL_FIELDS)}"
            )
        return v

    @field_validator("required")
    @classmethod
    def _known_required(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown canonical field(s) {unknown}")
        return v


ComparisonKind = Literal[
    "name", "person_name", "identifier", "phone", "email", "address", "branch", "exact", "date",
    "text", "code", "list", "date_distance",
]

_IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"

# `date_distance`'s `within`: "1 day", "30 days", "2 years" (Splink's date metrics)
_WITHIN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day|month|year)s?\s*$")
# a column of the pair in level SQL, as Splink writes it: `col_l`, `"col_r"`
PAIR_COLUMN = re.compile(r'(?<![\w"])"?([A-Za-z_]\w*)_[lr]"?(?!\w)')


def within_thresholds(within: list[str]) -> tuple[list[str], list[int | float]]:
    """`date_distance`'s `within` as Splink's (metrics, thresholds)."""
    metrics: list[str] = []
    thresholds: list[int | float] = []
    for w in within:
        m = _WITHIN.match(w)
        if m is None:
            raise ValueError(f"'{w}' is not a distance such as '1 day', '30 days', '2 years' "
                             "(units: second, minute, hour, day, month, year)")
        metrics.append(m.group(2))
        n = float(m.group(1))
        thresholds.append(int(n) if n.is_integer() else n)
    return metrics, thresholds


# Splink's comparison library, by the names of its public classes (CustomComparison is
# what `levels` builds)
SPLINK_COMPARISONS: tuple[str, ...] = (
    "AbsoluteDateDifferenceAtThresholds", "AbsoluteTimeDifferenceAtThresholds",
    "ArrayIntersectAtSizes", "CosineSimilarityAtThresholds", "DamerauLevenshteinAtThresholds",
    "DateOfBirthComparison", "DistanceFunctionAtThresholds", "DistanceInKMAtThresholds",
    "EmailComparison", "ExactMatch", "ForenameSurnameComparison", "JaccardAtThresholds",
    "JaroAtThresholds", "JaroWinklerAtThresholds", "LevenshteinAtThresholds",
    "NameComparison", "PairwiseStringDistanceFunctionAtThresholds", "PostcodeComparison",
)


def splink_comparison(cls_name: str, column: str | None, args: dict[str, Any]) -> Any:
    """The Splink comparison-library comparison `cls_name` (a ComparisonCreator) on
    `column` (its first argument; none: `args` name the columns) with `args`: the one place
    config data becomes a Splink library call. A name Splink lacks or arguments it refuses
    raise ValueError with Splink's reason."""
    import splink.comparison_library as cl

    if cls_name not in SPLINK_COMPARISONS:
        raise ValueError(f"no comparison '{cls_name}' in splink.comparison_library "
                         f"(for your own SQL use `levels`); it has: "
                         f"{', '.join(SPLINK_COMPARISONS)}")
    try:
        made = getattr(cl, cls_name)(*([column] if column else []), **args)
        made.get_comparison("duckdb")  # renders its SQL: bad argument values fail here
    except Exception as exc:  # Splink's own errors are TypeError, ValueError, SplinkException...
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"splink {cls_name}: {first}") from None
    return made


class LevelConfig(_Strict):
    """One level of a SQL comparison: a condition on the pair's columns, written as Splink
    writes them (`col_l`, `col_r`), and its label."""

    sql: str
    label: str

    @field_validator("sql")
    @classmethod
    def _parses(cls, v: str) -> str:
        import sqlglot

        if v.strip().upper() == "ELSE":
            raise ValueError("the ELSE level (and the null level) are added for you; list "
                             "only the levels of agreement")
        if not PAIR_COLUMN.search(v):
            raise ValueError(f"{v!r} compares no column of the pair: write the two records' "
                             "values as COLUMN_l and COLUMN_r")
        try:
            sqlglot.parse_one(v, read="duckdb")
        except sqlglot.errors.ParseError as exc:
            first = (str(exc).splitlines() or ["syntax error"])[0]
            raise ValueError(f"not a SQL condition ({first})") from None
        return v


class ComparisonConfig(_Strict):
    """One comparison of the Fellegi-Sunter model, in one of three forms.

    - `kind`: a named kind (see `resolution.model.settings`): `name` (core name by
      characters and pinyin), `person_name`, `identifier` (valid-only keys: agree /
      disagree), `phone`, `email`, `address` (district / road / number), `branch`
      (designators that must agree), `exact`, `date`; generic kinds for data outside the
      customer schema: `text` (Latin text by Jaro-Winkler), `code` (digits or dates with
      typos), `list` (a list column, e.g. a field with standardizer `list`: Jaccard levels
      `jaccard`, then shared-item counts `overlap`), `date_distance` (a DATE or TIMESTAMP
      column, e.g. a `date` field's NAME_date: exact, then each of `within`).
    - `splink`: a comparison of Splink's `splink.comparison_library` by class name, with
      `column` as its first argument and `args` as keyword arguments.
    - `levels`: SQL conditions on the pair (`col_l`, `col_r`), most similar first; the
      null level (the compared columns missing) and the ELSE level are added.

    Levels are ordered most to least similar as written (training's constraints rely on
    it). `term_frequency` weighs agreement by the frequency of `column`'s value on the
    exact-match level of `column`; a comparison of the new forms (`splink`, `levels`,
    `list`) without one gets it as its first level.
    """

    name: str
    kind: ComparisonKind | None = None
    splink: str | None = None
    column: str = Field(default="", description="the compared column (none: '')")
    args: dict[str, Any] = Field(default_factory=dict, validate_default=True)
    levels: list[LevelConfig] | None = Field(default=None, min_length=1)
    pinyin_column: str | None = None
    extra_columns: list[str] = Field(default_factory=list)
    overlap: list[int] | None = Field(
        default=None, description="kind list: levels 'at least N items shared', N descending")
    jaccard: list[float] | None = Field(
        default=None, description="kind list: levels 'Jaccard similarity >= t', t descending")
    within: list[str] | None = Field(
        default=None, description="kind date_distance: levels such as '1 day', '1 year'")
    term_frequency: bool = False

    @field_validator("column", mode="before")
    @classmethod
    def _no_column(cls, v: object) -> object:
        return "" if v is None else v

    @field_validator("splink")
    @classmethod
    def _splink_name(cls, v: str | None) -> str | None:
        if v is not None and v not in SPLINK_COMPARISONS:
            splink_comparison(v, None, {})  # raises, listing the names
        return v

    @field_validator("args")
    @classmethod
    def _splink_args(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if "splink" not in info.data or "column" not in info.data:
            return v  # the name or column was refused: that error is reported
        if info.data["splink"] is None:
            if v:
                raise ValueError("args are the arguments of a `splink` comparison; this "
                                 "one has none")
            return v
        splink_comparison(info.data["splink"], info.data["column"], v)
        return v

    @field_validator("overlap", "jaccard")
    @classmethod
    def _descending(cls, v: list | None, info: ValidationInfo) -> list | None:
        if v is not None:
            if not v or any(a <= b for a, b in zip(v, v[1:])):
                raise ValueError("give the thresholds most similar first (descending)")
            if info.field_name == "jaccard" and not all(0 < t <= 1 for t in v):
                raise ValueError("Jaccard thresholds are between 0 (exclusive) and 1")
            if info.field_name == "overlap" and not all(n >= 1 for n in v):
                raise ValueError("overlap sizes are counts of shared items, at least 1")
        return v

    @field_validator("within")
    @classmethod
    def _within(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v:
                raise ValueError("give at least one distance, e.g. ['1 day', '1 year']")
            within_thresholds(v)
        return v

    @model_validator(mode="after")
    def _one_form(self) -> ComparisonConfig:
        forms = [f for f in ("kind", "splink", "levels") if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError("give exactly one of `kind` (a named kind), `splink` (a Splink "
                             "comparison-library name) or `levels` (SQL levels)"
                             + (f"; this one has {' and '.join(forms)}" if forms else ""))
        if self.kind is not None and not self.column:
            raise ValueError(f"kind {self.kind} needs `column`")
        for option, kind in (("overlap", "list"), ("jaccard", "list"), ("within", "date_distance")):
            if getattr(self, option) is not None and self.kind != kind:
                raise ValueError(f"`{option}` belongs to kind {kind}")
        labels = [lv.label for lv in self.levels or []]
        clash = next((x for i, x in enumerate(labels)
                      if x in labels[:i] or x in ("missing", "different")), None)
        if clash is not None:
            # training names a level by its label (constraints, warnings, charts)
            raise ValueError(f"levels: the label '{clash}' is used twice (the added levels "
                             "are 'missing' and 'different')")
        if self.kind == "date_distance" and self.within is None:
            raise ValueError("kind date_distance needs `within`, e.g. ['1 day', '1 year']")
        if self.term_frequency and not (self.column and re.match(_IDENT, self.column)):
            raise ValueError("term_frequency weighs by the frequency of `column`'s values: "
                             "give `column` as a plain column name")
        return self

    def sql_columns(self) -> list[str]:
        """The record columns the `levels` SQL compares (`col_l` / `col_r`), in order."""
        out: list[str] = []
        for lv in self.levels or []:
            out += [c for c in PAIR_COLUMN.findall(lv.sql) if c not in out]
        return out


# The standardizers a declared field (`fields`) can use; the columns each adds to
# `records` are in resolution/standardize/columns.py (FIELD_STANDARDIZERS).
StandardizerName = Literal[
    "company_name", "person_name", "person_name_latin", "phone", "email", "address", "uscc",
    "id_card", "date", "text", "list", "none",
]
STANDARDIZERS: tuple[str, ...] = get_args(StandardizerName)

class FieldConfig(_Strict):
    """A field of your own data: an input column and the standardizer it goes through.

    Written `NAME: STANDARDIZER` (the column of the same name) or `NAME: {column: COL,
    standardizer: STANDARDIZER}`. The input column is kept unchanged in `records` beside
    the standardized columns `NAME_<part>` (e.g. `NAME_std` for `text`; see
    `resolution.standardize.columns.FIELD_STANDARDIZERS`); `none` adds no column (compare
    the input column itself); `list` splits a delimited value ("a; b; c") at `separator`
    into `NAME_list`, a list of distinct trimmed lower-case items."""

    column: str | None = Field(default=None, description="input column (default: the field name)")
    standardizer: StandardizerName
    separator: str | None = Field(
        default=None, description="standardizer list: what separates the items (default ';')")
    surname_column: str | None = Field(
        default=None,
        description="person_name_latin only: the input column holding the family name when "
        "names come in two columns (`column` then holds the given names)",
    )

    @model_validator(mode="after")
    def _separator(self) -> FieldConfig:
        if self.separator is not None and self.standardizer != "list":
            raise ValueError("separator belongs to the standardizer list")
        if self.separator == "":
            raise ValueError("separator: give the character(s) between the items, e.g. ';'")
        if self.surname_column is not None and self.standardizer != "person_name_latin":
            raise ValueError("surname_column is for the person_name_latin standardizer only")
        return self


class TrainingConfig(_Strict):
    deterministic_rules: list[list[str]] = Field(
        description="blocking rules (lists of columns or SQL expressions) that admit "
        "almost no false positives; used to estimate the prior match probability"
    )
    deterministic_recall: float = Field(default=0.7, gt=0, le=1)
    em_blocking_rules: list[list[str]] = Field(min_length=2)
    u_max_pairs: float = Field(default=2e6, gt=0)
    em_max_pairs: float | None = Field(
        default=None,
        gt=0,
        description="cap each EM round at about this many blocked pairs (Splink's hash-based "
        "sampling of records on both sides, deterministic); a loose rule such as [name_core] "
        "blocks 27M pairs at 1M records, which took 60 s and 12 GB, while m is a per-level "
        "rate that a few million pairs estimate as well (None: all blocked pairs)",
    )
    em_max_iterations: int = Field(
        default=25, gt=0,
        description="iterations an EM round may take (Splink's max_iterations); a round "
        "that stops here without converging is a training warning",
    )
    em_convergence: float = Field(
        default=1e-4, gt=0, lt=1,
        description="a round has converged when no m changes by more than this between "
        "iterations (Splink's em_convergence)",
    )
    max_records: int | None = Field(
        default=None,
        gt=1,
        description="train (prior, u, EM) on a uniform random sample of this many records "
        "when there are more; the parameters are per-pair rates, so a large sample estimates "
        "them as well as all records, in a fraction of the time (not with labels)",
    )
    seed: int = 42


class PartiesConfig(_Strict):
    """How the names and kinds of two records condition the other comparisons.

    Fellegi-Sunter treats comparisons as independent given match status. Contact details
    are not: two differently named persons sharing a landline and an address are a
    household, two differently named stores sharing a contact and a mobile have one
    salesperson, a 个体 shop and its owner share a mobile and an address. For records
    whose names tell them apart, agreement on `shared_contacts` is no evidence they are one
    customer, so those comparisons fall to their null level (weight 0); for a person, the
    contact is usually the person (`person_contact`: no evidence of its own); and when the
    names agree, the same mailbox at another provider repeats the name (`mailbox`: often
    the name's pinyin)."""

    name: str = Field(description="the comparison of the customer's name (kind `name`)")
    kind_column: str = Field(description="column holding 'person' or 'company'")
    shared_contacts: list[str] = Field(
        default_factory=list, description="comparisons of contact details parties share"
    )
    person_contact: list[str] = Field(
        default_factory=list, description="comparisons that repeat a person's own name"
    )
    mailbox: str | None = Field(
        default=None, description="email comparison whose 'same mailbox name' repeats the name"
    )


class BlockingCap(_Strict):
    """A blocking rule whose key values shared by more than `max_block_size` records are
    skipped: such a value (a common name in a province) is a category, not a key. Its group
    holds mostly strangers, grows with the data (its pairs with the square of it), and a true
    duplicate inside it shares a second key (phone, e-mail, identifier, address) that
    another rule blocks on."""

    rule: list[str] = Field(min_length=1, description="one of model.blocking_rules, as written")
    max_block_size: int = Field(
        gt=1, description="key values shared by more records than this generate no pairs"
    )


class ModelConfig(_Strict):
    comparisons: list[ComparisonConfig] = Field(min_length=1)
    blocking_rules: list[list[str]] = Field(
        min_length=1, description="blocking rules that generate the pairs to score"
    )
    blocking_caps: list[BlockingCap] = Field(
        default_factory=list,
        description="blocking rules whose oversized key groups are skipped (keys that grow "
        "with the data); each job reports the keys it skipped",
    )
    max_comparisons: float = Field(
        default=5e7, gt=0, description="refuse to predict when blocking yields more pairs"
    )
    training: TrainingConfig
    parties: PartiesConfig | None = None

    @model_validator(mode="after")
    def _caps_name_blocking_rules(self) -> ModelConfig:
        seen: set[tuple[str, ...]] = set()
        for cap in self.blocking_caps:
            if cap.rule not in self.blocking_rules:
                raise ValueError(f"blocking_caps: {cap.rule} is not one of model.blocking_rules")
            if tuple(cap.rule) in seen:
                raise ValueError(f"blocking_caps: {cap.rule} is capped twice")
            seen.add(tuple(cap.rule))
        return self

    def block_size_caps(self) -> list[int | None]:
        """Each blocking rule's `max_block_size` (None: not capped), in rule order."""
        caps = {tuple(c.rule): c.max_block_size for c in self.blocking_caps}
        return [caps.get(tuple(rule)) for rule in self.blocking_rules]

    @model_validator(mode="after")
    def _parties_name_comparisons(self) -> ModelConfig:
        if self.parties is None:
            return self
        names = {c.name: c for c in self.comparisons}
        p = self.parties
        for ref in [p.name, *p.shared_contacts, *p.person_contact, *([p.mailbox] if p.mailbox else [])]:
            if ref not in names:
                raise ValueError(f"parties: no comparison named '{ref}' in model.comparisons")
        if names[p.name].kind != "name":
            raise ValueError(f"parties.name: comparison '{p.name}' is not of kind name")
        return self


class Thresholds(_Strict):
    match: float = Field(default=0.9, gt=0, lt=1, description="pair probability that links")
    review: float = Field(
        default=0.95, gt=0, le=1, description="entities below this confidence go to review"
    )
    keep_pairs: float = Field(
        default=0.05, ge=0, lt=1, description="pairs below this probability are not stored; "
        "entities whose chance of being wrong reaches it go to the review queue"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.keep_pairs > self.match:
            raise ValueError("keep_pairs must not exceed match")
        return self


SurvivorshipRule = Literal[
    "source_priority", "most_recent", "most_frequent", "longest", "aggregate", "fixed_source"
]


class FieldRule(_Strict):
    rule: SurvivorshipRule
    column: str | None = Field(
        default=None, description="record column the value comes from (default: field name)"
    )
    valid_only: str | None = Field(
        default=None, description="boolean column; only records where it is true supply a value"
    )
    tie_breakers: list[SurvivorshipRule] = Field(default_factory=list)
    source: str | None = Field(default=None, description="the source for `fixed_source`")

    @model_validator(mode="after")
    def _source_for_fixed(self) -> FieldRule:
        if self.rule == "fixed_source" and not self.source:
            raise ValueError("rule fixed_source needs `source`")
        if "aggregate" in self.tie_breakers:
            raise ValueError("aggregate cannot be a tie-breaker")
        return self


class SurvivorshipConfig(_Strict):
    source_priority: list[str] = Field(
        default_factory=list, description="source systems, most trusted first"
    )
    fields: dict[str, FieldRule] = Field(default_factory=dict)


class ClusteringConfig(_Strict):
    """Guarded clustering: connected components, then splits where the evidence conflicts."""

    max_cluster_size: int = Field(
        default=50, gt=1, description="entities larger than this go to review as suspicious"
    )
    guard: bool = Field(default=True, description="split components that hold conflicts")
    conflict_columns: list[str] = Field(
        default_factory=lambda: ["uscc_key", "id_card_key", "name_branch"],
        description="columns two records of one entity must never disagree on (NULL = unknown)",
    )
    bridge_threshold: float = Field(
        default=0.99,
        gt=0,
        le=1,
        description="a single link below this probability that alone joins two groups of "
        "at least two records is cut",
    )
    separate_below_bits: float | None = Field(
        default=0.0,
        description="two records of one component whose own comparison gives evidence below "
        "this many bits (log2 Bayes factor, without the prior) are kept apart; 0 = their "
        "fields say 'different' more than 'same'. null: off",
    )
    rescore_max_records: int = Field(
        default=200, gt=2,
        description="components up to this size have every pair of their records scored "
        "for `separate_below_bits`; larger ones go to review as too large",
    )


class ReviewConfig(_Strict):
    """The review queue's size (cluster.build_review_queue ranks it by `priority`)."""

    budget: float | None = Field(
        default=None,
        gt=0,
        description="cap the review queue to its highest-priority entries: below 1, a share "
        "of all entities (0.05 = 5%); 1 or more, a count of entries (500). null: every "
        "entity that qualifies",
    )

    @field_validator("budget")
    @classmethod
    def _whole_count(cls, v: float | None) -> float | None:
        if v is not None and v >= 1 and v != int(v):
            raise ValueError("a budget of 1 or more is a count of entries: give a whole number")
        return v


QUALITY_FIELDS = (
    "customer_name", "customer_type", "uscc", "contact_name", "mobile", "phone", "email",
    "province", "city", "district", "address", "id_card", "updated_at",
)


class QualityConfig(_Strict):
    """Data-quality rules; defaults are our users' targets."""

    required: list[str] = Field(
        default_factory=lambda: ["customer_name", "mobile", "address"],
        description="fields that must be filled: their completeness is checked",
    )
    scored_fields: list[str] = Field(
        default_factory=lambda: ["customer_name", "contact_name", "mobile", "email", "address"],
        description="fields the record-level quality score counts (present and valid)",
    )
    completeness_min: float = Field(default=0.95, ge=0, le=1)
    invalid_max: float = Field(default=0.02, ge=0, le=1)
    duplicate_max: float = Field(default=0.03, ge=0, le=1)
    freshness_days: int = Field(
        default=365, ge=1, description="a record is fresh when updated_at is this recent"
    )
    freshness_min: float = Field(
        default=0.98, ge=0, le=1, description="target share of fresh records (更新及时率)"
    )
    track_in_mlflow: bool = Field(default=True, description="log each report to MLflow")

    @field_validator("required", "scored_fields")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(QUALITY_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; allowed: {', '.join(QUALITY_FIELDS)}")
        return v


class StoreConfig(_Strict):
    path: str | None = Field(
        default=None,
        description="the persistent store (DuckDB file); default: store.duckdb in the job's "
        "output folder",
    )


class SparkConfig(_Strict):
    """`er dedup --backend spark` (resolution/spark_backend.py)."""

    master: str | None = Field(
        default=None,
        description="Spark master URL (local[2], spark://host:7077, yarn, k8s://...); "
        "--spark-master wins; default local[2], or spark-submit's master",
    )
    work_dir: str | None = Field(
        default=None,
        description="folder the driver and every executor can read and write (a shared "
        "mount) for the Parquet exchanged with Spark; default: a temp folder beside the output",
    )
    shuffle_partitions: int = Field(default=8, gt=0, description="spark.sql.shuffle.partitions")
    break_lineage_method: Literal["parquet", "checkpoint"] = Field(
        default="parquet",
        description="how Splink materialises intermediate tables on Spark: Parquet files "
        "in the work folder, or Spark checkpoints (Splink's 'persist' grows query plans "
        "until the driver runs out of memory, so it is not offered)",
    )
    conf: dict[str, str] = Field(
        default_factory=dict,
        description="extra Spark properties, e.g. spark.executor.memory: 8g",
    )


class ResourcesConfig(_Strict):
    """DuckDB resources for batch jobs and training (None = DuckDB's default)."""

    memory_limit: str | None = Field(
        default=None, description="DuckDB memory_limit, e.g. '16GB'; DuckDB spills beyond it"
    )
    threads: int | None = Field(default=None, gt=0, description="DuckDB worker threads")
    temp_directory: str | None = Field(
        default=None,
        description="where DuckDB spills; default: a temp folder beside the job's output",
    )
    predict_chunk_pairs: float | None = Field(
        default=2e7,
        gt=0,
        description="score candidate pairs in chunks of about this many (Splink's chunked "
        "predict over hash partitions of the records), so the blocked pairs of one chunk "
        "are held at a time; None: one pass",
    )
    standardize_cache: str | None = Field(
        default=None,
        description="a DuckDB file keeping standardized values between runs (train, then "
        "dedup on the same data; nightly re-runs): only values not seen before are "
        "standardized. Holds personal data like the store. None: no cache",
    )
    spark: SparkConfig = Field(default_factory=SparkConfig)


class Config(_Strict):
    source: SourceConfig = Field(default_factory=SourceConfig)
    fields: dict[str, FieldConfig] = Field(
        default_factory=dict,
        description="fields of your own data beyond the canonical customer fields: name -> "
        "standardizer (or {column, standardizer}); every input column is kept in `records` "
        "whether declared or not",
    )
    model: ModelConfig
    thresholds: Thresholds = Field(default_factory=Thresholds)
    survivorship: SurvivorshipConfig = Field(default_factory=SurvivorshipConfig)
    clustering: ClusteringConfig = Field(default_factory=ClusteringConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    # the file the config was read from, for error messages (`load_config` sets it)
    _origin: str = PrivateAttr(default="config")

    @property
    def origin(self) -> str:
        return self._origin

    def __eq__(self, other: object) -> bool:
        # the same settings are the same config, wherever they were read from
        return isinstance(other, Config) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(self.model_dump_json())

    @field_validator("fields", mode="before")
    @classmethod
    def _field_shorthand(cls, v: object) -> object:
        if isinstance(v, dict):
            return {k: {"standardizer": s} if isinstance(s, str) else s for k, s in v.items()}
        return v

    @field_validator("fields")
    @classmethod
    def _field_names(cls, v: dict[str, FieldConfig]) -> dict[str, FieldConfig]:
        for name in v:
            if not re.match(_IDENT, name):
                raise ValueError(f"field name '{name}': use letters, digits and _ only")
            if name in CANONICAL_FIELDS:
                raise ValueError(f"field name '{name}' is a canonical customer field; map "
                                 "your column onto it in source.columns instead")
        return v

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), allow_unicode=True, sort_keys=False)


def referenced_columns(config: Config) -> list[tuple[str, str]]:
    """(key path, column name or SQL expression) of every record column the config's
    model, clustering and survivorship name: what `ingest.check_config_columns` checks
    against the input before any work."""
    out: list[tuple[str, str]] = []
    m = config.model
    for i, cc in enumerate(m.comparisons):
        if cc.column:
            out.append((f"model.comparisons.{i}.column", cc.column))
        for j, lv in enumerate(cc.levels or []):
            out += [(f"model.comparisons.{i}.levels.{j}.sql", c)
                    for c in dict.fromkeys(PAIR_COLUMN.findall(lv.sql))]
        if cc.pinyin_column:
            out.append((f"model.comparisons.{i}.pinyin_column", cc.pinyin_column))
        out += [(f"model.comparisons.{i}.extra_columns.{j}", c)
                for j, c in enumerate(cc.extra_columns)]
    for key, rules in (("model.blocking_rules", m.blocking_rules),
                       ("model.training.deterministic_rules", m.training.deterministic_rules),
                       ("model.training.em_blocking_rules", m.training.em_blocking_rules)):
        out += [(f"{key}.{i}.{j}", c) for i, rule in enumerate(rules) for j, c in enumerate(rule)]
    if m.parties is not None:
        out.append(("model.parties.kind_column", m.parties.kind_column))
    out += [(f"clustering.conflict_columns.{i}", c)
            for i, c in enumerate(config.clustering.conflict_columns)]
    for name, fr in config.survivorship.fields.items():
        out.append((f"survivorship.fields.{name}.column", fr.column or name))
        if fr.valid_only:
            out.append((f"survivorship.fields.{name}.valid_only", fr.valid_only))
    return out


def is_column_name(ref: str) -> bool:
    """A plain column name (not an SQL expression such as `substr(name_core, 1, 2)`)."""
    return re.match(_IDENT, ref) is not None


def _error_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def config_from_dict(data: object, origin: str = "config") -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping of sections at the top level")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = _error_path(err["loc"])
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"{origin}: unknown key '{path}' (remove it or fix its spelling)")
        if err["type"] == "missing":
            raise ConfigError(f"{origin}: missing required key '{path}'")
        raise ConfigError(f"{origin}: bad value at '{path}': {err['msg']}")
    config._origin = origin
    return config


def load_config(path: str | Path) -> Config:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p} (pass --config configs/customer_zh.yaml)")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{p}: not valid UTF-8 YAML ({first})")
    return config_from_dict(data, origin=str(p))
