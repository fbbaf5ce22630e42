"""Tenants: the region tree (province → city → county), institutions, departments."""

from piccolo.columns import JSON, Boolean, ForeignKey, Text, Varchar
from piccolo.table import Table


class Region(Table):
    """A node of the administrative region tree (行政区划); regulators belong to one."""

    name = Varchar(length=100)
    code = Varchar(length=20, unique=True)
    level = Varchar(length=10)  # province / city / county
    parent = ForeignKey("self", null=True)
    # Materialised path "/1/4/9/": a region and everything below it is one LIKE.
    path = Varchar(length=200, index=True, default="/")
    # The region's health administration department as pages name it — 备案部门 and 发证机关
    # (e.g. 郑州市卫生健康委员会医政医管科); the admin edits it. Empty: the region's name.
    department = Varchar(length=200, default="")
    # Other filing materials this department specifies (a province's "当地卫生健康行政部门规定的
    # 其他材料"); empty: it specifies none and the material is not asked for.
    filing_materials = Text(default="")


class Institution(Table):
    """A medical institution (医疗机构)."""

    name = Varchar(length=200)
    licence_no = Varchar(length=60, unique=True)
    grade = Varchar(length=20)  # e.g. 三级甲等
    region = ForeignKey(Region, index=True)
    # The department that issued the practice licence (发证机关) receives its filings.
    licence_region = ForeignKey(Region, index=True)
    # Registered clinical departments (诊疗科目) of the practice licence.
    registered_subjects = JSON(default=[])
    active = Boolean(default=True)


class Department(Table):
    """A department (科室) of an institution, under one registered clinical subject."""

    institution = ForeignKey(Institution, index=True)
    name = Varchar(length=100)
    subject = Varchar(length=100)  # the 诊疗科目 it practises under
    active = Boolean(default=True)
