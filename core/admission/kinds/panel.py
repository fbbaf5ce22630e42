"""``panel`` (PanelStep): medical affairs puts at least ``min_experts`` experts on the
project's panel, each scores (``criteria`` for restricted technologies) and votes, and
medical affairs concludes (HOSP-9; chosen by grade and class on the temporary path, HOSP-12)."""

from core.admission.kinds import Kind, StepContext
from core.admission.schemas import ProjectStatus
from core.contract import StepBase


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


KIND = Panel()
