"""The shape of the generated data, shared by every module of the generator: the output
columns, the source systems and customer types, the hard-non-duplicate kinds, and the
integer codes the generator uses for sources (``_CRM`` .. ``_OVS``, in SOURCE_SYSTEMS
order) and entity types (``_CO``, ``_PER``, in CUSTOMER_TYPES order)."""

from __future__ import annotations

from resolution.config import CANONICAL_FIELDS

CANONICAL_COLUMNS = list(CANONICAL_FIELDS)  # the config's canonical customer schema
SOURCE_SYSTEMS = ("CRM", "ERP", "SHOP", "HKTW", "OVERSEAS")
CUSTOMER_TYPES = ("企业", "个人")
HARD_NEGATIVE_KINDS = ("chain_branch", "shared_salesperson", "family", "same_name")
GROUP_COLUMNS = ["group_id", "kind", "entity_id"]

_CRM, _ERP, _SHOP, _HKTW, _OVS = range(5)
_CO, _PER = 0, 1
