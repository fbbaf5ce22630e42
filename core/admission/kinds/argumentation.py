"""``argumentation`` (ArgumentationStep): the department head approves, returns or rejects,
covering each of the step's considerations (HOSP-4)."""

from core.admission.kinds import Decides


class Argumentation(Decides):
    kind = "argumentation"


KIND = Argumentation()
