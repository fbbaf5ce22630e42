"""``panel`` (PanelStep): medical affairs puts at least ``min_experts`` experts on the
project's panel, each scores (``criteria`` for restricted technologies) and votes, and
medical affairs concludes (HOSP-9; chosen by grade and class on the temporary path, HOSP-12)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.accounts.schemas import Actor
from core.admission import rules
from core.admission.kinds import Kind, StepContext
from core.admission.schemas import ProjectStatus
from core.admission.tables import PanelMember
from core.contract import StepBase
from core.errors import DomainError, Problem


class Panel(Kind):
    kind = "panel"
    actions = ("decide", "vote", "panel")

    def acting_role(self, step: StepBase) -> str:
        return "medical_affairs"  # assembles the panel and concludes; the experts only vote

    def abilities(self, ctx: StepContext) -> set[str]:
        if not ctx.may_act:
            return set()
        can = set()
        if ctx.actor.id in ctx.members and not ctx.has_voted:
            can.add("vote")
        if ctx.actor.has("medical_affairs"):
            if not ctx.voters:
                can.add("panel")
            if ctx.members and ctx.members <= ctx.voters:
                can.add("decide")
        return can

    def work(self, ctx: StepContext) -> str | None:
        if ctx.is_lead or ctx.project["status"] == ProjectStatus.returned:
            return None
        if ctx.actor.id in ctx.members and not ctx.has_voted:
            return "专家评分与表决"
        if ctx.actor.has("medical_affairs") and not ctx.members:
            return "组建专家组"
        if ctx.actor.has("medical_affairs") and ctx.members <= ctx.voters:
            return "专家评审结论"
        return None


    async def decision_problems(self, project: dict, step: StepBase, decision: Any) -> list[Problem]:
        problems = rules.check_decision(decision.decision, decision.reason)
        members = await _members(project, step)
        if not members or not members <= await _voters(project, step):
            problems.append(Problem("专家组成员尚未全部完成评分与投票", "decision", "HOSP-9"))
        return problems

    async def ballot_problems(self, actor: Actor, project: dict, step: StepBase, ballot: Any) -> list[Problem]:
        if actor.id not in await _members(project, step):
            raise DomainError("您不是该项目评审专家组成员")
        if ballot.vote == "recuse":
            return []
        criteria = list(step.criteria) if project["tech_class"] == "restricted" else []
        return rules.check_score(ballot.score, ballot.scores, criteria)

    def score(self, ballot: Any) -> int | None:
        return int(ballot.score) if ballot.vote != "recuse" else None

    async def after_vote(self, actor: Actor, hooks: Any, project: dict, steps: list, step: StepBase,
                         votes: list[dict], change: Any, today: dt.date) -> str | None:
        from core.admission import service

        if await _members(project, step) <= {v["voter"] for v in votes}:
            change.notify(await service.users_with(project["institution"], "medical_affairs"),
                          "专家组已全部完成评审，请作出结论")
        return None


async def _members(project: dict, step: StepBase) -> set[int]:
    """The experts on the step's panel for the project's current revision."""
    return {p["expert"] for p in await PanelMember.select(PanelMember.expert).where(
        (PanelMember.project == project["id"]) & (PanelMember.step == step.key)
        & (PanelMember.revision == project["revision"]))}


async def _voters(project: dict, step: StepBase) -> set[int]:
    from core.admission.tables import Vote

    return {v["voter"] for v in await Vote.select(Vote.voter).where(
        (Vote.project == project["id"]) & (Vote.step == step.key) & (Vote.revision == project["revision"]))}


KIND = Panel()
