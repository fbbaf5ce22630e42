"""Evaluations over HTTP: the region's pages, refusals on the page with the rule and what
was typed kept, tenancy by region (404), CSRF, and an institution answering a data request."""

from __future__ import annotations

import re

import pytest

from core.evaluation.tables import Evaluation, PanelExpert
from tests.admission_helpers import PDF, actor
from tests.evaluation_helpers import request_route
from tests.test_tenancy import snapshot

START = {"technology": "outside", "technology_code": "WX01", "technology_name": "网页测试技术", "current_class": "routine",
         "domain": "medical", "trigger": "3", "situation": "新的循证医学证据提示远期疗效不确切"}


async def started(client, **overrides) -> int:
    response = await client.post("/evaluations", data=START | overrides)
    assert response.status_code == 303, response.text
    return int(re.search(r"/evaluations/(\d+)", response.headers["location"]).group(1))


def panel_form(version: int, count: int = 7) -> dict:
    fields = ["clinical", "clinical", "clinical", "management", "management", "ethics", "ethics", "clinical", "ethics"]
    form = {"version": str(version)}
    for i in range(count):
        form |= {f"name_{i}": f"网页专家{i + 1}", f"affiliation_{i}": "省医院", f"field_{i}": fields[i]}
    return form


async def version_of(evaluation_id: int) -> int:
    return (await Evaluation.select(Evaluation.version).where(Evaluation.id == evaluation_id).first())["version"]


@pytest.mark.rule("EVAL-12")
async def test_eval12_refusal_on_the_page_keeps_what_was_typed(deployment, login_as):
    regulator = await login_as("regulator_province")
    page = await regulator.get("/evaluations")
    assert page.status_code == 200 and 'id="start-form"' in page.text and "技术评估" in page.text
    refused = await regulator.post("/evaluations", data=START | {"domain": "tcm", "situation": "中医针刺类技术争议"})
    assert refused.status_code == 422
    assert "不适用本规程" in refused.text and "EVAL-12" in refused.text and "中医针刺类技术争议" in refused.text
    assert not await Evaluation.exists().where(Evaluation.situation == "中医针刺类技术争议")


@pytest.mark.rule("EVAL-7")
async def test_eval7_the_panel_and_a_sitting_through_the_pages(deployment, login_as):
    regulator = await login_as("regulator_province")
    evaluation_id = await started(regulator)
    page = (await regulator.get(f"/evaluations/{evaluation_id}")).text
    assert 'id="panel-form"' in page and 'id="file-form"' in page and 'id="request-form"' in page
    six = await regulator.post(f"/evaluations/{evaluation_id}/panel", data=panel_form(await version_of(evaluation_id), 6))
    assert six.status_code == 422 and "不少于7名" in six.text and "网页专家6" in six.text  # typed rows kept
    seated = await regulator.post(f"/evaluations/{evaluation_id}/panel",
                                  data=panel_form(await version_of(evaluation_id)))
    assert seated.status_code == 303
    experts = [e["id"] for e in await PanelExpert.select(PanelExpert.id).where(
        PanelExpert.evaluation == evaluation_id).order_by(PanelExpert.position)]
    form = {"version": str(await version_of(evaluation_id)), "held_on": "2026-05-11", "outcome": "restricted",
            "recommendation": "风险较高，建议列入限制类技术目录管理", "effective_on": "2026-06-01"}
    for i, expert in enumerate(experts):
        form[f"vote_{expert}"] = "agree" if i < 4 else "disagree"
    answer = await regulator.post(f"/evaluations/{evaluation_id}/sittings", data=form)
    assert answer.status_code == 303 and answer.headers["location"].endswith("ok=no_conclusion")
    page = (await regulator.get(answer.headers["location"])).text
    assert "未形成有效结论" in page and 'data-valid="no"' in page and 'id="sitting-form"' in page
    assert "至少 5 名专家同意" in page


async def test_an_evaluation_answers_404_outside_its_region(deployment, login_as):
    regulator = await login_as("regulator_province")
    evaluation_id = await started(regulator, technology_name="区域404测试技术")
    assert (await (await login_as("qccenter")).get(f"/evaluations/{evaluation_id}")).status_code == 200
    qc_page = (await (await login_as("qccenter")).get(f"/evaluations/{evaluation_id}")).text
    assert "<form" not in qc_page.split('id="basis"')[1]  # the QC centre reads, never writes
    writes = {"files": {"kind": "literature", "title": "越权"}, "requests": {"question": "越权调取的临床资料内容",
                                                                          "institutions": "1"},
              "panel": panel_form(await version_of(evaluation_id)), "sittings": {"outcome": "restricted"}}
    before = await snapshot()
    for username in ("regulator_city1", "regulator_city2", "medaffairs_a", "clinician_a", "qccenter"):
        client = await login_as(username)
        if username != "qccenter":
            assert (await client.get(f"/evaluations/{evaluation_id}")).status_code == 404, username
        for path, form in writes.items():
            response = await client.post(f"/evaluations/{evaluation_id}/{path}", data=form)
            assert response.status_code == 404, (username, path, response.status_code)
    assert await snapshot() == before
    # CSRF: the evaluation's own department without the token is refused.
    response = await regulator.post(f"/evaluations/{evaluation_id}/panel",
                                    data=panel_form(await version_of(evaluation_id)), csrf=False)
    assert response.status_code == 403
    assert not await PanelExpert.exists().where(PanelExpert.evaluation == evaluation_id)


@pytest.mark.rule("EVAL-6")
async def test_eval6_the_institution_answers_through_its_page(deployment, login_as):
    from core.evaluation import service as evaluation

    regulator = await login_as("regulator_province")
    evaluation_id = await started(regulator, technology_name="调取网页测试技术")
    requested = await regulator.post(f"/evaluations/{evaluation_id}/requests", data={
        "institutions": [str(deployment["hospital_a"])], "question": "请报送近两年全部病例的随访资料"})
    assert requested.status_code == 303
    ma = await login_as("medaffairs_a")
    listing = (await ma.get("/evaluations")).text
    request_id = int(re.search(r'data-request="(\d+)"><td><a href="/evaluations/requests/\1">调取网页测试技术', listing)
                     .group(1))
    page = (await ma.get(f"/evaluations/requests/{request_id}")).text
    assert 'id="answer-form"' in page and "请报送近两年全部病例的随访资料" in page and "EVAL-6" in page
    short = await ma.post(f"/evaluations/requests/{request_id}", data={"answer": "短"})
    assert short.status_code == 422 and "至少10字" in short.text
    done = await ma.post(f"/evaluations/requests/{request_id}", data={"answer": "共5例，随访资料见附件"},
                         files={"file": ("随访.pdf", PDF, "application/pdf")})
    assert done.status_code == 303
    view = await evaluation.request_view(await actor("regulator_province"), request_id)
    assert view.request["status"] == "answered"
    file_url = f"/evaluations/requests/{request_id}/files/{view.files[0].id}"
    assert (await regulator.get(file_url)).content == PDF
    assert (await (await login_as("medaffairs_b")).get(file_url)).status_code == 404
    other = await request_route(deployment, deployment["hospital_b"])
    assert (await ma.get(f"/evaluations/requests/{other['request_id']}")).status_code == 404
