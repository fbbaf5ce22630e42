"""``document`` (DocumentStep): the approval is issued as an official document with its
文号, printable as PDF (HOSP-10)."""

from core.admission.kinds import Kind, StepContext


class Document(Kind):
    kind = "document"
    actions = ("document",)

    def abilities(self, ctx: StepContext) -> set[str]:
        return {"document"} if ctx.may_act and ctx.actor.has(ctx.step.role) else set()


KIND = Document()
