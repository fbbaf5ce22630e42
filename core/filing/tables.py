"""Restricted-technology filing (限制类技术备案): the filing and each submission of it.

Only ``core.filing.service`` writes these tables.
"""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.admission.tables import Project
from core.filing.schemas import FilingStatus
from core.tenancy.tables import Institution


class Filing(Table):
    """One filing of an admitted restricted technology with the department that issued the
    institution's practice licence (NAT-11), from the first case to its
    completion, withdrawal or cancellation."""

    institution = ForeignKey(Institution, index=True)
    project = ForeignKey(Project, index=True)
    technology_ref = Varchar(length=80, default="")  # the catalogue citation the project keeps
    technology_code = Varchar(length=40, default="", index=True)
    technology_name = Varchar(length=200, default="")
    specification = Text(default="")  # the technology's management specification, if the catalogue names one
    lead = ForeignKey(User, null=True)
    first_case_on = Date()
    first_case_info = Text(default="")
    # The cases counted on this filing (its audit trail: the first case, those added, voids taken
    # off). Pages and open data show core.cases.counts instead (NAT-24, NAT-40): one definition.
    case_count = Integer(default=1)
    # The hospital's obligation (NAT-11): 15 working days from the first case.
    obligation_id = Integer(null=True, default=None)
    due_on = Date(null=True, default=None)
    due_rule = Varchar(length=20, default="")
    status = Varchar(length=24, default=FilingStatus.open, choices=FilingStatus, index=True)
    assessment_basis = Varchar(length=20, default="specification")  # specification / consensus (province policy)
    assessment_reference = Varchar(length=300, default="")
    self_assessment = Text(default="")
    form = JSON(default={})  # answers to the province's filing form
    physicians = JSON(default=[])  # [{user_id, name, sex, scope, title, lead}]
    submitted_on = Date(null=True, default=None)  # the first submission
    submitted_late = Boolean(default=False)
    # The regulator's clock (NAT-11): from the latest complete submission.
    materials_complete_on = Date(null=True, default=None)
    completion_due_on = Date(null=True, default=None)
    return_reason = Text(default="")
    completed_on = Date(null=True, default=None)
    completed_by = Varchar(length=60, default="")
    reported_up_on = Date(null=True, default=None)
    # 备注三: what the licence copy should say now, and what it was recorded to say.
    annotation_expected = Text(default="")
    annotation_recorded = Text(default="")
    annotation_recorded_on = Date(null=True, default=None)
    closed_on = Date(null=True, default=None)
    close_reason = Text(default="")
    close_ground = Varchar(length=20, default="")  # NAT-25 ground of a cancellation
    version = Integer(default=1)  # optimistic concurrency: bumped by every change
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class FilingSubmission(Table):
    """One (re)submission of a filing's complete materials and what became of it."""

    filing = ForeignKey(Filing, index=True)
    number = Integer(default=1)
    submitted_on = Date()
    submitted_by = Varchar(length=60, default="")
    late = Boolean(default=False)
    attachments = JSON(default=[])  # the attachment ids submitted, in the province's order
    completion_obligation_id = Integer(null=True, default=None)
    completion_due_on = Date(null=True, default=None)
    delivery_id = Integer(null=True, default=None)
    outcome = Varchar(length=20, default="pending")  # pending / returned / completed / withdrawn
    outcome_on = Date(null=True, default=None)
    outcome_reason = Text(default="")
