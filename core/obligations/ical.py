"""Per-user iCalendar feeds (RFC 5545) of open obligations, behind a secret URL.

The token is shown once when created; only its SHA-256 is stored, so a leaked
database does not leak feed URLs. Revoking deletes the row: the old URL answers 404.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import icalendar

from core.accounts.schemas import Actor
from core.audit import service as audit
from core.db import write_transaction
from core.errors import NotFound
from core.obligations import service
from core.obligations.tables import CalendarFeed
from core.plugins import HookView
from core.tenancy.tables import Region

PRODID = "-//ClinTech Portal//Obligations//ZH"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def feed_exists(actor: Actor) -> bool:
    return await CalendarFeed.exists().where(CalendarFeed.user == actor.id)


async def create_feed(actor: Actor) -> str:
    """Create (or replace) the actor's feed; returns the new secret token — the only
    time it is shown. A replaced token stops working at once."""
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        replaced = await CalendarFeed.exists().where(CalendarFeed.user == actor.id)
        await CalendarFeed.delete().where(CalendarFeed.user == actor.id)
        await CalendarFeed.insert(CalendarFeed(user=actor.id, token_hash=_hash(token)))
        await audit.record(actor, "ical.create", "user", actor.id, after={"replaced": replaced},
                           institution_id=actor.institution_id)
    return token


async def revoke_feed(actor: Actor) -> None:
    """Revoke the actor's feed: its URL answers 404 from now on."""
    async with write_transaction():
        await CalendarFeed.delete().where(CalendarFeed.user == actor.id)
        await audit.record(actor, "ical.revoke", "user", actor.id, institution_id=actor.institution_id)


async def _actor_for_token(token: str) -> Actor:
    row = await CalendarFeed.select(
        CalendarFeed.user.id, CalendarFeed.user.username, CalendarFeed.user.display_name, CalendarFeed.user.roles,
        CalendarFeed.user.institution, CalendarFeed.user.region, CalendarFeed.user.active,
    ).where(CalendarFeed.token_hash == _hash(token)).first().output(load_json=True)
    if row is None or not row["user.active"]:
        raise NotFound("未找到该日历订阅")
    region_path = None
    if row["user.region"]:
        region = await Region.select(Region.path).where(Region.id == row["user.region"]).first()
        region_path = region["path"] if region else None
    return Actor(id=row["user.id"], username=row["user.username"], display_name=row["user.display_name"],
                 roles=tuple(row["user.roles"] or ()), institution_id=row["user.institution"],
                 region_id=row["user.region"], region_path=region_path)


async def feed(hooks: HookView, token: str, today: dt.date | None = None) -> bytes:
    """The feed for a token: the open obligations its user sees, one all-day VEVENT each
    on the due date, with the rule id and the article in the description and a UID
    that stays the same across fetches. ``NotFound`` for an unknown or revoked token."""
    actor = await _actor_for_token(token)
    rows = await service.open_for(actor, hooks, today, limit=500)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"医疗技术临床应用待办（{actor.display_name}）")
    cal.add("x-wr-timezone", "Asia/Shanghai")  # all-day due dates are Beijing dates
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for row in rows:
        event = icalendar.Event()
        event.add("uid", f"obligation-{row['id']}@clintech")
        event.add("dtstamp", stamp)
        event.add("dtstart", row["due_on"])
        event.add("dtend", row["due_on"] + dt.timedelta(days=1))
        event.add("summary", f"[{row['rule_id']}] {row['title']}"
                  + (f"：{row['subject_label']}" if row["subject_label"] else ""))
        lines = [f"依据：{row['rule_id']}", row["article"], f"医疗机构：{row['institution_name']}"]
        if row["provisional_note"]:
            lines.append(row["provisional_note"])
        if row["setting_note"]:
            lines.append(row["setting_note"])
        event.add("description", "\n".join(lines))
        event.add("categories", [row["kind_label"]])
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()

