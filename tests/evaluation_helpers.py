"""Helpers for the evaluation tests: the tenancy matrix's data requests (EVAL-6)."""

from __future__ import annotations

import datetime as dt

from tests.admission_helpers import PDF, actor
from tests.fixtures import per_database

_requests: dict[int, dict] = per_database({})
ANSWERERS = {"DEMO-A-0001": "medaffairs_a", "DEMO-B-0001": "medaffairs_b"}


async def request_route(dep: dict, institution_id: int) -> dict:
    """A data request addressed to ``institution_id``, answered with one file by its medical affairs."""
    from core.evaluation import service as evaluation
    from core.storage import service as storage

    if institution_id not in _requests:
        hooks = dep["host"].view()
        regulator = await actor("regulator_province")
        evaluation_id = await evaluation.start(regulator, hooks, evaluation.StartInput(
            trigger=1, situation="行业内争议较大，需调取临床资料", domain="medical",
            technology_name=f"租户矩阵评估技术{institution_id}"), dt.date(2026, 5, 11))
        [request_id] = await evaluation.request_data(regulator, hooks, evaluation_id, [institution_id],
                                                     "请报送该技术近两年的病例资料", dt.date(2026, 5, 11))
        licence = next(k for k, v in dep["institutions"].items() if v == institution_id)
        await evaluation.answer_request(await actor(ANSWERERS[licence]), hooks, request_id,
                                        "共8例，详见附件汇总表", [("汇总.pdf", PDF)], dt.date(2026, 5, 12))
        [attachment] = await storage.list_for("evaluation_request", [request_id])
        _requests[institution_id] = {"request_id": request_id, "attachment_id": attachment.id,
                                     "evaluation_id": evaluation_id}
    return _requests[institution_id]
