"""Person attributes the admission rules read (HOSP-5): when the resident post began,
whether the physician is visiting (进修医师), and their qualifications."""

from __future__ import annotations

import datetime as dt

from core import clock
from core.accounts.rules import check_person_input
from core.accounts.schemas import Actor, PersonInput
from core.accounts.tables import User
from core.audit import service as audit
from core.db import write_transaction
from core.errors import NotFound


def _clean(qualifications: list[str] | None) -> list[str]:
    """Trimmed, without blanks or repeats, in the order given."""
    seen: list[str] = []
    for q in qualifications or ():
        q = q.strip()
        if q and q not in seen:
            seen.append(q)
    return seen


async def get_person(user_id: int) -> dict:
    """``{"resident_since", "visiting", "qualifications"}`` of a user; NotFound if absent."""
    row = await User.select(User.resident_since, User.visiting, User.qualifications).where(
        User.id == user_id).first().output(load_json=True)
    if row is None:
        raise NotFound("用户不存在")
    return {"resident_since": row["resident_since"], "visiting": bool(row["visiting"]),
            "qualifications": list(row["qualifications"] or [])}


def check_person(data: PersonInput, today: dt.date | None = None) -> list:
    """The problems of ``data`` (HOSP-5 reads these attributes), qualifications cleaned in place."""
    data.qualifications = _clean(data.qualifications)
    return check_person_input(data, today or clock.today())


async def set_person(actor: Actor, user_id: int, *, resident_since: dt.date | None, visiting: bool = False,
                     qualifications: list[str] | None = None) -> None:
    """Record a physician's resident start, visiting flag and qualifications; audited.

    Joins the caller's transaction when there is one: the admin's user form goes through
    ``accounts.update_user`` / ``create_user``, which check the input with ``check_person``
    first. Called directly (demo data, tests), the values are stored as given, trimmed."""
    data = PersonInput(resident_since=resident_since, visiting=visiting, qualifications=_clean(qualifications))
    row = await User.select(User.id, User.institution, User.resident_since, User.visiting,
                            User.qualifications).where(User.id == user_id).first().output(load_json=True)
    if row is None:
        raise NotFound("用户不存在")
    after = {"resident_since": data.resident_since, "visiting": data.visiting, "qualifications": data.qualifications}
    async with write_transaction():
        await User.update({User.resident_since: data.resident_since, User.visiting: data.visiting,
                           User.qualifications: after["qualifications"]}).where(User.id == user_id)
        await audit.record(actor, "user.person", "user", user_id,
                           before={k: row[k] for k in after}, after=after, institution_id=row["institution"])
