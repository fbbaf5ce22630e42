"""默认医院政策：新技术新项目准入流程、分级、质控与年报（《医疗新技术、新项目临床应用准入制度》）。"""

from plugins.hospital_default.admission import (
    admission_steps,
    application_form,
    grades,
    validate_project,
)
from plugins.hospital_default.channels import reporting_channels
from plugins.hospital_default.plugin import deadline_rules

# The hook API this plugin is written for (core.contract.HOOK_API_VERSION; checked at load).
CLINTECH_API = "2"

__all__ = [
    "CLINTECH_API",
    "admission_steps", "application_form", "deadline_rules", "grades",
    "reporting_channels", "validate_project",
]
