"""Building responsibility-list files for the import tests."""

from __future__ import annotations

import io

from openpyxl import Workbook

DS_HEADER = ["资源代码", "资源名称", "摘要", "资源分类", "关键字段", "更新周期", "共享类型",
             "共享条件", "依据"]  # fmt: skip
FD_HEADER = ["资源代码", "信息项名称", "信息项中文名", "数据类型", "敏感级别", "共享类型",
             "共享条件", "依据", "脱敏规则", "必填", "可选值", "说明"]  # fmt: skip
LEGAL = "《政务数据共享条例》第十二条"


def dataset_row(code="GA-HJ-010", sharing="有条件共享", legal=LEGAL, key="id_number"):
    return [code, "户籍迁移信息", "迁入迁出记录", "人口", key, "daily", sharing, "", legal]


def field_rows(code="GA-HJ-010"):
    return [
        [code, "id_number", "公民身份号码", "id_card", "sensitive", "conditional", "", LEGAL,
         "id_card", "是", "", ""],
        [code, "district", "所属区县", "string", "public", "无条件共享", "", "", "none", "否",
         "", ""],
        [code, "gender", "性别", "enum", "internal", "unconditional", "", "", "none", "", "男|女",
         ""],
    ]  # fmt: skip


def xlsx(datasets, fields, ds_header=DS_HEADER, fd_header=FD_HEADER, names=("数据集", "信息项")):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = names[0]
    sheet.append(ds_header)
    for row in datasets:
        sheet.append(row)
    sheet = workbook.create_sheet(names[1])
    sheet.append(fd_header)
    for row in fields:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def good_xlsx(code="GA-HJ-010"):
    return xlsx([dataset_row(code)], field_rows(code))
