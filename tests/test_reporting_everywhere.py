"""Reporting to every platform (NAT-36, NAT-37, JL-38): a case, a filing or a stop report
goes to EVERY channel of the deployment that accepts its kind — the national platform (the
built-in national plugin's) and the province's alike — each with its own delivery, receipt
and retries; the case page shows each; timeliness (报送及时率) counts from when the
authorities received it (their receipts), not from when the hospital typed it.

Real loopback HTTP servers (tests/receiver.py) play the two platforms.
"""

from __future__ import annotations

import datetime as dt
import secrets
import types

import pytest

from core import clock, hookimpl
from core.cases import service as cases
from core.cases.tables import CaseRecord
from core.obligations.tables import Obligation
from core.outbox import service as outbox
from core.outbox.tables import Delivery
from core.plugins import PluginHost
from core.qc import service as qc
from tests.admission_helpers import actor
from tests.case_helpers import admitted, case_input, release_obligations
from tests.receiver import Receiver

TIMEOUT = "2"


def _receiver(monkeypatch, name: str) -> Receiver:
    r = Receiver(token="tok-" + secrets.token_hex(6)).start()
    monkeypatch.setenv(f"CLINTECH_CHANNEL_{name}_URL", r.url)
    monkeypatch.setenv(f"CLINTECH_CHANNEL_{name}_TOKEN", r.token)
    monkeypatch.setenv(f"CLINTECH_CHANNEL_{name}_TIMEOUT", TIMEOUT)
    return r


@pytest.fixture
def platforms(monkeypatch):
    """The Jilin platform and the national platform, each a real HTTP server on loopback."""
    provincial, national = _receiver(monkeypatch, "JILIN_PLATFORM"), _receiver(monkeypatch, "NATIONAL_PLATFORM")
    yield {"jilin_platform": provincial, "national_platform": national}
    for r in (provincial, national):
        r.stop()


@pytest.fixture(scope="module")
async def project(deployment):
    project_id = await admitted(deployment["host"].view(), tech_index=11)
    yield project_id
    await release_obligations()


def _second_platform() -> types.ModuleType:
    """Two more systems: one takes filings, cases and reports, the other filings only (a
    deployment where two platforms take filings: each gets its own delivery)."""
    mod = types.ModuleType("second_platform")

    def channel(key: str, name: str, kinds: list[str]) -> dict:
        return {"key": key, "name": name, "authority": "某卫生健康委员会", "kinds": kinds, "transport": "http",
                "endpoint_setting": f"CLINTECH_CHANNEL_{key.upper()}_URL", "rules": ["NAT-36"],
                "description": "测试用的平台"}

    mod.reporting_channels = hookimpl(lambda: [channel("second_platform", "第二监管平台", ["filing", "case", "report"]),
                                               channel("third_platform", "第三备案系统", ["filing"])])
    return mod


def _host() -> PluginHost:
    return PluginHost(("jilin", "hospital_default", "second_platform"),
                      extra={"second_platform": _second_platform()})


@pytest.mark.rule("JL-38")
@pytest.mark.rule("NAT-36")
@pytest.mark.rule("NAT-37")
async def test_jl38_a_case_goes_to_both_platforms_and_is_reported_when_the_last_receipt_comes(
        deployment, platforms, project, login_as):
    """Recorded in time; the provincial platform receives it at once, the national one is
    down and receives it only after the deadline: the case is reported late, on the
    national platform's receipt date — however early the hospital typed it."""
    hooks = deployment["host"].view()
    today = clock.today()
    discharged = today - dt.timedelta(days=2)
    [result] = await cases.record_cases(await actor("clinician_a"), hooks, [case_input(
        project, admitted_on=(discharged - dt.timedelta(days=3)).isoformat(),
        operated_on=(discharged - dt.timedelta(days=2)).isoformat(), discharged_on=discharged.isoformat())])
    assert result.report_rule == "JL-38" and result.report_due_on > today
    rows = await Delivery.select().where(Delivery.id.is_in(result.delivery_ids)).order_by(Delivery.id)
    assert [(r["channel"], r["kind"], r["subject_id"]) for r in rows] == [
        ("jilin_platform", "case", result.id), ("national_platform", "case", result.id)]
    assert result.delivery_id == rows[0]["id"]
    by_channel = {r["channel"]: r for r in rows}

    # The national platform is down; the provincial one answers with its receipt.
    platforms["national_platform"].stop()
    now = dt.datetime.now(dt.UTC)
    await outbox.deliver_due(hooks, now=now, delivery_ids=result.delivery_ids)
    provincial = await Delivery.select().where(Delivery.id == by_channel["jilin_platform"]["id"]).first()
    national = await Delivery.select().where(Delivery.id == by_channel["national_platform"]["id"]).first()
    assert provincial["status"] == "accepted" and provincial["receipt_id"]
    assert national["status"] == "failed" and national["next_attempt_at"] > now
    # Each platform got its own delivery (its own idempotency key) of the same case.
    key = provincial["idempotency_key"]
    assert platforms["jilin_platform"].processed[key] == 1 and key not in platforms["national_platform"].hits
    assert platforms["jilin_platform"].bodies[key]["payload"]["case"] == result.id

    # One platform's receipt is not "reported".
    case = await CaseRecord.select().where(CaseRecord.id == result.id).first()
    assert case["reported_on"] is None and not case["report_late"]
    ob = await Obligation.select().where((Obligation.subject_type == "case") & (Obligation.subject_id == result.id)
                                         & (Obligation.kind == "case_report")).first()
    assert ob["status"] == "open"
    total = (await qc.figures(await actor("medaffairs_a"), qc.Filter(project_id=project)))["total"]
    assert (total["reports"], total["timeliness"]) == (0, None)  # not reported yet, not yet due
    ma = await login_as("medaffairs_a")
    page = (await ma.get(f"/cases/{result.id}")).text
    assert 'data-report="partial"' in page and "1/2 个平台已受理" in page
    section = page.split('id="channel-reports"')[1].split("</section>")[0]
    assert 'data-channel="jilin_platform" data-status="accepted"' in section and provincial["receipt_id"] in section
    assert 'data-channel="national_platform" data-status="failed"' in section
    assert "全国医疗技术临床应用信息化管理平台" in section and "吉林省医疗技术临床应用监管平台" in section

    # The national platform is back; its retry comes after the deadline.
    platforms["national_platform"].start()
    later = dt.datetime.combine(result.report_due_on + dt.timedelta(days=3), dt.time(2, 0), tzinfo=dt.UTC)
    assert await outbox.deliver_due(hooks, now=later, delivery_ids=[national["id"]]) == 1
    national = await Delivery.select().where(Delivery.id == national["id"]).first()
    assert national["status"] == "accepted" and national["idempotency_key"] in platforms["national_platform"].receipts
    case = await CaseRecord.select().where(CaseRecord.id == result.id).first()
    assert case["reported_on"] == result.report_due_on + dt.timedelta(days=3) and case["report_late"] is True
    ob = await Obligation.select().where(Obligation.id == ob["id"]).first()
    assert ob["status"] == "done" and ob["done_late"] and ob["done_on"] == case["reported_on"]
    page = (await ma.get(f"/cases/{result.id}")).text
    assert 'data-report="late"' in page
    section = page.split('id="channel-reports"')[1].split("</section>")[0]
    rows_html = section.split("<tr ")
    jilin_row = next(r for r in rows_html if 'data-channel="jilin_platform"' in r)
    national_row = next(r for r in rows_html if 'data-channel="national_platform"' in r)
    assert 'data-timely="on_time"' in jilin_row and 'data-timely="late"' in national_row

    # 报送及时率 (QC): the project's one case is reported, late — 0 % on time, though it was
    # recorded (and reached the provincial platform) well within the deadline.
    total = (await qc.figures(await actor("medaffairs_a"), qc.Filter(project_id=project)))["total"]
    assert (total["cases"], total["reports"], total["on_time"], total["timeliness"]) == (1, 1, 0, 0.0)


@pytest.mark.rule("NAT-36")
@pytest.mark.rule("JL-38")
async def test_a_correction_goes_to_every_platform_and_does_not_count_as_the_report(deployment, project):
    """The correction is sent to each platform the case went to; its receipt is not the report's."""
    from core.cases import corrections
    from tests.case_helpers import receive_one

    hooks = deployment["host"].view()
    [result] = await cases.record_cases(await actor("clinician_a"), hooks, [case_input(project)])
    ma = await actor("medaffairs_a")
    await corrections.void(ma, hooks, result.id, "重复录入的病例")
    sent = await Delivery.select(Delivery.id, Delivery.channel).where(
        (Delivery.subject_type == "case") & (Delivery.subject_id == result.id)).order_by(Delivery.id)
    assert [d["channel"] for d in sent] == ["jilin_platform", "national_platform"] * 2
    # Both corrections received, neither report: still not reported.
    for d in sent[2:]:
        await receive_one(hooks, d["id"], dt.date(2026, 3, 20))
    assert (await CaseRecord.select(CaseRecord.reported_on).where(CaseRecord.id == result.id).first()
            )["reported_on"] is None


@pytest.mark.rule("NAT-36")
@pytest.mark.rule("NAT-11")
async def test_a_filing_goes_to_every_platform_that_takes_filings(deployment):
    """Two platforms take filings here: the submission queues one delivery to each, and
    the filing page lists both."""
    from core.filing import service as filing
    from tests.test_filing import SUBMIT_DAY, assembled

    hooks = _host().view()
    filing_id = await assembled(hooks)
    await filing.submit(await actor("medaffairs_a"), hooks, filing_id, today=SUBMIT_DAY)
    view = await filing.filing_view(await actor("medaffairs_a"), hooks, filing_id)
    assert [c.key for c in view.filing_channels] == ["second_platform", "third_platform"]
    assert sorted(d.channel for d in view.deliveries) == ["second_platform", "third_platform"]
    assert all(d.kind == "filing" and d.subject_id == filing_id and d.status == "queued" for d in view.deliveries)
    # Each its own delivery: its own idempotency key, retried on its own.
    keys = {r["idempotency_key"] for r in await Delivery.select(Delivery.idempotency_key).where(
        Delivery.id.is_in([d.id for d in view.deliveries]))}
    assert len(keys) == 2


@pytest.mark.rule("NAT-36")
@pytest.mark.rule("NAT-25")
async def test_a_stop_report_goes_to_every_platform_that_takes_reports(deployment):
    from core.filing import service as filing
    from core.lifecycle import service as lifecycle
    from core.lifecycle.tables import UseEvent

    hooks = _host().view()
    project_id = await admitted(hooks, tech_index=12)
    ma = await actor("medaffairs_a")
    first = dt.date(2026, 3, 9)
    await filing.on_first_case(ma, hooks, project_id=project_id, case_date=first, today=first)
    from core.admission.tables import Project

    row = await Project.select(Project.technology_code).where(Project.id == project_id).first()
    key = lifecycle.technology_key(row["technology_code"], project_id)
    event_id = await lifecycle.stop(ma, hooks, technology_key=key, trigger="conditions",
                                    reason="技术负责人调离，人员条件不再满足规范", committee="医疗技术临床应用管理委员会",
                                    meeting_on=dt.date(2026, 3, 18), today=dt.date(2026, 3, 20))
    event = await UseEvent.select().where(UseEvent.id == event_id).first()
    sent = await Delivery.select(Delivery.id, Delivery.channel, Delivery.kind).where(
        (Delivery.subject_type == "technology_stop") & (Delivery.subject_id == event_id)).order_by(Delivery.id)
    assert sorted((d["channel"], d["kind"]) for d in sent) == [("jilin_platform", "report"), ("second_platform", "report")]
    assert event["delivery_id"] == sent[0]["id"]
