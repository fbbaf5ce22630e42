"""``ethics`` (EthicsStep): the committee's members vote; two thirds of its members decide
(HOSP-21, seed 002: 三分之二委员同意 — a recused member still counts as a member). When
every member has voted or recused without two thirds either way the step ends as 未通过
and goes back to the lead, who revises and resubmits or withdraws. Before any member has
voted, medical affairs may let the application proceed while the approval is owed within
3 months of admission (HOSP-7); once the committee has voted it may not bypass it."""

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
        if ctx.actor.has("medical_affairs") and not ctx.voters:
            can.add("proceed")  # HOSP-21: never past a committee that has voted
        return can

    def work(self, ctx: StepContext) -> str | None:
        if ctx.is_lead or ctx.project["status"] == ProjectStatus.returned:
            return None
        return "伦理审查表决" if ctx.actor.has("ethics") and not ctx.has_voted else None


    async def after_vote(self, actor: Actor, hooks: Any, project: dict, steps: list, step: StepBase,
                         votes: list[dict], change: Any, today: dt.date) -> str | None:
        """HOSP-21: two thirds of the committee's members decide — approval moves on,
        refusal rejects the project; every member voted or recused without two thirds
        either way: 未通过, back to the lead (revise and resubmit, or withdraw)."""
        from core.admission import service

        tally = {k: sum(1 for v in votes if v["vote"] == k) for k in ("approve", "reject", "recuse")}
        committee = await service.users_with(project["institution"], "ethics")
        members = len(committee)
        outcome = rules.ethics_outcome(members, tally["approve"], tally["reject"], tally["recuse"])
        details = tally | {"members": members, "needed": rules.ethics_threshold(members), "rule": "HOSP-21"}
        if outcome == "approve":
            change.values[Project.ethics_status] = EthicsStatus.approved
            await service.record_entry(project, SYSTEM, step, "approve",
                                       reason="伦理委员会三分之二以上委员同意（HOSP-21）", details=details, role="ethics")
            await service.advance(actor, hooks, project, steps, step, today, change.values)
            change.notify([project["lead"]], "伦理审查通过")
        elif outcome == "reject":
            change.values.update({Project.ethics_status: EthicsStatus.rejected, Project.status: ProjectStatus.rejected,
                                  Project.current_step: None, Project.current_role: None,
                                  Project.outcome_reason: "伦理审查未通过：伦理委员会三分之二以上委员不同意（HOSP-21）"})
            await service.record_entry(project, SYSTEM, step, "reject",
                                       reason="伦理委员会三分之二以上委员不同意（HOSP-21）", details=details, role="ethics")
            change.notify(await _involved(project, committee), "伦理审查未通过（三分之二以上委员不同意）")
        elif outcome == "not_passed":
            reason = rules.ethics_not_passed_reason(members, tally["approve"], tally["reject"], tally["recuse"])
            change.values.update({Project.status: ProjectStatus.returned, Project.current_role: "clinician",
                                  Project.outcome_reason: reason})
            await service.record_entry(project, SYSTEM, step, "not_passed", reason=reason, details=details,
                                       role="ethics")
            change.notify(await _involved(project, committee), reason)
        return outcome


async def _involved(project: dict, committee: list[int]) -> list[int]:
    """Who hears the committee's end: the lead, the committee, and whoever took part."""
    from core.admission import service

    return sorted(set(await service.involved(project)) | set(committee))


KIND = Ethics()
