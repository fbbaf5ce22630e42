"""Pure rules of the surgery-grading catalogue (手术分级, NAT-16): operation codes, levels,
rows of an import. Plain values in, ``Problem``s out.
"""

from __future__ import annotations

import re

import msgspec

from core.errors import Problem

# ICD-9-CM-3 operation codes as Chinese hospitals write them: "51.23", "00.66", and the
# national clinical edition's extensions ("51.2300x001", "45.4201").
CODE = re.compile(r"^\d{2}(\.\d{1,4})?(x\d{3})?$")
LEVEL_WORDS = {"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4}
LEVEL_NAMES = {1: "一级手术", 2: "二级手术", 3: "三级手术", 4: "四级手术"}
MAX_NAME = 200
MAX_ROWS = 20000
HEADERS = {"手术编码": "code", "手术名称": "name", "手术级别": "level", "科室": "department"}
REQUIRED_HEADERS = ("手术编码", "手术名称", "手术级别")


class Operation(msgspec.Struct, frozen=True):
    """One operation of a grading catalogue: ICD-9-CM-3 code, name, level 1–4 (NAT-16)."""

    code: str
    name: str
    level: int
    department: str = ""


def parse_level(value: object) -> int | None:
    """"3", "三级", "三级手术", "3级" → 3; anything else → None."""
    text = str(value or "").strip().removesuffix("手术").removesuffix("级").strip()
    if text.endswith(".0"):
        text = text[:-2]
    return LEVEL_WORDS.get(text)


def clean_code(value: object) -> str:
    text = str(value or "").strip().lower().replace("。", ".")
    return text


def operation_problems(code: str, name: str, level: int | None) -> list[Problem]:
    """NAT-16: an operation is named by its ICD-9-CM-3 code, has a name and a level 1–4."""
    problems = []
    if not CODE.match(code):
        problems.append(Problem(f"手术编码「{code}」不是 ICD-9-CM-3 编码（如 51.23、45.4201）", "code", "NAT-16"))
    if not name.strip():
        problems.append(Problem("请填写手术名称", "name", "NAT-16"))
    elif len(name) > MAX_NAME:
        problems.append(Problem(f"手术名称不能超过 {MAX_NAME} 字", "name", "NAT-16"))
    if level is None:
        problems.append(Problem("手术级别应为一至四级（1–4）", "level", "NAT-16"))
    return problems


def rows_to_operations(rows: list[tuple[int, dict]]) -> tuple[list[Operation], list[Problem]]:
    """An import's rows (``(row number, {field: text})``) → operations, or every row's
    problems ("第 n 行：…"); a code twice in one file is a problem of the later row."""
    operations: list[Operation] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    if not rows:
        return [], [Problem("文件中没有手术数据行", "file", "NAT-16")]
    if len(rows) > MAX_ROWS:
        return [], [Problem(f"每个文件最多 {MAX_ROWS} 行", "file", "NAT-16")]
    for number, values in rows:
        code = clean_code(values.get("code"))
        name = str(values.get("name") or "").strip()
        level = parse_level(values.get("level"))
        own = operation_problems(code, name, level)
        if code in seen:
            own.append(Problem(f"手术编码「{code}」与第 {seen[code]} 行重复", "code", "NAT-16"))
        seen.setdefault(code, number)
        if own:
            problems += [Problem(f"第 {number} 行：{p.message}", p.field, p.rule) for p in own]
        else:
            operations.append(Operation(code=code, name=name, level=level or 0,
                                        department=str(values.get("department") or "").strip()[:100]))
    return operations, problems


def level_label(level: int | None) -> str:
    return LEVEL_NAMES.get(level or 0, "未分级")
