"""The admin edits a physician's person attributes (HOSP-5) on the user form: the start of the
resident post, the visiting (进修医师) flag and the qualifications; admission then reads them."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from core import clock
from core.admission import service as admission
from core.errors import DomainError
from tests.admission_helpers import actor, valid_form
from tests.test_admin import audit_events, create_user, field_error, user_row

# Admission submissions are dated explicitly: the resident starts the admin enters lie in the
# past (the form refuses future dates), less than 3 years before this day.
SUBMITTED_ON = dt.date(2027, 3, 3)


def form_data(deployment, **overrides) -> dict:
    return {"display_name": "测试医师", "roles": "clinician", "institution": str(deployment["hospital_a"]),
            "department": str(deployment["departments_a"][0]), "active": "on"} | overrides


async def test_admin_edits_resident_start_visiting_and_qualifications_and_it_is_audited(deployment, login_as):
    admin = await login_as("admin")
    username, user_id = await create_user(admin, deployment)
    response = await admin.post(f"/admin/users/{user_id}", data=form_data(
        deployment, resident_since="2020-09-01", visiting="on",
        qualifications_text="医师资格证\n医师执业证、主治医师\n\n医师资格证"))
    assert response.status_code == 303, response.text
    row = await user_row(username)
    assert row["resident_since"] == dt.date(2020, 9, 1) and row["visiting"] is True
    assert row["qualifications"] == ["医师资格证", "医师执业证", "主治医师"]  # trimmed, no repeats
    [event] = await audit_events("user.person", user_id)
    assert event["actor_name"] == "admin"
    assert event["before"] == {"resident_since": None, "visiting": False, "qualifications": []}
    assert event["after"]["visiting"] is True and event["after"]["qualifications"][2] == "主治医师"
    assert str(event["after"]["resident_since"]).startswith("2020-09-01")
    page = html.unescape((await admin.get(f"/admin/users/{user_id}")).text)
    assert 'value="2020-09-01"' in page and "医师执业证" in page and "住院医师起始日期" in page
    assert 'name="visiting" checked' in page
    # Saving the form again unchanged records no new person event.
    await admin.post(f"/admin/users/{user_id}", data=form_data(
        deployment, resident_since="2020-09-01", visiting="on", qualifications_text="医师资格证\n医师执业证\n主治医师"))
    assert len(await audit_events("user.person", user_id)) == 1


async def test_clearing_person_attributes(deployment, login_as):
    admin = await login_as("admin")
    username, user_id = await create_user(admin, deployment, resident_since="2019-09-01",
                                          qualifications_text="医师资格证")
    row = await user_row(username)
    assert row["resident_since"] == dt.date(2019, 9, 1) and row["qualifications"] == ["医师资格证"]
    assert (await admin.post(f"/admin/users/{user_id}", data=form_data(deployment))).status_code == 303
    row = await user_row(username)
    assert (row["resident_since"], row["visiting"], row["qualifications"]) == (None, False, [])


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"resident_since": "2020-13-01"}, "resident_since", "「住院医师起始日期」的格式不正确"),
        ({"resident_since": (clock.today() + dt.timedelta(days=30)).isoformat()}, "resident_since",
         "住院医师起始日期不能晚于今天"),
        ({"resident_since": "1900-01-01"}, "resident_since", "住院医师起始日期不能早于 1950 年"),
        ({"qualifications_text": "医师资格证\n" + "长" * 61}, "qualifications", "每项资质证书名称不超过 60 字"),
    ],
)
async def test_person_errors_are_shown_in_chinese_next_to_the_field_and_nothing_is_lost(
    deployment, login_as, overrides, field, message
):
    admin = await login_as("admin")
    username, user_id = await create_user(admin, deployment)
    data = form_data(deployment, display_name="改了的名字", resident_since="2021-09-01", visiting="on",
                     qualifications_text="医师资格证\n医师执业证") | overrides
    response = await admin.post(f"/admin/users/{user_id}", data=data)
    assert response.status_code == 422
    assert message in field_error(response.text, field), response.text
    # Nothing saved, neither the account fields nor the person attributes.
    row = await user_row(username)
    assert row["display_name"] == "测试用户" and row["resident_since"] is None and row["qualifications"] == []
    assert await audit_events("user.person", user_id) == [] and await audit_events("user.update", user_id) == []
    # Nothing the admin typed is lost.
    text = html.unescape(response.text)
    assert 'value="改了的名字"' in text and f'value="{data["resident_since"]}"' in text
    assert data["qualifications_text"] in text and 'name="visiting" checked' in text


async def test_person_and_account_errors_are_reported_together(deployment, login_as):
    admin = await login_as("admin")
    _, user_id = await create_user(admin, deployment)
    response = await admin.post(f"/admin/users/{user_id}", data=form_data(
        deployment, institution="abc", resident_since="not-a-date"))
    assert response.status_code == 422
    assert "「医疗机构」的格式不正确" in field_error(response.text, "institution")
    assert "格式不正确" in field_error(response.text, "resident_since")


async def test_creating_a_user_with_person_attributes_on_the_new_form(deployment, login_as):
    admin = await login_as("admin")
    page = (await admin.get("/admin/users/new")).text
    assert 'name="resident_since"' in page and 'name="visiting"' in page and 'name="qualifications_text"' in page
    username, user_id = await create_user(admin, deployment, resident_since="2018-03-01", visiting="on",
                                          qualifications_text="医师资格证，医师执业证")
    row = await user_row(username)
    assert (row["resident_since"], row["visiting"], row["qualifications"]) == (
        dt.date(2018, 3, 1), True, ["医师资格证", "医师执业证"])
    assert len(await audit_events("user.person", user_id)) == 1


@pytest.fixture
async def round_2027(deployment):
    """Hospital A's 2027 round, closed again afterwards (if this test opened it)."""
    ma = await actor("medaffairs_a")
    existing = await admission.current_round(deployment["hospital_a"], SUBMITTED_ON)
    round_id = existing["id"] if existing else await admission.open_round(ma, SUBMITTED_ON.year)
    yield round_id
    if not existing:
        await admission.close_round(ma, round_id)


@pytest.mark.rule("HOSP-5")
async def test_hosp5_admission_submission_uses_the_resident_start_the_admin_entered(deployment, login_as, round_2027):
    """HOSP-5: a lead whose resident post (as the admin recorded it) began less than 3 years before
    submission is refused; once the admin corrects the start date the same project goes through."""
    hooks = deployment["host"].view()
    admin = await login_as("admin")
    username, user_id = await create_user(admin, deployment, department=str(deployment["departments_a"][0]))
    assert (await admin.post(f"/admin/users/{user_id}", data=form_data(
        deployment, resident_since="2025-09-01", qualifications_text="医师资格证"))).status_code == 303
    clinician = await actor(username)
    project_id = await admission.create_project(clinician, hooks, admission.NewProject(
        title="准入人员资质测试", path="round", outside_lists=True), SUBMITTED_ON)
    await admission.save_draft(clinician, hooks, project_id, valid_form(), today=SUBMITTED_ON)
    with pytest.raises(DomainError) as exc:
        await admission.submit(clinician, hooks, project_id, today=SUBMITTED_ON)
    assert [p.field for p in exc.value.problems if p.rule == "HOSP-5"] == ["lead"] and "3年" in str(exc.value)

    # The visiting flag the admin sets is read too.
    assert (await admin.post(f"/admin/users/{user_id}", data=form_data(
        deployment, resident_since="2020-01-01", visiting="on"))).status_code == 303
    with pytest.raises(DomainError) as exc:
        await admission.submit(clinician, hooks, project_id, today=SUBMITTED_ON)
    assert "进修医师" in str(exc.value) and "HOSP-5" in {p.rule for p in exc.value.problems}

    assert (await admin.post(f"/admin/users/{user_id}", data=form_data(
        deployment, resident_since="2020-01-01"))).status_code == 303
    await admission.submit(clinician, hooks, project_id, today=SUBMITTED_ON)
    from core.admission.tables import Project

    assert (await Project.select(Project.status).where(Project.id == project_id).first())["status"] == "in_review"
