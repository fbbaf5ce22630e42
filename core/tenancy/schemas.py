from __future__ import annotations

import msgspec


class RegionInput(msgspec.Struct):
    name: str
    code: str
    level: str
    parent: int | None = None


class InstitutionInput(msgspec.Struct):
    name: str
    licence_no: str
    grade: str
    region: int
    licence_region: int | None = None
    registered_subjects: list[str] = []
    active: bool = True


class DepartmentInput(msgspec.Struct):
    name: str
    subject: str
    active: bool = True
