"""The standardized columns: which source fields feed which standardizer, and which result
field becomes which column (``STD_COLUMNS``).
"""

from __future__ import annotations

from resolution.config import CANONICAL_FIELDS

SOURCE_COLUMNS = CANONICAL_FIELDS  # the source columns standardize_table reads

STD_COLUMNS: dict[str, str] = {
    "name_std": "VARCHAR",
    "name_kind": "VARCHAR",
    "name_core": "VARCHAR",
    "name_region": "VARCHAR",
    "name_legal_form": "VARCHAR",
    "name_branch": "VARCHAR",
    "name_pinyin": "VARCHAR",
    "contact_std": "VARCHAR",
    "contact_pinyin": "VARCHAR",
    "contact_surname": "VARCHAR",
    "mobile_e164": "VARCHAR",
    "mobile_type": "VARCHAR",
    "mobile_valid": "BOOLEAN",
    "phone_e164": "VARCHAR",
    "phone_ext": "VARCHAR",
    "phone_type": "VARCHAR",
    "phone_valid": "BOOLEAN",
    "email_std": "VARCHAR",
    "email_valid": "BOOLEAN",
    "province_std": "VARCHAR",
    "city_std": "VARCHAR",
    "district_std": "VARCHAR",
    "address_std": "VARCHAR",
    "addr_road": "VARCHAR",
    "addr_number": "VARCHAR",
    "addr_building": "VARCHAR",
    "addr_room": "VARCHAR",
    "uscc_std": "VARCHAR",
    "uscc_valid": "BOOLEAN",
    "id_card_std": "VARCHAR",
    "id_card_valid": "BOOLEAN",
    "birth_date": "DATE",
    "gender": "VARCHAR",
    "updated_at_ts": "TIMESTAMP",
    "uscc_key": "VARCHAR",
    "id_card_key": "VARCHAR",
    "mobile_key": "VARCHAR",
    "phone_key": "VARCHAR",
    "email_key": "VARCHAR",
}
