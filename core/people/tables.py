"""Physicians' certificates, authorisations (医师授权) and the operator findings of cases.
Only ``core.people.service`` writes them."""

from piccolo.columns import JSON, BigInt, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.people.schemas import AuthorisationStatus
from core.tenancy.tables import Institution


class Certificate(Table, tablename="physician_certificate"):
    """A certificate medical affairs keeps for a physician (资格证、执业证、职称证, training
    certificates of a specification), with its expiry (the filing's certificates, NAT-19)."""

    institution = ForeignKey(Institution, index=True)
    user = ForeignKey(User, index=True)
    kind = Varchar(length=20)  # qualification / practice / title / training / other
    name = Varchar(length=60)  # the name the rules read, e.g. 医师资格证
    number = Varchar(length=80, default="")
    issuer = Varchar(length=120, default="")
    issued_on = Date(null=True, default=None)
    expires_on = Date(null=True, default=None)
    note = Text(default="")
    removed = Integer(default=0)  # 1 once medical affairs removed it (kept for the archive)
    created_by = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Authorisation(Table, tablename="physician_authorisation"):
    """One authorisation (医师授权, NAT-20): a physician for one restricted technology
    (``scope`` technology, ``technology_key``) or up to a surgery level (``scope`` level,
    ``level`` 1–4), granted by the institution's management body, with validity dates."""

    institution = ForeignKey(Institution, index=True)
    user = ForeignKey(User, index=True)
    scope = Varchar(length=12)  # technology / level
    technology_key = Varchar(length=40, default="")
    technology_name = Varchar(length=200, default="")
    level = Integer(null=True, default=None)
    status = Varchar(length=12, default=AuthorisationStatus.active, choices=AuthorisationStatus)
    valid_from = Date()
    valid_until = Date()
    version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())


class AuthorisationEvent(Table, tablename="physician_authorisation_event"):
    """The history of an authorisation: grant, renew, suspend, reinstate, revoke — each with
    its date, its basis (ability, training, exams: NAT-20) and the body's decision."""

    authorisation = ForeignKey(Authorisation, index=True)
    action = Varchar(length=12)
    on = Date()
    valid_until = Date(null=True, default=None)
    ability = Text(default="")
    training = Text(default="")
    exam = Text(default="")
    decision = Text(default="")  # the management body's meeting or document
    reason = Text(default="")
    # What the province's database of trained physicians and the exams held at the grant
    # (NAT-26, NAT-33; the province's training rule): ``[{"kind", "on", "text"}]``, read when the grant was made.
    evidence = JSON(default=[])
    actor = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class OperatorFinding(Table, tablename="case_operator_finding"):
    """An operator of a case without a valid authorisation on the operation date (NAT-20):
    recorded with the case, shown on it, in the physician's archive and to the regulator."""

    record = BigInt(index=True)  # the case_record id
    institution = ForeignKey(Institution, index=True)
    user = ForeignKey(User, index=True)
    operated_on = Date()
    technology_code = Varchar(length=40, default="")
    rule = Varchar(length=20)
    message = Text()
    detail = JSON(default={})
