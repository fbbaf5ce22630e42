"""The institution's surgery-grading catalogue (手术分级管理目录, NAT-15, NAT-16): editions
and their operations. Only ``core.grading.service`` writes them.

Editions are kept: every import and every edit makes a new edition from a date on, the
earlier ones stay readable, and a case keeps the edition it was graded by.
"""

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tenancy.tables import Institution


class GradingEdition(Table, tablename="grading_edition"):
    """One edition of an institution's grading catalogue, in force from ``effective_on``
    until the next edition's ``effective_on``."""

    uid = Varchar(length=40, unique=True)  # "<institution>:<number>"
    institution = ForeignKey(Institution, index=True)
    number = Integer()  # 1, 2, … per institution
    effective_on = Date()
    source = Varchar(length=10, default="import")  # import / edit
    note = Text(default="")  # what changed (an edit) or the file (an import)
    basis = Text(default="")  # the management body's decision it follows (NAT-15 (2))
    operation_count = Integer(default=0)
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class GradingOperation(Table, tablename="grading_operation"):
    """One operation (ICD-9-CM-3 code and name) of an edition, at level 1–4."""

    uid = Varchar(length=80, unique=True)  # "<edition id>#<code>"
    edition = ForeignKey(GradingEdition, index=True)
    code = Varchar(length=20, index=True)
    name = Varchar(length=200)
    level = Integer()
    department = Varchar(length=100, default="")
