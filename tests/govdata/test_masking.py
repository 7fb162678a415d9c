"""The masking rules of govdata.masking (product.md, "Masking rules"); that SQL gives the same
values is tested in tests/records/test_sql_masking.py."""

from __future__ import annotations

import pytest

from govdata.masking import make_masker, mask_address, mask_name

# Addresses and what the `address` rule keeps of them: up to the district when a city comes
# before it and nothing of a street is in it, else up to the city, else nothing.
ADDRESSES: list[tuple[str, str]] = [
    ("广东省广州市天河区体育西路1号", "广东省广州市天河区****"),
    ("北京市朝阳区", "北京市朝阳区****"),
    ("贵州省贵阳市云岩区", "贵州省贵阳市云岩区****"),
    # The first 区 (自治区) has no city before it: the city is kept.
    ("新疆维吾尔自治区乌鲁木齐市天山区光明路8号", "新疆维吾尔自治区乌鲁木齐市****"),
    # No district: 小区 is an estate, and the street and number come before it.
    ("广州市天河路385号太古汇小区3栋", "广州市****"),
    ("广东省广州市天河路385号太古汇小区3栋", "广东省广州市****"),
    ("北京市朝阳路", "北京市****"),
    ("广州市１号园区", "广州市****"),  # a full-width digit is a number too
    ("广州市tower区", "广州市****"),
    # No city before the district, or no city at all: nothing.
    ("天河区体育西路", "****"),
    ("123 Main St", "****"),
    ("123 Main St, Springfield", "****"),
    ("无", "****"),
    ("杭州路12号", "杭州****"),  # 州 ends a prefecture's name: a city head, no number in it
    ("12号楼广州市", "****"),  # a city after the street part is not a head
    ("黔东南苗族侗族自治州凯里市", "黔东南苗族侗族自治州****"),
    ("阿拉善盟阿拉善左旗巴彦浩特镇", "阿拉善盟阿拉善左旗****"),
    ("广东省广州市从化县级市街口", "广东省广州市从化县****"),
    ("北京市市辖区东城区", "北京市市辖区****"),
    # No district, and a town, an estate or a zone ending in 区 after the city: the city only.
    ("广东省东莞市虎门镇怡景花园小区3栋201", "广东省东莞市****"),
    ("广东省广州市珠江新城花城汇小区", "广东省广州市****"),
    ("广东省东莞市松山湖高新技术产业开发区", "广东省东莞市****"),
    ("广东省中山市东区", "广东省中山市东区****"),  # a one-character district name
    ("上海市浦东新区世纪大道100号", "上海市浦东新区****"),
]


@pytest.mark.parametrize(("value", "expected"), ADDRESSES)
def test_address_keeps_the_district_or_the_city_and_never_the_street(value, expected):
    assert mask_address(value) == expected


def test_an_empty_or_missing_address_stays_as_it_is():
    # An empty address is shown as empty, not as "****" standing for a value that is not there.
    assert mask_address("") == ""
    assert mask_address(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("张三", "张*"), ("欧阳娜娜", "欧***"), ("张", "*"), ("", ""), (None, None)],
)
def test_name_keeps_only_the_first_character_of_a_longer_name(value, expected):
    assert mask_name(value) == expected


def test_the_rules_are_reached_through_make_masker():
    assert make_masker("name")("张") == "*"
    assert make_masker("address")("广州市天河路385号") == "广州市****"
