"""``publicity`` (PublicityStep): open to every user of the hospital, who may object; it
ends after ``weeks`` with every objection answered (HOSP-10), closed by medical affairs
or the daily job. Entering it starts the publicity obligation."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from core.accounts.schemas import Actor
from core.admission.kinds import Kind, StepContext
from core.contract import StepBase

if TYPE_CHECKING:
    from core.plugins import HookView


class Publicity(Kind):
    kind = "publicity"
    actions = ("object", "answer", "close")

    def abilities(self, ctx: StepContext) -> set[str]:
        can = {"object"} if ctx.in_review else set()
        if ctx.may_act:
            can.add("object")
            if ctx.actor.has("medical_affairs"):
                can |= {"answer", "close"}
        return can

    async def on_enter(self, actor: Actor, hooks: HookView, project: dict, step: StepBase, today: dt.date) -> None:
        from core.admission import links

        await links.emit(actor, hooks, "publicity_start", project, today, step=step.key)


KIND = Publicity()
