"""Reading a sharing responsibility list (共享责任清单) from a spreadsheet, CSV or YAML file.

Framework-free: returns plain dataclasses, or every problem found, each naming the sheet, row and
column, so that an officer can fix the whole file in one pass.

Template (the export writes the same, so that a round trip works):

* sheet ``数据集`` (or ``datasets``), one row per dataset, header in row 1 —
  资源代码/code, 资源名称/name, 摘要/summary, 资源分类/category, 关键字段/key_field,
  更新周期/update_frequency, 共享类型/sharing_type, 共享条件/conditions, 依据/legal_basis
* sheet ``信息项`` (or ``fields``), one row per field —
  资源代码/dataset_code, 信息项名称/name, 信息项中文名/label, 数据类型/data_type,
  敏感级别/sensitivity, 共享类型/sharing_type, 共享条件/conditions, 依据/legal_basis,
  脱敏规则/masking, 必填/required, 可选值/enum_values (separated by ``|``), 说明/description

Coded columns (update frequency, sharing type, data type, sensitivity, masking) take the codes
(``conditional``) or the words of a ``Vocabulary`` (by default the Chinese sharing types,
``有条件共享``; the platform passes the labels its forms show, in Chinese and English); booleans
take 是/否, yes/no, true/false, 1/0.
The CSV form is one row per field with the dataset columns repeated (prefixed ``数据集.``).
YAML: ``datasets: [{code, name, ..., fields: [{name, label, ...}]}]``.
"""

from govdata.responsibility_list.model import (
    CODED_COLUMNS,
    CSV_DATASET_PREFIX,
    DATASET_COLUMNS,
    DATASET_SHEETS,
    DEFAULT_VOCABULARY,
    ENUM_SEPARATOR,
    FALSE_CELL,
    FIELD_COLUMNS,
    FIELD_SHEETS,
    REQUIRED_DATASET_COLUMNS,
    REQUIRED_FIELD_COLUMNS,
    SHARING_TYPE_ALIASES,
    TRUE_CELL,
    DatasetSpec,
    FieldSpec,
    ListError,
    ResponsibilityListError,
    Vocabulary,
    column_letter,
    word_key,
)
from govdata.responsibility_list.readers import parse_csv, parse_file, parse_xlsx, parse_yaml
from govdata.responsibility_list.validate import build_specs

__all__ = [
    "CODED_COLUMNS",
    "CSV_DATASET_PREFIX",
    "DATASET_COLUMNS",
    "DATASET_SHEETS",
    "DEFAULT_VOCABULARY",
    "DatasetSpec",
    "ENUM_SEPARATOR",
    "FALSE_CELL",
    "FIELD_COLUMNS",
    "FIELD_SHEETS",
    "FieldSpec",
    "ListError",
    "REQUIRED_DATASET_COLUMNS",
    "REQUIRED_FIELD_COLUMNS",
    "ResponsibilityListError",
    "SHARING_TYPE_ALIASES",
    "TRUE_CELL",
    "Vocabulary",
    "build_specs",
    "column_letter",
    "parse_csv",
    "parse_file",
    "parse_xlsx",
    "parse_yaml",
    "word_key",
]
