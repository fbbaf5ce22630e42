"""Issue 11 points 8 and 9: every menu item a role sees opens a page for that role (and the
pages it links to, one level deep, answer too); regulators and the QC centre read their
region's cases, pseudonymous and read-only. In Chromium, as every demo user, every menu item
and every link on it is opened and read by ``tests/test_browser_crawl.py`` (which checks the
whole page's text with ``text_problems`` and more; this module's own Chromium pass over the
menu alone repeated a subset of it and was removed to keep ``make test``'s time)."""

from __future__ import annotations

import re

import pytest

from tests.case_helpers import case_route

DEMO_USERS = ("admin", "clinician_a", "depthead_a", "qc_a", "medaffairs_a", "ethics_a", "expert_a", "head_a",
              "clinician_b", "medaffairs_b", "regulator_city1", "regulator_city2", "regulator_province", "qccenter")
SKIP = ("/logout", "/static/", "/ical/")


def _vocabulary() -> list[str]:
    """The code's own words a person must never read: role keys, statuses, plugin names,
    deadline events (each shown through a Chinese label)."""
    import enum

    from core.accounts.roles import ROLE_LABELS
    from core.admission.schemas import EthicsStatus, ProjectStatus
    from core.filing.schemas import FilingStatus
    from core.outbox.rules import DeliveryStatus
    from core.plugins import PluginHost
    from core.qc.schemas import ReportStatus

    words = set(ROLE_LABELS) | {"open", "done", "waived", "exempt", "None", "True", "False", "null"}
    for status in (EthicsStatus, ProjectStatus, FilingStatus, DeliveryStatus, ReportStatus):
        words |= {str(s) for s in status if isinstance(s, enum.Enum)}
    words |= {p.name for p in PluginHost(("jilin", "henan", "hospital_default")).plugins()}
    words |= {"admission", "discharge", "first_case", "filing", "case", "project", "step", "vote", "upload", "edit"}
    return sorted(words)


_WORD = r"(?<![A-Za-z0-9_\-]){}(?![A-Za-z0-9_\-])"
CODE = re.compile("|".join(_WORD.format(re.escape(w)) for w in _vocabulary())
                  + "|" + _WORD.format(r"[a-z]+(?:_[a-z0-9]+)+") + "|" + _WORD.format(r"[a-z]+\.[a-z_]+"))
# A raw database id ("#12", "filing 3", "id=5") or JSON ({"a": …}, [{…}]) on screen.
RAW = re.compile(r"#\d+|\bid\s*[=:]\s*\d|\{\s*\"|\[\s*\{|\"\s*:\s*[\"\d\[{]")
# The admin's technical pages name plugins, channels, settings and login names on purpose.
TECHNICAL = ("/admin/",)


def visible_text(html: str) -> str:
    """What a person reads: no markup, scripts, styles, code samples or closed details."""
    import html as entities

    html = re.sub(r"<(script|style|head|code|pre)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<details>.*?</details>", " ", html, flags=re.S)
    return entities.unescape(re.sub(r"<[^>]+>", " ", html))


def text_problems(path: str, text: str) -> list[str]:
    """Code words, raw ids or JSON in the text a person reads on ``path``."""
    if path.startswith(TECHNICAL):
        return []
    return [f"{path}: {m.group(0)!r}" for pattern in (CODE, RAW) for m in pattern.finditer(text)]


def screen_problems(path: str, html: str) -> list[str]:
    return text_problems(path, visible_text(html))


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
    failures, on_screen = [], screen_problems("/", home.text)
    for link in menu_links(home.text):
        if link.startswith(SKIP):
            continue
        response = await client.get(link)
        if response.status_code >= 400:
            failures.append((link, response.status_code))
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        on_screen += screen_problems(link, response.text)
        for sub in page_links(response.text)[:25]:
            answer = await client.get(sub)
            if answer.status_code >= 400 and answer.status_code != 422:
                failures.append((f"{link} → {sub}", answer.status_code))
            elif "text/html" in answer.headers.get("content-type", ""):
                on_screen += screen_problems(sub, answer.text)
    assert failures == [], f"{username}: {failures}"
    # No English word of the code's vocabulary, raw id or JSON on any of those pages.
    assert sorted(set(on_screen)) == [], f"{username}: {sorted(set(on_screen))[:30]}"


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
