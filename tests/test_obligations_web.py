"""Obligations on screen: dashboards per role and tenant, detail and waive pages, the
counts query, the iCalendar feed, reminders (inbox and e-mail) and a browser check."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import re
import socket

import icalendar
import pytest

from core import clock
from core.accounts.schemas import SYSTEM, Actor
from core.inbox.tables import InboxAddress, InboxMessage
from core.obligations import reminders, service
from core.obligations.service import DomainEvent
from core.obligations.tables import Obligation
from core.plugins import PluginHost

D = dt.date.fromisoformat
_ids = itertools.count(random.randint(10_000_000, 90_000_000))
SUBJECT = "test-obligation-web"


@pytest.fixture(autouse=True)
async def _cleanup(request):
    yield
    if "deployment" in request.fixturenames:
        ids = [r["id"] for r in await Obligation.select(Obligation.id).where(Obligation.subject_type == SUBJECT)]
        if ids:
            await InboxMessage.delete().where(InboxMessage.source.is_in([f"obligation:{i}" for i in ids]))
        await Obligation.delete().where(Obligation.subject_type == SUBJECT)


@pytest.fixture
async def only_these_obligations():
    """Other tests' open obligations set aside (and restored afterwards), so a dashboard
    test sees exactly the obligations it made — the dashboard lists only the soonest."""
    others = [r["id"] for r in await Obligation.select(Obligation.id).where(
        (Obligation.status == "open") & (Obligation.subject_type != SUBJECT))]
    if others:
        await Obligation.update({Obligation.status: "waived"}).where(Obligation.id.is_in(others))
    try:
        yield
    finally:
        if others:
            await Obligation.update({Obligation.status: "open"}).where(Obligation.id.is_in(others))


async def emit(hooks, kind, on, institution, *, label, cls="restricted", **kw) -> dict:
    ids = await service.on_event(SYSTEM, hooks, DomainEvent(
        kind=kind, occurred_on=on, institution_id=institution, subject_type=SUBJECT, subject_id=next(_ids),
        technology_class=cls, technology_code="G03", subject_label=label, **kw))
    return await Obligation.select().where(Obligation.id == ids[0]).first()


def unique(prefix: str) -> str:
    return f"{prefix}{random.randint(100000, 999999)}"


# ---------------------------------------------------------------- dashboards and tenancy


@pytest.mark.rule("JL-38")
@pytest.mark.rule("JL-12")
async def test_dashboards_show_each_role_its_own_open_obligations_soonest_first(deployment, login_as,
                                                                               only_these_obligations):
    """Medical affairs sees its institution's, a clinician only those assigned to them, a
    regulator its own — and, apart, its institutions' overdue ones; rule id, article and
    working days left shown."""
    hooks = deployment["host"].view()
    today = clock.today()
    a_case, a_filing, a_mine, b_case = (unique("甲病例"), unique("甲备案"), unique("甲本人"), unique("乙病例"))
    await emit(hooks, "discharge", today, deployment["hospital_a"], label=a_case)
    await emit(hooks, "first_case", today - dt.timedelta(days=3), deployment["hospital_a"], label=a_filing)
    await emit(hooks, "admission", today, deployment["hospital_a"], label=a_mine, cls="routine",
               extra={"ethics_pending": True}, assignee_id=deployment["users"]["clinician_a"]["id"])
    b = await emit(hooks, "discharge", today, deployment["hospital_b"], label=b_case)

    seen = {}
    for user in ("medaffairs_a", "clinician_a", "medaffairs_b", "regulator_city1", "regulator_city2",
                 "regulator_province"):
        page = (await (await login_as(user)).get("/")).text
        seen[user] = {label for label in (a_case, a_filing, a_mine, b_case) if label in page}
        if user == "medaffairs_a":
            assert "JL-38" in page and "出院后15个工作日内完成报送" in page and "个工作日" in page
            assert page.index(a_filing) < page.index(a_case)  # the filing is due first
    assert seen["medaffairs_a"] == {a_case, a_filing, a_mine}
    assert seen["clinician_a"] == {a_mine}
    assert seen["medaffairs_b"] == {b_case}
    # A regulator's to-do is its own work: none of the hospitals' obligations, not yet due.
    assert seen["regulator_city1"] == seen["regulator_city2"] == seen["regulator_province"] == set()

    # Its own (the department's completion of a filing, NAT-11/JL-12) on its to-do; its
    # institutions' overdue obligations owed to the authorities apart; never the hospital's
    # internal ones (an overdue ethics proof, HOSP-7).
    own = unique("甲备案办结")
    late_case, late_internal = unique("甲逾期病例"), unique("甲逾期伦理")
    await emit(hooks, "filing_materials_complete", today, deployment["hospital_a"], label=own)
    await emit(hooks, "discharge", today - dt.timedelta(days=60), deployment["hospital_a"], label=late_case)
    await emit(hooks, "admission", today - dt.timedelta(days=200), deployment["hospital_a"], label=late_internal,
               cls="routine", extra={"ethics_pending": True})
    city1 = await login_as("regulator_city1")
    page = (await city1.get("/")).text
    # One to-do list: its own tasks as 时限事项, its institutions' overdue ones as 辖区逾期 (督促).
    section = page.split('id="todo"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr data-task="(obligation|overdue)-\d+"[^>]*>(.*?)</tr>', section, flags=re.S)
    panel = " ".join(text for source, text in rows if source == "obligation")
    overdue = " ".join(text for source, text in rows if source == "overdue")
    assert own in panel and late_case not in panel and late_internal not in panel
    assert late_case in overdue and "辖区逾期" in overdue and "督促" in overdue and "JL-38" in overdue
    assert own not in overdue and late_internal not in overdue
    city2 = (await (await login_as("regulator_city2")).get("/")).text
    assert own not in city2 and late_case not in city2  # another city's department
    assert late_case in (await city1.get("/obligations")).text

    # A foreign id answers 404, exactly like a missing one.
    medaffairs_a = await login_as("medaffairs_a")
    assert (await medaffairs_a.get(f"/obligations/{b['id']}")).status_code == 404
    assert (await medaffairs_a.get("/obligations/999999999")).status_code == 404
    assert (await (await login_as("medaffairs_b")).get(f"/obligations/{b['id']}")).status_code == 200


async def test_waive_form_keeps_input_and_names_the_field_then_waives(deployment, login_as):
    o = await emit(deployment["host"].view(), "discharge", clock.today(), deployment["hospital_a"],
                   label=unique("豁免"))
    client = await login_as("medaffairs_a")
    bad = await client.post(f"/obligations/{o['id']}/waive", data={"reason": "x"})
    assert bad.status_code == 422 and "请填写豁免理由" in bad.text and ">x</textarea>" in bad.text
    htmx = await client.post(f"/obligations/{o['id']}/waive", data={"reason": ""}, headers={"hx-request": "true"})
    assert htmx.status_code == 200 and 'id="waive-form"' in htmx.text and "请填写豁免理由" in htmx.text
    assert (await (await login_as("clinician_a")).post(f"/obligations/{o['id']}/waive",
                                                       data={"reason": "无权"})).status_code == 404
    ok = await client.post(f"/obligations/{o['id']}/waive", data={"reason": "患者转院，由接收医院报送"})
    assert ok.status_code == 303
    detail = await client.get(f"/obligations/{o['id']}")
    assert "已豁免" in detail.text and "患者转院" in detail.text and 'id="waive-form"' not in detail.text


@pytest.mark.rule("HN-3")
async def test_hn3_setting_note_is_shown_on_the_obligation_page(deployment, login_as):
    """HN-3: "河南省通知未规定天数，本部署设定为 15 个工作日" appears next to the rule."""
    o = await emit(PluginHost(("henan", "hospital_default")).view(), "case_performed", clock.today(),
                   deployment["hospital_a"], label=unique("河南病例"))
    page = await (await login_as("medaffairs_a")).get(f"/obligations/{o['id']}")
    assert "HN-3" in page.text and "河南省通知未规定天数，本部署设定为 15 个工作日" in page.text


@pytest.mark.rule("CAL-4")
async def test_cal4_provisional_due_date_is_marked_on_screen(deployment, login_as):
    o = await emit(deployment["host"].view(), "first_case", D("2026-12-20"), deployment["hospital_a"],
                   label=unique("跨年"))
    assert o["provisional"]
    client = await login_as("medaffairs_a")
    assert "暂按周末推算：2027年节假日安排尚未录入" in (await client.get(f"/obligations/{o['id']}")).text
    assert "暂按周末推算：2027年节假日安排尚未录入" in (await client.get("/obligations")).text


async def test_counts_per_status_per_institution_are_one_query_whatever_the_number(deployment, monkeypatch):
    """Counts per status per institution: one grouped SELECT for 1 institution or 4."""
    from core.db import engine
    from core.tenancy import service as tenancy
    from core.tenancy.schemas import InstitutionInput, RegionInput
    from core.tenancy.tables import Region

    hooks = deployment["host"].view()
    code = str(random.randint(700000, 799999))
    region_id = await tenancy.create_region(SYSTEM, RegionInput(name=f"计数测试省{code}", code=code, level="province"))
    region = await Region.select().where(Region.id == region_id).first()
    watcher = Actor(id=0, username="counter", display_name="计数", roles=("regulator",), region_id=region_id,
                    region_path=region["path"])

    queries: list[str] = []
    engine_class = type(engine())
    real = engine_class.run_querystring

    async def counting(self, querystring, *args, **kwargs):
        queries.append(str(querystring))
        return await real(self, querystring, *args, **kwargs)

    async def counts_and_queries():
        queries.clear()
        monkeypatch.setattr(engine_class, "run_querystring", counting)
        try:
            result = await service.status_counts(watcher, hooks, D("2025-10-20"))
        finally:
            monkeypatch.undo()
        return result, [q for q in queries if "obligation" in q.lower()]

    institutions = []
    for n in range(4):
        institutions.append(await tenancy.create_institution(SYSTEM, InstitutionInput(
            name=f"计数测试医院{code}-{n}", licence_no=f"CNT-{code}-{n}", grade="二级甲等", region=region_id)))
        await emit(hooks, "first_case", D("2025-09-26"), institutions[-1], label="计数")  # due 2025-10-23
        await emit(hooks, "discharge", D("2025-09-01"), institutions[-1], label="计数")  # overdue by 10-20
        if n == 0:
            one, q_one = await counts_and_queries()
    four, q_four = await counts_and_queries()
    assert len(q_one) == len(q_four) == 1
    assert len(one) == 1 and len(four) == 4
    assert all(c["counts"]["due_soon"] == 1 and c["counts"]["overdue"] == 1 and c["total"] == 2 for c in four)


# ---------------------------------------------------------------- iCalendar feed


@pytest.mark.rule("JL-38")
async def test_ical_feed_lists_open_obligations_and_revoking_makes_it_404(deployment, login_as, anon):
    label = unique("订阅")
    o = await emit(deployment["host"].view(), "discharge", D("2026-02-10"), deployment["hospital_a"], label=label)
    client = await login_as("medaffairs_a")
    page = await client.post("/obligations/feed")
    assert page.status_code == 200
    url = page.text.split('id="feed-url"')[0].rsplit('value="', 1)[1].split('"')[0]
    path = url.split("testserver", 1)[1]
    assert path.startswith("/ical/") and path.endswith(".ics")

    response = await anon.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    raw = response.content
    assert b"\r\n" in raw and all(len(line) <= 75 for line in raw.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(raw)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    event = events[f"obligation-{o['id']}@clintech"]
    assert event.decoded("dtstart") == D("2026-03-09")  # all-day, a DATE value
    assert "JL-38" in str(event["summary"]) and label in str(event["summary"])
    assert "出院后15个工作日内完成报送" in str(event["description"])
    again = icalendar.Calendar.from_ical((await anon.get(path)).content)
    assert f"obligation-{o['id']}@clintech" in {str(e["uid"]) for e in again.walk("VEVENT")}  # stable UID
    # Another user's feed does not list hospital A's obligations.
    other = await login_as("medaffairs_b")
    other_url = (await other.post("/obligations/feed")).text.split('id="feed-url"')[0].rsplit('value="', 1)[1]
    other_path = "/ical/" + other_url.split("/ical/", 1)[1].split('"')[0]
    assert label not in (await anon.get(other_path)).content.decode()

    regenerated = await client.post("/obligations/feed")
    assert (await anon.get(path)).status_code == 404  # the old token stopped working
    new_path = "/ical/" + regenerated.text.split("/ical/", 1)[1].split('"')[0]
    assert (await anon.get(new_path)).status_code == 200
    assert (await client.post("/obligations/feed/revoke")).status_code == 303
    assert (await anon.get(new_path)).status_code == 404
    assert (await anon.get("/ical/not-a-token.ics")).status_code == 404
    await other.post("/obligations/feed/revoke")


# ---------------------------------------------------------------- reminders


@pytest.mark.rule("JL-38")
async def test_reminders_are_sent_once_per_lead_even_by_concurrent_workers(deployment, login_as):
    """Due 2026-03-09: on 03-02 (5 working days left) the 5-day reminder, on 03-06 the
    1-day one, on 03-10 the overdue one — each once, with two workers running at once."""
    hooks = deployment["host"].view()
    label = unique("提醒")
    o = await emit(hooks, "discharge", D("2026-02-10"), deployment["hospital_a"], label=label)
    medaffairs = deployment["users"]["medaffairs_a"]["id"]
    source = f"obligation:{o['id']}"

    async def inbox_titles():
        return [m["title"] for m in await InboxMessage.select().where(
            (InboxMessage.source == source) & (InboxMessage.user == medaffairs)).order_by(InboxMessage.id)]

    assert await reminders.send_due(hooks, D("2026-02-24")) >= 0 and await inbox_titles() == []
    results = await asyncio.gather(*(reminders.send_due(hooks, D("2026-03-02")) for _ in range(3)))
    titles = await inbox_titles()
    assert len(titles) == 1 and "待办提醒" in titles[0] and "JL-38" in titles[0]
    assert sum(results) >= 1
    await asyncio.gather(reminders.send_due(hooks, D("2026-03-06")), reminders.send_due(hooks, D("2026-03-06")))
    await asyncio.gather(reminders.send_due(hooks, D("2026-03-10")), reminders.send_due(hooks, D("2026-03-10")))
    await reminders.send_due(hooks, D("2026-03-11"))
    titles = await inbox_titles()
    assert len(titles) == 3 and "已逾期" in titles[2]
    body = (await InboxMessage.select().where(InboxMessage.source == source).first())["body"]
    assert "2026-03-09" in body and "出院后15个工作日内完成报送" in body

    # The nav shows the unread count; the inbox marks read.
    client = await login_as("medaffairs_a")
    before = await InboxMessage.count().where((InboxMessage.user == medaffairs) & InboxMessage.read_at.is_null())
    page = await client.get("/inbox")
    assert label in page.text and f'<span class="badge">{before}</span>' in page.text
    message = await InboxMessage.select().where(
        (InboxMessage.source == source) & (InboxMessage.user == medaffairs)).first()
    marked = await client.post(f"/inbox/{message['id']}/read", headers={"hx-request": "true"})
    assert marked.status_code == 200 and 'class="message read"' in marked.text
    assert (await (await login_as("medaffairs_b")).post(f"/inbox/{message['id']}/read")).status_code == 404
    await client.post("/inbox/read-all")
    assert await InboxMessage.count().where((InboxMessage.user == medaffairs) & InboxMessage.read_at.is_null()) == 0
    detail = await client.get(f"/obligations/{o['id']}")
    assert "提前 5 个工作日" in detail.text and "逾期" in detail.text


@pytest.mark.rule("JL-38")
async def test_a_backlog_of_reminders_is_sent_in_chunks_once_each(deployment):
    """Many obligations reaching a lead time on the same day (a province's backlog): each gets
    its reminder once, to the same recipients as one alone, and the round's queries do not grow
    with their number (a chunk is leased, checked and written at once, ``reminders.CHUNK``)."""
    from core.db import count_queries
    from core.obligations.tables import ObligationReminder

    hooks = deployment["host"].view()
    day = D("2026-03-02")  # 5 working days before 2026-03-09, the due date of a 2026-02-10 discharge
    await reminders.send_due(hooks, day)  # whatever else of this module is due that day
    medaffairs = deployment["users"]["medaffairs_a"]["id"]
    counted = {}
    for n in (2, 12):
        made = [await emit(hooks, "discharge", D("2026-02-10"), deployment["hospital_a"], label=unique("积压"))
                for _ in range(n)]
        with count_queries() as queries:
            assert await reminders.send_due(hooks, day) == n
        counted[n] = queries[0]
        for o in made:
            messages = await InboxMessage.select(InboxMessage.user, InboxMessage.title).where(
                InboxMessage.source == f"obligation:{o['id']}")
            assert medaffairs in {m["user"] for m in messages} and all("待办提醒" in m["title"] for m in messages)
            assert await ObligationReminder.count().where(ObligationReminder.obligation == o["id"]) == 1
        assert await reminders.send_due(hooks, day) == 0  # sent once
    assert counted[12] == counted[2], counted


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.rule("JL-38")
async def test_reminder_e_mail_goes_through_a_real_smtp_server(deployment, login_as):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    from core.inbox.mail import Mailer

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    controller = Controller(Collect(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    client = await login_as("medaffairs_b")
    try:
        bad = await client.post("/inbox/email", data={"email": "not-an-address"})
        assert bad.status_code == 422 and "电子邮箱格式不正确" in bad.text and "not-an-address" in bad.text
        assert (await client.post("/inbox/email", data={"email": "yiwu@hospital-b.example.cn"})).status_code == 303
        hooks = deployment["host"].view()
        label = unique("邮件")
        await emit(hooks, "discharge", D("2026-02-10"), deployment["hospital_b"], label=label)
        mailer = Mailer(host="127.0.0.1", port=controller.port)
        await reminders.send_due(hooks, D("2026-03-06"), mailer=mailer)
        await reminders.send_due(hooks, D("2026-03-06"), mailer=mailer)
    finally:
        controller.stop()
        await client.post("/inbox/email", data={"email": ""})
    mine = [m for m in received if label in m.get_payload(decode=True).decode("utf-8")]
    assert len(mine) == 1
    assert mine[0]["To"] == "yiwu@hospital-b.example.cn" and "JL-38" in str(
        __import__("email.header", fromlist=["x"]).make_header(__import__("email.header", fromlist=["x"]).decode_header(mine[0]["Subject"])))
    assert not await InboxAddress.exists().where(InboxAddress.email == "yiwu@hospital-b.example.cn")


# ---------------------------------------------------------------- browser


@pytest.mark.browser
@pytest.mark.rule("JL-12")
async def test_browser_dashboard_shows_an_obligation_and_its_article(deployment, page_as, only_these_obligations):
    label = unique("浏览器")
    o = await emit(deployment["host"].view(), "first_case", clock.today(), deployment["hospital_a"], label=label)
    page = await page_as("medaffairs_a")
    row = page.locator(f'#todo tr[data-task="obligation-{o["id"]}"]')
    await row.wait_for()
    assert "JL-12" in await row.inner_text() and label in await row.inner_text()
    await row.locator("summary").click()
    assert "开展首例临床应用之日起15个工作日内" in await row.locator(".article").inner_text()
    await row.locator("a", has_text="限制类技术临床应用备案").click()
    await page.wait_for_url(f"**/obligations/{o['id']}")
    assert "JL-12" in await page.locator("#obligation-detail").inner_text()
