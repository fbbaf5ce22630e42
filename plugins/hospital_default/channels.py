"""The hospital's reporting channel: the university's 临床新技术全过程管理系统 (HOSP-11)."""

from __future__ import annotations

from core import hookimpl

# HOSP-11 / HOSP-12: every admitted project (yearly round or temporary path) is filed
# with the university's academic affairs office and entered in its system.
CHANNEL = {
    "key": "university",
    "name": "临床新技术全过程管理系统（学校教务处）",
    "authority": "学校教务处",
    "kinds": ["admission"],
    "transport": "http",
    "endpoint_setting": "CLINTECH_CHANNEL_UNIVERSITY_URL",
    "materials": [
        {"key": "application", "title": "临床新技术立项准入申请表", "rule": "HOSP-8"},
        {"key": "approval", "title": "医院批准文件", "rule": "HOSP-10"},
        {"key": "ethics", "title": "伦理审查批件", "required": False, "rule": "HOSP-7"},
    ],
    "rules": ["HOSP-11", "HOSP-12"],
    "description": "准入项目报学校教务处备案并录入临床新技术全过程管理系统（HOSP-11）；未配置接口时生成报送包人工录入。",
}


@hookimpl(trylast=True)
def reporting_channels():
    """The university's system: HTTP endpoint, or a package for manual entry."""
    return [dict(CHANNEL)]
