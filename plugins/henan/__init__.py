"""河南省：豫卫医函〔2024〕86号 的备案范围、材料顺序、时限与河南省医疗技术临床应用信息系统。"""

from plugins.henan.cases import validate_case
from plugins.henan.catalogs import register_catalogs
from plugins.henan.channels import reporting_channels
from plugins.henan.filing import disclosure_fields, filing_form
from plugins.henan.plugin import (
    deadline_rules,
    demo_region,
    filing_materials,
    menu_items,
    register_routes,
    template_dirs,
)
from plugins.henan.policy import province_policy, validate_filing, warning_rules

# The hook API this plugin is written for (core.contract.HOOK_API_VERSION; checked at load).
CLINTECH_API = "2"

__all__ = [
    "CLINTECH_API",
    "deadline_rules", "demo_region", "disclosure_fields", "filing_form", "filing_materials", "menu_items",
    "province_policy", "register_catalogs", "register_routes", "reporting_channels", "template_dirs",
    "validate_case", "validate_filing", "warning_rules",
]
