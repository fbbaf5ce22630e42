"""Uploaded files (附件): metadata here, bytes on disk by SHA-256 under CLINTECH_STORAGE."""

from piccolo.columns import BigInt, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.tenancy.tables import Institution


class Attachment(Table):
    """One upload. The bytes live at ``<storage>/<sha[:2]>/<sha>``; the same content
    uploaded twice is stored once. ``owner_type``/``owner_id`` say what it belongs to."""

    institution = ForeignKey(Institution, index=True)
    sha256 = Varchar(length=64, index=True)
    size = BigInt()
    content_type = Varchar(length=60)
    filename = Varchar(length=200)
    kind = Varchar(length=40, default="other")  # evidence / ethics_approval / step / other
    owner_type = Varchar(length=40, index=True)
    owner_id = Integer(index=True)
    uploaded_by = ForeignKey(User)
    created_at = Timestamptz(default=TimestamptzNow())
