"""``review`` (ReviewStep): approve / return / reject with a reason; ``written_reply``
makes the reason mandatory either way (HOSP-8)."""

from core.admission.kinds import Decides


class Review(Decides):
    kind = "review"


KIND = Review()
