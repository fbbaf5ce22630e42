"""Jilin's hook implementations (seed 001, rules JL-*)."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.response import Template

from core import hookimpl
from core.accounts.schemas import Actor
from plugins import deadlines
from plugins.provincial import Material

HERE = Path(__file__).parent

# JL-12: the six filing materials, in the order of the rules, titles word for word
# (seed 001, 第十二条（一）–（六）).
MATERIALS = [
    Material("form", "医疗机构开展限制类医疗技术临床应用备案表（见附件3）", "JL-12"),
    Material("self_assessment", "医疗机构开展限制类技术的自我评估报告", "JL-12"),
    Material("first_case", "首例临床应用病例信息", "JL-12"),
    Material("argumentation", "本机构医疗技术临床应用管理专门组织和伦理委员会论证材料", "JL-12"),
    Material("lead_credentials",
             "技术负责人（限于本机构为主要执业机构的注册医师）医师资格证书、医师执业证书、专业技术职称证书复印件", "JL-12"),
    Material("physicians", "本机构开展限制类技术医师名单，每名医师的医师资格证书、医师执业证书复印件", "JL-12"),
]


@hookimpl
def filing_materials(technology, institution):
    """JL-12: six materials, in this order."""
    return [m.as_dict() for m in MATERIALS]


@hookimpl
def deadline_rules():
    """Jilin's own rules: JL-12 replaces the national plugin's NAT-11, JL-30 replaces NAT-29
    (3 working days *before* the enrolment notice); also JL-29, JL-34 and JL-38 as data."""
    return deadlines.load(HERE / "deadlines.toml")


# JL-42, JL-43: the transitional articles count from the day the rules take effect.
# The source leaves that day blank (第四十五条 "本细则自2021年 月 日起施行"), so the
# deployment sets it in CLINTECH_JILIN_RULES_EFFECTIVE_ON (e.g. 2021-07-01).
RULES_IN_FORCE = {
    "key": "jilin-2021", "title": "《吉林省医疗技术临床应用管理办法实施细则》",
    "setting": "CLINTECH_JILIN_RULES_EFFECTIVE_ON",
    "article": "《吉林省医疗技术临床应用管理办法实施细则》第四十五条：本细则自2021年 月 日起施行。",
}


@hookimpl
def rules_in_force():
    """JL-42, JL-43: when Jilin's rules take effect (a deployment setting: the source leaves the day blank)."""
    return [dict(RULES_IN_FORCE)]


@hookimpl
def demo_region():
    """Two cities, each with its health commission's 医政医管处 (the 备案部门 and 发证机关)."""
    return {"province": ("吉林省", "220000", "吉林省卫生健康委员会"),
            "cities": [("长春市", "220100", "长春市卫生健康委员会医政医管处"),
                       ("吉林市", "220200", "吉林市卫生健康委员会医政医管处")]}


@hookimpl
def template_dirs():
    return [str(HERE / "templates")]


@hookimpl
def menu_items(user):
    return [{"label": "吉林省备案要求", "href": "/p/jilin"}]


@get("/p/jilin", name="jilin:about")
async def about(actor: Actor, layout: dict) -> Template:
    """Jilin's filing requirements, for every logged-in user of a Jilin deployment."""
    return Template("jilin/about.html", context=layout | {"materials": MATERIALS})


@hookimpl
def register_routes():
    return [about]
