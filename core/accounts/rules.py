"""Pure checks on account input (no I/O)."""

from __future__ import annotations

import datetime as dt
import re

from core.accounts.roles import ALL_ROLES, HOSPITAL_ROLES, REGION_ROLES
from core.accounts.schemas import PersonInput, UserInput
from core.errors import Problem

USERNAME = re.compile(r"^[a-z0-9_.-]{2,60}$")
MIN_PASSWORD = 10


def check_user_input(data: UserInput, *, creating: bool) -> list[Problem]:
    problems: list[Problem] = []
    if not USERNAME.match(data.username):
        problems.append(Problem("用户名须为 2–60 位小写字母、数字、点、下划线或连字符", "username"))
    if not data.display_name.strip():
        problems.append(Problem("请填写姓名", "display_name"))
    unknown = [r for r in data.roles if r not in ALL_ROLES]
    if not data.roles:
        problems.append(Problem("请至少选择一个角色", "roles"))
    elif unknown:
        problems.append(Problem(f"未知角色：{'、'.join(unknown)}", "roles"))
    roles = set(data.roles)
    if roles & HOSPITAL_ROLES and data.institution is None:
        problems.append(Problem("医院角色必须归属一个医疗机构", "institution"))
    if roles & REGION_ROLES and data.region is None:
        problems.append(Problem("监管与质控角色必须归属一个行政区划", "region"))
    if roles & HOSPITAL_ROLES and roles & REGION_ROLES:
        problems.append(Problem("医院角色与监管角色不能由同一账号兼任", "roles"))
    if creating and not data.password:
        problems.append(Problem("请设置初始密码", "password"))
    if data.password and len(data.password) < MIN_PASSWORD:
        problems.append(Problem(f"密码至少 {MIN_PASSWORD} 位", "password"))
    return problems


EARLIEST_RESIDENT_START = dt.date(1950, 1, 1)
MAX_QUALIFICATION = 60


def check_person_input(data: PersonInput, today: dt.date) -> list[Problem]:
    """Person attributes HOSP-5 reads: a resident start in the past, sensible qualification names."""
    problems: list[Problem] = []
    if data.resident_since is not None and data.resident_since > today:
        problems.append(Problem("住院医师起始日期不能晚于今天", "resident_since"))
    elif data.resident_since is not None and data.resident_since < EARLIEST_RESIDENT_START:
        problems.append(Problem("住院医师起始日期不能早于 1950 年", "resident_since"))
    too_long = [q for q in data.qualifications if len(q) > MAX_QUALIFICATION]
    if too_long:
        problems.append(Problem(f"每项资质证书名称不超过 {MAX_QUALIFICATION} 字：{too_long[0][:20]}…", "qualifications"))
    return problems
