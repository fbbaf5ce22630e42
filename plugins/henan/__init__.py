"""河南省：豫卫医函〔2024〕86号 的备案范围、材料顺序、时限与河南省医疗技术临床应用信息系统。"""

from plugins.henan.plugin import demo_region, filing_materials, menu_items, register_routes, template_dirs

__all__ = ["demo_region", "filing_materials", "menu_items", "register_routes", "template_dirs"]

from plugins.henan.channels import reporting_channels  # noqa: E402

__all__ += ["reporting_channels"]

from plugins.henan.catalogs import register_catalogs  # noqa: E402

__all__ += ["register_catalogs"]

from plugins.henan.plugin import deadline_rules  # noqa: E402

__all__ += ["deadline_rules"]

from plugins.henan.filing import disclosure_fields, filing_form  # noqa: E402

__all__ += ["disclosure_fields", "filing_form"]

from plugins.henan.cases import validate_case  # noqa: E402

__all__ += ["validate_case"]
