"""Reminders: each obligation's reminder stages, sent once, whatever the number of workers.

Stages: one per lead time (``service.reminder_leads()``, working days before the due
date, e.g. 5 and 1) and "overdue". An obligation gets the message of the stage it is
in — an obligation created two days before its due date gets only the 1-day one.

Once means once: ``ObligationReminder.key`` is unique per (obligation, stage), and the
reminder rows, the inbox messages and the audit events of a chunk of obligations are
written in one transaction that first leases them (PostgreSQL: ``SELECT … FOR UPDATE SKIP
LOCKED``, so another worker skips them; SQLite: the IMMEDIATE write transaction, which
serialises writers) and re-checks which stages were sent meanwhile. E-mail copies go out
after the commit: a crash in between loses an e-mail, never duplicates one.
"""

from __future__ import annotations

import datetime as dt
import logging

from core.accounts.schemas import SYSTEM
from core.audit import service as audit
from core.db import is_sqlite, write_transaction
from core.inbox import mail
from core.inbox import service as inbox
from core.obligations import rules, service
from core.obligations.tables import Obligation, ObligationReminder
from core.plugins import HookView

log = logging.getLogger("clintech")


def _message(row: dict, stage: str, days: int) -> tuple[str, str]:
    if stage == "overdue":
        title = f"【已逾期】{row['title']}（{row['rule_id']}）"
        lead = f"已逾期 {-days} 个工作日"
    else:
        title = f"【待办提醒】{row['title']}（{row['rule_id']}）"
        lead = f"还剩 {days} 个工作日"
    lines = [
        f"事项：{row['title']}" + (f"（{row['subject_label']}）" if row.get("subject_label") else ""),
        f"截止日期：{row['due_on'].isoformat()}，{lead}",
        f"依据：{row['rule_id']} {row['article']}",
    ]
    if row["provisional"]:
        lines.append(service.provisional_note(int(y) for y in row["unknown_years"].split(",") if y))
    if row.get("setting_note"):
        lines.append(row["setting_note"])
    return title, "\n".join(lines)


# Obligations reminded per transaction: a province's backlog (hundreds of thousands of open
# obligations past a lead time after an outage, or at the first round of a new deployment)
# went out one transaction of six statements per obligation — 260,000 took over ten minutes.
CHUNK = 500


async def _send_chunk(due: list[tuple[dict, str, int]]) -> list[tuple[dict, str, int, list[int]]]:
    """Send one stage of each of these obligations in one transaction: lease them (another
    worker's are skipped), re-check which stages were sent meanwhile, then write the reminder
    rows, the inbox messages and the audit events once each. Returns what was sent, with its
    recipients (an obligation without any gets its reminder row and no message)."""
    async with write_transaction():
        lease = Obligation.select(Obligation.id, Obligation.status).where(
            Obligation.id.is_in(sorted({row["id"] for row, _, _ in due})))
        if not is_sqlite():
            lease = lease.lock_rows(skip_locked=True)
        held = {r["id"] for r in await lease if r["status"] == "open"}
        keys = [f"{row['id']}:{stage}" for row, stage, _ in due]
        sent = {r["key"] for r in await ObligationReminder.select(ObligationReminder.key).where(
            ObligationReminder.key.is_in(keys))}
        todo = [(row, stage, days) for (row, stage, days), key in zip(due, keys, strict=True)
                if row["id"] in held and key not in sent]
        if not todo:
            return []
        users_of = await service.recipients_many([row for row, _, _ in todo])
        out = [(row, stage, days, users_of[row["id"]]) for row, stage, days in todo]
        from core.db import insert_many

        await insert_many(ObligationReminder, [
            {"key": f"{row['id']}:{stage}", "obligation": row["id"], "stage": stage, "recipients": len(users)}
            for row, stage, _, users in out])
        messages = []
        for row, stage, days, users in out:
            title, body = _message(row, stage, days)
            messages += [{"user": uid, "title": title, "body": body, "link": f"/obligations/{row['id']}",
                          "source": f"obligation:{row['id']}"} for uid in users]
        await inbox.deliver_many(messages)
        await audit.record_many(SYSTEM, [
            audit.Entry("obligation.remind", "obligation", row["id"], after={"stage": stage, "recipients": users},
                        institution_id=row["institution"]) for row, stage, _, users in out])
    return out


async def send_due(hooks: HookView, today: dt.date | None = None, mailer: mail.Mailer | None = None) -> int:
    """Send every reminder that is due on ``today``; returns how many stages were sent.

    ``mailer`` defaults to the deployment's SMTP settings (none: inbox only).
    """
    cal = await service.read_context(hooks, today)
    cal, today = cal[0], cal[1]
    mailer = mailer or mail.configured()
    leads = service.reminder_leads()
    horizon = cal.add_working_days(today, max(leads, default=0)).date
    rows = await Obligation.select().where(
        (Obligation.status == "open") & (Obligation.due_on <= horizon)).order_by(Obligation.due_on)
    if not rows:
        return 0
    # In chunks: PostgreSQL takes at most 32,767 arguments a statement, and a province's
    # open obligations due by the horizon can be more (one per case not yet reported).
    ids = [r["id"] for r in rows]
    sent_keys = set()
    for start in range(0, len(ids), 30_000):
        sent_keys |= {r["key"] for r in await ObligationReminder.select(ObligationReminder.key).where(
            ObligationReminder.obligation.is_in(ids[start:start + 30_000]))}
    due = []
    for row in rows:
        days = rules.days_left(cal, today, row["due_on"])
        stage = rules.reminder_stage(days, leads)
        if stage is not None and f"{row['id']}:{stage}" not in sent_keys:
            due.append((row, stage, days))
    sent = 0
    for start in range(0, len(due), CHUNK):
        for row, stage, days, users in await _send_chunk(due[start:start + CHUNK]):
            if not users:
                continue
            sent += 1
            if mailer is not None:  # after the commit: a crash in between loses an e-mail, never duplicates one
                title, body = _message(row, stage, days)
                for address in (await inbox.addresses(users)).values():
                    try:
                        await mailer.send(address, title, body)
                    except OSError as exc:  # the inbox copy is already there; log, don't fail the run
                        log.warning("reminder e-mail to %s failed: %s", address, exc)
    return sent
