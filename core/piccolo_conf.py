"""Piccolo's configuration: the engine from DATABASE_URL and the app registry."""

from piccolo.conf.apps import AppRegistry

from core.db import engine_from_url
from core.settings import get_settings

DB = engine_from_url(get_settings().database_url)

APP_REGISTRY = AppRegistry(apps=["core.piccolo_app"])
