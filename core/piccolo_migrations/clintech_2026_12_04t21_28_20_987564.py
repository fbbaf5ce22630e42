"""A plugin's exemption (grandfathering) keeps its evidence in columns of its own
(exempt_evidence, exempt_article, exempt_plugin, exempt_before) instead of the manual
waiver's waived_reason / waived_by. Exempt obligations recorded before move over at the
next sync of the plugins' exemptions (core.obligations.service._apply_exemptions), which
rewrites their evidence from the plugin and clears the waiver's columns."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Date
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T21:28:20:987564"
VERSION = "1.38.0"
DESCRIPTION = "obligation exemption evidence columns"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Obligation",
        tablename="obligation",
        column_name="exempt_article",
        db_column_name="exempt_article",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Obligation",
        tablename="obligation",
        column_name="exempt_before",
        db_column_name="exempt_before",
        column_class_name="Date",
        column_class=Date,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Obligation",
        tablename="obligation",
        column_name="exempt_evidence",
        db_column_name="exempt_evidence",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Obligation",
        tablename="obligation",
        column_name="exempt_plugin",
        db_column_name="exempt_plugin",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 60,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
