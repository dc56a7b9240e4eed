"""The standardized columns: which source fields feed which standardizer, and which result
field becomes which column (``STD_COLUMNS``); and for the fields a config declares
(`fields`: your own columns), the columns each standardizer adds (``FIELD_STANDARDIZERS``,
``field_columns``).

This is the one field → column mapping: ``engine.standardize_table`` renders it as SQL over
the lookups of distinct values (``select_sql``), and ``check.standardize_record``, the pure
twin the entry-time check uses, applies it to one record's results (``record_columns``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from resolution.config import CANONICAL_FIELDS, FieldConfig
from resolution.db import quote_literal
from resolution.errors import ConfigError
from resolution.standardize.address import parse_address
from resolution.standardize.customer import customer_name
from resolution.standardize.dates import parse_datetime
from resolution.standardize.email import parse_email
from resolution.standardize.identifiers import parse_id_card, parse_uscc
from resolution.standardize.person import person_name
from resolution.standardize.phone import parse_phone

SOURCE_COLUMNS = CANONICAL_FIELDS  # the source columns standardize_table reads


class Lookup(NamedTuple):
    """One standardizer run over the distinct values of its source fields."""

    fields: tuple[str, ...]  # the source columns, in the standardizer's argument order
    udf: str  # its DuckDB twin (engine._UDFS)
    fn: Any  # the pure standardizer


LOOKUPS: dict[str, Lookup] = {
    "name": Lookup(("customer_name", "customer_type"), "std_customer_name", customer_name),
    "contact": Lookup(("contact_name",), "std_person_name", person_name),
    "email": Lookup(("email",), "std_email", parse_email),
    "addr": Lookup(("province", "city", "district", "address"), "std_address", parse_address),
    "uscc": Lookup(("uscc",), "std_uscc", parse_uscc),
    "idc": Lookup(("id_card",), "std_id_card", parse_id_card),
    # one lookup for both phone columns: the distinct values of mobile and phone together
    "tel": Lookup(("mobile", "phone"), "std_phone", parse_phone),
    "ts": Lookup(("updated_at",), "std_datetime", parse_datetime),
}

# the results one record joins: alias -> (lookup, the source fields it is looked up by)
JOINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "n": ("name", ("customer_name", "customer_type")),
    "c": ("contact", ("contact_name",)),
    "e": ("email", ("email",)),
    "a": ("addr", ("province", "city", "district", "address")),
    "u": ("uscc", ("uscc",)),
    "i": ("idc", ("id_card",)),
    "m": ("tel", ("mobile",)),
    "p": ("tel", ("phone",)),
    "t": ("ts", ("updated_at",)),
}

# standardized column -> (DuckDB type, join alias, result field; None: the result itself)
_VALUES: dict[str, tuple[str, str, str | None]] = {
    "name_std": ("VARCHAR", "n", "std"),
    "name_kind": ("VARCHAR", "n", "kind"),
    "name_core": ("VARCHAR", "n", "core"),
    "name_region": ("VARCHAR", "n", "region"),
    "name_legal_form": ("VARCHAR", "n", "legal_form"),
    "name_branch": ("VARCHAR", "n", "branch"),
    "name_pinyin": ("VARCHAR", "n", "pinyin"),
    "contact_std": ("VARCHAR", "c", "std"),
    "contact_pinyin": ("VARCHAR", "c", "pinyin"),
    "contact_surname": ("VARCHAR", "c", "surname"),
    "mobile_e164": ("VARCHAR", "m", "e164"),
    "mobile_type": ("VARCHAR", "m", "type"),
    "mobile_valid": ("BOOLEAN", "m", "valid"),
    "phone_e164": ("VARCHAR", "p", "e164"),
    "phone_ext": ("VARCHAR", "p", "ext"),
    "phone_type": ("VARCHAR", "p", "type"),
    "phone_valid": ("BOOLEAN", "p", "valid"),
    "email_std": ("VARCHAR", "e", "std"),
    "email_valid": ("BOOLEAN", "e", "valid"),
    "province_std": ("VARCHAR", "a", "province"),
    "city_std": ("VARCHAR", "a", "city"),
    "district_std": ("VARCHAR", "a", "district"),
    "address_std": ("VARCHAR", "a", "street"),
    "addr_road": ("VARCHAR", "a", "road"),
    "addr_number": ("VARCHAR", "a", "number"),
    "addr_building": ("VARCHAR", "a", "building"),
    "addr_room": ("VARCHAR", "a", "room"),
    "uscc_std": ("VARCHAR", "u", "std"),
    "uscc_valid": ("BOOLEAN", "u", "valid"),
    "id_card_std": ("VARCHAR", "i", "std"),
    "id_card_valid": ("BOOLEAN", "i", "valid"),
    "birth_date": ("DATE", "i", "birth_date"),
    "gender": ("VARCHAR", "i", "gender"),
    "updated_at_ts": ("TIMESTAMP", "t", None),
}

# match keys: `field` of the first listed result that is valid (for phones: valid or well
# formed, of the type asked for); invalid identifiers never get a key
_KEYS: dict[str, tuple[str, tuple[tuple[str, str | None], ...]]] = {
    "uscc_key": ("std", (("u", None),)),
    "id_card_key": ("std", (("i", None),)),
    "mobile_key": ("e164", (("m", "mobile"), ("p", "mobile"))),
    "phone_key": ("e164", (("p", None), ("m", "fixed"))),
    "email_key": ("std", (("e", None),)),
}

STD_COLUMNS: dict[str, str] = {col: v[0] for col, v in _VALUES.items()} | {
    col: "VARCHAR" for col in _KEYS
}


_PHONE_KEYS = ("mobile_key", "phone_key")


def _usable(alias: str, col: str) -> str:
    """SQL: the result may supply the key (phones: valid, or well formed with a type)."""
    if col in _PHONE_KEYS:
        return f"({alias}.r.valid OR {alias}.r.type IS NOT NULL)"
    return f"{alias}.r.valid"


def select_sql(override: dict[str, str] | None = None) -> str:
    """The SELECT list of the standardized columns, each join's result being ``<alias>.r``;
    `override` gives some columns another expression."""
    override = override or {}
    out = []
    for col, (_type, alias, field) in _VALUES.items():
        out.append(override.get(col) or (f"{alias}.r.{field}" if field else f"{alias}.r"))
    for col, (field, rules) in _KEYS.items():
        whens = " ".join(
            f"WHEN {_usable(a, col)}{f' AND {a}.r.type = {chr(39)}{t}{chr(39)}' if t else ''} "
            f"THEN {a}.r.{field}"
            for a, t in rules
        )
        out.append(override.get(col) or f"CASE {whens} END")
    return ",\n".join(f"{expr} AS {col}" for expr, col in zip(out, STD_COLUMNS))


def record_columns(results: dict[str, Any]) -> dict[str, Any]:
    """The standardized columns of one record from its standardizer results by join alias."""
    out: dict[str, Any] = {}
    for col, (_type, alias, field) in _VALUES.items():
        r = results[alias]
        out[col] = getattr(r, field) if field else r
    for col, (field, rules) in _KEYS.items():
        out[col] = None
        for a, t in rules:
            r = results[a]
            usable = r.valid or (col in _PHONE_KEYS and r.type is not None)
            if usable and (t is None or r.type == t):
                out[col] = getattr(r, field)
                break
    return out


# ---------------------------------------------------------------------------------------------
# Declared fields (config `fields`): any input column through one standardizer
# ---------------------------------------------------------------------------------------------


class FieldStandardizer(NamedTuple):
    """How a declared field is standardized: the UDF and its arguments (the field's value
    is `k`, its `surname_column` is `surname`; other arguments NULL), and the columns it
    adds to `records`, each `FIELD_<suffix>` with its DuckDB type and its SQL over the
    UDF's result `{r}`. Without a UDF, the columns are SQL over the input value `{v}`
    itself (and the field's separator `{sep}`)."""

    udf: str | None
    # "k": the field's value, "surname": its surname_column (NULL when unset), None: NULL
    args: tuple[str | None, ...]
    columns: tuple[tuple[str, str, str], ...]


def _key(valid: str, value: str) -> str:
    return f"CASE WHEN {valid} THEN {value} END"


_S = "VARCHAR"
FIELD_STANDARDIZERS: dict[str, FieldStandardizer] = {
    "company_name": FieldStandardizer("std_company_name", ("k",), tuple(
        (f, _S, "{r}." + f) for f in ("std", "core", "region", "legal_form", "branch", "pinyin"))),
    "person_name": FieldStandardizer("std_person_name", ("k",), tuple(
        (f, _S, "{r}." + f) for f in ("std", "surname", "given", "pinyin"))),
    # the field's column, and its surname_column when names come in two columns
    "person_name_latin": FieldStandardizer("std_person_name_latin", ("k", "surname"), tuple(
        (f, _S, "{r}." + f)
        for f in ("std", "surname", "given", "given_root", "initial", "suffix", "key"))),
    "phone": FieldStandardizer("std_phone", ("k",), (
        ("e164", _S, "{r}.e164"), ("ext", _S, "{r}.ext"), ("type", _S, "{r}.type"),
        ("valid", "BOOLEAN", "{r}.valid"),
        # as mobile_key / phone_key: valid, or well formed with a type
        ("key", _S, _key("({r}.valid OR {r}.type IS NOT NULL)", "{r}.e164")),
    )),
    "email": FieldStandardizer("std_email", ("k",), (
        ("std", _S, "{r}.std"), ("valid", "BOOLEAN", "{r}.valid"),
        ("key", _S, _key("{r}.valid", "{r}.std")),
    )),
    # one free-text address column (province, city and district are read from it)
    "address": FieldStandardizer("std_address", (None, None, None, "k"), tuple(
        (f, _S, "{r}." + f)
        for f in ("province", "city", "district", "street", "road", "number", "building", "room")
    )),
    "uscc": FieldStandardizer("std_uscc", ("k",), (
        ("std", _S, "{r}.std"), ("valid", "BOOLEAN", "{r}.valid"),
        ("key", _S, _key("{r}.valid", "{r}.std")),
    )),
    "id_card": FieldStandardizer("std_id_card", ("k",), (
        ("std", _S, "{r}.std"), ("valid", "BOOLEAN", "{r}.valid"),
        ("key", _S, _key("{r}.valid", "{r}.std")),
        ("birth_date", "DATE", "{r}.birth_date"), ("gender", _S, "{r}.gender"),
    )),
    "date": FieldStandardizer("std_datetime", ("k",), (
        ("ts", "TIMESTAMP", "{r}"), ("date", "DATE", "CAST({r} AS DATE)"),
    )),
    "text": FieldStandardizer("std_text", ("k",), (("std", _S, "{r}"),)),
    # a delimited list ("a; B;;c") as the list of its distinct trimmed lower-case items,
    # sorted (so equal sets are equal lists); no item: NULL (the comparisons' null level)
    "list": FieldStandardizer(None, ("k",), (("list", "VARCHAR[]", (
        "nullif(list_sort(list_distinct(list_filter(list_transform(string_split({v}, {sep}), "
        "lambda s: lower(trim(regexp_replace(s, '\\s+', ' ', 'g')))), lambda s: s <> ''))), "
        "[]::VARCHAR[])")),)),
    "none": FieldStandardizer(None, (), ()),
}


def field_columns(name: str, standardizer: str) -> dict[str, str]:
    """The columns a declared field adds to `records`, with their DuckDB types."""
    return {f"{name}_{suffix}": typ for suffix, typ, _sql in FIELD_STANDARDIZERS[standardizer].columns}


def declared_columns(fields: Mapping[str, FieldConfig], origin: str = "config") -> dict[str, str]:
    """Every column the declared fields add, with its type; a name that another field or a
    standardized customer column already has is a ConfigError naming the field."""
    out: dict[str, str] = {}
    owner: dict[str, str] = {}
    for name, fc in fields.items():
        for col, typ in field_columns(name, fc.standardizer).items():
            if col in STD_COLUMNS or col in CANONICAL_FIELDS:
                raise ConfigError(f"{origin}: fields.{name}: its column '{col}' is a standardized "
                                  "customer column; choose another field name")
            if col in owner:
                raise ConfigError(f"{origin}: fields.{name}: fields '{owner[col]}' and '{name}' "
                                  f"both make the column '{col}'; rename one")
            owner[col], out[col] = name, typ
    return out


def field_inputs(name: str, fc: FieldConfig) -> list[str | None]:
    """The input columns a declared field's standardizer reads, in its argument order
    (None: a NULL argument)."""
    roles = {"k": fc.column or name, "surname": fc.surname_column}
    return [roles[a] if a else None for a in FIELD_STANDARDIZERS[fc.standardizer].args]


def field_select_sql(name: str, fc: FieldConfig, alias: str, value: str) -> list[str]:
    """SELECT items of a declared field's columns, its lookup joined as `alias` (`alias.r`),
    its input value being the SQL `value`."""
    sep = quote_literal(fc.separator or ";")
    return [
        f"{sql.format(r=alias + '.r', v=value, sep=sep)} AS {name}_{suffix}"
        for suffix, _typ, sql in FIELD_STANDARDIZERS[fc.standardizer].columns
    ]
