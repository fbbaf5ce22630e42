"""JL-11 (seed 001, 第十一条 and 附件2): S1–S17 of Jilin's provincial list are restricted
only for grade 3 and 4 operations (原文“（三、四级手术）”/“（三、四级）”). The levels are the
catalogue's data (``surgery_levels`` in ``catalog/jilin-provincial-2021.toml``); the
level of a case is its operation's level in the institution's grading catalogue (NAT-16).
"""

from __future__ import annotations

from core import hookimpl
from core.contract import RestrictedScope

LEVELS = "一二三四"


def _levels(levels) -> str:
    return "、".join(LEVELS[level - 1] for level in sorted(levels))


@hookimpl
def restricted_scope(technology):
    """JL-11: a grade 1–2 operation of S1–S17 is not restricted (no filing, no case
    report, no unfiled warning); grade 3–4 is. A case naming no operation stays
    restricted: the level cannot be known, so nothing is taken out of supervision."""
    if technology.tech_class != "restricted" or not technology.surgery_levels:
        return None
    allowed = _levels(technology.surgery_levels)
    if technology.surgery_level is None:
        return RestrictedScope(restricted=True, rule="JL-11",
                               reason=f"未登记手术及其分级，按限制类技术管理（该技术限{allowed}级手术）")
    level = LEVELS[technology.surgery_level - 1]
    if technology.surgery_level in technology.surgery_levels:
        return RestrictedScope(restricted=True, rule="JL-11", reason=f"{level}级手术，属于限制类技术（限{allowed}级手术）")
    return RestrictedScope(restricted=False, rule="JL-11",
                           reason=f"{level}级手术，不属于限制类技术（该技术限{allowed}级手术）：无需备案和逐例报送")
