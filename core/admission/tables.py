"""New-technology admission (新技术新项目准入): rounds, projects, their versions,
step decisions, votes, review panels and publicity objections."""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.admission.schemas import EthicsStatus, ProjectStatus, RoundStatus
from core.tenancy.tables import Department, Institution


class AdmissionRound(Table):
    """The yearly admission round (年度准入申报) medical affairs opens and closes (HOSP-4)."""

    institution = ForeignKey(Institution, index=True)
    year = Integer()
    opens_on = Date()
    closes_on = Date()
    status = Varchar(length=20, default=RoundStatus.open, choices=RoundStatus)
    opened_by = ForeignKey(User, null=True)
    closed_at = Timestamptz(null=True, default=None)


class Project(Table, tablename="admission_project"):
    """A department's new-technology project (新技术项目) and where its admission stands."""

    institution = ForeignKey(Institution, index=True)
    department = ForeignKey(Department, index=True)
    lead = ForeignKey(User, index=True)
    title = Varchar(length=200)
    path = Varchar(length=20, default="round")  # round (yearly) / temporary (HOSP-12)
    round = ForeignKey(AdmissionRound, null=True)
    # The technology as cited from the catalogue (edition kept by the citation).
    technology_id = Integer(null=True, default=None)
    technology_ref = Varchar(length=80, null=True, default=None)
    technology_code = Varchar(length=40, default="")
    technology_name = Varchar(length=200, default="")
    tech_class = Varchar(length=20, default="routine")  # restricted / routine / prohibited
    outside_lists = Boolean(default=False)
    grade = Varchar(length=40, default="")
    form = JSON(default={})  # answers to the plugin's application form
    steps = JSON(default=[])  # the plugin's steps, frozen at first submission
    status = Varchar(length=20, default=ProjectStatus.draft, choices=ProjectStatus, index=True)
    current_step = Varchar(length=40, null=True, default=None, index=True)
    current_role = Varchar(length=40, null=True, default=None, index=True)
    step_started_on = Date(null=True, default=None)
    revision = Integer(default=1)
    version = Integer(default=1)  # optimistic concurrency: bumped by every change
    ethics_status = Varchar(length=20, default=EthicsStatus.pending, choices=EthicsStatus)
    ethics_due = Date(null=True, default=None)
    admitted_on = Date(null=True, default=None)
    monitoring_until = Date(null=True, default=None)
    awaiting_first_case = Boolean(default=False)
    # EVAL-8: a routine technology concluded restricted counts as restricted from this date
    # (core.admission.first_case.restrict_from); cases before it stay routine.
    restricted_from = Date(null=True, default=None)
    document_no = Varchar(length=60, default="")
    document_on = Date(null=True, default=None)
    university_filed_on = Date(null=True, default=None)
    outcome_reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ProjectVersion(Table):
    """A submitted revision of the application, kept when it is returned and resubmitted."""

    project = ForeignKey(Project, index=True)
    revision = Integer()
    snapshot = JSON(default={})
    submitted_by = ForeignKey(User)
    submitted_at = Timestamptz(default=TimestamptzNow())


class StepDecision(Table):
    """One entry of a project's timeline: who did what at which step, with reason and details."""

    project = ForeignKey(Project, index=True)
    step = Varchar(length=40)
    step_title = Varchar(length=100, default="")
    revision = Integer(default=1)
    actor = ForeignKey(User, null=True)
    actor_name = Varchar(length=60)
    role = Varchar(length=40, default="")
    decision = Varchar(length=30)
    reason = Text(default="")
    details = JSON(default={})
    attachments = JSON(default=[])
    at = Timestamptz(default=TimestamptzNow())


class Vote(Table, tablename="admission_vote"):
    """An ethics member's or an expert's vote at a step (HOSP-9, HOSP-21)."""

    project = ForeignKey(Project, index=True)
    step = Varchar(length=40)
    revision = Integer(default=1)
    voter = ForeignKey(User, index=True)
    vote = Varchar(length=20)  # approve / reject / recuse
    score = Integer(null=True, default=None)
    scores = JSON(default={})
    comment = Text(default="")
    at = Timestamptz(default=TimestamptzNow())


class PanelMember(Table):
    """An expert medical affairs put on a project's review panel (HOSP-9, HOSP-12)."""

    project = ForeignKey(Project, index=True)
    step = Varchar(length=40)
    revision = Integer(default=1)
    expert = ForeignKey(User, index=True)


class Objection(Table):
    """An objection lodged during publicity (公示异议) and medical affairs' answer (HOSP-10)."""

    project = ForeignKey(Project, index=True)
    author = ForeignKey(User)
    text = Text()
    at = Timestamptz(default=TimestamptzNow())
    answer = Text(default="")
    answered_by = ForeignKey(User, null=True)
    answered_at = Timestamptz(null=True, default=None)
