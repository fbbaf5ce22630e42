"""国家规定：《医疗技术临床应用管理办法》的限制类/禁止类技术目录与时限规则 — the built-in default
plugin, always on and answering last, so that any province or hospital plugin wins.

It is registered by core (``core.plugins.DEFAULT_PLUGINS``), not chosen in
``CLINTECH_PLUGINS``. Plugin authors name national data through this module (the public
import documented in docs/plugins.md)::

    from plugins import national
    national.RESTRICTED_2022            # the data file of an edition
    national.rules("NAT-11", "NAT-29")  # national deadline rules, as fresh dicts

A province never re-ships these files: its own rules ``replace`` national ones by id.
"""

from pathlib import Path

HERE = Path(__file__).parent
CATALOG_DIR = HERE / "catalog"
RESTRICTED_2017 = CATALOG_DIR / "national-restricted-2017.toml"
RESTRICTED_2022 = CATALOG_DIR / "national-restricted-2022.toml"
PROHIBITED = CATALOG_DIR / "national-prohibited.toml"
DEADLINES = HERE / "deadlines.toml"

from plugins.national.plugin import (  # noqa: E402  (the constants above are read by plugin.py)
    credit_items,
    deadline_rules,
    disclosure_fields,
    province_policy,
    register_catalogs,
    reporting_channels,
    rules,
    warning_rules,
)

# The hook API this plugin is written for (core.contract.HOOK_API_VERSION; checked at load).
CLINTECH_API = "2"

__all__ = [
    "CLINTECH_API",
    "CATALOG_DIR", "DEADLINES", "credit_items", "PROHIBITED", "RESTRICTED_2017", "RESTRICTED_2022",
    "deadline_rules", "disclosure_fields", "province_policy", "register_catalogs", "reporting_channels", "rules",
    "warning_rules",
]
