"""The ASGI entry point for uvicorn: ``web.asgi:app`` (what ``clintech serve`` runs).

The background jobs run in this process unless ``CLINTECH_JOBS=separate``."""

from core.settings import get_settings
from web.app import create_app

app = create_app(run_jobs=get_settings().jobs_inline)
