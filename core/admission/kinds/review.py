"""``review`` (ReviewStep): approve / return / reject with a reason; ``written_reply``
makes the reason mandatory either way (HOSP-8)."""

from typing import Any

from core.admission import rules
from core.admission.kinds import Decides
from core.contract import StepBase
from core.errors import Problem


class Review(Decides):
    kind = "review"

    async def decision_problems(self, project: dict, step: StepBase, decision: Any) -> list[Problem]:
        # HOSP-8: the formal review replies in writing whatever it decides.
        return rules.check_decision(decision.decision, decision.reason, reason_always=step.written_reply)


KIND = Review()
