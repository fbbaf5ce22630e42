"""Henan's hook implementations (seed 004, rules HN-*)."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.response import Template

from core import hookimpl
from core.accounts.schemas import Actor
from core.settings import get_settings
from plugins import deadlines
from plugins.provincial import Material

HERE = Path(__file__).parent

# HN-2.2b: five scans, uploaded in exactly this order; titles word for word from the notice
# (seed 004, 二（二）2). (5) is asked for where the licence-issuing department specifies
# other materials (its region's setting), and not otherwise.
MATERIALS = [
    Material("form", "河南省限制类医疗技术临床应用备案表", "HN-2.2b"),
    Material("assessment", "开展临床应用的限制类技术名称、具备的条件及有关评估材料", "HN-2.2b"),
    Material("argumentation", "本机构医疗技术临床应用管理委员会、伦理委员会论证材料", "HN-2.2b"),
    Material("lead_credentials", "技术负责人（限于在本机构注册的执业医师）的执业医师证书、医院授权证明等资质证明材料",
             "HN-2.2b"),
    Material("other", "当地卫生健康行政部门规定的其他材料", "HN-2.2b", required=False, local=True),
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
    raw = get_settings().setting(CASE_REPORT_SETTING, str(CASE_REPORT_DEFAULT)).strip()
    return int(raw) if raw.lstrip("-").isdigit() else raw


@hookimpl
def deadline_rules():
    """Henan's rules: HN-2.2b / HN-2.2c replace the national plugin's NAT-11; NAT-29 stays
    national; HN-3's window comes from the deployment setting."""
    rules = deadlines.load(HERE / "deadlines.toml")
    days = case_report_days()
    for rule in rules:
        if rule["id"] == "HN-3":
            rule["offset"]["amount"] = days
            rule["note"] = f"河南省通知未规定天数，本部署设定为 {days} 个工作日（设置项 {CASE_REPORT_SETTING}）"
    return rules


@hookimpl
def demo_region():
    """Two cities, each with its health commission's 医政医管科 (the 备案部门 and 发证机关)."""
    return {"province": ("河南省", "410000", "河南省卫生健康委员会"),
            "cities": [("郑州市", "410100", "郑州市卫生健康委员会医政医管科"),
                       ("洛阳市", "410300", "洛阳市卫生健康委员会医政医管科")]}


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
