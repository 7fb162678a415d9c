"""The domain's closed vocabularies, shared by the Django models and the framework-free core."""

from __future__ import annotations

from enum import StrEnum


class SharingType(StrEnum):
    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NONE = "none"  # 不予共享


# Higher is stricter: "the most restrictive rule wins".
SHARING_STRICTNESS = {SharingType.UNCONDITIONAL: 0, SharingType.CONDITIONAL: 1, SharingType.NONE: 2}
SHARING_TYPES_NEEDING_LEGAL_BASIS = frozenset({SharingType.CONDITIONAL, SharingType.NONE})


class DataType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ID_CARD = "id_card"  # resident ID number, GB 11643
    CREDIT_CODE = "credit_code"  # unified social credit code, GB 32100
    MOBILE = "mobile"
    ENUM = "enum"


class Sensitivity(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    SENSITIVE = "sensitive"
    HIGHLY_SENSITIVE = "highly_sensitive"


class UpdateFrequency(StrEnum):
    REALTIME = "realtime"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ON_DEMAND = "on_demand"


def dataset_type_admits_field_type(dataset_type: str, field_type: str) -> bool:
    """An unconditional dataset has only unconditional fields, a `none` dataset only `none`
    fields; a conditional dataset may mix (part open to all, part on request)."""
    if dataset_type == SharingType.UNCONDITIONAL:
        return field_type == SharingType.UNCONDITIONAL
    if dataset_type == SharingType.NONE:
        return field_type == SharingType.NONE
    return field_type in SHARING_STRICTNESS
