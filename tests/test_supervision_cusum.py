"""The learning curve (CUSUM) of a newly admitted technology's early cases per operator: the
path, the alarm line, and an alarm raising the plugins' learning-curve warning (NAT-22)."""

from __future__ import annotations

import pytest

from core.errors import NotFound
from core.supervision import cusum
from core.supervision import service as supervision
from core.supervision.tables import RiskWarning
from tests.admission_helpers import actor
from tests.case_helpers import admitted, release_obligations
from tests.supervision_helpers import TODAY, cases_record


def test_cusum_path_rises_on_complications_falls_otherwise_and_alarms_at_the_line():
    p1 = cusum.odds_p1(0.05)
    assert round(p1 / (1 - p1) / (0.05 / 0.95), 6) == 2.0
    path, alarm = cusum.run([False] * 10 + [True] * 4, 0.05)
    assert path[:10] == [0.0] * 10 and alarm == 14 and path[-1] >= cusum.ALARM
    path, alarm = cusum.run([True, False, False, False, False, False, True, False], 0.05)
    assert alarm is None and path[1] < path[0] and max(path) < cusum.ALARM
    assert cusum.acceptable_rate({("X", 1): (100, 50), ("X", 2): (60, 3)}, "X", 1) == 0.05  # the others: 3/60
    assert cusum.acceptable_rate({("X", 1): (100, 50), ("X", 2): (10, 3)}, "X", 1) == cusum.DEFAULT_P0


@pytest.mark.rule("NAT-22")
async def test_nat22_an_alarm_on_early_cases_raises_the_learning_curve_warning(deployment, login_as):
    hooks = deployment["host"].view()
    project = await admitted(hooks, tech_index=11)
    try:
        for _ in range(5):
            await cases_record(hooks, project, complication=True, complications="术后出血")
        found = await cusum.for_project(await actor("medaffairs_a"), project, TODAY)
        team = next(s for s in found if s.operator_id == cusum.TEAM)
        mine = next(s for s in found if s.operator_id != cusum.TEAM)
        assert team.operator_name == "全团队" and team.alarm_at == 4
        assert mine.alarm_at == 4 and len(mine.values) == 5 and mine.p0 == cusum.DEFAULT_P0
        await supervision.evaluate(hooks, TODAY)
        [w] = await RiskWarning.select().where(
            (RiskWarning.rule_key == "learning_curve")
            & (RiskWarning.fingerprint == f"cusum:{project}:{mine.operator_id}")).output(load_json=True)
        assert w["rule_id"] == "NAT-22" and w["records"][0]["href"] == f"/analytics/cusum/{project}"
        assert w["records"][1]["href"].startswith("/cases/")
        [whole] = await RiskWarning.select().where(RiskWarning.fingerprint == f"cusum:{project}:{cusum.TEAM}")
        assert "全团队的前 5 例中" in whole["detail"]
        with pytest.raises(NotFound):  # another tenant's project
            await cusum.for_project(await actor("medaffairs_b"), project, TODAY)
        page = await (await login_as("regulator_city1")).get(f"/analytics/cusum/{project}")
        assert page.status_code == 200 and 'class="alarm"' in page.text and "第 4 例报警" in page.text
        assert (await (await login_as("regulator_city2")).get(f"/analytics/cusum/{project}")).status_code == 404
        index = await (await login_as("medaffairs_a")).get("/analytics/cusum")
        assert f'data-project="{project}"' in index.text
    finally:
        await release_obligations()


async def test_the_evaluation_job_runs_once_per_interval_and_is_audited(deployment):
    from core.audit.tables import AuditEvent
    from core.supervision import jobs
    from core.supervision.tables import WarningRun

    await WarningRun.delete(force=True)
    before = await AuditEvent.count().where(AuditEvent.action == "warning.evaluate")
    hooks = deployment["host"].view()
    await jobs.evaluate_warnings(hooks, TODAY)
    assert await jobs.evaluate_warnings(hooks, TODAY) == 0  # within EVERY: not taken again
    assert await AuditEvent.count().where(AuditEvent.action == "warning.evaluate") == before + 1
