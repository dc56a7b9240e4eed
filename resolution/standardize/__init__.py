"""Standardizers: one family of small pure functions per field type, and their DuckDB twins.

This package owns turning raw customer values into comparable ones. Each family is a pure
function that never raises, whatever it is given:

- ``text_basic`` — the basics every Chinese text field gets: full-width → half-width (NFKC),
  traditional → simplified (OpenCC t2s), brackets and punctuation unified, whitespace collapsed,
  Latin lower-cased.
- ``company_name`` / ``person_name`` / ``customer_name`` — names split into core, region, legal
  form, branch and a pinyin key that Chinese, traditional, pinyin and English spellings share
  (the company keys come from ``latin``).
- ``person_name_latin`` — a person's name in Latin script: surname and given name kept apart,
  case, diacritics, titles, suffixes (Jr), "Last, First", spaces and hyphens inside a name
  ("Jun Ho" = "Junho"), nicknames, and a key insensitive to order (pinyin names either way
  round meet their Chinese writing).
- ``parse_phone``, ``parse_email``, ``parse_address``, ``parse_uscc``, ``parse_id_card``,
  ``parse_datetime`` — validators that normalise and flag, keeping invalid values visible.

``standardize_table`` runs the same functions as Arrow-vectorised UDFs over the *distinct*
values of each field (customer data repeats a lot) and joins the results back, so the table and
the pure functions always agree: inside DuckDB for small tables, and in forked worker processes
for large ones (Python UDFs hold the GIL, so one process would use one core). ``register_udfs``
exposes the UDFs (``std_phone(x).e164`` …) to other stages.

Conventions: a value that means "missing" (无, 暂无, N/A, -, 0 …) is treated as NULL; a validity
flag is NULL when there was no value and False when there was one that is not valid; invalid
identifiers keep their cleaned value but never get a match key.

Modules, one responsibility each: ``text`` (text basics, placeholders, numerals),
``divisions`` (the administrative-division table), ``person``, ``person_latin``, ``company``,
``customer``, ``phone``, ``email``, ``identifiers`` (USCC, ID card), ``dates``, ``address``,
``latin`` (keys Chinese and English/pinyin writings share), ``columns`` (the standardized
columns) and ``engine`` (UDFs, worker processes, the cache, ``standardize_table``).
"""

from __future__ import annotations

from resolution.standardize.address import Address, parse_address
from resolution.standardize.columns import SOURCE_COLUMNS, STD_COLUMNS
from resolution.standardize.company import CompanyName, company_name
from resolution.standardize.customer import CustomerName, customer_name, name_kind
from resolution.standardize.dates import parse_datetime
from resolution.standardize.email import Email, parse_email
from resolution.standardize.engine import register_udfs, standardize_table, standardizer_version
from resolution.standardize.identifiers import IdCard, Uscc, parse_id_card, parse_uscc
from resolution.standardize.person import PersonName, person_name, pinyin_key
from resolution.standardize.person_latin import LatinPersonName, person_name_latin
from resolution.standardize.phone import Phone, parse_phone
from resolution.standardize.text import is_placeholder, text_basic

__all__ = [
    "SOURCE_COLUMNS",
    "STD_COLUMNS",
    "Address",
    "CompanyName",
    "CustomerName",
    "Email",
    "IdCard",
    "LatinPersonName",
    "PersonName",
    "Phone",
    "Uscc",
    "company_name",
    "customer_name",
    "is_placeholder",
    "name_kind",
    "parse_address",
    "parse_datetime",
    "parse_email",
    "parse_id_card",
    "parse_phone",
    "parse_uscc",
    "person_name",
    "person_name_latin",
    "pinyin_key",
    "register_udfs",
    "standardize_table",
    "standardizer_version",
    "text_basic",
]
