"""Splink settings from the config (the model is data, the config its twin), the blocking
rules' SQL and the table Splink reads: what a job and training both need.

Each comparison kind is a small named builder returning Splink comparison levels as SQL;
the config's escape hatches, a comparison of Splink's comparison library by name and a
comparison of your own SQL levels, become levels here too (`comparison`).
Chinese text is compared by characters (set overlap on `string_split(x, '')`) and by
pinyin (ASCII Jaro-Winkler), never by DuckDB's byte-based edit distances on Chinese
text, where `levenshtein('张伟', '张玮')` is 3.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import duckdb
from splink import block_on

from resolution.config import (
    ComparisonConfig,
    Config,
    splink_comparison,
    within_thresholds,
)
from resolution.db import quote_literal, scalar
from resolution.errors import InputError

LinkType = str  # "dedupe_only" | "link_only" | "link_and_dedupe"


def _l(c: str) -> str:
    return f'"{c}_l"'


def _r(c: str) -> str:
    return f'"{c}_r"'


def _level(sql: str, label: str, *, null: bool = False, tf: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    return level


def _either_null(c: str) -> str:
    return f"{_l(c)} IS NULL OR {_r(c)} IS NULL"


def _eq(c: str) -> str:
    return f"{_l(c)} = {_r(c)}"


def char_overlap_sql(c: str, at_least: float) -> str:
    """Characters of one value found in the other, over the longer length, >= `at_least`.

    Counted per character (`string_split(x, '')` splits UTF-8 by character), so 张伟 vs
    张玮 shares 1 of 2. DuckDB's byte-based `jaccard` runs first as a cheap necessary
    filter: values sharing most characters share most bytes too, and DuckDB evaluates
    the second condition only for rows that pass the first.
    """
    share = (
        f"len(list_filter(string_split({_l(c)}, ''), lambda ch: contains({_r(c)}, ch)))::DOUBLE"
        f" / greatest(length({_l(c)}), length({_r(c)}), 1)"
    )
    return f"(jaccard({_l(c)}, {_r(c)}) >= {at_least * 0.6:.2f} AND {share} >= {at_least})"


def _surname_only_agrees(c: str, p: str, kind: str) -> str:
    """Two persons, one written by surname alone (李先生, 王总, Mr. Wang: the name standardizer
    keeps the surname as the core), and the other's name starting with, or containing in
    its pinyin, that surname. Online shops and phone orders record customers this way; an
    overseas system writes the other in pinyin (罗先生 and "Botao Luo": the surname's reading
    is one of the Latin name's words, in either order)."""
    def only(x: Callable[[str], str], y: Callable[[str], str]) -> str:
        return (f"((length({x(c)}) = 1 AND left({y(c)}, 1) = {x(c)}) OR "
                f"(length({x(c)}) = 1 AND contains({y(c)}, ' ') AND "
                f"list_contains(string_split({y(c)}, ' '), {x(p)})) OR "
                f"({x(c)} = {x(p)} AND NOT contains({x(c)}, ' ') AND contains({y(p)}, {x(p)})))")
    return (f"{_l(kind)} = 'person' AND {_r(kind)} = 'person' AND "
            f"({only(_l, _r)} OR {only(_r, _l)})")


SURNAME_ONLY = "one gives only the surname, and it agrees"
# Levels that are not a degree of similarity on their comparison's scale, so the training's
# order constraint (training/constraints.py) does not rank them against their neighbours:
# "one gives only the surname" says the given names cannot be compared, not that they are
# more or less alike than 张伟 and 张玮. Their weight is bounded by the top level's only.
UNRANKED_LEVELS = frozenset({SURNAME_ONLY})


def _name_levels(cc: ComparisonConfig) -> list[dict]:
    c, p = cc.column, cc.pinyin_column
    tf = c if cc.term_frequency else None
    if p is None:
        return [
            _level(_either_null(c), "missing", null=True),
            _level(_eq(c), "exact", tf=tf),
            _level(char_overlap_sql(c, 0.75), "most characters shared"),
            _level(char_overlap_sql(c, 0.5), "half the characters shared"),
            _level("ELSE", "different"),
        ]
    return [
        _level(f"({_either_null(c)}) AND ({_either_null(p)})", "missing", null=True),
        _level(_eq(c), "exact", tf=tf),
        _level(_eq(p), "same pinyin"),
        # with a kind column (the first extra column): a person written by surname only.
        # Before the character-overlap levels: a one-character core shares "half the
        # characters" of any two-character name with that surname (罗 and 罗明), which says
        # nothing about how alike two given names are; the level is unranked (see
        # UNRANKED_LEVELS), so its weight is what the data says it is.
        *([_level(_surname_only_agrees(c, p, cc.extra_columns[0]), SURNAME_ONLY)]
          if cc.extra_columns else []),
        _level(
            f"{char_overlap_sql(c, 0.75)} OR jaro_winkler_similarity({_l(p)}, {_r(p)}) >= 0.92",
            "most characters shared / pinyin very close",
        ),
        _level(
            f"{char_overlap_sql(c, 0.5)} OR jaro_winkler_similarity({_l(p)}, {_r(p)}) >= 0.8",
            "half the characters shared / pinyin close",
        ),
        _level("ELSE", "different"),
    ]


def _person_levels(cc: ComparisonConfig) -> list[dict]:
    c, p = cc.column, cc.pinyin_column or cc.column
    tf = c if cc.term_frequency else None
    levels = [
        _level(f"({_either_null(c)}) AND ({_either_null(p)})", "missing", null=True),
        _level(_eq(c), "exact", tf=tf),
    ]
    if p != c:  # without a pinyin column the level would repeat "exact" and never be reached
        levels.append(_level(_eq(p), "same pinyin"))
    levels += [
        _level(f"jaro_winkler_similarity({_l(p)}, {_r(p)}) >= 0.9", "pinyin close"),
        _level("ELSE", "different"),
    ]
    return levels


def _text_levels(cc: ComparisonConfig) -> list[dict]:
    """Latin-alphabet text (names, streets): exact, then Jaro-Winkler bands."""
    c = cc.column
    return [
        _level(_either_null(c), "missing", null=True),
        _level(_eq(c), "exact", tf=c if cc.term_frequency else None),
        _level(f"jaro_winkler_similarity({_l(c)}, {_r(c)}) >= 0.92", "very close"),
        _level(f"jaro_winkler_similarity({_l(c)}, {_r(c)}) >= 0.8", "close"),
        _level("ELSE", "different"),
    ]


def _code_levels(cc: ComparisonConfig) -> list[dict]:
    """Digit strings and dates typed by hand: exact, one or two edits (incl. swaps) apart."""
    c = cc.column
    return [
        _level(_either_null(c), "missing", null=True),
        _level(_eq(c), "exact", tf=c if cc.term_frequency else None),
        _level(f"damerau_levenshtein({_l(c)}, {_r(c)}) <= 1", "one edit apart"),
        _level(f"damerau_levenshtein({_l(c)}, {_r(c)}) <= 2", "two edits apart"),
        _level("ELSE", "different"),
    ]


# Domain priors (fixed m, not left to EM; see training/constraints.py): among pairs of one
# customer, how often two different checksum-valid identifiers occur. A typo keeps a valid
# check character about 1 time in 11 (ID card) or 31 (USCC); a re-registration or a wrong
# customer's code pasted in is rarer still, so well under 1 pair in 100.
DIFFERENT_VALID_ID_M = 0.01
# ... and how often two different branch designators: a branch is its own customer
# (ship-to, DOMAIN.md); one customer written with two designators is a data-entry slip.
DIFFERENT_BRANCH_M = 0.01


def _prior(level: dict[str, Any], m: float) -> dict[str, Any]:
    """A level whose m is a domain prior EM cannot overturn (labels can: training with m
    from labels releases it, `training.constraints.release_priors`)."""
    return {**level, "m_probability": m, "fix_m_probability": True}


def _identifier_levels(cc: ComparisonConfig) -> list[dict]:
    c = cc.column
    return [
        _level(_either_null(c), "missing or invalid", null=True),
        _level(_eq(c), "same valid identifier", tf=c if cc.term_frequency else None),
        _prior(_level("ELSE", "different valid identifiers"), DIFFERENT_VALID_ID_M),
    ]


def _phone_levels(cc: ComparisonConfig) -> list[dict]:
    cols = [cc.column, *cc.extra_columns]
    levels = [
        _level(_either_null(cc.column) if len(cols) == 1 else " AND ".join(
            f"({_either_null(c)})" for c in cols), "missing", null=True),
        _level(_eq(cc.column), "same number", tf=cc.column if cc.term_frequency else None),
    ]
    if len(cols) > 1:
        # Across fields only (a mobile typed into the phone field, or the other way round).
        # Two records sharing the same `phone_key` are already counted by the phone
        # comparison; counting it here again would weigh one shared HQ landline twice.
        cross = " OR ".join(
            f"{_l(a)} = {_r(b)}" for a in cols for b in cols if a != b
        )
        levels.append(_level(f"({cross})", "a number in common"))
    levels.append(
        _level(
            f"{_l(cc.column)} IS NOT NULL AND {_r(cc.column)} IS NOT NULL "
            f"AND damerau_levenshtein({_l(cc.column)}, {_r(cc.column)}) <= 1",
            "one digit off",
        )
    )
    levels.append(_level("ELSE", "different"))
    return levels


def _email_levels(cc: ComparisonConfig) -> list[dict]:
    c = cc.column
    return [
        _level(_either_null(c), "missing", null=True),
        _level(_eq(c), "same email", tf=c if cc.term_frequency else None),
        _level(f"split_part({_l(c)}, '@', 1) = split_part({_r(c)}, '@', 1)", "same mailbox name"),
        _level(f"jaro_winkler_similarity({_l(c)}, {_r(c)}) >= 0.9", "nearly the same"),
        _level("ELSE", "different"),
    ]


def _address_levels(cc: ComparisonConfig) -> list[dict]:
    """Where the customer is, from the finest agreement down: the address, its road and
    number, its road, its district, and (with a fourth extra column) its city.

    The city is a level of this comparison, not a comparison of its own: two addresses on
    one road or in one district are in one city, so a separate city comparison counted
    the same place twice (Fellegi-Sunter multiplies the comparisons' odds as if they were
    independent) and gave two namesakes of one district ~4.5 bits they never earned. The
    same-city level, reached only when the addresses say nothing finer (or one record has
    only a city), is weighed by the city's frequency: one city of Beijing is weaker than
    one city of 阜阳.
    """
    c = cc.column
    extra = cc.extra_columns
    district, road, number, city = (extra + [None, None, None, None])[:4]
    null = _either_null(c) if city is None else f"({_either_null(c)}) AND ({_either_null(city)})"
    # An address is a place in a city: road names repeat across China's cities (中山路,
    # 人民路, 解放路 are in hundreds of them), district names too (鼓楼区 in 南京, 福州,
    # 徐州), and chains name a store after its road (万寿店 on 万寿路 in 广州 and in 长沙).
    # Two records whose cities are both known and differ are not at one address however
    # alike the rest reads; they fall through to "different". At 10M demo records, 184k of
    # the 348k false links inside final entities agreed on an address level finer than
    # the city (same district, road, most characters, road and number, or address) in two
    # cities; among all links >= 0.9 at those levels in two cities, 3.5k were true pairs.
    here = "" if city is None else f" AND NOT coalesce({_l(city)} <> {_r(city)}, FALSE)"
    levels = [_level(null, "missing", null=True)]
    levels.append(_level(f"{_eq(c)}{here}", "same address",
                         tf=c if cc.term_frequency else None))
    if road and number:
        levels.append(_level(f"{_eq(road)} AND {_eq(number)}{here}", "same road and number"))
    levels.append(_level(f"{char_overlap_sql(c, 0.8)}{here}", "most characters shared"))
    if road:
        levels.append(_level(f"{_eq(road)}{here}", "same road"))
    if district:
        levels.append(_level(f"{_eq(district)}{here}", "same district"))
    if city:
        levels.append(_level(_eq(city), "same city", tf=city))
    levels.append(_level("ELSE", "different"))
    return levels


# m of "one names a branch, the other is the legal entity": at most 1 in 50 pairs of one
# customer that involve a branch (see _branch_levels)
HEAD_OFFICE_M = 0.02


def _branch_levels(cc: ComparisonConfig) -> list[dict]:
    """Branch designators; the first extra column, when given, is the legal form.

    A branch on one side only is two different things in customer master data: the
    branch against a record of the registered legal entity itself (…有限公司 with no
    branch: the head office, a different customer) or against a bare short name (物美超市,
    often the same store written without its designator). With a legal-form column the
    two get their own levels, so EM learns each one's m instead of an average of both.
    """
    c = cc.column
    levels = [
        _level(f"{_l(c)} IS NULL AND {_r(c)} IS NULL", "neither names a branch", null=True),
        _level(_eq(c), "same branch"),
    ]
    if cc.extra_columns:
        lf = cc.extra_columns[0]
        head_office = _level(
            f"({_l(c)} IS NULL AND {_l(lf)} IS NOT NULL) OR ({_r(c)} IS NULL AND {_r(lf)} IS NOT NULL)",
            "one names a branch, the other is the legal entity",
        )
        # A domain prior, not left to EM: a branch and its head office share brand, HQ
        # landline and e-mail, so unsupervised EM takes their pairs for matches and learns
        # a high m. DOMAIN.md: a branch is a different customer (ship-to) from its head
        # office, so among pairs of one customer this level is rare.
        levels.append(_prior(head_office, HEAD_OFFICE_M))
    levels += [
        _level(_either_null(c), "only one names a branch"),
        _prior(_level("ELSE", "different branches"), DIFFERENT_BRANCH_M),
    ]
    return levels


def _exact_levels(cc: ComparisonConfig) -> list[dict]:
    c = cc.column
    return [
        _level(_either_null(c), "missing", null=True),
        _level(_eq(c), "exact", tf=c if cc.term_frequency else None),
        _level("ELSE", "different"),
    ]


def _splink_levels(cc: ComparisonConfig) -> list[dict]:
    """A comparison of Splink's comparison library (`splink: NAME`, `args`), its levels as
    Splink renders them for DuckDB; with `term_frequency`, on its exact-match level(s)."""
    made = splink_comparison(cc.splink or "", cc.column, cc.args)
    if cc.term_frequency:
        made.configure(term_frequency_adjustments=True)
    levels = made.get_comparison("duckdb").as_dict()["comparison_levels"]
    if cc.term_frequency and not any(lv.get("tf_adjustment_column") for lv in levels):
        levels = _tf_on_exact(levels, cc)
    return levels


def _is_exact(sql: str, c: str) -> bool:
    return re.fullmatch(rf'\s*"?{re.escape(c)}_l"?\s*=\s*"?{re.escape(c)}_r"?\s*', sql) is not None


def _tf_on_exact(levels: list[dict], cc: ComparisonConfig) -> list[dict]:
    """`levels` with term frequencies of `cc.column` on its exact-match level (a value
    many records share is weaker evidence), added first when there is none: Splink
    weighs by frequency only where the two values are equal."""
    c = cc.column or ""
    if not any(_is_exact(lv["sql_condition"], c) for lv in levels):
        first = next(i for i, lv in enumerate(levels) if not lv.get("is_null_level"))
        levels = [*levels[:first], _level(_eq(c), "exact"), *levels[first:]]
    return [{**lv, "tf_adjustment_column": c, "tf_adjustment_weight": 1.0}
            if _is_exact(lv["sql_condition"], c) else lv for lv in levels]


def _sql_levels(cc: ComparisonConfig) -> list[dict]:
    """Your own SQL levels (`levels`), as written, between a null level (every compared
    column missing on one side; with `column`, that column) and the ELSE level: Splink's
    CustomComparison with its NullLevel and ElseLevel."""
    cols = [cc.column] if cc.column else cc.sql_columns()
    null = " AND ".join(f"({_either_null(c)})" for c in cols)
    levels = [_level(null, "missing", null=True),
              *[_level(lv.sql, lv.label) for lv in cc.levels or []],
              _level("ELSE", "different")]
    return _tf_on_exact(levels, cc) if cc.term_frequency else levels


def jaccard_sql(c: str) -> str:
    """Jaccard similarity of two lists: shared distinct items over all distinct items."""
    return (f"{shared_sql(c)}::DOUBLE / "
            f"greatest(array_length(list_distinct(list_concat({_l(c)}, {_r(c)}))), 1)")


def shared_sql(c: str) -> str:
    """The number of distinct items two lists share (array_length, not len: it reads as
    Spark's size() on the Spark backend)."""
    return f"array_length(list_distinct(list_intersect({_l(c)}, {_r(c)})))"


def _list_levels(cc: ComparisonConfig) -> list[dict]:
    """A list column (a field with standardizer `list`): Jaccard similarity levels, then
    levels by the number of items shared (Splink's ArrayIntersectAtSizes), each most
    similar first; by default 'at least 2 shared' and 'at least 1 shared'."""
    c = cc.column or ""
    jac = [_level(f"{jaccard_sql(c)} >= {t!r}", f"Jaccard >= {t:g}") for t in cc.jaccard or []]
    sizes = cc.overlap if cc.overlap is not None else ([] if cc.jaccard else [2, 1])
    shared = [_level(f"{shared_sql(c)} >= {n}",
                     f"at least {n} shared") for n in sizes]
    levels = [_level(_either_null(c), "missing", null=True), *jac, *shared,
              _level("ELSE", "nothing shared" if sizes and sizes[-1] == 1 else "different")]
    return _tf_on_exact(levels, cc) if cc.term_frequency else levels


def _date_distance_levels(cc: ComparisonConfig) -> list[dict]:
    """A DATE or TIMESTAMP column: exact, then within each of `within` (Splink's
    AbsoluteDateDifferenceAtThresholds)."""
    metrics, thresholds = within_thresholds(cc.within or [])
    made = splink_comparison("AbsoluteDateDifferenceAtThresholds", cc.column, {
        "input_is_string": False, "metrics": metrics, "thresholds": thresholds,
        "term_frequency_adjustments": cc.term_frequency})
    return made.get_comparison("duckdb").as_dict()["comparison_levels"]


_BUILDERS: dict[str, Callable[[ComparisonConfig], list[dict]]] = {
    "name": _name_levels,
    "person_name": _person_levels,
    "identifier": _identifier_levels,
    "phone": _phone_levels,
    "email": _email_levels,
    "address": _address_levels,
    "branch": _branch_levels,
    "exact": _exact_levels,
    "date": _exact_levels,
    "text": _text_levels,
    "code": _code_levels,
    "list": _list_levels,
    "date_distance": _date_distance_levels,
}


def comparison(cc: ComparisonConfig) -> dict[str, Any]:
    if cc.splink:
        form, levels = f"splink {cc.splink}", _splink_levels(cc)
    elif cc.levels:
        form, levels = "SQL", _sql_levels(cc)
    else:
        form, levels = f"{cc.kind}", _BUILDERS[cc.kind or ""](cc)
    return {
        "output_column_name": cc.name,
        "comparison_description": f"{form} comparison of {cc.column or ', '.join(cc.sql_columns())}",
        "comparison_levels": levels,
    }


def blocking_rule_sql(columns_or_exprs: list[str]) -> str:
    return block_on(*columns_or_exprs).get_blocking_rule("duckdb").blocking_rule_sql


def used_columns(config: Config) -> list[str]:
    cols: list[str] = []
    for cc in config.model.comparisons:
        for c in (cc.column, cc.pinyin_column, *cc.extra_columns, *cc.sql_columns()):
            if c and c not in cols:
                cols.append(c)
    return cols


def _any(conditions: list[str]) -> str:
    """True when any condition holds; NULL (a missing value) counts as false."""
    return "coalesce(" + " OR ".join(f"({c})" for c in conditions) + ", FALSE)"


def _trade_share(c: str) -> str:
    """Of two company names, the characters outside industry words (超市, 副食, 商行: see
    `INDUSTRY_CHARACTERS`) that one shares with the other, over the longer such part."""
    from resolution.standardize.company import INDUSTRY_CHARACTERS

    ind = quote_literal(INDUSTRY_CHARACTERS)

    def trade(x: str) -> str:
        return f"list_filter(string_split({x}, ''), lambda ch: NOT contains({ind}, ch))"

    shared = (f"len(list_filter(string_split({_l(c)}, ''), lambda ch: contains({_r(c)}, ch) "
              f"AND NOT contains({ind}, ch)))")
    return f"({shared}::DOUBLE / greatest(len({trade(_l(c))}), len({trade(_r(c))}), 1))"


def condition_on_parties(settings: dict[str, Any], config: Config) -> dict[str, Any]:
    """`settings` with `model.parties` (see `resolution.config.PartiesConfig`) folded into
    the comparisons' null levels: the pairs it names get no evidence from those comparisons.

    Training estimates u on random pairs before this is applied: conditioned on names that
    do not tell two records apart, random pairs are no longer mostly non-matches (most
    random pairs with one name are duplicates), so u would be overstated."""
    parties = config.model.parties
    if parties is None:
        return settings
    comparisons = [{**c, "comparison_levels": [dict(lv) for lv in c["comparison_levels"]]}
                   for c in settings["comparisons"]]
    by_name = {c["output_column_name"]: c for c in comparisons}
    name_levels = by_name[parties.name]["comparison_levels"]
    scored = [lv["sql_condition"] for lv in name_levels
              if not lv.get("is_null_level") and lv["sql_condition"] != "ELSE"]
    name_null = next(lv["sql_condition"] for lv in name_levels if lv.get("is_null_level"))
    # the name comparison ends in its "different" level: the names tell the records apart
    names_differ = f"NOT {_any([name_null, *scored])}"
    names_agree = _any(scored[:2])  # exact, same pinyin
    k = parties.kind_column
    # Two companies whose names share only industry words (益利副食品, 华鑫副食品: 副食品)
    # are told apart by their trade names (字号) as much as by a "different" level: a
    # salesperson's name and mobile on both is no evidence of one customer.
    close = [lv["sql_condition"] for lv in name_levels
             if lv.get("label_for_charts", "").startswith(("exact", "same pinyin", "most characters"))]
    column = next(cc.column for cc in config.model.comparisons if cc.name == parties.name)
    # (in Chinese characters on both sides: "Ruifa Fushipin" and 瑞发副食品 share none)
    # a range of code points, not \p{Han}: Spark's Java regex spells that class differently
    han = (f"regexp_matches({_l(column)}, '[\u4e00-\u9fff]') AND "
           f"regexp_matches({_r(column)}, '[\u4e00-\u9fff]')")
    names_differ = (f"({names_differ}) OR ({_l(k)} = 'company' AND {_r(k)} = 'company' AND "
                    f"NOT {_any(close)} AND {han} AND {_trade_share(column)} < 0.5)")
    either_person = f"coalesce({_l(k)} = 'person' OR {_r(k)} = 'person', FALSE)"
    # a person and a company whose names are not the same (张伟 and 张伟五金店: a 个体 shop
    # and its owner) are two parties as well, however many characters they share
    kinds_differ = f"coalesce({_l(k)} <> {_r(k)}, FALSE)"
    apart = f"({names_differ}) OR ({kinds_differ} AND NOT {names_agree})"

    def widen_null(comp: str, condition: str, why: str) -> None:
        null = next(lv for lv in by_name[comp]["comparison_levels"] if lv.get("is_null_level"))
        null["sql_condition"] = f"({null['sql_condition']}) OR ({condition})"
        null["label_for_charts"] = f"{null['label_for_charts']} / {why}"

    for comp in parties.shared_contacts:
        widen_null(comp, apart, "names tell the parties apart")
    for comp in parties.person_contact:
        widen_null(comp, either_person, "a person's contact is the person")
    if parties.mailbox:
        col = next(cc.column for cc in config.model.comparisons if cc.name == parties.mailbox)
        widen_null(parties.mailbox,
                   f"{names_agree} AND {_l(col)} <> {_r(col)} AND "
                   f"split_part({_l(col)}, '@', 1) = split_part({_r(col)}, '@', 1)",
                   "same mailbox, names agree")
    return {**settings, "comparisons": comparisons}


def build_settings(
    config: Config, link_type: LinkType = "dedupe_only", parties: bool = True
) -> dict[str, Any]:
    """The untrained Splink settings dict for `config` (`parties=False`: without
    `model.parties`' conditioning, for estimating u)."""
    settings = {
        "link_type": link_type,
        "unique_id_column_name": "record_id",
        "source_dataset_column_name": "source_dataset",
        "probability_two_random_records_match": 1e-4,
        "comparisons": [comparison(cc) for cc in config.model.comparisons],
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": blocking_rule_sql(br)} for br in config.model.blocking_rules
        ],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": [],
    }
    return condition_on_parties(settings, config) if parties else settings


def prior_for_input(
    settings: dict[str, Any], trained_on: int | None, records: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings with λ (the probability that two random records match) for an input of
    `records` records, from a model whose λ was estimated on `trained_on` records, and what
    was used (for summary.json).

    A customer base that grows keeps about the same duplicates per record, while its pairs
    grow with the square of its size: λ scales by (trained_on - 1) / (records - 1). A model
    trained on 1M records and run on 10M kept λ 7.8x too high (every pair ~3 bits too
    strong). Linking models (`link_only`: pairs across sources) and models without a
    record count keep λ as trained."""
    lam = float(settings.get("probability_two_random_records_match", 0.0))
    used = {"trained_on_records": trained_on, "records": records, "lambda_trained": lam,
            "lambda_used": lam, "rescaled": False}
    if (not trained_on or trained_on < 2 or records < 2 or trained_on == records
            or settings.get("link_type", "dedupe_only") != "dedupe_only" or not 0 < lam < 1):
        return settings, used
    new = min(lam * (trained_on - 1) / (records - 1), 0.5)
    used.update(lambda_used=new, rescaled=True)
    return {**settings, "probability_two_random_records_match": new}, used


LINK_TYPES = ("dedupe_only", "link_only", "link_and_dedupe")


def training_table(con: duckdb.DuckDBPyConnection, table: str, link_type: str) -> str:
    """The table Splink trains on: for linking, `source_system` is Splink's source_dataset."""
    if link_type not in LINK_TYPES:
        raise InputError(f"unknown link type '{link_type}'; use one of {', '.join(LINK_TYPES)}")
    if link_type == "dedupe_only":
        return table
    n = scalar(con, f"SELECT count(DISTINCT source_system) FROM {table}")
    if n < 2:
        raise InputError(
            f"link type {link_type} needs records from at least two sources (source_system); "
            f"found {n}"
        )
    view = f"_{table}_linking"
    con.execute(
        f"CREATE OR REPLACE VIEW {view} AS SELECT *, source_system AS source_dataset FROM {table}"
    )
    return view
