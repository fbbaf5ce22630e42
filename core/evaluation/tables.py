"""Regulator evaluations of technologies in clinical use (医疗技术临床应用情况评估, seed 003):
the evaluation, its evidence, its data requests to institutions, its expert panel and
the panel's sittings with each expert's vote."""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.evaluation.schemas import DataRequestStatus, EvaluationStatus
from core.tenancy.tables import Institution, Region


class Evaluation(Table):
    """One evaluation of a technology, run by a provincial health department (EVAL-10)."""

    region = ForeignKey(Region, index=True)
    started_by = ForeignKey(User)
    technology_ref = Integer(null=True, default=None)  # the CatalogTechnology cited, if any
    technology_code = Varchar(length=40, default="")
    technology_name = Varchar(length=200)
    current_class = Varchar(length=20, default="routine")
    trigger = Integer()  # EVAL-5 (1)–(8)
    situation = Text(default="")
    status = Varchar(length=20, default=EvaluationStatus.investigating, choices=EvaluationStatus, index=True)
    outcome = Varchar(length=20, default="")  # EVAL-8: prohibited / restricted / strengthened
    recommendation = Text(default="")
    effective_on = Date(null=True, default=None)
    edition_uid = Varchar(length=140, default="")
    concluded_on = Date(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class EvaluationFile(Table):
    """Literature, a guideline or a consensus the evaluating centre gathered (EVAL-6). The
    bytes are kept by content hash in the portal's storage (``core.storage``)."""

    evaluation = ForeignKey(Evaluation, index=True)
    kind = Varchar(length=20)  # literature / guideline / consensus / other
    title = Varchar(length=200)
    filename = Varchar(length=200)
    sha256 = Varchar(length=64)
    size = Integer(default=0)
    content_type = Varchar(length=60, default="")
    added_by = ForeignKey(User)
    at = Timestamptz(default=TimestamptzNow())


class DataRequest(Table):
    """Clinical data called from one institution (调取临床资料, EVAL-6), answered through the portal."""

    evaluation = ForeignKey(Evaluation, index=True)
    institution = ForeignKey(Institution, index=True)
    question = Text()
    requested_on = Date()
    requested_by = ForeignKey(User)
    status = Varchar(length=20, default=DataRequestStatus.open, choices=DataRequestStatus, index=True)
    answer = Text(default="")
    answered_by = ForeignKey(User, null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)


class PanelExpert(Table):
    """An expert of the evaluation's panel (论证专家, EVAL-7) and the field they cover."""

    evaluation = ForeignKey(Evaluation, index=True)
    name = Varchar(length=60)
    affiliation = Varchar(length=200, default="")
    field = Varchar(length=20)  # clinical / management / ethics
    position = Integer(default=0)


class Sitting(Table):
    """One sitting (会议论证) of the panel: the proposal it voted on and the tally (EVAL-7)."""

    evaluation = ForeignKey(Evaluation, index=True)
    number = Integer()
    held_on = Date()
    outcome = Varchar(length=20)
    recommendation = Text(default="")
    specification = Text(default="")
    qc_indicators = JSON(default=[])
    effective_on = Date(null=True, default=None)
    agree = Integer(default=0)
    disagree = Integer(default=0)
    recused = Integer(default=0)
    panel_size = Integer(default=0)
    valid = Boolean(default=False)
    recorded_by = ForeignKey(User)
    at = Timestamptz(default=TimestamptzNow())


class SittingVote(Table):
    """One expert's vote and opinion at a sitting; each expert answers for it (EVAL-7)."""

    sitting = ForeignKey(Sitting, index=True)
    expert = ForeignKey(PanelExpert, index=True)
    vote = Varchar(length=20)  # agree / disagree / recuse
    opinion = Text(default="")


class PeriodicReview(Table):
    """The institution's own evaluation of a technology it uses (院内医疗技术临床应用评估,
    NAT-22): its management committee's findings and result — continue, adjust the
    management requirements, or stop (then through ``core.lifecycle``)."""

    institution = ForeignKey(Institution, index=True)
    technology_key = Varchar(length=40, index=True)  # core.lifecycle's key: the code, or P<project id>
    technology_name = Varchar(length=200)
    project = Integer(null=True, default=None)
    reviewed_on = Date()
    committee = Varchar(length=300)
    findings = Text()
    result = Varchar(length=20)  # continue / adjust / stop
    adjustments = Text(default="")
    # "adjust": what is adjusted (core.evaluation.rules.ADJUSTMENT_KINDS) and, when it is
    # the physicians' privileges, the authorisations of the technology flagged for review.
    adjustment_kinds = JSON(default=[])
    flagged_authorisations = JSON(default=[])  # [{id, user_id, name}]
    use_event = Integer(null=True, default=None)  # the lifecycle history row of a stop or an adjustment
    recorded_by = ForeignKey(User)
    at = Timestamptz(default=TimestamptzNow())
