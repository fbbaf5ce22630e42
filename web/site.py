"""The deployment's own name and emblem on every page and printout (issue 11 point 14),
from ``core.settings`` (CLINTECH_SITE_NAME, CLINTECH_SITE_EMBLEM)."""

from __future__ import annotations

from litestar import Response, get
from litestar.exceptions import NotFoundException

from core.messages import t
from core.settings import get_settings
from web.assets import asset

EMBLEM_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def site() -> dict[str, str]:
    """Name and emblem URL of this deployment, for templates (``site()``)."""
    settings = get_settings()
    emblem = settings.site_emblem
    usable = emblem is not None and emblem.suffix.lower() in EMBLEM_TYPES
    return {"name": settings.site_name or t("app.name"), "emblem": "/site/emblem" if usable else asset("emblem.svg")}


@get("/site/emblem", tags=["system"])
async def emblem() -> Response:
    """The emblem file the deployment configured; public, like the login page that shows it."""
    path = get_settings().site_emblem
    kind = EMBLEM_TYPES.get(path.suffix.lower()) if path is not None else None
    if path is None or kind is None or not path.is_file():
        raise NotFoundException("未配置机构标识")
    return Response(path.read_bytes(), media_type=kind, headers={"Cache-Control": "public, max-age=3600"})
