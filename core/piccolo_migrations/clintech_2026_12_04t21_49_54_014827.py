from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T21:49:54:014827"
VERSION = "1.38.0"
DESCRIPTION = "risk warnings: audience_key for filtering by role in SQL"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="clintech", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="RiskWarning",
        tablename="risk_warning",
        column_name="audience_key",
        db_column_name="audience_key",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 200,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    async def backfill():
        """Warnings raised before this column: their audience (a JSON list) as the key."""
        import json

        engine = engine_finder()
        rows = await engine.run_querystring(QueryString("SELECT id, audience FROM risk_warning"))
        for row in rows:
            roles = row["audience"] if isinstance(row["audience"], list) else json.loads(row["audience"] or "[]")
            key = "," + ",".join(roles) + "," if roles else ""
            await engine.run_querystring(QueryString(
                "UPDATE risk_warning SET audience_key = {} WHERE id = {}", key, row["id"]))

    manager.add_raw(backfill)
    return manager
