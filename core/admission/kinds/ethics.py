"""``ethics`` (EthicsStep): the committee's members vote; two thirds of them decide,
recused members not counted (HOSP-21). Medical affairs may let the application proceed
while the approval is owed within 3 months of admission (HOSP-7)."""

from core.admission.kinds import Kind, StepContext
from core.admission.schemas import ProjectStatus


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


KIND = Ethics()
