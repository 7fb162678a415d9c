"""The demo generators produce numbers that python-stdnum accepts, and always the same ones."""

from __future__ import annotations

import datetime as dt

from stdnum.cn import ric, uscc

from fixtures.generate import (
    credit_code_check_char,
    enterprises,
    id_number_check_char,
    make_credit_code,
    make_id_number,
    people,
)


def test_check_characters_match_published_examples():
    assert id_number_check_char("11010519491231002") == "X"  # GB 11643 example number
    assert credit_code_check_char("91110000600037341") == "L"


def test_generated_resident_id_numbers_are_valid_and_encode_birth_and_sex():
    number = make_id_number("440106", dt.date(1990, 3, 7), 41, male=True)
    assert ric.validate(number) == number
    assert ric.get_birth_date(number) == dt.date(1990, 3, 7)
    assert int(number[16]) % 2 == 1
    assert int(make_id_number("440106", dt.date(1990, 3, 7), 41, male=False)[16]) % 2 == 0


def test_every_person_in_the_pool_has_a_valid_unique_id_number():
    pool = people(2000, seed=3)
    numbers = [p.id_number for p in pool]
    assert len(set(numbers)) == len(numbers)
    assert all(ric.is_valid(n) for n in numbers)
    born_late = [p for p in pool if p.birth_date.year >= 1990][:50]
    assert all(ric.get_birth_place(p.id_number)["county"] == p.district for p in born_late)


def test_every_enterprise_has_a_valid_unique_credit_code():
    pool = enterprises(1000, seed=3)
    codes = [e.credit_code for e in pool]
    assert len(set(codes)) == len(codes)
    assert all(uscc.is_valid(c) for c in codes)
    assert uscc.is_valid(make_credit_code("440106", 12345678))


def test_the_same_seed_yields_the_same_world_and_another_seed_another():
    assert people(300, seed=9) == people(300, seed=9)
    assert enterprises(100, seed=9) == enterprises(100, seed=9)
    assert people(300, seed=9) != people(300, seed=10)
