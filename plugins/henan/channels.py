"""Henan's reporting channel: 河南省医疗技术临床应用信息系统 (HN-2.2b, HN-3)."""

from __future__ import annotations

from core import hookimpl
from plugins.henan.plugin import MATERIALS

# HN-2.2b: filings are uploaded as five scans in the notice's order — the channel's
# materials fix that order for the HTTP body and for the manual-upload package.
# HN-3 / NAT-37: one case performed, one case reported (开展一例，上报一例).
CHANNEL = {
    "key": "henan_platform",
    "name": "河南省医疗技术临床应用信息系统",
    "authority": "河南省卫生健康委员会",
    "kinds": ["filing", "case", "report"],
    "transport": "http",
    "endpoint_setting": "CLINTECH_CHANNEL_HENAN_PLATFORM_URL",
    "materials": [{"key": m.key, "title": m.title, "required": m.required, "rule": m.rule} for m in MATERIALS],
    "rules": ["HN-2.2b", "HN-3", "NAT-37"],
    "description": "备案扫描件按 HN-2.2b 规定的五项顺序上传；可下载带清单的报送包人工上传。病例开展一例、上报一例（HN-3）。",
}


@hookimpl
def reporting_channels():
    """The Henan information system: an HTTP endpoint, or the ordered package with a manifest."""
    return [dict(CHANNEL)]
