"""Person attributes the admission rules read (HOSP-5): when the resident post began,
whether the physician is visiting (进修医师), and their qualifications."""

from __future__ import annotations

import datetime as dt

from core.accounts.schemas import Actor
from core.accounts.tables import User
from core.audit import service as audit
from core.db import write_transaction
from core.errors import NotFound


async def set_person(actor: Actor, user_id: int, *, resident_since: dt.date | None, visiting: bool = False,
                     qualifications: list[str] | None = None) -> None:
    """Record a physician's resident start, visiting flag and qualifications; audited."""
    row = await User.select(User.id, User.institution, User.resident_since, User.visiting,
                            User.qualifications).where(User.id == user_id).first().output(load_json=True)
    if row is None:
        raise NotFound("用户不存在")
    after = {"resident_since": resident_since, "visiting": visiting, "qualifications": list(qualifications or [])}
    async with write_transaction():
        await User.update({User.resident_since: resident_since, User.visiting: visiting,
                           User.qualifications: after["qualifications"]}).where(User.id == user_id)
        await audit.record(actor, "user.person", "user", user_id,
                           before={k: row[k] for k in after}, after=after, institution_id=row["institution"])
