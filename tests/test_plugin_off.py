"""Issue 11 point 4: switching the province's plugin off keeps existing records readable
(read-only, with a banner), shows no hook names, and asks before switching off, saying
what will change."""

from __future__ import annotations

import re

import pytest

from tests.filing_helpers import region_actor  # noqa: F401  (imports the filing helpers' world)
from tests.test_tenancy import filing_of

HOOK_NAME = re.compile(r"\b(filing_materials|filing_form|register_routes|deadline_rules|reporting_channels|"
                       r"register_catalogs|menu_items|admission_steps|template_dirs)\b")


@pytest.fixture
async def jilin_off(login_as):
    admin = await login_as("admin")
    response = await admin.post("/admin/plugins/jilin", data={"enabled": "0"})
    assert response.status_code in (200, 303)
    yield admin
    await admin.post("/admin/plugins/jilin", data={"enabled": "1"})


@pytest.mark.rule("NAT-11")
async def test_nat11_a_filing_stays_readable_read_only_with_the_province_plugin_off(deployment, login_as,
                                                                                   jilin_off):
    filing = await filing_of(deployment, deployment["hospital_a"])
    for username in ("medaffairs_a", "regulator_city1", "regulator_province"):
        client = await login_as(username)
        response = await client.get(f"/filings/{filing['filing_id']}")
        assert response.status_code == 200, (username, response.text[:400])
        html = response.text
        assert 'id="read-only"' in html and "只读可查" in html
        assert not HOOK_NAME.search(html), HOOK_NAME.search(html)
        # Nothing that needs the province's rules is offered.
        for action in ("/submit", "/complete", "/return", "/cancel", "/materials", "/form.pdf"):
            assert f'/filings/{filing["filing_id"]}{action}"' not in html, (username, action)
        # The stored material is still listed and opens.
        assert f'/filings/{filing["filing_id"]}/files/{filing["attachment_id"]}' in html
        opened = await client.get(f"/filings/{filing['filing_id']}/files/{filing['attachment_id']}")
        assert opened.status_code == 200
    ma = await login_as("medaffairs_a")
    refused = await ma.get(f"/filings/{filing['filing_id']}/form.pdf")
    assert refused.status_code == 422 and "只读可查" in refused.text and not HOOK_NAME.search(refused.text)
    assert (await ma.get("/filings")).status_code == 200


async def test_switching_off_asks_first_and_says_what_will_change(deployment, login_as):
    admin = await login_as("admin")
    page = (await admin.get("/admin/plugins")).text
    assert not HOOK_NAME.search(page)
    confirm = await admin.get("/admin/plugins/jilin/off", headers={"hx-request": "true"})
    assert confirm.status_code == 200 and "<html" not in confirm.text
    text = confirm.text
    assert "确认停用" in text and "吉林省" in text and "备案材料清单" in text and "只读可查" in text
    assert re.search(r"现有备案 \d+ 件、病例 \d+ 例", text)
    assert not HOOK_NAME.search(text)
    # Asking changed nothing; the full page works without htmx too.
    row = (await admin.get("/admin/plugins")).text
    assert 'data-state="on"' in re.search(r'<tr id="plugin-jilin">(.*?)</tr>', row, flags=re.S).group(1)
    assert "确认停用" in (await admin.get("/admin/plugins/jilin/off")).text
    assert (await admin.get("/admin/plugins/nonexistent/off")).status_code == 404
    cancel = await admin.get("/admin/plugins/jilin/row", headers={"hx-request": "true"})
    assert 'data-state="on"' in cancel.text
