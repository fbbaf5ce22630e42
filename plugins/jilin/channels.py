"""Jilin's reporting channel: the provincial supervision platform (JL-37)."""

from __future__ import annotations

from core import hookimpl
from plugins.jilin.plugin import MATERIALS

# JL-12: filings go to the licence-issuing department through the provincial platform;
# JL-38 / NAT-37: every restricted-technology case is reported to it, one by one.
CHANNEL = {
    "key": "jilin_platform",
    "name": "吉林省医疗技术临床应用监管平台",
    "authority": "吉林省卫生健康委员会",
    "kinds": ["filing", "case", "report"],
    "transport": "http",
    "endpoint_setting": "CLINTECH_CHANNEL_JILIN_PLATFORM_URL",
    "materials": [m.as_dict() for m in MATERIALS],
    "rules": ["JL-12", "JL-37", "JL-38", "NAT-37"],
    "description": "备案材料按 JL-12 规定的六项顺序报送；限制类技术病例出院后15个工作日内逐例报送（JL-38）。",
}


@hookimpl
def reporting_channels():
    """The Jilin platform: an HTTP endpoint (a package for manual upload when none is set)."""
    return [dict(CHANNEL)]
