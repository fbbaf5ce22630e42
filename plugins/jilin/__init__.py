"""吉林省：《吉林省医疗技术临床应用管理办法实施细则》的目录、备案材料、时限与报送渠道。"""

from plugins.jilin.catalogs import register_catalogs
from plugins.jilin.channels import reporting_channels
from plugins.jilin.filing import disclosure_fields, filing_form
from plugins.jilin.grading import restricted_scope
from plugins.jilin.plugin import (
    deadline_rules,
    demo_region,
    filing_materials,
    menu_items,
    register_routes,
    rules_in_force,
    template_dirs,
)
from plugins.jilin.policy import credit_items, province_policy, validate_filing, warning_rules

# The hook API this plugin is written for (core.contract.HOOK_API_VERSION; checked at load).
CLINTECH_API = "2"

__all__ = [
    "CLINTECH_API",
    "credit_items", "deadline_rules", "demo_region", "disclosure_fields", "filing_form", "filing_materials", "menu_items",
    "province_policy", "register_catalogs", "register_routes", "reporting_channels", "restricted_scope",
    "rules_in_force", "template_dirs", "validate_filing", "warning_rules",
]
