"""Training bases' courses (规范化培训) and trainees with their exams (NAT-26, NAT-29, NAT-33).
Only ``core.training.service`` writes them; the deadlines are the plugins' rules."""

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.tenancy.tables import Institution
from core.training.schemas import ReviewStatus


class TrainingCourse(Table, tablename="training_course"):
    """A course of an institution acting as training base for a restricted technology: its
    first enrolment notice and start (planned dates the deadline rules count from), its
    filing with the provincial commission, the published plan, the exam and its report."""

    institution = ForeignKey(Institution, index=True)
    technology_key = Varchar(length=40)
    technology_name = Varchar(length=200, default="")
    title = Varchar(length=200)
    places = Integer(default=0)
    plan = Text(default="")  # 培训方案、师资、课程设置、考核方案
    enrolment_notice_on = Date()
    starts_on = Date()
    base_filed_on = Date(null=True, default=None)
    plan_published_on = Date(null=True, default=None)
    exam_on = Date(null=True, default=None)
    results_reported_on = Date(null=True, default=None)
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Trainee(Table, tablename="training_trainee"):
    """A physician enrolled in a course (from any institution) with the process and final
    exam results (NAT-33: 过程考核、结业考核)."""

    course = ForeignKey(TrainingCourse, index=True)
    name = Varchar(length=60)
    home_institution = Varchar(length=200, default="")
    user = ForeignKey(User, null=True, default=None)
    # The trainee's 医师执业证书编码: how the province's database of trained physicians
    # finds the physician at any institution (their practice certificate's number).
    practice_no = Varchar(length=40, default="")
    process_result = Varchar(length=10, default="")  # pass / fail / ""
    final_result = Varchar(length=10, default="")


class TrainingReview(Table, tablename="training_review"):
    """A review that puts a physician in the province's database of physicians performing a
    restricted technology without a course, where a province says so:

    - ``kind`` transfer: a physician moving in from another province (the province plugin's
      ``authorisation.transfer_rule``), submitted by the receiving institution's medical
      affairs, decided by the QC centre of its province — passing counts as training;
    - ``kind`` transitional: a physician already qualified when the province's rules took
      effect applies to their institution (``authorisation.transitional_rule``), the
      institution reviews (``reviewed``), the licence-issuing department publicises the list
      and reports it to the QC centre (``listed``)."""

    institution = ForeignKey(Institution, index=True)
    user = ForeignKey(User, index=True)
    kind = Varchar(length=12, default="transfer")  # transfer / transitional
    technology_key = Varchar(length=40)
    technology_name = Varchar(length=200, default="")
    rule = Varchar(length=20)  # the province's rule id, as its plugin named it at submission
    origin = Varchar(length=200, default="")  # where the physician practised before (institution, province)
    materials = Text(default="")  # training and practice record the institution checked
    submitted_on = Date()
    submitted_by = Varchar(length=100, default="")
    # transfer: submitted / passed / failed; transitional: submitted / reviewed / failed / listed
    status = Varchar(length=12, default=ReviewStatus.submitted, choices=ReviewStatus)
    reviewed_on = Date(null=True, default=None)
    reviewer = Varchar(length=100, default="")
    opinion = Text(default="")
    listed_on = Date(null=True, default=None)  # transitional: publicised and reported to the QC centre
    lister = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
