"""``filing`` (FilingStep): the admitted project is filed with the university through the
hospital's reporting channel of kind ``admission`` (HOSP-11)."""

from core.admission.kinds import Kind, StepContext


class Filing(Kind):
    kind = "filing"
    actions = ("filing",)

    def abilities(self, ctx: StepContext) -> set[str]:
        return {"filing"} if ctx.may_act and ctx.actor.has(ctx.step.role) else set()


KIND = Filing()
