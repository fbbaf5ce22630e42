"""The demo's grading catalogue (``clintech demo``): hospital A's own catalogue of a few
operations — demo data made up for the demo hospital, not an official list (no national
default catalogue is shipped: NAT-15 (2) makes the catalogue the institution's own)."""

from __future__ import annotations

import datetime as dt

from core.accounts.schemas import SYSTEM
from core.grading import service as grading
from core.grading.tables import GradingEdition

# ICD-9-CM-3 code, name, level: the demo hospital's choice.
OPERATIONS = [
    ("45.23", "结肠镜检查", 1), ("45.42", "内镜下结肠息肉切除术", 2), ("44.13", "胃镜检查", 1),
    ("42.33", "内镜下食管病损切除术", 3), ("43.41", "内镜下胃病损切除术", 4),
    ("51.23", "腹腔镜胆囊切除术", 3), ("51.10", "内镜逆行胰胆管造影", 3), ("51.88", "内镜下胆管取石术", 4),
    ("00.66", "经皮冠状动脉腔内血管成形术", 3), ("36.07", "药物洗脱冠状动脉支架置入术", 4),
    ("37.34", "心脏病损消融术", 4), ("81.54", "全膝关节置换术", 4), ("81.51", "全髋关节置换术", 4),
]
EFFECTIVE_ON = dt.date(2026, 1, 5)


async def load(institution_id: int) -> None:
    """Hospital A's catalogue, once."""
    if await GradingEdition.exists().where(GradingEdition.institution == institution_id):
        return
    rows = [(i + 2, {"code": c, "name": n, "level": str(lv)}) for i, (c, n, lv) in enumerate(OPERATIONS)]
    await grading.import_catalogue(SYSTEM, institution_id, rows, filename="演示数据",
                                   effective_on=EFFECTIVE_ON,
                                   basis="演示数据：示范医院医疗技术临床应用管理委员会审定（非官方目录）")
