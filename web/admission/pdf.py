"""Printable documents (application form, approval document) as PDF with WeasyPrint.

The page is rendered from a Jinja template of ours with the CJK font the setup
installs (fonts-wqy-zenhei); WeasyPrint runs in a worker thread.
"""

from __future__ import annotations

import anyio
from litestar import Request


async def render_pdf(request: Request, template: str, context: dict) -> bytes:
    html = request.app.template_engine.engine.get_template(template).render(**context)

    def write() -> bytes:
        from weasyprint import HTML

        return HTML(string=html, base_url=str(request.base_url)).write_pdf()

    return await anyio.to_thread.run_sync(write)
