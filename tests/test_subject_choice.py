"""Issue 11 point 7: 所属诊疗科目 is chosen from the institution's registered subjects (as
its licence lists them), not typed."""

from __future__ import annotations

import re

import pytest

from core.admission import service
from tests.admission_helpers import actor


@pytest.mark.rule("NAT-43")
async def test_nat43_the_subject_is_a_choice_of_the_registered_subjects(deployment, login_as):
    hooks = deployment["host"].view()
    clinician = await actor("clinician_a")
    project_id = await service.create_project(clinician, hooks, service.NewProject(
        title="诊疗科目选择", path="temporary", outside_lists=True))
    client = await login_as("clinician_a")
    page = (await client.get(f"/admission/projects/{project_id}")).text
    field = re.search(r'<div class="field" id="f-subject">.*?</div>', page, flags=re.S)
    assert field, "the application form has a subject field"
    html = field.group(0)
    assert '<select id="in-subject" name="subject"' in html and 'list="subjects"' not in html
    options = re.findall(r'<option value="([^"]*)"', html)
    assert options[1:] == ["内科", "外科", "妇产科", "眼科", "医学检验科", "医学影像科"]  # hospital A's licence
    # A value saved before (typed) stays visible, marked, so nothing is lost.
    await service.save_draft(clinician, hooks, project_id, {"subject": "心内"})
    html = re.search(r'<div class="field" id="f-subject">.*?</div>',
                     (await client.get(f"/admission/projects/{project_id}")).text, flags=re.S).group(0)
    assert "心内（未登记，请重新选择）" in html
    await service.withdraw(clinician, project_id, None, "测试结束")
