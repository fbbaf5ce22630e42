"""Helpers for the supervision tests: a completed filing, a case recorded on a fixed day."""

from __future__ import annotations

import datetime as dt

from core.filing import service as filing
from tests.admission_helpers import PDF, actor
from tests.case_helpers import case_input
from tests.filing_helpers import region_actor

TODAY = dt.date(2026, 5, 20)


async def completed_filing(hooks, project_id: int) -> int:
    """The project's filing, assembled, submitted and completed by the licence-issuing department."""
    from core.filing.tables import Filing

    submit_day = dt.date(2026, 3, 20)
    ma = await actor("medaffairs_a")
    filing_id = await filing.on_first_case(ma, hooks, project_id=project_id, case_date=dt.date(2026, 3, 9),
                                           info="首例：手术顺利", today=dt.date(2026, 3, 9))
    row = await Filing.select().where(Filing.id == filing_id).first().output(load_json=True)
    await filing.save_details(ma, hooks, filing_id, filing.FilingDetails(
        version=row["version"], self_assessment="对照管理规范逐项自评：人员、设备、设施均符合要求。",
        assessment_basis="specification", assessment_reference=row["assessment_reference"] or "相关技术管理规范",
        form={"phone": "0431-88888888"}, physicians=row["physicians"]))
    for m in (await filing.filing_view(ma, hooks, filing_id)).materials:
        await filing.upload_material(ma, hooks, filing_id, m.key, f"{m.key}.pdf", PDF + m.key.encode())
    await filing.submit(ma, hooks, filing_id, today=submit_day)
    await filing.complete(await region_actor("regulator_city1"), hooks, filing_id, completed_on=submit_day,
                          today=submit_day)
    return filing_id


async def cases_record(hooks, project_id: int, **overrides):
    from core.cases import service as cases

    return await cases.record_cases(await actor("clinician_a"), hooks, [case_input(project_id, **overrides)],
                                    today=TODAY)
