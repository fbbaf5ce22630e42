"""The national platform (NAT-36): 全国医疗技术临床应用信息化管理平台, which every institution
reports each restricted-technology case to (NAT-37) beside its province's platform (JL-38:
向全国和省医疗技术临床应用信息化管理平台逐例报送). Not reporting to it is NAT-41 (6).
Declared by the national plugin's ``reporting_channels`` (plugins/national/plugin.py)."""

from __future__ import annotations

PLATFORM = {
    "key": "national_platform",
    "name": "全国医疗技术临床应用信息化管理平台",
    "authority": "国家卫生健康委员会",
    "kinds": ["case"],
    "transport": "http",
    "endpoint_setting": "CLINTECH_CHANNEL_NATIONAL_PLATFORM_URL",
    "rules": ["NAT-36", "NAT-37"],
    "description": "限制类技术病例逐例报送国家平台（NAT-37），与省级平台各自报送、各自回执（NAT-36）；"
                   "未配置接口地址时生成报送包，人工上传后登记回执。",
}

