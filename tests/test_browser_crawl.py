"""Issue 11, "done means": in Chromium, as every demo user of a deployment in which every
state can be seen (``clintech demo``'s states), every menu item and every link on those
pages, one level deep, opens — no 4xx/5xx — and what the page shows has no English word of
the code's vocabulary, raw id or JSON. Links that differ only by an id (or a query value)
are one route shape, opened once per user; downloads (PDF, XLSX, iCal, attachments) are
fetched with the user's session and must answer 200 with a file, not a page."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.test_menus import DEMO_USERS, TECHNICAL, text_problems

pytestmark = pytest.mark.browser

# Links that download instead of showing a page.
DOWNLOAD = re.compile(r"\.(pdf|xlsx|ics|zip|csv)(\?|$)|/pdf(/|\?|$)|/files/\d+|[?&]format=xlsx|/ical/|/download")
FILE_TYPES = ("application/pdf", "spreadsheet", "text/calendar", "application/zip", "text/csv", "octet-stream",
              "image/")


# Any lowercase English word is the code's, not the UI's (the UI writes PDF, XLSX, iCal, API).
ENGLISH = re.compile(r"(?<![A-Za-z0-9_\-./@:])[a-z]{3,}(?![A-Za-z0-9_\-@])")
# "S1 S1": a token said twice in a row; "JL-41、JL-41": a rule cited twice in one list.
REPEATED = re.compile(r"(?<!\S)(\S{2,}) +\1(?!\S)")
RULE = r"[A-Z]{2,5}-\d+(?:\.\d+)*[a-z]?"
CITATIONS = re.compile(rf"{RULE}(?:\s*[、,，/]\s*{RULE})+")


def shown_problems(path: str, text: str) -> list[str]:
    """What a person must never read (issue 11 point 12 and 15): the code's words, raw ids
    or JSON (tests/test_menus.py), any lowercase English word, a title or code said twice
    ("S1 S1"), a rule cited twice in one list ("JL-41、JL-41")."""
    found = text_problems(path, text)
    if path.startswith(TECHNICAL):
        return found
    found += [f"{path}: {m.group(0)!r}" for m in ENGLISH.finditer(text)]
    found += [f"{path}: {m.group(0)!r}" for m in REPEATED.finditer(text) if re.search(r"[A-Za-z\u4e00-\u9fff]",
                                                                                      m.group(1))]
    for m in CITATIONS.finditer(text):
        rules = re.findall(RULE, m.group(0))
        if len(rules) != len(set(rules)):
            found.append(f"{path}: {m.group(0)!r}")
    return found


def route_shape(link: str) -> str:
    """``/filings/12/files/3?page=2&sort=x`` → ``/filings/{n}/files/{n}?page&sort``: links
    that differ only by ids or query values are one shape."""
    parts = urlsplit(link)
    path = "/".join("{n}" if re.search(r"\d", seg) else seg for seg in parts.path.split("/"))
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(keys) if keys else "")


def crawlable(link: str | None) -> bool:
    return bool(link) and link.startswith("/") and not link.startswith(("//", "/static/"))


@pytest.fixture(scope="module")
async def every_state(deployment):
    """The module's database with everything ``clintech demo`` shows."""
    from core import demo_states

    await demo_states.everything(deployment["host"].view())
    return deployment


async def _download(page, link: str) -> str | None:
    """Fetch a download with the page's session: a problem, or None when it is a file."""
    answer = await page.context.request.get(link, max_redirects=0)
    kind = answer.headers.get("content-type", "")
    if answer.status != 200:
        return f"{answer.status}"
    if not any(t in kind for t in FILE_TYPES):
        return f"200 but {kind or 'no content type'}"
    body = await answer.body()
    if not body:
        return "empty file"
    if "application/pdf" in kind:  # what the paper form says, read like a page
        from tests.test_filing_web import pdf_text

        shown = shown_problems(urlsplit(link).path, pdf_text(body))
        return f"PDF shows {shown[:5]}" if shown else None
    return None


# What a person reads on the page (the same ``innerText`` a locator's ``inner_text`` reads)
# and the links in its main part.
READ_PAGE = """() => [document.body.innerText,
                      Array.from(document.querySelectorAll("main a[href]"), a => a.getAttribute("href"))]"""


async def _open(page, link: str) -> tuple[str | None, list[str], list[str]]:
    """Open ``link``: (problem, what the page shows wrong, the links on it)."""
    if DOWNLOAD.search(link):
        return await _download(page, link), [], []
    try:
        response = await page.goto(link)
    except Exception as exc:  # a link that turns out to download
        if "Download is starting" in str(exc) or "ERR_ABORTED" in str(exc):
            return await _download(page, link), [], []
        return f"{type(exc).__name__}: {str(exc)[:120]}", [], []
    if response is None:
        return "no response", [], []
    if response.status >= 400:
        return f"{response.status}", [], []
    if "text/html" not in (response.headers.get("content-type") or ""):
        return None, [], []
    # The page's own script world, not a locator: a locator makes Playwright build its
    # selector engine in every document: 80–150 ms of Chromium CPU a page, half a navigation
    # again (issue 9, measured with bench/browser_nav.py's method).
    text, links = await page.evaluate(READ_PAGE)
    return None, shown_problems(urlsplit(page.url).path, text), [link for link in links if crawlable(link)]


@pytest.mark.parametrize("username", DEMO_USERS)
async def test_every_menu_item_and_every_link_on_it_opens_and_reads_as_chinese(every_state, page_as, username):
    page = await page_as(username)
    await page.goto("/")
    menu = [link for link in await page.eval_on_selector_all(
        "nav.side a[href]", "els => els.map(e => e.getAttribute('href'))") if crawlable(link)]
    seen: set[str] = set()
    failures: list[str] = []
    on_screen: list[str] = []
    for item in dict.fromkeys(["/", *menu]):
        seen.add(route_shape(item))
        problem, shown, links = await _open(page, item)
        on_screen += shown
        if problem:
            failures.append(f"{item}: {problem}")
            continue
        for link in links:
            if route_shape(link) in seen or link in menu:
                continue
            seen.add(route_shape(link))
            problem, shown, _ = await _open(page, link)
            on_screen += [f"{item} → {s}" for s in shown]
            if problem:
                failures.append(f"{item} → {link}: {problem}")
    assert len(seen) > len(menu)  # links beyond the menu were followed
    assert failures == [], f"{username}: {failures}"
    assert sorted(set(on_screen)) == [], f"{username}: {sorted(set(on_screen))[:40]}"


# ---------------------------------------------------------------- a busy day, role by role


async def todo(page) -> dict[str, str]:
    """The to-do list of the logged-in user: task key → the row's text."""
    await page.goto("/")
    rows = await page.locator("#todo tr[data-task]").all()
    return {await r.get_attribute("data-task"): " ".join((await r.inner_text()).split()) for r in rows}


def task_about(tasks: dict[str, str], *words: str) -> str:
    found = [key for key, text in tasks.items() if all(w in text for w in words)]
    assert len(found) == 1, (words, tasks)
    return found[0]


async def open_task(page, key: str) -> None:
    await page.locator(f"#todo tr[data-task='{key}'] a").click()
    await page.wait_for_load_state()


@pytest.mark.rule("HOSP-4")
@pytest.mark.rule("HOSP-21")
async def test_a_busy_day_the_application_moves_from_to_do_to_to_do(every_state, page_as):
    """Issue 11 points 10 and 4: on the demo's busy day the department head finds the
    argumentation on the to-do list, decides it from there, and it leaves that list for the
    ethics committee's; the member votes from the to-do and it moves on again."""
    title = "演示：待科室论证的项目"
    head = await page_as("depthead_a")
    key = task_about(await todo(head), title, "科室专项论证")
    await open_task(head, key)
    form = head.locator("#decide-form")
    for area in await form.locator("textarea[name^='c_']").all():
        await area.fill("已结合本科室条件逐项论证")
    await form.locator("input[name=decision][value=approve]").check()
    await form.locator("textarea[name=reason]").fill("科室论证同意")
    await form.locator("button.primary").click()
    await head.wait_for_load_state()
    assert key not in await todo(head)
    ethics = await page_as("ethics_a")
    key = task_about(await todo(ethics), title)
    await open_task(ethics, key)
    vote = ethics.locator("#vote-form")
    await vote.locator("input[name=vote][value=approve]").check()
    await vote.locator("button.primary").click()
    await ethics.wait_for_load_state()
    assert key not in await todo(ethics)


@pytest.mark.rule("NAT-11")
async def test_a_busy_day_returned_filings_and_withdrawal_requests_wait_on_the_to_do(every_state, page_as):
    """Issue 11 point 10: nothing tracks a returned filing or a withdrawal request with a
    deadline, so each must still be on the to-do of whoever acts — medical affairs
    resubmits the returned filing, the licence-issuing department decides the withdrawal
    (and the task clears)."""
    medical = await page_as("medaffairs_a")
    key = task_about(await todo(medical), "按退回意见补正后重新提交", "技术负责人资质证明不清晰")
    await open_task(medical, key)
    assert await medical.locator("#submit").count() == 1  # the resubmission is there to do
    regulator = await page_as("regulator_city1")
    key = task_about(await todo(regulator), "确认撤销备案", "拟调整至合作医院开展")
    await open_task(regulator, key)
    await regulator.get_by_role("button", name="确认撤销并修改备注三").click()
    await regulator.wait_for_load_state()
    assert "已撤销" in await regulator.locator("#status").inner_text()
    assert key not in await todo(regulator)


@pytest.mark.rule("HOSP-17")
@pytest.mark.rule("JL-38")
async def test_a_busy_day_an_obligation_on_the_to_do_leads_to_where_it_is_done(every_state, page_as):
    """Issue 11 points 10 and 4: from the to-do, an obligation's page leads on to the page
    where the work is done — the lead's overdue annual QC report to the reports to fill,
    medical affairs' case report (JL-38) to the case — not to a dead end."""
    lead = await page_as("clinician_a")
    key = task_about(await todo(lead), "2025年", "质量控制情况年报表", "演示：两年质控数据的限制类技术")
    await open_task(lead, key)
    await lead.locator("#obligation-go").click()
    await lead.wait_for_url("**/qc/reports")
    assert "演示：两年质控数据的限制类技术" in await lead.locator("main").inner_text()
    medical = await page_as("medaffairs_a")
    key = task_about(await todo(medical), "限制类技术病例逐例报送", "DEMO-QC-047")
    await open_task(medical, key)
    await medical.locator("#obligation-go").click()
    await medical.wait_for_url("**/cases/*")
    assert "DEMO-QC-047" in await medical.locator("main").inner_text()
