"""The outbox (报送队列): the only writer of deliveries and their attempts.

For other areas (filing, cases, admission) the API is three calls:

- ``channels_for(hooks, kind)`` (``core.outbox.channels``): the channels that accept a
  kind of payload — the province's platform for ``filing``/``case``/``report``, the
  university's system for ``admission`` (HOSP-11);
- ``enqueue(actor, channel=…, kind=…, …)`` INSIDE the write transaction of the change it
  reports, so the delivery commits or rolls back with it (DESIGN.md §6);
  ``enqueue_everywhere(actor, hooks, kind=…, …)`` queues it to every channel that accepts
  the kind (a case, a filing or a stop report goes to the national and the provincial
  platform alike: NAT-36, NAT-37), one delivery each;
- ``delivery_status(subject_type, subject_id)`` for the record's page (and the partial
  ``outbox/_status.html``, which renders that list).

The worker job (``core.outbox.jobs``) calls ``deliver_due``; people call ``retry_now``
and ``confirm_manual`` from the outbox page.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import random
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Iterable
from typing import Any

import httpx
import msgspec
from piccolo.query.functions.aggregate import Count

from core import listing
from core.accounts.schemas import SYSTEM, Actor
from core.audit import service as audit
from core.db import engine, is_sqlite, write_transaction
from core.errors import DomainError, NotFound, Problem
from core.messages import t
from core.outbox import rules
from core.outbox.channels import (
    KIND_LABELS,
    KINDS,
    Attachment,
    Channel,
    describe,
    endpoint,
    manifest,
    ordered,
    package,
    read,
    uses_package,
)
from core.outbox.channels import (
    channel as find_channel,
)
from core.outbox.rules import DeliveryStatus
from core.outbox.tables import Delivery, DeliveryAttempt
from core.plugins import HookView
from core.tenancy.tables import Institution

STATUSES = tuple(DeliveryStatus)
# Picked up by the worker when their next_attempt_at has come.
DUE_STATUSES = (DeliveryStatus.queued, DeliveryStatus.failed, DeliveryStatus.needs_attention)
# A person may send these again now ("retry now").
RETRYABLE = frozenset({DeliveryStatus.failed, DeliveryStatus.needs_attention, DeliveryStatus.rejected,
                       DeliveryStatus.package_ready})
# A person may record the authority's receipt for these (manual upload, or review done).
CONFIRMABLE = frozenset({DeliveryStatus.package_ready, DeliveryStatus.sent})
# Shown as needing someone's attention on the outbox page.
ATTENTION = frozenset({DeliveryStatus.needs_attention, DeliveryStatus.rejected, DeliveryStatus.package_ready})
LEASE = dt.timedelta(minutes=5)
MANAGERS = ("admin", "medical_affairs", "regulator")
# Deliveries that are the filing department's own work, not the institution's: the push of a
# completed filing's technology name and date to the licensing office (province policy
# ``annotation.mode == "push"``). Regulators of the licence-issuing region see and handle
# them; the institution's medical affairs does not.
DESK_SUBJECTS = ("licence_annotation",)
# A region's own delivery, not an institution's: a provincial evaluation's report to the
# national commission (EVAL-10), seen and handled by the regulators of that region.
REGION_SUBJECT = "evaluation"
PAGE_SIZE = 50


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DeliveryView(msgspec.Struct):
    """A delivery as pages show it."""

    id: int
    channel: str
    channel_name: str
    kind: str
    kind_label: str
    subject_type: str
    subject_id: int
    institution_id: int
    status: str
    status_label: str
    attempts: int
    next_attempt_at: dt.datetime | None
    receipt_id: str
    last_error: str
    authority_message: str
    created_by: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    accepted_at: dt.datetime | None
    retryable: bool
    confirmable: bool
    attention: bool
    institution_name: str = ""
    created_by_name: str = ""  # the person's name ("系统" for the system), never the login name

    @property
    def when(self) -> dict[str, str]:
        """Timestamps for display, in China Standard Time."""
        return {k: local_time(getattr(self, k)) for k in ("created_at", "next_attempt_at", "sent_at", "accepted_at")}


# Timestamps on pages: Beijing time, to the minute (the one helper, core/timefmt.py).
from core.timefmt import local_date, local_time  # noqa: E402


def _view(row: dict, institution_name: str = "") -> DeliveryView:
    status = row["status"]
    return DeliveryView(
        id=row["id"], channel=row["channel"], channel_name=row["channel_name"] or row["channel"],
        kind=row["kind"], kind_label=KIND_LABELS.get(row["kind"], row["kind"]),
        subject_type=row["subject_type"], subject_id=row["subject_id"], institution_id=row["institution_id"],
        status=status, status_label=t(f"outbox.status.{status}"), attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"] if status in DUE_STATUSES else None,
        receipt_id=row["receipt_id"], last_error=row["last_error"], authority_message=row["authority_message"],
        created_by=row["created_by"], created_at=row["created_at"], sent_at=row["sent_at"],
        accepted_at=row["accepted_at"], retryable=status in RETRYABLE, confirmable=status in CONFIRMABLE,
        attention=status in ATTENTION, institution_name=institution_name,
    )


# ---------------------------------------------------------------- enqueue (called by other services)


async def enqueue(
    actor: Actor,
    *,
    channel: Channel | str,
    kind: str,
    subject_type: str,
    subject_id: int,
    institution_id: int,
    payload: dict,
    attachments: Iterable[Attachment | dict] = (),
) -> int:
    """Queue one delivery of ``payload`` (and its ``attachments``) through ``channel``.

    MUST be called inside the caller's write transaction (``async with
    write_transaction():`` around the change it reports), so that a rolled-back change
    leaves no delivery and a committed one always has it. Pass the ``Channel`` from
    ``channels_for(hooks, kind)``; a plain key is accepted and resolved by the worker.

    ``kind`` is one of ``filing``, ``case``, ``report``, ``admission``. ``payload`` is a
    JSON-able dict, sent as is inside the envelope. ``attachments`` are files already in
    storage (``Attachment`` or dicts with key, filename, path, title, content_type),
    sent and packaged in the channel's material order. Returns the delivery id;
    its ``Idempotency-Key`` is fixed now and reused by every retry.
    """
    return (await enqueue_many(actor, channel=channel, kind=kind, items=[
        Queued(subject_type=subject_type, subject_id=subject_id, institution_id=institution_id, payload=payload,
               attachments=list(attachments))]))[0]


class Queued(msgspec.Struct):
    """One delivery of a batch (``enqueue_many``)."""

    subject_type: str
    subject_id: int
    institution_id: int
    payload: dict
    attachments: list = []


async def enqueue_many(actor: Actor, *, channel: Channel | str, kind: str, items: list[Queued]) -> list[int]:
    """``enqueue`` for a batch of records of one kind through one channel (a batch of
    cases): one insert, one audit write; the delivery ids in the order of ``items``."""
    return (await enqueue_channels(actor, channels=[channel], kind=kind, items=items))[0]


async def enqueue_channels(actor: Actor, *, channels: list[Channel | str], kind: str,
                           items: list[Queued]) -> list[list[int]]:
    """``enqueue_many`` through several channels at once (a batch of cases to every
    platform that takes cases, NAT-36, NAT-37): one insert and one audit write for all;
    per channel, the delivery ids in the order of ``items`` (channel by channel, as
    ``enqueue_many`` one channel after the other would queue them)."""
    if engine().current_transaction.get() is None:
        raise RuntimeError("outbox.enqueue must be called inside the change's write transaction")
    if kind not in KINDS:
        raise DomainError(Problem(f"未知的报送类型：{kind}", "kind"))
    named = []
    for channel in channels:
        if isinstance(channel, Channel):
            if not channel.accepts(kind):
                raise DomainError(Problem(f"报送渠道「{channel.name}」不接收{KIND_LABELS[kind]}", "channel"))
            named.append((channel.key, channel.name))
        else:
            named.append((str(channel), ""))
    if not items or not named:
        return [[] for _ in named]
    files_of, payloads = [], []
    for item in items:
        if not isinstance(item.payload, dict):
            raise TypeError("payload must be a dict")
        files = [describe(a if isinstance(a, Attachment) else msgspec.convert(a, Attachment)) for a in item.attachments]
        files_of.append(files)
        # As JSON text, encoded once for every channel (``insert_many`` writes text as given).
        payloads.append(msgspec.json.encode(item.payload).decode())
    rows = []
    for key, name in named:
        at = now_utc()
        for item, payload, files in zip(items, payloads, files_of, strict=True):
            rows.append(dict(
                channel=key, channel_name=name, kind=kind, subject_type=item.subject_type, subject_id=item.subject_id,
                institution_id=item.institution_id, payload=payload, attachments=msgspec.to_builtins(files),
                idempotency_key=uuid.uuid4().hex, status=DeliveryStatus.queued, next_attempt_at=at,
                created_by=actor.username))
    from core.db import insert_many

    by_key = {r["idempotency_key"]: r["id"] for r in await insert_many(Delivery, rows,
                                                                       returning=("id", "idempotency_key"))}
    ids = [by_key[row["idempotency_key"]] for row in rows]
    await audit.record_many(actor, [
        audit.Entry("outbox.enqueue", "delivery", delivery_id,
                    after={"channel": row["channel"], "kind": kind, "subject_type": row["subject_type"],
                           "subject_id": row["subject_id"], "attachments": len(row["attachments"])},
                    institution_id=row["institution_id"])
        for delivery_id, row in zip(ids, rows, strict=True)])
    return [ids[k * len(items):(k + 1) * len(items)] for k in range(len(named))]


async def enqueue_everywhere(
    actor: Actor,
    hooks: HookView,
    *,
    kind: str,
    subject_type: str,
    subject_id: int,
    institution_id: int,
    payload: dict,
    attachments: Iterable[Attachment | dict] = (),
) -> list[int]:
    """Queue ``payload`` to EVERY channel of the deployment that accepts ``kind`` — the
    national platform and the province's alike (NAT-36, NAT-37: 向全国和省级…平台逐例报送)
    — each its own delivery, with its own receipt and retries. Same contract as
    ``enqueue`` (inside the caller's write transaction). Returns the delivery ids in
    channel order; empty when no channel takes ``kind``."""
    from core.outbox.channels import channels_for

    attachments = list(attachments)
    return [await enqueue(actor, channel=channel, kind=kind, subject_type=subject_type, subject_id=subject_id,
                          institution_id=institution_id, payload=payload, attachments=attachments)
            for channel in channels_for(hooks, kind)]


async def delivery_status(subject_type: str, subject_id: int) -> list[DeliveryView]:
    """Every delivery of one record, newest first — for the record's own page.

    The caller has already checked that the actor may see the record; render the
    result with ``{% include "outbox/_status.html" %}`` (variable ``deliveries``).
    """
    rows = await Delivery.select().where(
        (Delivery.subject_type == subject_type) & (Delivery.subject_id == subject_id)
    ).order_by(Delivery.id, ascending=False).output(load_json=True)
    return [_view(r) for r in rows]


# ---------------------------------------------------------------- reading, with tenancy


async def _scope(actor: Actor) -> Any | None:
    """Deliveries the actor may see: all for the admin; their institution's own for medical
    affairs; the filing department's own (``DESK_SUBJECTS``) about institutions whose
    licence its region issued, and its own evaluations' reports (``REGION_SUBJECT``), for a
    regulator; ``False``-like clause for anyone else."""
    if actor.is_admin:
        return None
    if actor.has("medical_affairs") and actor.institution_id is not None:
        return (Delivery.institution_id == actor.institution_id) & Delivery.subject_type.not_in(list(DESK_SUBJECTS))
    if actor.has("regulator") and actor.region_id is not None:
        from core.evaluation.tables import Evaluation

        ids = [r["id"] for r in await Institution.select(Institution.id).where(
            Institution.licence_region == actor.region_id)]
        # EVAL-10: the department's own report of its evaluations to the national commission.
        evaluations = [r["id"] for r in await Evaluation.select(Evaluation.id).where(
            Evaluation.region == actor.region_id)]
        return ((Delivery.subject_type.is_in(list(DESK_SUBJECTS)) & Delivery.institution_id.is_in(ids or [-1]))
                | ((Delivery.subject_type == REGION_SUBJECT) & Delivery.subject_id.is_in(evaluations or [-1])))
    return Delivery.id == -1


async def visible_status(actor: Actor, subject_type: str, subject_id: int) -> list[DeliveryView]:
    """``delivery_status`` limited to the actor's scope; ``NotFound`` when none is
    visible (a foreign record answers exactly like a missing one)."""
    query = Delivery.select().where((Delivery.subject_type == subject_type) & (Delivery.subject_id == subject_id))
    clause = await _scope(actor)
    if clause is not None:
        query = query.where(clause)
    rows = await query.order_by(Delivery.id, ascending=False).output(load_json=True)
    if not rows:
        raise NotFound("未找到该记录的报送情况")
    return [_view(r) for r in rows]


async def _require(actor: Actor, delivery_id: int) -> dict:
    query = Delivery.select().where(Delivery.id == delivery_id)
    clause = await _scope(actor)
    if clause is not None:
        query = query.where(clause)
    row = await query.first().output(load_json=True)
    if row is None:
        raise NotFound("未找到该报送记录")
    return row


async def _institution_names(ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = await Institution.select(Institution.id, Institution.name).where(Institution.id.is_in(ids))
    return {r["id"]: r["name"] for r in rows}


class DeliveryFilter(msgspec.Struct):
    status: str = ""  # a status, or "attention" for everything that needs a person
    channel: str = ""
    page: int = 1


async def list_deliveries(actor: Actor, filters: DeliveryFilter | None = None) -> tuple[list[DeliveryView], int]:
    """The deliveries in the actor's scope, newest first, one page; plus the total."""
    filters = filters or DeliveryFilter()
    clauses = [c for c in (await _scope(actor),) if c is not None]
    if filters.status == "attention":
        clauses.append(Delivery.status.is_in(sorted(ATTENTION)))
    elif filters.status:
        clauses.append(Delivery.status == filters.status)
    if filters.channel:
        clauses.append(Delivery.channel == filters.channel)
    query = Delivery.select().order_by(Delivery.id, ascending=False)
    count = Delivery.count()
    for clause in clauses:
        query = query.where(clause)
        count = count.where(clause)
    page = max(filters.page, 1)
    rows = await query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE).output(load_json=True)
    names = await _institution_names(r["institution_id"] for r in rows)
    return [_view(r, names.get(r["institution_id"], "")) for r in rows], await count


async def _views(rows: list[dict]) -> list[DeliveryView]:
    names = await _institution_names(r["institution_id"] for r in rows)
    return [_view(r, names.get(r["institution_id"], "")) for r in rows]


async def delivery_list(actor: Actor, channels: list[tuple[str, str]]) -> tuple[listing.ListSpec, Any]:
    """The deliveries in the actor's scope as a list (issue 11 point 11): search by receipt
    number, filter by status ("attention": everything that needs a person), channel
    (``channels``: key, name) and date, sort, pages, export. (spec, tenancy clause)"""
    statuses = (("attention", "需处理（退回/需人工/待上传）"),
                *((str(s), t(f"outbox.status.{s}")) for s in STATUSES))
    spec = listing.ListSpec(
        table=Delivery, columns=(), title="报送队列", search=(Delivery.receipt_id, Delivery.kind),
        search_hint="回执号",
        filters=(listing.Filter(key="status", label="状态", choices=statuses,
                                clause=lambda v: Delivery.status.is_in(sorted(ATTENTION)) if v == "attention"
                                else Delivery.status == v),
                 listing.Filter(key="channel", label="报送渠道", column=Delivery.channel, choices=tuple(channels))),
        sorts=(listing.Sort("created_at", "创建时间", Delivery.created_at),
               listing.Sort("attempts", "尝试次数", Delivery.attempts),
               listing.Sort("id", "编号", Delivery.id)),
        export=(listing.attribute("编号", "id"),
                listing.attribute("报送渠道", "channel_name"),
                listing.attribute("类型", "kind_label"),
                listing.attribute("医疗机构", "institution_name"),
                listing.attribute("状态", "status_label"),
                listing.attribute("回执号", "receipt_id"),
                listing.attribute("尝试次数", "attempts"),
                listing.attribute("最近错误", "last_error"),
                listing.attribute("创建时间", "created_at")),
        decorate=_views)
    return spec, await _scope(actor)


async def get_delivery(actor: Actor, delivery_id: int) -> tuple[DeliveryView, list[dict]]:
    """One delivery in the actor's scope and its attempts (oldest first); ``NotFound``
    for a foreign id exactly as for a missing one."""
    row = await _require(actor, delivery_id)
    names = await _institution_names([row["institution_id"]])
    attempts = await DeliveryAttempt.select().where(DeliveryAttempt.delivery == delivery_id).order_by(
        DeliveryAttempt.id
    )
    for attempt in attempts:
        attempt["at_text"] = local_time(attempt["at"])
    from core.audit.service import with_names

    view = _view(row, names.get(row["institution_id"], ""))
    view.created_by_name = (await with_names([{"actor_name": row["created_by"], "action": "", "record_type": ""}]))[0][
        "who"]
    return view, attempts


async def _institution(institution_id: int) -> dict | None:
    return await Institution.select(Institution.id, Institution.name, Institution.licence_no).where(
        Institution.id == institution_id
    ).first()


async def package_for(actor: Actor, hooks: HookView, delivery_id: int) -> tuple[str, bytes]:
    """The delivery's package for manual upload (zip: manifest, payload, materials in
    the channel's order) and its file name."""
    row = await _require(actor, delivery_id)
    ch = find_channel(hooks, row["channel"])
    try:
        data = package(row, ch, await _institution(row["institution_id"]))
    except FileNotFoundError as exc:
        raise DomainError(Problem(str(exc), "attachments")) from exc
    return f"{row['channel']}-{row['kind']}-{row['id']}.zip", data


async def manifest_for(actor: Actor, hooks: HookView, delivery_id: int) -> dict:
    """The package's manifest alone (JSON)."""
    row = await _require(actor, delivery_id)
    return manifest(row, find_channel(hooks, row["channel"]), await _institution(row["institution_id"]))


# ---------------------------------------------------------------- people's actions (audited)


def _check_manager(actor: Actor) -> None:
    if not actor.has(*MANAGERS):
        raise NotFound("未找到该报送记录")


async def retry_now(actor: Actor, delivery_id: int, *, now: dt.datetime | None = None) -> DeliveryView:
    """Queue a failed, rejected, attention-needing or packaged delivery for the worker's
    next run (a person decided to try again). Audited."""
    _check_manager(actor)
    row = await _require(actor, delivery_id)
    if row["status"] not in RETRYABLE:
        raise DomainError(Problem(f"当前状态（{t('outbox.status.' + row['status'])}）无需重试", "status"))
    now = now or now_utc()
    async with write_transaction():
        updated = await Delivery.update(
            {Delivery.status: DeliveryStatus.queued, Delivery.next_attempt_at: now, Delivery.updated_at: now}
        ).where((Delivery.id == delivery_id) & (Delivery.status == row["status"])).returning(Delivery.id)
        if not updated:
            raise DomainError(Problem("该报送记录的状态已变化，请刷新后重试", "status"))
        await audit.record(actor, "outbox.retry", "delivery", delivery_id,
                           before={"status": row["status"], "attempts": row["attempts"], "error": row["last_error"]},
                           after={"status": DeliveryStatus.queued}, institution_id=row["institution_id"])
    row |= {"status": DeliveryStatus.queued, "next_attempt_at": now}
    return _view(row)


async def confirm_manual(actor: Actor, delivery_id: int, receipt_id: str, *,
                         now: dt.datetime | None = None, hooks: HookView | None = None) -> DeliveryView:
    """Record the authority's receipt for a package uploaded by hand, or for a delivery
    the authority has since accepted after review: the delivery becomes accepted. Audited."""
    _check_manager(actor)
    row = await _require(actor, delivery_id)
    receipt_id = (receipt_id or "").strip()
    if row["status"] not in CONFIRMABLE:
        raise DomainError(Problem(f"当前状态（{t('outbox.status.' + row['status'])}）不能登记回执", "status"))
    if not receipt_id:
        raise DomainError(Problem("请填写对方系统的回执号或受理编号", "receipt_id"))
    if len(receipt_id) > 120:
        raise DomainError(Problem("回执号不能超过 120 个字符", "receipt_id"))
    now = now or now_utc()
    async with write_transaction():
        updated = await Delivery.update({
            Delivery.status: DeliveryStatus.accepted, Delivery.receipt_id: receipt_id, Delivery.accepted_at: now,
            Delivery.sent_at: row["sent_at"] or now, Delivery.updated_at: now,
        }).where((Delivery.id == delivery_id) & (Delivery.status == row["status"])).returning(Delivery.id)
        if not updated:
            raise DomainError(Problem("该报送记录的状态已变化，请刷新后重试", "status"))
        await audit.record(actor, "outbox.confirm", "delivery", delivery_id,
                           before={"status": row["status"], "receipt_id": row["receipt_id"]},
                           after={"status": DeliveryStatus.accepted, "receipt_id": receipt_id},
                           institution_id=row["institution_id"])
        await _on_receipt(actor, hooks, row, now)
        await _delivered(actor, row, now)
    row |= {"status": DeliveryStatus.accepted, "receipt_id": receipt_id, "accepted_at": now}
    return _view(row)


# ---------------------------------------------------------------- the worker


async def _delivered(actor: Actor, row: dict, now: dt.datetime) -> None:
    """A delivery that closes its sender's own obligation once sent or its receipt is
    recorded: the filing department's push to the licensing office. In the caller's
    transaction."""
    if row["subject_type"] in DESK_SUBJECTS:
        from core.filing import service as filing

        await filing.push_delivered(actor, row, local_date(now))


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


async def _lease(now: dt.datetime, limit: int, worker: str, ids: list[int] | None) -> list[dict]:
    """Take up to ``limit`` due deliveries for ``worker``: FOR UPDATE SKIP LOCKED on
    PostgreSQL, the IMMEDIATE write transaction on SQLite — so two workers never hold
    the same delivery. A lease left by a crashed worker expires and is taken again
    (the Idempotency-Key makes that resend harmless)."""
    due = (Delivery.status.is_in(list(DUE_STATUSES)) & (Delivery.next_attempt_at <= now)) | (
        (Delivery.status == DeliveryStatus.sending) & (Delivery.lease_until < now)
    )
    query = Delivery.select(Delivery.id).where(due).order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
    if ids is not None:
        if not ids:
            return []
        query = query.where(Delivery.id.is_in(ids))
    async with write_transaction():
        if not is_sqlite():
            query = query.lock_rows("UPDATE", skip_locked=True)
        picked = [r["id"] for r in await query]
        if not picked:
            return []
        await Delivery.update({
            Delivery.status: DeliveryStatus.sending, Delivery.lease_until: now + LEASE, Delivery.leased_by: worker,
            Delivery.attempts: Delivery.attempts + 1, Delivery.updated_at: now,
        }).where(Delivery.id.is_in(picked))
        return await Delivery.select().where(Delivery.id.is_in(picked)).order_by(Delivery.id).output(load_json=True)


def envelope(row: dict, channel: Channel | None, institution: dict | None, files: list[tuple[Attachment, bytes]]) -> dict:
    """The JSON body POSTed to a channel endpoint."""
    import base64

    return {
        "delivery_id": row["id"],
        "idempotency_key": row["idempotency_key"],
        "channel": row["channel"],
        "kind": row["kind"],
        "subject": {"type": row["subject_type"], "id": row["subject_id"]},
        "institution": {"id": row["institution_id"], "name": (institution or {}).get("name", ""),
                        "licence_no": (institution or {}).get("licence_no", "")},
        "created_at": row["created_at"].isoformat(),
        "rules": list(channel.rules) if channel else [],
        "payload": row["payload"],
        "attachments": [
            {"order": i, "key": a.key, "title": a.title, "filename": a.filename, "content_type": a.content_type,
             "sha256": a.sha256, "size": a.size, "content_base64": base64.b64encode(data).decode("ascii")}
            for i, (a, data) in enumerate(files, start=1)
        ],
    }


async def _attempt(client: httpx.AsyncClient, row: dict, channel: Channel | None) -> rules.Outcome:
    if channel is None:
        return rules.Outcome(DeliveryStatus.failed, error=f"报送渠道「{row['channel_name'] or row['channel']}」未启用或不存在，"
                                             "请管理员检查插件配置")
    if uses_package(channel):
        ep = endpoint(channel)
        why = "该渠道仅支持人工上传" if channel.transport == "package" else f"未配置接收地址（{ep.url_setting}）"
        return rules.Outcome(DeliveryStatus.package_ready, error=f"{why}：已生成报送包，请下载后人工上传")
    ep = endpoint(channel)
    try:
        attachments = ordered(channel, [msgspec.convert(a, Attachment) for a in row["attachments"]])
        files = [(a, read(a)) for a in attachments]
    except FileNotFoundError as exc:
        return rules.Outcome(DeliveryStatus.failed, error=str(exc))
    body = envelope(row, channel, await _institution(row["institution_id"]), files)
    headers = {"Idempotency-Key": row["idempotency_key"], "Content-Type": "application/json; charset=utf-8",
               "User-Agent": "ClinTech-Portal-Outbox/1"}
    if ep.token:
        headers["Authorization"] = f"Bearer {ep.token}"
    try:
        response = await client.post(ep.url, content=msgspec.json.encode(body), headers=headers,
                                     timeout=httpx.Timeout(ep.timeout))
    except httpx.TimeoutException:
        return rules.timeout_outcome(ep.timeout)
    except httpx.ConnectError:
        return rules.unreachable_outcome("连接被拒绝或地址不可达")
    except httpx.HTTPError as exc:
        return rules.unreachable_outcome(f"{type(exc).__name__} {exc}".strip())
    return rules.read_answer(response.status_code, response.headers.get("content-type", ""), response.content)


# What a receipt means for the reported record: the case counts as reported (and on time
# or late) from its receipt. "subject_type": "module:function(actor, hooks, delivery, at)".
RECEIPT_HANDLERS = {"case": "core.cases.service:on_receipt"}


async def _on_receipt(actor: Actor, hooks: HookView | None, row: dict, at: dt.datetime) -> None:
    target = RECEIPT_HANDLERS.get(row["subject_type"])
    if target:
        import importlib

        module, _, name = target.partition(":")
        await getattr(importlib.import_module(module), name)(actor, hooks, row, at)


async def _record(row: dict, outcome: rules.Outcome, worker: str, now: dt.datetime, duration_ms: int,
                  rng: random.Random | None, hooks: HookView | None = None) -> str:
    values: dict = {Delivery.lease_until: None, Delivery.leased_by: "", Delivery.updated_at: now}
    status = outcome.status
    if status == DeliveryStatus.failed:
        status, next_at = rules.after_failure(row["attempts"], now, rng)
        values |= {Delivery.next_attempt_at: next_at, Delivery.last_error: outcome.error,
                   Delivery.authority_message: outcome.authority_message}
    elif status == DeliveryStatus.rejected:
        values |= {Delivery.last_error: outcome.error, Delivery.authority_message: outcome.authority_message,
                   Delivery.receipt_id: outcome.receipt_id}
    elif status in (DeliveryStatus.accepted, DeliveryStatus.sent):
        values |= {Delivery.receipt_id: outcome.receipt_id, Delivery.sent_at: now, Delivery.last_error: "",
                   Delivery.authority_message: ""}
        if status == DeliveryStatus.accepted:
            values[Delivery.accepted_at] = now
    elif status == DeliveryStatus.package_ready:
        values[Delivery.last_error] = ""
    values[Delivery.status] = status
    async with write_transaction():
        # Only the lease holder writes the status; a worker whose lease expired and was
        # taken over just leaves its attempt on record.
        held = await Delivery.update(values).where(
            (Delivery.id == row["id"]) & (Delivery.leased_by == worker) & (Delivery.status == DeliveryStatus.sending)
        ).returning(Delivery.id)
        if held and status == DeliveryStatus.accepted:
            await _on_receipt(SYSTEM, hooks, row, now)
        if held and status in (DeliveryStatus.sent, DeliveryStatus.accepted):
            await _delivered(SYSTEM, row, now)
        await DeliveryAttempt.insert(DeliveryAttempt(
            delivery=row["id"], number=row["attempts"], at=now, worker=worker, outcome=status,
            http_status=outcome.http_status, error=outcome.error, duration_ms=duration_ms,
        ))
    return status


async def deliver_due(
    hooks: HookView,
    *,
    now: dt.datetime | None = None,
    limit: int = 50,
    worker: str | None = None,
    delivery_ids: Iterable[int] | None = None,
    rng: random.Random | None = None,
) -> int:
    """Lease the deliveries due at ``now`` and send each once; returns how many were
    attempted. Safe in any number of workers at once (see ``_lease``). Statuses:
    queued → sending → sent (received, awaiting review) / accepted (receipt id), or
    failed with a Chinese reason and a later ``next_attempt_at`` (exponential backoff
    with jitter; "needs attention" after ``rules.MAX_ATTEMPTS``, still retried), or
    rejected with the authority's message (4xx validation; not retried by itself), or
    package_ready when the channel has no endpoint. ``delivery_ids`` limits the run to
    those deliveries (tests, a single "send now")."""
    now = now or now_utc()
    worker = worker or worker_name()
    leased = await _lease(now, limit, worker, None if delivery_ids is None else list(delivery_ids))
    if not leased:
        return 0
    by_key = {}
    async with httpx.AsyncClient(follow_redirects=False, verify=_tls_context()) as client:
        for row in leased:
            if row["channel"] not in by_key:
                by_key[row["channel"]] = find_channel(hooks, row["channel"])
            started = time.monotonic()
            outcome = await _attempt(client, row, by_key[row["channel"]])
            await _record(row, outcome, worker, now, int((time.monotonic() - started) * 1000), rng, hooks)
    return len(leased)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every delivery round, built as httpx builds its
    default (SSL_CERT_FILE / SSL_CERT_DIR, else certifi): httpx would build a new one per
    client by reading the CA bundle (20 ms; 2 s of ``clintech demo``'s 96 rounds)."""
    return httpx.create_ssl_context()


async def counts(actor: Actor) -> dict[str, int]:
    """Deliveries per status in the actor's scope (for the page header and badges)."""
    query = Delivery.select(Delivery.status, Count(Delivery.id, alias="n")).group_by(Delivery.status)
    clause = await _scope(actor)
    if clause is not None:
        query = query.where(clause)
    return {r["status"]: r["n"] for r in await query}
