"""Issue 11 points 8 and 9: every menu item a role sees opens a page for that role (and the
pages it links to, one level deep, answer too); regulators and the QC centre read their
region's cases, pseudonymous and read-only."""

from __future__ import annotations

import re

import pytest

from tests.case_helpers import case_route

DEMO_USERS = ("admin", "clinician_a", "depthead_a", "qc_a", "medaffairs_a", "ethics_a", "expert_a", "head_a",
              "clinician_b", "medaffairs_b", "regulator_city1", "regulator_city2", "regulator_province", "qccenter")
SKIP = ("/logout", "/static/", "/ical/")


def menu_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="side".*?</nav>', html, flags=re.S)
    assert nav, "no side menu"
    return list(dict.fromkeys(re.findall(r'href="(/[^"#]*)"', nav.group(0))))


def page_links(html: str) -> list[str]:
    main = re.search(r"<main.*?</main>", html, flags=re.S)
    found = re.findall(r'<a [^>]*href="(/[^"#]*)"', main.group(0) if main else "")
    return [link for link in dict.fromkeys(found) if not link.startswith(SKIP) and not link.endswith("/")]


@pytest.mark.parametrize("username", DEMO_USERS)
async def test_every_menu_item_opens_a_page_for_the_role(deployment, login_as, username):
    await case_route(deployment, deployment["hospital_a"])  # a case exists to list and open
    client = await login_as(username)
    home = await client.get("/")
    assert home.status_code == 200
    failures = []
    for link in menu_links(home.text):
        if link.startswith(SKIP):
            continue
        response = await client.get(link)
        if response.status_code >= 400:
            failures.append((link, response.status_code))
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for sub in page_links(response.text)[:25]:
            answer = await client.get(sub)
            if answer.status_code >= 400 and answer.status_code != 422:
                failures.append((f"{link} → {sub}", answer.status_code))
    assert failures == [], f"{username}: {failures}"


@pytest.mark.parametrize("username", ["ethics_a", "expert_a"])
async def test_roles_that_never_see_cases_have_no_case_menu(deployment, login_as, username):
    client = await login_as(username)
    assert 'href="/cases"' not in (await client.get("/")).text


async def test_the_hospital_head_reads_the_case_list(deployment, login_as):
    case = await case_route(deployment, deployment["hospital_a"])
    head = await login_as("head_a")
    page = await head.get("/cases")
    assert page.status_code == 200 and f'href="/cases/{case["case_id"]}"' in page.text
    assert 'id="case-form"' not in page.text


@pytest.mark.rule("NAT-45")
@pytest.mark.parametrize("username", ["regulator_city1", "regulator_province", "qccenter"])
async def test_nat45_the_regions_regulators_read_a_case_pseudonymous_and_read_only(deployment, login_as,
                                                                                   username):
    case = await case_route(deployment, deployment["hospital_a"])
    client = await login_as(username)
    listing = await client.get("/cases")
    assert listing.status_code == 200 and f'href="/cases/{case["case_id"]}"' in listing.text
    assert "长春市示范医院" in listing.text  # which institution, since a region has several
    page = await client.get(f"/cases/{case['case_id']}")
    assert page.status_code == 200
    assert "患者（匿名）" in page.text
    for form in ('id="correct-form"', 'id="void-form"', 'id="follow-up-form"', 'id="case-form"'):
        assert form not in page.text
    refused = await client.post(f"/cases/{case['case_id']}/void", data={"reason": "监管作废"})
    assert refused.status_code == 403 and "只有医务处" in refused.text
    assert (await client.post("/cases/", data={"case_id": "X"})).status_code == 404


async def test_another_citys_regulator_does_not_see_the_case(deployment, login_as):
    case = await case_route(deployment, deployment["hospital_a"])
    other = await login_as("regulator_city2")
    assert (await other.get(f"/cases/{case['case_id']}")).status_code == 404
    assert f'href="/cases/{case["case_id"]}"' not in (await other.get("/cases")).text
