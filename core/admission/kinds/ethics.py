"""``ethics`` (EthicsStep): the committee's members vote; two thirds of them decide,
recused members not counted (HOSP-21). Medical affairs may let the application proceed
while the approval is owed within 3 months of admission (HOSP-7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.accounts.schemas import SYSTEM, Actor
from core.admission import rules
from core.admission.kinds import Kind, StepContext
from core.admission.schemas import EthicsStatus, ProjectStatus
from core.admission.tables import Project
from core.contract import StepBase


class Ethics(Kind):
    kind = "ethics"
    actions = ("vote", "proceed")

    def abilities(self, ctx: StepContext) -> set[str]:
        if not ctx.may_act:
            return set()
        can = set()
        if ctx.actor.has("ethics") and not ctx.has_voted:
            can.add("vote")
        if ctx.actor.has("medical_affairs"):
            can.add("proceed")
        return can

    def work(self, ctx: StepContext) -> str | None:
        if ctx.is_lead or ctx.project["status"] == ProjectStatus.returned:
            return None
        return "伦理审查表决" if ctx.actor.has("ethics") and not ctx.has_voted else None


    async def after_vote(self, actor: Actor, hooks: Any, project: dict, steps: list, step: StepBase,
                         votes: list[dict], change: Any, today: dt.date) -> str | None:
        """HOSP-21: two thirds of the committee's members (recused members not counted)
        decide — approval moves on, refusal rejects the project."""
        from core.admission import service

        tally = {k: sum(1 for v in votes if v["vote"] == k) for k in ("approve", "reject", "recuse")}
        members = len(await service.users_with(project["institution"], "ethics"))
        outcome = rules.ethics_outcome(members, tally["approve"], tally["reject"], tally["recuse"])
        details = tally | {"members": members, "needed": rules.ethics_threshold(members, tally["recuse"])}
        if outcome == "approve":
            change.values[Project.ethics_status] = EthicsStatus.approved
            await service.record_entry(project, SYSTEM, step, "approve",
                                       reason="伦理委员会三分之二以上委员同意（HOSP-21）", details=details, role="ethics")
            await service.advance(actor, hooks, project, steps, step, today, change.values)
            change.notify([project["lead"]], "伦理审查通过")
        elif outcome == "reject":
            change.values.update({Project.ethics_status: EthicsStatus.rejected, Project.status: ProjectStatus.rejected,
                                  Project.current_step: None, Project.current_role: None,
                                  Project.outcome_reason: "伦理审查未通过"})
            await service.record_entry(project, SYSTEM, step, "reject",
                                       reason="伦理委员会三分之二以上委员不同意（HOSP-21）", details=details, role="ethics")
            change.notify([project["lead"]], "伦理审查未通过")
        return outcome


KIND = Ethics()
