"""``approval`` (ApprovalStep): approve / return / reject; ``admits`` marks the approval
after which the project counts as admitted (HOSP-10, HOSP-12)."""

from core.admission.kinds import Decides


class Approval(Decides):
    kind = "approval"


KIND = Approval()
