"""The records the query and read tests load, and two sets of masks."""

from __future__ import annotations

import datetime as dt

ROWS = [
    {
        "id_number": f"44010619900101{i:04d}",
        "name": name,
        "gender": "男" if i % 2 else "女",
        "birth_date": dt.date(1980 + i, 1, 2),
        "mobile": f"1380013{i:04d}",
        "address": address,
        "district": district,
        "religion": "秘密信仰",
    }
    for i, (name, address, district) in enumerate(
        [
            ("张三", "广东省广州市天河区体育西路1号", "天河区"),
            ("李四", "广东省广州市越秀区北京路2号", "越秀区"),
            ("王五", "广东省深圳市南山区3号", None),
            ("赵", "北京市朝阳路", "天河区"),
            ("", "无", "越秀区"),
            ("欧阳娜娜", None, "天河区"),
        ]
    )
]
CLEAR_ALL = {n: "none" for n in ROWS[0]}
CONSUMER = {
    "id_number": "none",
    "name": "name",
    "gender": "none",
    "birth_date": "year_only",
    "mobile": "mobile",
    "address": "address",
    "district": "none",
}
