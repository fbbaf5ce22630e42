"""The baseline for ``make bench``: a plain Litestar + Jinja page with no database,
no session and no plugins, laid out like the portal's dashboard (header, navigation,
cards, a ten-row table). Served exactly like the portal: ``uvicorn bench.baseline_app:app``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from litestar import Litestar, get
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig

NAV = ["工作台", "本机构", "科室管理", "吉林省备案要求"]
CARDS = [{"label": "本机构科室", "value": 6, "href": "/institutions/1"}]
ROWS = [
    {"at": dt.datetime(2026, 11, 25, 9, i), "actor": "医务处", "action": "department.create",
     "record": f"department {i}"}
    for i in range(10)
]


@get("/")
async def index() -> Template:
    return Template("baseline.html", context={"nav": NAV, "cards": CARDS, "rows": ROWS,
                                              "user": "医务处（医务处 / 医务科）· 示范医院甲"})


app = Litestar(
    route_handlers=[index],
    template_config=TemplateConfig(directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine),
)
