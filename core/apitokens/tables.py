"""API tokens an admin issues to an institution's HIS; only the token's SHA-256 is stored."""

from piccolo.columns import ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.tenancy.tables import Institution


class ApiToken(Table):
    """One bearer token of one institution (接口令牌). Revoked tokens stay, for the audit trail."""

    institution = ForeignKey(Institution, index=True)
    name = Varchar(length=100)
    prefix = Varchar(length=12)  # shown on screen so a token can be recognised
    token_hash = Varchar(length=64, unique=True)
    created_by = ForeignKey(User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
