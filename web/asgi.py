"""The ASGI entry point for uvicorn: ``web.asgi:app`` (what ``clintech serve`` runs).

The background jobs run in this process unless ``CLINTECH_JOBS=separate``; what start-up
built is frozen out of the garbage collector once the app has started (``web.app._freeze_heap``)."""

from core.settings import get_settings
from web.app import create_app

app = create_app(run_jobs=get_settings().jobs_inline, freeze_heap=True)
