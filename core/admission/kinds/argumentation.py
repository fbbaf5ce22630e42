"""``argumentation`` (ArgumentationStep): the department head approves, returns or rejects,
covering each of the step's considerations (HOSP-4)."""

from typing import Any

from core.admission import rules
from core.admission.kinds import Decides
from core.contract import StepBase
from core.errors import Problem


class Argumentation(Decides):
    kind = "argumentation"

    async def decision_problems(self, project: dict, step: StepBase, decision: Any) -> list[Problem]:
        problems = rules.check_decision(decision.decision, decision.reason)
        if decision.decision == "approve":  # HOSP-4: every consideration weighed
            problems += rules.check_considerations(decision.considerations, list(step.considerations))
        return problems


KIND = Argumentation()
