"""Issue 15 (speed): what a request and a case batch cost in queries — counted, never timed.

* A batch of cases writes each table once: recording 12 cases runs as many queries as
  recording 2 (the rules, their messages and every check are those of ``test_cases``).
* The session query also reads the plugin switches, the holiday notices' signature and
  the unread count: a switch reaches the next request of every other session at once.
* An htmx partial of a page builds no navigation: fewer queries than the full page.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.cases import service as cases
from core.cases.tables import CaseRecord
from core.db import count_queries
from core.obligations.tables import Obligation
from core.outbox.tables import Delivery
from tests.admission_helpers import actor
from tests.case_helpers import admitted, case_input, release_obligations

TODAY = dt.date(2026, 5, 20)


@pytest.fixture(scope="module")
async def project(deployment):
    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=31)
    yield hooks, project_id
    await release_obligations()


async def _record(hooks, project_id: int, n: int) -> tuple[int, list]:
    clinician = await actor("clinician_a")
    with count_queries() as counted:
        results = await cases.record_cases(clinician, hooks, [case_input(project_id) for _ in range(n)], today=TODAY)
    return counted[0], results


@pytest.mark.rule("NAT-37")
async def test_nat37_a_batch_writes_each_table_once_whatever_its_size(project):
    hooks, project_id = project
    await _record(hooks, project_id, 1)  # the first case opens the filing (NAT-11); later ones add to it
    small, _ = await _record(hooks, project_id, 2)
    large, results = await _record(hooks, project_id, 12)
    assert large == small, (small, large)
    # … and every case is stored with its reporting obligation and its delivery, as one by one.
    assert [r.status for r in results] == ["created"] * 12
    assert all(r.report_rule for r in results)
    for r in results:
        row = await CaseRecord.select(CaseRecord.report_rule, CaseRecord.report_due_on, CaseRecord.delivery_id).where(
            CaseRecord.id == r.id).first()
        assert (row["report_rule"], row["report_due_on"], row["delivery_id"]) == (
            r.report_rule, r.report_due_on, r.delivery_id)
        assert await Obligation.count().where((Obligation.subject_type == "case") & (Obligation.subject_id == r.id)
                                              & (Obligation.kind == "case_report")) == 1
        assert r.delivery_ids and await Delivery.count().where(
            (Delivery.subject_type == "case") & (Delivery.subject_id == r.id)) == len(r.delivery_ids)


@pytest.mark.rule("NAT-37")
async def test_nat37_a_batch_reads_the_catalogue_of_the_technologies_it_cites_not_of_every_admitted_one(project):
    """A hospital with many admitted technologies records a batch of one: the batch reads
    the QC indicators (project form, catalogue entry, plugins) of the technology its cases
    cite, so admitting another catalogue technology adds no query to it."""
    hooks, project_id = project
    before, _ = await _record(hooks, project_id, 2)
    await admitted(hooks, tech_index=33)
    after, results = await _record(hooks, project_id, 2)
    assert after == before, (before, after)
    assert [r.status for r in results] == ["created"] * 2


def _dated(project_id: int, n: int) -> list:
    """``n`` cases operated on ``n`` different days (admitted that day, discharged two days later)."""
    days = [dt.date(2026, 3, 3) + dt.timedelta(days=k) for k in range(n)]
    return [case_input(project_id, admitted_on=d.isoformat(), operated_on=d.isoformat(),
                       discharged_on=(d + dt.timedelta(days=2)).isoformat()) for d in days]


@pytest.mark.rule("NAT-20")
async def test_nat20_operators_are_checked_on_each_operation_date_in_queries_that_do_not_grow_with_the_dates(
        project, deployment):
    """NAT-20 checks every operator against the technology's state of use on the case's
    operation date (a stopped or suspended technology suspends its authorisations): a
    batch of cases on twelve different days runs as many queries as one of two days —
    the states of every date are read at once (they were read four queries per date)."""
    from core.people.tables import Authorisation

    hooks, project_id = project
    assert await Authorisation.exists().where(Authorisation.institution == deployment["hospital_a"])  # checked here
    clinician = await actor("clinician_a")
    await cases.record_cases(clinician, hooks, _dated(project_id, 1), today=TODAY)  # the filing is open
    with count_queries() as small:
        await cases.record_cases(clinician, hooks, _dated(project_id, 2), today=TODAY)
    with count_queries() as large:
        results = await cases.record_cases(clinician, hooks, _dated(project_id, 12), today=TODAY)
    assert large[0] == small[0], (small[0], large[0])
    assert [r.status for r in results] == ["created"] * 12

async def test_a_plugin_switch_reaches_every_session_at_its_next_request(login_as):
    admin = await login_as("admin")
    regulator = await login_as("regulator_province")
    assert (await regulator.get("/")).status_code == 200  # the regulator's process state is warm
    try:
        assert (await admin.post("/admin/plugins/jilin", data={"enabled": "0"})).status_code in (200, 303)
        page = (await admin.get("/admin/plugins")).text
        assert "jilin" in page
        from core.system import service as system

        assert "jilin" in (await system.deployment_state()).disabled
        from core.accounts import service as accounts

        token = regulator.cookies.get("clintech_session")
        _, read = await accounts.session_with_state(token)
        assert read is not None and "jilin" in read.deployment.disabled
    finally:
        await admin.post("/admin/plugins/jilin", data={"enabled": "1"})
    _, read = await accounts.session_with_state(token)
    assert "jilin" not in read.deployment.disabled


async def test_an_htmx_partial_builds_no_navigation(login_as):
    client = await login_as("medaffairs_a")
    with count_queries() as full:
        page = await client.get("/obligations")
    with count_queries() as partial:
        swapped = await client.get("/obligations", headers={"hx-request": "true"})
    assert page.status_code == swapped.status_code == 200
    assert 'class="side"' in page.text and 'class="side"' not in swapped.text
    assert partial[0] < full[0], (partial[0], full[0])
    # A history restore swaps the whole page: it gets the navigation.
    restored = await client.get("/obligations", headers={"hx-request": "true", "hx-history-restore-request": "true"})
    assert 'class="side"' in restored.text


@pytest.mark.parametrize("username", ["medaffairs_a", "head_a", "clinician_a", "depthead_a", "medaffairs_b"])
async def test_a_hospital_dashboard_runs_at_most_three_queries(login_as, username):
    """Issue 15: the session (with the deployment state, the unread count and the
    departments card), the institution's work (with its obligation counts and warnings),
    the user's open obligations — whatever the user's hospital role. Counted, not timed."""
    client = await login_as(username)
    assert (await client.get("/")).status_code == 200  # the process has read its work calendar
    with count_queries() as counted:
        page = await client.get("/")
    assert page.status_code == 200 and "工作台" in page.text
    assert counted[0] <= 3, counted[0]


async def test_the_hospital_dashboard_reads_what_the_separate_queries_read(deployment):
    """The obligation counts, open warnings and returned filings that came with the
    institution's rows equal ``status_counts`` on the obligations themselves, the warnings
    list and ``filing.waiting_on``."""
    from core.filing.tables import Filing

    hooks = deployment["host"].view()
    # A returned filing of hospital A (NAT-11: it waits on medical affairs), set directly.
    returned = await Filing.select(Filing.id, Filing.status, Filing.return_reason).where(
        Filing.institution == deployment["hospital_a"]).first()
    assert returned is not None
    await Filing.update({Filing.status: "returned", Filing.return_reason: "备案表缺少法定代表人签字"}).where(
        Filing.id == returned["id"])
    try:
        await _compare_dashboard_reads(hooks)
    finally:
        await Filing.update({Filing.status: returned["status"], Filing.return_reason: returned["return_reason"]}
                            ).where(Filing.id == returned["id"])


async def _compare_dashboard_reads(hooks) -> None:
    import msgspec

    from core import clock
    from core.dashboard import todo
    from core.obligations import service as obligations
    from core.supervision import service as supervision
    from core.tenancy.tables import Institution

    for username in ("medaffairs_a", "head_a", "medaffairs_b", "clinician_a"):
        who = await actor(username)
        name = (await Institution.select(Institution.name).where(Institution.id == who.institution_id).first())["name"]
        who = msgspec.structs.replace(who, institution_name=name)  # as the session reads it
        rows = await todo.institution_rows(who.institution_id, None, who.roles)
        _, today, soon = await obligations.read_context(hooks, clock.today())
        if who.has(*obligations.INSTITUTION_WIDE):
            counts = todo.obligation_counts(who, rows, today, soon)
            assert counts == await obligations.status_counts(who, hooks, today, from_rows=True)
            assert counts or username != "medaffairs_a"  # hospital A has obligations
        from core.filing import service as filing

        keys = ("id", "technology_code", "technology_name", "status", "since", "institution.name", "action")
        assert [{k: f[k] for k in keys} for f in todo.institution_filings(who, rows)] == [
            {k: f[k] for k in keys} for f in (await filing.waiting_on(who) if who.has("medical_affairs") else [])]
        assert todo.institution_filings(who, rows) or username != "medaffairs_a"  # the demo's returned filing
        listed = await supervision.listing(who, status="open", limit=todo.WARNING_LIMIT)
        assert [(w["id"], w["may_answer"], w["may_decide"], w["status_label"]) for w in listed] == [
            (w["id"], w["may_answer"], w["may_decide"], w["status_label"]) for w in todo.institution_warnings(who, rows)]


async def test_insert_many_stores_what_piccolos_insert_stores(deployment):
    """``core.db.insert_many`` (the batch writes' insert) against piccolo's own insert of
    the same values: JSON (and a JSON NULL), dates, booleans, text and the defaults of the
    columns left out read back the same."""
    from core.db import insert_many, write_transaction
    from core.obligations.tables import Obligation

    values = dict(dedupe_key="", rule_id="TEST-1", kind="case_report", title="批量写入", role="medical_affairs",
                  institution=deployment["hospital_a"], subject_type="case", subject_id=1, subject_label="标签",
                  event_on=dt.date(2026, 5, 1), due_on=dt.date(2026, 5, 22), provisional=True)
    async with write_transaction():
        piccolo = await Obligation.insert(Obligation(**(values | {"dedupe_key": "test:piccolo"}))).returning(
            Obligation.id)
        ours = await insert_many(Obligation, [values | {"dedupe_key": "test:ours"}], returning=("id",))
    columns = [c for c in Obligation._meta.columns if c._meta.name not in ("id", "dedupe_key", "created_at")]
    a = await Obligation.select(*columns).where(Obligation.id == piccolo[0]["id"]).first()
    b = await Obligation.select(*columns).where(Obligation.id == ours[0]["id"]).first()
    assert a == b
    async with write_transaction():
        from core.audit import service as audit

        await audit.record_many(await actor("medaffairs_a"), [
            audit.Entry("test.insert", "case", 1, before=None, after={"日期": dt.date(2026, 5, 1), "n": [1, 2]})])
    from core.audit.tables import AuditEvent

    row = await AuditEvent.select(AuditEvent.before, AuditEvent.after).where(AuditEvent.action == "test.insert").first(
        ).output(load_json=True)
    assert row == {"before": None, "after": {"日期": "2026-05-01", "n": [1, 2]}}
    # … a SQL NULL, not the JSON text "null" (as piccolo writes None).
    assert await AuditEvent.count().where((AuditEvent.action == "test.insert") & AuditEvent.before.is_null()) == 1


async def test_insert_many_dumps_a_shared_json_value_as_piccolo_does_for_each_row(deployment):
    """A batch queues one case's payload to every platform: the rows share the payload
    object, which ``insert_many`` dumps once. Each row reads back what piccolo's own
    insert of it stores — the shared value, a value given as JSON text, a value left out
    (the column's default) — in COPY (PostgreSQL) and the multi-row INSERT (SQLite) alike."""
    from core.db import insert_many, write_transaction

    shared = {"case": 1, "技术": "G01", "operated_on": dt.date(2026, 5, 1).isoformat(), "qc": {"手术时间": "90"}}
    rows = [dict(channel="national", kind="case", subject_type="case", subject_id=1, payload=shared,
                 attachments=[], idempotency_key="test:shared-1", created_by="t"),
            dict(channel="province", kind="case", subject_type="case", subject_id=1, payload=shared,
                 attachments=[], idempotency_key="test:shared-2", created_by="t"),
            dict(channel="province", kind="case", subject_type="case", subject_id=2, payload='{"已是文本": 1}',
                 idempotency_key="test:shared-3", created_by="t")]
    async with write_transaction():
        ours = await insert_many(Delivery, rows, returning=("id",))
        theirs = [(await Delivery.insert(Delivery(**(row | {"idempotency_key": row["idempotency_key"] + "p"})))
                   .returning(Delivery.id))[0] for row in rows]
    columns = [c for c in Delivery._meta.columns
               if c._meta.name not in ("id", "idempotency_key", "created_at", "updated_at", "next_attempt_at")]
    for a, b in zip(ours, theirs, strict=True):
        mine = await Delivery.select(*columns).where(Delivery.id == a["id"]).first().output(load_json=True)
        piccolo = await Delivery.select(*columns).where(Delivery.id == b["id"]).first().output(load_json=True)
        assert mine == piccolo
    assert [r["payload"] for r in await Delivery.select(Delivery.payload).where(
        Delivery.id.is_in([r["id"] for r in ours])).order_by(Delivery.id).output(load_json=True)] == [
        shared, shared, {"已是文本": 1}]
