"""Issue 11 point 5: stored in UTC, shown in Beijing time everywhere — the queue and the
history of one event show the same time; dates of a PDF or a page are Beijing dates."""

from __future__ import annotations

import datetime as dt
import re

from core.audit.tables import AuditEvent
from core.outbox.tables import Delivery
from core.timefmt import SHANGHAI, local_date, local_naive, local_time
from web.templating import build_environment


def test_one_helper_shows_utc_as_beijing_time():
    late_evening_utc = dt.datetime(2026, 12, 4, 16, 51, tzinfo=dt.UTC)
    assert local_time(late_evening_utc) == "2026-12-05 00:51"
    assert local_time(late_evening_utc.replace(tzinfo=None)) == "2026-12-05 00:51"  # SQLite's naive UTC
    assert local_time("2026-12-04T14:51:00+00:00") == "2026-12-04 22:51"  # a timestamp kept in JSON
    assert local_time(dt.date(2026, 12, 4)) == "2026-12-04" and local_time(None) == ""
    assert local_date(late_evening_utc) == dt.date(2026, 12, 5)
    assert local_naive(late_evening_utc) == dt.datetime(2026, 12, 5, 0, 51)
    env = build_environment([])
    rendered = env.from_string('{{ at | local }} {{ at | local("%Y-%m-%d") }}').render(at=late_evening_utc)
    assert rendered == "2026-12-05 00:51 2026-12-05"


def test_no_template_formats_a_timestamp_itself():
    """Every timestamp goes through the ``local`` filter: a raw strftime would show UTC."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = [str(p.relative_to(root)) for folder in ("web/templates", "plugins")
                 for p in (root / folder).rglob("*.html") if ".strftime(" in p.read_text(encoding="utf-8")]
    assert offenders == []


async def test_the_queue_and_the_history_show_one_event_at_the_same_beijing_time(deployment, login_as):
    from tests.admission_helpers import actor
    from tests.case_helpers import admitted, case_input, release_obligations

    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=14)
    try:
        from core.cases import service as cases

        today = dt.datetime.now(SHANGHAI).date()
        [result] = await cases.record_cases(await actor("clinician_a"), hooks, [case_input(
            project_id, admitted_on=(today - dt.timedelta(days=4)).isoformat(),
            operated_on=(today - dt.timedelta(days=3)).isoformat(),
            discharged_on=(today - dt.timedelta(days=1)).isoformat())])
        delivery = await Delivery.select().where(Delivery.id == result.delivery_id).first()
        event = await AuditEvent.select().where((AuditEvent.action == "outbox.enqueue")
                                                & (AuditEvent.record_id == result.delivery_id)).first()
        shown = local_time(delivery["created_at"])
        utc = (delivery["created_at"] if delivery["created_at"].tzinfo else delivery["created_at"].replace(
            tzinfo=dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
        ma = await login_as("medaffairs_a")
        queue = (await ma.get(f"/outbox/{result.delivery_id}")).text
        assert shown in queue and utc not in queue
        admin = await login_as("admin")
        history = (await admin.get("/admin/audit", params={"action": "outbox.enqueue"})).text
        assert local_time(event["at"], "%Y-%m-%d %H:%M") in history
        assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", history)
        assert utc not in history
    finally:
        await release_obligations()
