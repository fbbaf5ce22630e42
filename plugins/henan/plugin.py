"""Henan's hook implementations (seed 004, rules HN-*)."""

from __future__ import annotations

import os
from pathlib import Path

from litestar import get
from litestar.response import Template

from core import hookimpl
from core.accounts.schemas import Actor
from plugins import deadlines
from plugins.provincial import Material

HERE = Path(__file__).parent

# HN-2.2b: five scans, uploaded in exactly this order.
MATERIALS = [
    Material("form", "河南省限制类医疗技术临床应用备案表", "HN-2.2b"),
    Material("assessment", "医疗技术名称、开展技术应具备的条件及评估材料", "HN-2.2b"),
    Material("argumentation", "本机构医疗技术临床应用管理委员会和伦理委员会论证材料", "HN-2.2b"),
    Material("lead_credentials", "技术负责人（本机构注册执业医师）的医师证书及医院授权证明", "HN-2.2b"),
    Material("other", "当地卫生健康行政部门要求的其他材料", "HN-2.2b", required=False),
]


@hookimpl
def filing_materials(technology, institution):
    """HN-2.2b: five materials, uploaded in this order."""
    return [m.as_dict() for m in MATERIALS]


# HN-3: the notice says "开展一例，上报一例" but gives no number of days, so the window
# is this deployment's setting, and the screen says so.
CASE_REPORT_SETTING = "CLINTECH_HENAN_CASE_REPORT_DAYS"
CASE_REPORT_DEFAULT = 15


def case_report_days() -> int | str:
    """The HN-3 window in working days (a bad value is reported by the rule check)."""
    raw = os.environ.get(CASE_REPORT_SETTING, str(CASE_REPORT_DEFAULT)).strip()
    return int(raw) if raw.lstrip("-").isdigit() else raw


@hookimpl
def deadline_rules():
    """The national rules plus Henan's: HN-2.2b / HN-2.2c replace NAT-11; NAT-29 stays
    national; HN-3's window comes from the deployment setting."""
    rules = deadlines.load(deadlines.NATIONAL) + deadlines.load(HERE / "deadlines.toml")
    days = case_report_days()
    for rule in rules:
        if rule["id"] == "HN-3":
            rule["offset"]["amount"] = days
            rule["note"] = f"河南省通知未规定天数，本部署设定为 {days} 个工作日（设置项 {CASE_REPORT_SETTING}）"
    return rules


@hookimpl
def demo_region():
    return {"province": ("河南省", "410000"), "cities": [("郑州市", "410100"), ("洛阳市", "410300")]}


@hookimpl
def template_dirs():
    return [str(HERE / "templates")]


@hookimpl
def menu_items(user):
    return [{"label": "河南省备案要求", "href": "/p/henan"}]


@get("/p/henan", name="henan:about")
async def about(actor: Actor, layout: dict) -> Template:
    """Henan's filing requirements, for every logged-in user of a Henan deployment."""
    return Template("henan/about.html", context=layout | {"materials": MATERIALS})


@hookimpl
def register_routes():
    return [about]
