"""Issue 11 point 15: empty table rows do not multiply on save — the application form
offers blank rows to type into, and saving the page as the browser sends it (typed rows
plus the blank ones) keeps exactly the typed rows, however often it is saved."""

from __future__ import annotations

import html
import re

from core.admission.tables import Project


def posted(page: str) -> dict[str, str]:
    """What the browser would send for the application form as shown."""
    form = re.search(r'<form[^>]*method="post"[^>]*action="/admission/projects/\d+"[^>]*>(.*?)</form>', page,
                     re.S).group(1)
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if name and not (kind and kind.group(1) in ("checkbox", "radio", "file")):
            data[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[name] = html.unescape(text)
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', options)
        data[name] = chosen.group(1) if chosen else ""
    return data


async def test_saving_the_application_again_and_again_keeps_exactly_the_typed_rows(deployment, login_as):
    client = await login_as("clinician_a")
    created = await client.post("/admission/projects", data={"title": "表格行测试", "technology_id": "outside",
                                                             "path": "temporary"})
    project_id = int(re.search(r"/admission/projects/(\d+)", created.headers["location"]).group(1))
    page = (await client.get(f"/admission/projects/{project_id}")).text
    data = posted(page) | {"action": "save", "team__0__name": "张医生", "team__0__title": "主治医师"}
    assert (await client.post(f"/admission/projects/{project_id}", data=data)).status_code == 303
    for _ in range(3):
        page = (await client.get(f"/admission/projects/{project_id}")).text
        assert (await client.post(f"/admission/projects/{project_id}",
                                  data=posted(page) | {"action": "save"})).status_code == 303
    form = (await Project.select(Project.form).where(Project.id == project_id).first().output(load_json=True))["form"]
    assert [r["name"] for r in form["team"]] == ["张医生"]
    assert form["evidence"] == [] and form["products"] == []
