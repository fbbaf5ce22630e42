"""Issue 11 point 6: a yearly round's state and dates agree — opened with its default
dates on a day outside the first half it is open today, and a round whose dates have
passed does not say 开放中."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.admission import rules, service
from core.admission.tables import AdmissionRound
from tests.admission_helpers import actor


@pytest.mark.rule("HOSP-4")
@pytest.mark.parametrize(("today", "expected"), [
    (dt.date(2026, 3, 1), (dt.date(2026, 1, 1), dt.date(2026, 6, 30))),
    (dt.date(2026, 12, 5), (dt.date(2026, 12, 5), dt.date(2026, 12, 31))),
    (dt.date(2025, 12, 5), (dt.date(2026, 1, 1), dt.date(2026, 6, 30))),  # next year's round, opened early
])
def test_hosp4_default_dates_fit_today(today, expected):
    assert rules.default_round_dates(2026, today) == expected
    opens, closes = rules.default_round_dates(today.year, today)
    assert opens <= today <= closes


@pytest.mark.rule("HOSP-4")
def test_hosp4_the_state_follows_the_dates():
    row = {"status": "open", "opens_on": dt.date(2026, 1, 1), "closes_on": dt.date(2026, 6, 30)}
    assert rules.round_state(row, dt.date(2026, 3, 1)) == "open" and rules.round_is_open(row, dt.date(2026, 3, 1))
    assert rules.round_state(row, dt.date(2026, 12, 5)) == "ended"
    assert not rules.round_is_open(row, dt.date(2026, 12, 5))
    assert rules.round_state(row, dt.date(2025, 12, 5)) == "not_started"
    assert rules.round_state(row | {"status": "closed"}, dt.date(2026, 3, 1)) == "closed"


@pytest.mark.rule("HOSP-4")
async def test_hosp4_a_round_opened_with_default_dates_is_open_today_and_the_page_agrees(deployment, login_as):

    today = clock.today()
    ma = await actor("medaffairs_b")
    existing = await AdmissionRound.select().where(
        (AdmissionRound.institution == ma.institution_id) & (AdmissionRound.year == today.year)
        & (AdmissionRound.status == "open"))
    for row in existing:  # another test's round of this year: closed for this one
        await service.close_round(ma, row["id"])
    round_id = await service.open_round(ma, today.year)
    try:
        assert (await service.current_round(ma.institution_id))["id"] == round_id
        page = (await (await login_as("medaffairs_b")).get("/admission/rounds")).text
        assert 'data-state="open">开放中' in page
        old = await AdmissionRound.insert(AdmissionRound(
            institution=ma.institution_id, year=today.year - 1, opens_on=dt.date(today.year - 1, 1, 1),
            closes_on=dt.date(today.year - 1, 6, 30), opened_by=ma.id)).returning(AdmissionRound.id)
        page = (await (await login_as("medaffairs_b")).get("/admission/rounds")).text
        assert "已过截止日期" in page
        await service.close_round(ma, old[0]["id"])
    finally:
        await service.close_round(ma, round_id)


@pytest.mark.rule("HOSP-4")
async def test_hosp4_a_drafts_path_changes_until_it_is_submitted(deployment):
    from core.admission.tables import Project
    from core.errors import DomainError

    hooks = deployment["host"].view()
    clinician = await actor("clinician_a")
    project_id = await service.create_project(clinician, hooks, service.NewProject(
        title="途径可改的草稿", path="round", outside_lists=True))
    await service.save_draft(clinician, hooks, project_id, {}, path="temporary")
    assert (await Project.select(Project.path).where(Project.id == project_id).first())["path"] == "temporary"
    with pytest.raises(DomainError):
        await service.save_draft(clinician, hooks, project_id, {}, path="express")
    await Project.update({Project.status: "returned"}).where(Project.id == project_id)  # submitted once, returned
    with pytest.raises(DomainError) as exc:
        await service.save_draft(clinician, hooks, project_id, {}, path="round")
    assert "不能更改申报途径" in str(exc.value.problems[0].message)
    await service.withdraw(clinician, project_id, None, "测试结束")
