"""吉林省：《吉林省医疗技术临床应用管理办法实施细则》的目录、备案材料、时限与报送渠道。"""

from plugins.jilin.plugin import demo_region, filing_materials, menu_items, register_routes, template_dirs

__all__ = ["demo_region", "filing_materials", "menu_items", "register_routes", "template_dirs"]

from plugins.jilin.channels import reporting_channels  # noqa: E402

__all__ += ["reporting_channels"]

from plugins.jilin.catalogs import register_catalogs  # noqa: E402

__all__ += ["register_catalogs"]

from plugins.jilin.plugin import deadline_rules  # noqa: E402

__all__ += ["deadline_rules"]

from plugins.jilin.filing import disclosure_fields, filing_form  # noqa: E402

__all__ += ["disclosure_fields", "filing_form"]
