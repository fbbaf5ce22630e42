"""What the dashboard keeps to answer fast (issue 15)."""

from piccolo.columns import Integer
from piccolo.table import Table


class InstitutionChange(Table, tablename="institution_change"):
    """A counter per institution, raised by database triggers in the transaction of every
    write to what an institution's to-do list and dashboard read (projects, votes, panel
    members, QC reports and summaries, obligations, risk warnings, filings, users, the
    institution itself). The session query reads it, so a process may keep an
    institution's dashboard figures until the counter moves (``core.dashboard.service``):
    whichever process or code path wrote, the next request sees the change."""

    institution = Integer(unique=True)
    version = Integer(default=0)
