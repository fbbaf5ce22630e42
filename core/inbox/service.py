"""The in-app inbox: the only writer of inbox messages and reminder addresses."""

from __future__ import annotations

import datetime as dt
import re

from core.accounts.schemas import Actor
from core.audit import service as audit
from core.db import engine, write_transaction
from core.errors import DomainError, NotFound, Problem
from core.inbox.tables import InboxAddress, InboxMessage

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


async def deliver(user_ids: list[int], title: str, body: str, link: str = "", source: str = "") -> int:
    """Put one message into each user's inbox. Runs inside the caller's write
    transaction, so the message and the change that caused it commit together."""
    return await deliver_many([{"user": uid, "title": title, "body": body, "link": link, "source": source}
                               for uid in user_ids])


async def deliver_many(messages: list[dict]) -> int:
    """Many messages at once (a chunk of reminders), each a dict of ``user``, ``title``,
    ``body``, ``link``, ``source``: one insert, inside the caller's write transaction."""
    if engine().current_transaction.get() is None:
        raise RuntimeError("inbox.deliver must run inside the caller's transaction")
    if not messages:
        return 0
    from core.db import insert_many

    await insert_many(InboxMessage, [m | {"title": m["title"][:200]} for m in messages])
    return len(messages)


async def unread_count(user_id: int) -> int:
    """Unread messages of a user (the badge in the navigation)."""
    return await InboxMessage.count().where(
        (InboxMessage.user == user_id) & InboxMessage.read_at.is_null())


async def messages(actor: Actor, limit: int = 100) -> list[dict]:
    """The actor's messages, newest first."""
    return await InboxMessage.select().where(InboxMessage.user == actor.id).order_by(
        InboxMessage.id, ascending=False).limit(limit)


async def mark_read(actor: Actor, message_id: int) -> None:
    """Mark one of the actor's own messages read; someone else's answers ``NotFound``."""
    row = await InboxMessage.select(InboxMessage.id, InboxMessage.read_at).where(
        (InboxMessage.id == message_id) & (InboxMessage.user == actor.id)).first()
    if row is None:
        raise NotFound("未找到该消息")
    if row["read_at"] is not None:
        return
    async with write_transaction():
        await InboxMessage.update({InboxMessage.read_at: dt.datetime.now(dt.UTC)}).where(
            InboxMessage.id == message_id)
        await audit.record(actor, "inbox.read", "inbox_message", message_id, institution_id=actor.institution_id)


async def mark_all_read(actor: Actor) -> int:
    """Mark every unread message of the actor read; returns how many."""
    unread = await unread_count(actor.id)
    if not unread:
        return 0
    async with write_transaction():
        await InboxMessage.update({InboxMessage.read_at: dt.datetime.now(dt.UTC)}).where(
            (InboxMessage.user == actor.id) & InboxMessage.read_at.is_null())
        await audit.record(actor, "inbox.read_all", "inbox_message", None, after={"count": unread},
                           institution_id=actor.institution_id)
    return unread


async def address_of(user_id: int) -> str:
    row = await InboxAddress.select(InboxAddress.email).where(InboxAddress.user == user_id).first()
    return row["email"] if row else ""


async def addresses(user_ids: list[int]) -> dict[int, str]:
    """E-mail addresses of those users who gave one."""
    if not user_ids:
        return {}
    rows = await InboxAddress.select(InboxAddress.user, InboxAddress.email).where(InboxAddress.user.is_in(user_ids))
    return {r["user"]: r["email"] for r in rows}


async def set_address(actor: Actor, email: str) -> None:
    """Set (or, with an empty value, remove) the address reminders are copied to."""
    email = (email or "").strip()
    if email and (len(email) > 200 or not _EMAIL.match(email)):
        raise DomainError(Problem("电子邮箱格式不正确，例如 name@hospital.cn", "email"))
    before = await address_of(actor.id)
    async with write_transaction():
        await InboxAddress.delete().where(InboxAddress.user == actor.id)
        if email:
            await InboxAddress.insert(InboxAddress(user=actor.id, email=email))
        await audit.record(actor, "inbox.address", "user", actor.id, before={"email": before},
                           after={"email": email}, institution_id=actor.institution_id)
