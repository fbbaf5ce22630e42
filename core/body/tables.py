"""The institution's technology-management body (医疗技术临床应用管理专门组织, NAT-15):
the body, its members and posts, its meetings with attendance and decisions. Only
``core.body.service`` writes them."""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.tenancy.tables import Institution


class Body(Table, tablename="management_body"):
    """One per institution: a committee (委员会) under the quality committee, a working group
    (工作小组) or designated staff (指定专（兼）职人员)."""

    institution = ForeignKey(Institution, unique=True)
    kind = Varchar(length=20)  # committee / working_group / designated
    name = Varchar(length=120)
    established_on = Date()
    document = Varchar(length=200, default="")  # the institution's establishing document
    version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())


class BodyMember(Table, tablename="management_body_member"):
    """A member and their post (the province's plugin names the posts); ``left_on`` once they leave."""

    body = ForeignKey(Body, index=True)
    user = ForeignKey(User, null=True, default=None)
    name = Varchar(length=60)
    post = Varchar(length=30)
    title = Varchar(length=60, default="")  # e.g. 主任医师 (the senior members' qualification)
    joined_on = Date()
    left_on = Date(null=True, default=None)


class BodyMeeting(Table, tablename="management_body_meeting"):
    """A meeting: date, topic, who attended (member ids), minutes."""

    body = ForeignKey(Body, index=True)
    held_on = Date()
    topic = Varchar(length=200)
    attendees = JSON(default=[])
    minutes = Text(default="")
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class BodyDecision(Table, tablename="management_body_decision"):
    """A decision of a meeting, of one of the body's duties (``system``: rules, catalogue,
    grading, argumentation, evaluation, authorisation, qc, archive, stop, other)."""

    meeting = ForeignKey(BodyMeeting, index=True)
    institution = ForeignKey(Institution, index=True)
    system = Varchar(length=20)
    text = Text()
    unanimous = Boolean(default=True)
