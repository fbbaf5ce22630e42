"""The demo's physicians (``clintech demo``): certificates kept by medical affairs and the
management body's authorisations in hospital A — 李主任 authorised up to grade 4 operations,
张医生 up to grade 2 (so a grade 3–4 case of 张医生 is warned, NAT-20) — and in hospital B
吴医生 with a certificate but no authorisation. Made-up demo data."""

from __future__ import annotations

import datetime as dt

from core.accounts.schemas import SYSTEM
from core.accounts.tables import User
from core.people import service as people
from core.people.tables import Authorisation, Certificate

CERTIFICATES = {
    "clinician_a": [("qualification", "医师资格证", "2015-07-01", None), ("practice", "医师执业证", "2016-03-01", None),
                    ("title", "主治医师", "2021-12-01", None)],
    "depthead_a": [("qualification", "医师资格证", "2005-07-01", None), ("practice", "医师执业证", "2006-03-01", None),
                   ("title", "主任医师", "2018-12-01", None),
                   ("training", "消化内镜诊疗技术规范化培训合格证", "2020-06-30", "2030-06-29")],
    "clinician_b": [("qualification", "医师资格证", "2016-07-01", None)],
}
# Made-up 医师执业证书编码 of the practice certificates: how the training base's trainees are
# found in the QC centre's database of trained physicians (core.training.demo).
PRACTICE_NUMBERS = {"clinician_a": "110220160301901", "depthead_a": "110220060301902"}
LEVELS = {"depthead_a": 4, "clinician_a": 2}
GRANTED_ON = dt.date(2026, 1, 5)


async def load() -> None:
    """Once: certificates and level authorisations of the demo physicians."""
    for username, certificates in CERTIFICATES.items():
        user = await User.select(User.id).where(User.username == username).first()
        if user is None or await Certificate.exists().where(Certificate.user == user["id"]):
            continue
        for kind, name, issued, expires in certificates:
            await people.add_certificate(SYSTEM, user["id"], people.CertificateInput(
                kind=kind, name=name, number=PRACTICE_NUMBERS.get(username, "") if kind == "practice" else "",
                issued_on=dt.date.fromisoformat(issued),
                expires_on=dt.date.fromisoformat(expires) if expires else None))
    for username, level in LEVELS.items():
        user = await User.select(User.id).where(User.username == username).first()
        if user is None or await Authorisation.exists().where(Authorisation.user == user["id"]):
            continue
        await people.grant(SYSTEM, user["id"], people.GrantInput(
            scope="level", level=level, valid_from=GRANTED_ON, valid_until=dt.date(2028, 1, 4),
            ability="演示数据：近三年独立完成相应级别手术", training="演示数据：院内规范化培训",
            exam="演示数据：考核合格", decision="演示数据：2026年第1次医疗技术临床应用管理委员会会议"))
