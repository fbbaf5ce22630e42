"""Users, their server-side sessions and login attempts."""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tenancy.tables import Department, Institution, Region


class User(Table, tablename="app_user"):
    """A person who logs in. Hospital roles carry an institution; regulators a region."""

    username = Varchar(length=60, unique=True)
    display_name = Varchar(length=60)
    password_hash = Varchar(length=200)
    roles = JSON(default=[])
    institution = ForeignKey(Institution, null=True, index=True)
    department = ForeignKey(Department, null=True)
    region = ForeignKey(Region, null=True, index=True)
    title = Varchar(length=60, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # Person attributes the admission rules read (HOSP-5): start of the resident post,
    # visiting (进修) physicians, and qualifications (certificates, trainings).
    resident_since = Date(null=True, default=None)
    visiting = Boolean(default=False)
    qualifications = JSON(default=[])


class UserSession(Table):
    """A login session; the cookie holds a random token, the table only its hash."""

    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()


class LoginAttempt(Table):
    """Failed logins, counted per account and per address for rate limiting."""

    key = Varchar(length=200, index=True)  # "user:<name>" or "addr:<ip>"
    at = Timestamptz(default=TimestamptzNow(), index=True)
