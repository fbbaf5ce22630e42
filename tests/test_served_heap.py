"""The served app (``web.asgi``, what ``clintech serve`` and uvicorn run) freezes what its
start-up built out of the cyclic garbage collector (``gc.freeze``): a full collection over
those ~200,000 objects held a request for ~80 ms at the 1,000-institution scale (README,
Benchmark). An app built for a test does not, so test apps can still be collected."""

from __future__ import annotations

import gc

import httpx


async def test_the_served_app_freezes_its_start_up_heap_and_still_answers(deployment):
    from core.plugins import PluginHost
    from core.settings import get_settings
    from web.app import create_app

    gc.unfreeze()
    try:
        plain = create_app(PluginHost(get_settings().plugins))
        async with plain.lifespan():
            assert gc.get_freeze_count() == 0
        served = create_app(PluginHost(get_settings().plugins), freeze_heap=True)
        async with served.lifespan():
            assert gc.get_freeze_count() > 10_000  # modules, plugins, templates, catalogues
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=served), base_url="http://t") as client:
                assert (await client.get("/login")).status_code == 200
                assert (await client.get("/healthz")).status_code == 200
    finally:
        gc.unfreeze()  # the rest of this test process stays collectable


def test_the_asgi_entry_point_asks_for_the_freeze():
    import inspect

    import web.asgi

    assert "freeze_heap=True" in inspect.getsource(web.asgi)
