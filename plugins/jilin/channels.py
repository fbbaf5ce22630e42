"""Jilin's reporting channel: the provincial supervision platform (JL-37)."""

from __future__ import annotations

from core import hookimpl

# JL-37: the platform supervises restricted technologies; JL-38 / NAT-37: every case is
# reported to it, one by one. JL-12 sends filings to the licence-issuing department (the
# desk in this portal), not to the platform: the channel does not take filings.
CHANNEL = {
    "key": "jilin_platform",
    "name": "吉林省医疗技术临床应用监管平台",
    "authority": "吉林省卫生健康委员会",
    "kinds": ["case", "report"],
    "transport": "http",
    "endpoint_setting": "CLINTECH_CHANNEL_JILIN_PLATFORM_URL",
    "rules": ["JL-37", "JL-38", "NAT-37"],
    "description": "限制类技术病例出院后15个工作日内逐例报送（JL-38）；备案向核发执业许可证的卫生健康行政部门提交，不经本平台（JL-12）。",
}


@hookimpl
def reporting_channels():
    """The Jilin platform: an HTTP endpoint (a package for manual upload when none is set)."""
    return [dict(CHANNEL)]
