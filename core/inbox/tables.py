"""The in-app inbox: messages for one user, and where else to send them."""

from piccolo.columns import ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User


class InboxMessage(Table):
    """A message in one user's inbox (站内消息); unread while ``read_at`` is empty."""

    user = ForeignKey(User, index=True)
    title = Varchar(length=200)
    body = Text(default="")
    link = Varchar(length=300, default="")
    # What produced it, e.g. "obligation:42", so a record can find its messages.
    source = Varchar(length=80, default="", index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class InboxAddress(Table):
    """The e-mail address a user wants reminders copied to (when SMTP is configured)."""

    user = ForeignKey(User, unique=True)
    email = Varchar(length=200)
