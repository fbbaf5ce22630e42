"""Case records (病例) and spreadsheet import jobs. Only ``core.cases.service`` writes them."""

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.admission.tables import Project
from core.cases.schemas import ImportStatus
from core.tenancy.tables import Department, Institution


class CaseRecord(Table, tablename="case_record"):
    """One case of an admitted technology (NAT-37, HOSP-15).

    The patient is a pseudonym: ``patient_key`` is an HMAC of the hospital's own key,
    never a name or an ID number (NAT-45). ``dedupe_key`` is "<institution>:<case id>",
    the hospital's own case id, on which recording is idempotent.
    """

    # No single-column indexes on institution, project, department, technology_code: the
    # composite (column, operated_on) indexes of the initial migration serve every lookup
    # by that column (its leftmost part) and each case insert maintains four fewer indexes.
    institution = ForeignKey(Institution)
    project = ForeignKey(Project)
    department = ForeignKey(Department)
    external_id = Varchar(length=80)
    dedupe_key = Varchar(length=120, unique=True)
    content_hash = Varchar(length=64)
    technology_code = Varchar(length=40, default="")
    technology_name = Varchar(length=200, default="")
    tech_class = Varchar(length=20, default="routine")
    patient_key = Varchar(length=64)
    admitted_on = Date()
    operated_on = Date(index=True)
    discharged_on = Date()
    operators = JSON(default=[])  # user ids of this institution's physicians
    assistants = JSON(default=[])
    indication = Text(default="")
    outcome = Varchar(length=20, default="")
    complication = Boolean(default=False)
    complications = Text(default="")
    adverse_event = Boolean(default=False)
    adverse_events = Text(default="")
    follow_up = Text(default="")
    qc_values = JSON(default={})
    consent = Boolean(default=False)  # informed consent signed (HOSP-18, NAT-45)
    source = Varchar(length=10, default="page")  # page / api / upload / demo
    # The reporting obligation of the province's rule (from the plugins), if one applies.
    report_rule = Varchar(length=20, default="")
    report_due_on = Date(null=True, default=None)
    reported_on = Date(null=True, default=None)
    report_late = Boolean(default=False)
    delivery_id = Integer(null=True, default=None)
    recorded_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    # Corrections and voids by medical affairs (earlier contents in ``CaseVersion``).
    version = Integer(default=1)
    voided = Boolean(default=False)
    void_reason = Text(default="")
    # Follow-up known only after discharge: 转归 and death within 30 days.
    followup_outcome = Varchar(length=20, default="")
    followup_died = Boolean(null=True, default=None)
    followup_on = Date(null=True, default=None)
    followup_by = Varchar(length=100, default="")
    # The operation and its level in the institution's grading catalogue (NAT-16), the
    # edition graded by, and the province's rule when the level decided the class.
    operation_code = Varchar(length=20, default="")
    operation_name = Varchar(length=200, default="")
    surgery_level = Integer(null=True, default=None)
    grading_edition = Integer(null=True, default=None)
    scope_rule = Varchar(length=20, default="")
    scope_reason = Text(default="")


class CaseVersion(Table, tablename="case_version"):
    """An earlier content of a case, kept when medical affairs corrects or voids it (or
    follow-up is added): who, when, why, and the correction's delivery."""

    record = BigInt(index=True)  # the case_record id
    version = Integer()  # the version this row preserves
    action = Varchar(length=20)  # correct / void / follow_up
    reason = Text(default="")
    content = JSON(default={})
    changed_by = Varchar(length=100, default="")
    changed_at = Timestamptz(default=TimestamptzNow())
    delivery_id = Integer(null=True, default=None)


class CaseImport(Table):
    """A spreadsheet upload being checked and imported (progress for the page)."""

    institution = ForeignKey(Institution, index=True)
    project = ForeignKey(Project)
    user = ForeignKey(User, null=True)
    filename = Varchar(length=200, default="")
    status = Varchar(length=12, default=ImportStatus.queued, choices=ImportStatus)
    total = Integer(default=0)
    checked = Integer(default=0)
    imported = Integer(default=0)
    problems = JSON(default=[])
    rows = JSON(default=[])  # the parsed rows while the job runs; emptied afterwards
    declare_unauthorised = Boolean(default=False)  # NAT-20: unauthorised operators' cases declared
    created_at = Timestamptz(default=TimestamptzNow())
