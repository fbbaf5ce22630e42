"""The admission step kinds core knows how to run, as a registry: one module per kind
(``core.contract`` has the step's struct, this package what core does with it).

Each kind owns, in its own module:

- ``actions``: the step-form actions it offers (``decide``, ``vote``, ``panel``, ``proceed``,
  ``objection``, ``answer``, ``close``, ``document``, ``filing``); a service refuses an
  action the current step's kind does not offer;
- ``abilities(ctx)``: which of them the actor may use now (the project page's ``can``);
- ``work(ctx)``: what the actor's work list says is waiting for them, or ``None``;
- ``acting_role(step)``: who acts (and is notified) at the step;
- ``on_enter(...)``: what happens when a project reaches the step;
- ``template``: the partial the project page shows for the step
  (``web/templates/admission/kinds/<kind>.html``).

Adding a kind: its struct in ``core/contract.py`` (``Step`` union), a module here
registered in ``KINDS``, its partial; ``tests/test_admission_kinds.py`` checks the three agree.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import msgspec

from core.accounts.schemas import Actor
from core.admission import rules
from core.admission.schemas import ProjectStatus
from core.contract import StepBase
from core.errors import Problem

if TYPE_CHECKING:
    from core.plugins import HookView

# Every action a step form may carry, for the project page's ``can`` (all False unless
# the current step's kind grants them).
STEP_ACTIONS = ("decide", "vote", "panel", "proceed", "object", "answer", "close", "document", "filing")


class StepContext(msgspec.Struct, frozen=True):
    """The actor at a project's current step: the project row, the step, the experts on its
    panel and who has voted at it (this step, this revision)."""

    actor: Actor
    project: dict[str, Any]
    step: StepBase
    members: frozenset[int] = frozenset()
    voters: frozenset[int] = frozenset()

    @property
    def is_lead(self) -> bool:
        return self.actor.id == self.project["lead"]

    @property
    def in_review(self) -> bool:
        return self.project["status"] == ProjectStatus.in_review

    @property
    def may_act(self) -> bool:
        """Reviewers act on a project under review (or admitted, for the steps after the
        admitting approval), never the applicant on their own."""
        return self.project["status"] in (ProjectStatus.in_review, ProjectStatus.admitted) and not self.is_lead

    @property
    def has_voted(self) -> bool:
        return self.actor.id in self.voters

    def holds(self, role: str) -> bool:
        """The actor has ``role``; a department head only for their own department."""
        return role in self.actor.roles and (
            role != "dept_head" or self.actor.department_id == self.project["department"])


class Kind:
    """A step kind's defaults: acted on by the step's role, listed as the step's title."""

    kind: str = ""
    actions: tuple[str, ...] = ()

    @property
    def template(self) -> str:
        return f"admission/kinds/{self.kind}.html"

    def acting_role(self, step: StepBase) -> str:
        return step.role

    def abilities(self, ctx: StepContext) -> set[str]:
        return set()

    def work(self, ctx: StepContext) -> str | None:
        waiting = ctx.may_act and ctx.holds(ctx.step.role) and ctx.project["status"] != ProjectStatus.returned
        return ctx.step.title if waiting else None

    async def on_enter(self, actor: Actor, hooks: HookView, project: dict, step: StepBase, today: dt.date) -> None:
        return None

    async def decision_problems(self, project: dict, step: StepBase, decision: Any) -> list[Problem]:
        """What forbids this decision (``service.Decision``) at the step: a reason for a
        return or rejection, and whatever the kind adds."""
        return rules.check_decision(decision.decision, decision.reason)

    async def ballot_problems(self, actor: Actor, project: dict, step: StepBase, ballot: Any) -> list[Problem]:
        """What forbids this ballot (``service.Ballot``) at a step whose members vote."""
        return []

    def score(self, ballot: Any) -> int | None:
        """The score a ballot records (a panel's); ``None`` for kinds that do not score."""
        return None

    async def after_vote(self, actor: Actor, hooks: HookView, project: dict, steps: list, step: StepBase,
                         votes: list[dict], change: Any, today: dt.date) -> str | None:
        """What a vote sets off once recorded (``votes``: this step's, this revision);
        returns an outcome when the vote decided the step."""
        return None


class Decides(Kind):
    """Approve / return / reject by the step's role (argumentation, review, approval)."""

    actions = ("decide",)

    def abilities(self, ctx: StepContext) -> set[str]:
        return {"decide"} if ctx.may_act and ctx.holds(ctx.step.role) else set()


def _registry() -> dict[str, Kind]:
    from core.admission.kinds import (
        approval,
        argumentation,
        document,
        ethics,
        filing,
        panel,
        publicity,
        review,
    )

    found = {}
    for module in (argumentation, ethics, review, panel, publicity, approval, document, filing):
        found[module.KIND.kind] = module.KIND
    return found


KINDS: dict[str, Kind] = _registry()


def of(step: StepBase) -> Kind:
    """The kind that runs ``step``."""
    return KINDS[step.kind]


def offers(step: StepBase | None, action: str) -> bool:
    """Whether the step's kind has ``action`` (a service refuses it otherwise)."""
    return step is not None and action in of(step).actions
