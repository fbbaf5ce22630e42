"""Every limit of core/accounts/rules.py, at, before and past it. Pure: no database."""

from __future__ import annotations

import datetime as dt

import pytest

from core.accounts import rules
from core.accounts.schemas import PersonInput, UserInput
from core.errors import Problem

D = dt.date.fromisoformat


def _user(**kw) -> UserInput:
    return UserInput(**{"username": "wang.li", "display_name": "王立", "roles": ["clinician"], "institution": 1,
                        "password": "0123456789", **kw})


def test_a_valid_user_has_no_problem():
    assert rules.check_user_input(_user(), creating=True) == []
    assert rules.check_user_input(_user(roles=["regulator"], institution=None, region=3), creating=True) == []
    assert rules.check_user_input(_user(roles=["admin"], institution=None, password=None), creating=False) == []


@pytest.mark.parametrize("name", ["ab", "a" * 60, "a_b.c-9"])
def test_username_2_to_60_allowed_characters(name):
    assert rules.check_user_input(_user(username=name), creating=True) == []


@pytest.mark.parametrize("name", ["a", "a" * 61, "Wang", "王立", "a b", ""])
def test_username_outside_2_to_60_or_other_characters(name):
    assert rules.check_user_input(_user(username=name), creating=True) == [
        Problem("用户名须为 2–60 位小写字母、数字、点、下划线或连字符", "username")]


def test_password_at_9_10_and_11_characters():
    assert rules.MIN_PASSWORD == 10
    assert rules.check_user_input(_user(password="123456789"), creating=True) == [Problem("密码至少 10 位", "password")]
    assert rules.check_user_input(_user(password="1234567890"), creating=True) == []
    assert rules.check_user_input(_user(password="12345678901"), creating=True) == []
    assert rules.check_user_input(_user(password=None), creating=True) == [Problem("请设置初始密码", "password")]
    assert rules.check_user_input(_user(password=""), creating=True) == [Problem("请设置初始密码", "password")]
    assert rules.check_user_input(_user(password=None), creating=False) == []


def test_name_and_roles():
    assert rules.check_user_input(_user(display_name="  "), creating=True) == [Problem("请填写姓名", "display_name")]
    assert rules.check_user_input(_user(roles=[]), creating=True) == [Problem("请至少选择一个角色", "roles")]
    assert rules.check_user_input(_user(roles=["clinician", "wizard", "bard"]), creating=True) == [
        Problem("未知角色：wizard、bard", "roles")]


def test_role_scopes():
    assert rules.check_user_input(_user(institution=None), creating=True) == [
        Problem("医院角色必须归属一个医疗机构", "institution")]
    assert rules.check_user_input(_user(roles=["qc_center"], institution=None), creating=True) == [
        Problem("监管与质控角色必须归属一个行政区划", "region")]
    assert rules.check_user_input(_user(roles=["clinician", "regulator"], region=2), creating=True) == [
        Problem("医院角色与监管角色不能由同一账号兼任", "roles")]


@pytest.mark.rule("HOSP-5")
def test_hosp5_resident_start_between_1950_and_today():
    today = D("2026-06-01")
    assert rules.check_person_input(PersonInput(resident_since=today), today) == []
    assert rules.check_person_input(PersonInput(resident_since=D("2026-06-02")), today) == [
        Problem("住院医师起始日期不能晚于今天", "resident_since")]
    assert rules.check_person_input(PersonInput(resident_since=D("1950-01-01")), today) == []
    assert rules.check_person_input(PersonInput(resident_since=D("1949-12-31")), today) == [
        Problem("住院医师起始日期不能早于 1950 年", "resident_since")]
    assert rules.check_person_input(PersonInput(), today) == []


@pytest.mark.rule("HOSP-5")
def test_hosp5_qualification_names_up_to_60_characters():
    today = D("2026-06-01")
    assert rules.check_person_input(PersonInput(qualifications=["证" * 60]), today) == []
    long = "长" * 61
    assert rules.check_person_input(PersonInput(qualifications=["医师资格证", long, "x" * 70]), today) == [
        Problem(f"每项资质证书名称不超过 60 字：{long[:20]}…", "qualifications")]
