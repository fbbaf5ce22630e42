"""The deployment calendar: entering a year's holiday notice (service, admin page),
the check / preview widgets, /healthz and the ``clintech calendar`` commands.

Runs on SQLite and PostgreSQL. Every test that enters a notice deletes it again
(fixture ``clean_2027``), so the shared deployment stays provisional for 2027.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import clock
from core.accounts.schemas import SYSTEM
from core.errors import DomainError, NotFound
from tests.test_calendar import SAMPLE_2027

D = dt.date.fromisoformat
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def clean_2027(deployment):
    """Nothing entered for 2027 before or after the test."""
    from core.holidays.tables import HolidayOverride

    async def wipe():
        await HolidayOverride.delete().where(
            (HolidayOverride.day >= D("2027-01-01")) & (HolidayOverride.day <= D("2027-12-31")))

    await wipe()
    yield
    await wipe()


@pytest.fixture
def hooks(deployment):
    return deployment["host"].view()


async def _audit(action: str, record_id: int) -> list[dict]:
    from core.audit.tables import AuditEvent

    return await AuditEvent.select().where(
        (AuditEvent.action == action) & (AuditEvent.record_id == record_id)
        & (AuditEvent.record_type == "holiday_notice")).output(load_json=True)


# ---------------------------------------------------------------- service


@pytest.mark.rule("CAL-4")
async def test_cal4_2027_is_provisional_until_the_admin_enters_its_notice(deployment, hooks, clean_2027):
    from core.holidays import service

    before = (await service.work_calendar(hooks)).add_working_days(D("2026-12-20"), 15)
    assert before.provisional and before.date == D("2027-01-08")
    assert before.provisional_note() == "暂按周末推算：2027年节假日安排尚未录入"

    audits = len(await _audit("calendar.notice.enter", 2027))
    result = await service.enter_notice(SYSTEM, hooks, "2027", SAMPLE_2027)
    assert (result.year, result.holidays, result.workdays, result.replaced) == (2027, 29, 5, False)
    assert isinstance(result.recomputed, int)  # open obligations were recomputed

    cal = await service.work_calendar(hooks)
    after = cal.add_working_days(D("2026-12-20"), 15)
    assert not after.provisional and after.date == D("2027-01-11")
    assert cal.explain(D("2027-02-20")) == (True, "调休上班（春节）")
    events = await _audit("calendar.notice.enter", 2027)
    assert len(events) == audits + 1
    assert {"day": "2027-02-20", "working": True, "note": "春节"} in events[-1]["after"]

    await service.delete_notice(SYSTEM, hooks, 2027)
    assert (await service.work_calendar(hooks)).add_working_days(D("2026-12-20"), 15).provisional
    assert (await _audit("calendar.notice.delete", 2027))[-1]["before"]


@pytest.mark.rule("CAL-4")
async def test_cal4_a_year_is_replaced_only_as_a_whole_and_on_purpose(deployment, hooks, clean_2027):
    from core.holidays import service

    await service.enter_notice(SYSTEM, hooks, 2027, SAMPLE_2027)
    with pytest.raises(DomainError) as refused:
        await service.enter_notice(SYSTEM, hooks, 2027, "2027-01-01 元旦")
    assert refused.value.problems[0].field == "replace"
    assert "已录入（34天）" in refused.value.problems[0].message

    result = await service.enter_notice(SYSTEM, hooks, 2027, "2027-01-01 元旦", replace=True)
    assert result.replaced and (result.holidays, result.workdays) == (1, 0)
    entered = next(y for y in await service.entered_years() if y.year == 2027)
    assert [d["day"] for d in entered.days] == [D("2027-01-01")] and entered.text == "2027-01-01 元旦"
    event = (await _audit("calendar.notice.replace", 2027))[-1]
    assert len(event["before"]) == 34 and event["after"] == [{"day": "2027-01-01", "working": False, "note": "元旦"}]


@pytest.mark.rule("CAL-1")
async def test_cal1_a_bad_notice_saves_nothing_and_names_each_line(deployment, hooks, clean_2027):
    from core.holidays import service
    from core.holidays.tables import HolidayOverride

    count = await HolidayOverride.count()
    with pytest.raises(DomainError) as refused:
        await service.enter_notice(SYSTEM, hooks, 2027, "2027-01-01~2027-01-03 元旦\n2027-02-10 调休上班")
    assert [p.message for p in refused.value.problems] == [
        "第2行：调休上班日 2027-02-10 是星期三，调休上班日必须是周六或周日"]
    with pytest.raises(DomainError) as bad_year:
        await service.enter_notice(SYSTEM, hooks, "二〇二七", SAMPLE_2027)
    assert bad_year.value.problems[0].field == "year"
    assert await HolidayOverride.count() == count


async def test_deleting_one_entered_day_is_audited_and_unknown_days_are_404(deployment, hooks, clean_2027):
    from core.holidays import service

    await service.enter_notice(SYSTEM, hooks, 2027, SAMPLE_2027)
    await service.delete_day(SYSTEM, hooks, D("2027-09-15"))
    cal = await service.work_calendar(hooks)
    assert cal.explain(D("2027-09-15")) == (True, "普通工作日")
    assert (await _audit("calendar.day.delete", 2027))[-1]["before"][0]["day"] == "2027-09-15"
    with pytest.raises(NotFound):
        await service.delete_day(SYSTEM, hooks, D("2027-09-15"))
    with pytest.raises(NotFound):
        await service.delete_notice(SYSTEM, hooks, 2031)


# ---------------------------------------------------------------- admin page


def _expected_missing(today: dt.date) -> list[int]:
    return [y for y in (today.year, today.year + 1) if y > 2026]


async def test_admin_calendar_page_shows_known_and_missing_years(deployment, login_as, clean_2027):
    client = await login_as("admin")
    page = await client.get("/admin/calendar")
    assert page.status_code == 200
    assert "节假日日历" in page.text and 'href="/admin/calendar"' in page.text
    assert "2004–2026 年" in page.text
    for year in _expected_missing(clock.today()):
        assert f'data-missing-year="{year}"' in page.text
        assert f"暂按周末推算：{year}年节假日安排尚未录入" in page.text
    assert 'name="text"' in page.text and 'name="_csrf_token"' in page.text


@pytest.mark.parametrize("username", ["clinician_a", "medaffairs_a", "regulator_province", "qccenter"])
async def test_calendar_admin_pages_answer_404_to_everyone_but_the_admin(deployment, login_as, username):
    client = await login_as(username)
    for path in ("/admin/calendar", "/admin/calendar/check?day=2025-10-11",
                 "/admin/calendar/preview?start=2025-09-26&n=15"):
        assert (await client.get(path)).status_code == 404
    assert (await client.post("/admin/calendar/notice", data={"year": "2027", "text": SAMPLE_2027})).status_code == 404
    assert "/admin/calendar" not in (await client.get("/")).text


async def test_calendar_page_needs_login(deployment, anon):
    response = await anon.get("/admin/calendar")
    assert response.status_code in (302, 303) and "/login" in response.headers["location"]


@pytest.mark.rule("CAL-1")
async def test_bad_notice_on_the_page_keeps_the_text_and_saves_nothing(deployment, login_as, clean_2027):
    from core.holidays.tables import HolidayOverride

    client = await login_as("admin")
    text = "2027-01-01~2027-01-03 元旦\n2027-02-10 调休上班\n2026-12-31 元旦"
    response = await client.post("/admin/calendar/notice", data={"year": "2027", "text": text})
    assert response.status_code == 422
    assert "第2行：调休上班日 2027-02-10 是星期三" in response.text
    assert "第3行：2026-12-31 不在 2027 年内" in response.text
    assert "2027-02-10 调休上班\n2026-12-31 元旦</textarea>" in response.text
    assert 'value="2027"' in response.text
    assert await HolidayOverride.count().where(HolidayOverride.day >= D("2027-01-01")) == 0


@pytest.mark.rule("CAL-4")
async def test_cal4_entering_2027_on_the_page_makes_the_widgets_exact(deployment, login_as, clean_2027):
    client = await login_as("admin")
    htmx = {"hx-request": "true"}
    preview = await client.get("/admin/calendar/preview?start=2026-12-20&n=15", headers=htmx)
    assert 'data-date="2027-01-08"' in preview.text
    assert "暂按周末推算：2027年节假日安排尚未录入" in preview.text
    assert "<html" not in preview.text  # a partial for the swap target

    saved = await client.post("/admin/calendar/notice", data={"year": "2027", "text": SAMPLE_2027})
    assert saved.status_code == 303 and saved.headers["location"].startswith("/admin/calendar?saved=2027")
    page = await client.get(saved.headers["location"])
    assert 'data-saved="2027"' in page.text and 'data-entered-year="2027"' in page.text
    assert 'data-day="2027-02-20"' in page.text and 'data-missing-year="2027"' not in page.text

    preview = await client.get("/admin/calendar/preview?start=2026-12-20&n=15", headers=htmx)
    assert 'data-date="2027-01-11"' in preview.text and "暂按周末推算" not in preview.text
    check = await client.get("/admin/calendar/check?day=2027-02-20", headers=htmx)
    assert "2027-02-20（星期六）是工作日：调休上班（春节）" in check.text

    again = await client.post("/admin/calendar/notice", data={"year": "2027", "text": "2027-01-01 元旦"})
    assert again.status_code == 422 and "整体替换" in again.text
    edit = await client.get("/admin/calendar?edit=2027")
    assert "2027-02-05~2027-02-13 春节" in edit.text
    replaced = await client.post("/admin/calendar/notice",
                                 data={"year": "2027", "text": "2027-01-01 元旦", "replace": "on"})
    assert replaced.status_code == 303

    deleted = await client.post("/admin/calendar/years/2027/delete")
    assert deleted.status_code == 303 and "deleted=2027" in deleted.headers["location"]
    assert (await client.post("/admin/calendar/years/2027/delete")).status_code == 404
    assert (await client.post("/admin/calendar/days/not-a-date/delete")).status_code == 404


@pytest.mark.rule("CAL-1")
async def test_cal1_check_and_preview_widgets_on_known_dates(deployment, login_as):
    client = await login_as("admin")
    htmx = {"hx-request": "true"}
    check = await client.get("/admin/calendar/check?day=2025-10-11", headers=htmx)
    assert check.status_code == 200 and 'data-working="yes"' in check.text
    assert "调休上班（国庆节）" in check.text
    holiday = await client.get("/admin/calendar/check?day=2026-02-17", headers=htmx)
    assert "不是工作日：法定节假日：春节" in holiday.text
    preview = await client.get("/admin/calendar/preview?start=2025-09-26&n=15", headers=htmx)
    assert 'data-date="2025-10-23"' in preview.text
    before = await client.get("/admin/calendar/preview?start=2025-10-09&n=3&direction=before", headers=htmx)
    assert 'data-date="2025-09-28"' in before.text  # CAL-3 / JL-30
    bad = await client.get("/admin/calendar/check?day=2025-13-01", headers=htmx)
    assert bad.status_code == 200 and "日期格式应为 YYYY-MM-DD" in bad.text
    bad_n = await client.get("/admin/calendar/preview?start=2025-09-26&n=abc", headers=htmx)
    assert "工作日数应为 0 到 5000 之间的整数" in bad_n.text
    # without JavaScript the same GET renders the whole page with the answer
    full = await client.get("/admin/calendar/check?day=2025-10-11")
    assert "<html" in full.text and "调休上班（国庆节）" in full.text and 'value="2025-10-11"' in full.text


async def test_calendar_forms_need_the_csrf_token(deployment, login_as, clean_2027):
    client = await login_as("admin")
    response = await client.post("/admin/calendar/notice", data={"year": "2027", "text": SAMPLE_2027}, csrf=False)
    assert response.status_code == 403


# ---------------------------------------------------------------- /healthz


@pytest.mark.rule("CAL-4")
async def test_cal4_healthz_reports_known_entered_and_missing_years(deployment, anon, hooks, clean_2027):
    from core.holidays import service

    body = (await anon.get("/healthz")).json()["calendar"]
    assert body["official_years"] == [2004, 2026] and body["entered_years"] == []
    assert body["missing_years"] == _expected_missing(clock.today())
    await service.enter_notice(SYSTEM, hooks, 2027, SAMPLE_2027)
    body = (await anon.get("/healthz")).json()["calendar"]
    assert body["entered_years"] == [2027] and 2027 in body["known_years"]
    assert 2027 not in body["missing_years"]


# ---------------------------------------------------------------- CLI


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "web.cli", "calendar", *args], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.rule("CAL-1")
async def test_cal1_cli_add_and_check_on_the_deployment_calendar(deployment, hooks, clean_2027):
    from core.holidays import service

    added = _cli("add", "2025-09-26", "15")
    assert added.returncode == 0 and added.stdout.splitlines() == ["2025-10-23"]
    checked = _cli("check", "2025-10-11")
    assert checked.stdout.strip() == "2025-10-11（星期六）是工作日：调休上班（国庆节）"
    before = _cli("add", "2025-10-09", "3", "--before")
    assert before.stdout.splitlines() == ["2025-09-28"]

    provisional = _cli("add", "2026-12-20", "15")
    assert provisional.stdout.splitlines() == ["2027-01-08", "暂定日期：暂按周末推算：2027年节假日安排尚未录入"]
    await service.enter_notice(SYSTEM, hooks, 2027, SAMPLE_2027)
    exact = _cli("add", "2026-12-20", "15")
    assert exact.stdout.splitlines() == ["2027-01-11"] and exact.stderr == ""


def test_cli_bad_arguments_print_one_chinese_line_and_exit_2():
    for args in (("add", "2025-9-26x", "15"), ("check", "tomorrow"), ("add", "2025-09-26", "many")):
        result = _cli(*args)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("错误：") and "Traceback" not in result.stderr


# ---------------------------------------------------------------- with the obligation engine


@pytest.mark.rule("CAL-4")
@pytest.mark.rule("JL-38")
async def test_cal4_provisional_obligation_is_listed_then_recomputed_when_2027_is_entered(
        deployment, hooks, login_as, clean_2027):
    """A JL-38 case report for a discharge on 2026-12-20 is due 2027-01-08 provisionally;
    entering the 2027 notice recomputes it to 2027-01-11 at once."""
    obligations = pytest.importorskip("core.obligations.service")
    from core.holidays import service
    from core.obligations.tables import Obligation

    event = obligations.DomainEvent(kind="discharge", occurred_on=D("2026-12-20"),
                                    institution_id=deployment["hospital_a"], subject_type="case",
                                    subject_id=990_2027, subject_label="日历测试病例",
                                    technology_class="restricted", technology_code="G03")
    ids = await obligations.on_event(SYSTEM, hooks, event)
    try:
        row = await Obligation.select().where(
            (Obligation.id.is_in(ids)) & (Obligation.rule_id == "JL-38")).first()
        assert (row["due_on"], row["provisional"]) == (D("2027-01-08"), True)
        page = await (await login_as("admin")).get("/admin/calendar")
        assert "日历测试病例" in page.text or "限制类技术病例逐例报送" in page.text
        assert "暂按周末推算：2027年节假日安排尚未录入" in page.text

        result = await service.enter_notice(SYSTEM, hooks, 2027, SAMPLE_2027)
        assert result.recomputed and result.recomputed >= 1
        row = await Obligation.select().where(Obligation.id == row["id"]).first()
        assert (row["due_on"], row["provisional"]) == (D("2027-01-11"), False)
    finally:
        await Obligation.delete().where(Obligation.id.is_in(ids))
