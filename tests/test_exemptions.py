"""Exemptions (grandfathering): a plugin declares technologies or institutions exempt
from a deadline rule, with the evidence; the engine records the obligation as exempt
(依规豁免) instead of open and shows the evidence where obligations are listed —
medical affairs no longer waives such deadlines by hand."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import types

import pytest

from core import hookimpl
from core.accounts.schemas import SYSTEM
from core.obligations import rules, service
from core.obligations.rules import DeadlineRuleError
from core.obligations.service import DomainEvent
from core.obligations.tables import Obligation
from core.plugins import PluginConfigError, PluginHost

D = dt.date.fromisoformat
FIRST_CASE = dt.date(2025, 9, 26)
SUBJECT = "test-exemption"
_ids = itertools.count(random.randint(10_000_000, 90_000_000))
EVIDENCE = "该技术已于本办法施行前完成备案（示范省卫健委〔2020〕12号），不再重复备案"


def _host(*exemptions: dict) -> PluginHost:
    mod = types.ModuleType("grandfather")
    mod.deadline_exemptions = hookimpl(lambda: [dict(e) for e in exemptions])
    return PluginHost(("jilin", "hospital_default", "grandfather"), extra={"grandfather": mod})


@pytest.fixture(autouse=True)
async def _cleanup(deployment):
    yield
    await Obligation.delete().where(Obligation.subject_type == SUBJECT)


async def _first_case(hooks, institution: int, code: str = "G03", on: dt.date = FIRST_CASE) -> dict:
    ids = await service.on_event(SYSTEM, hooks, DomainEvent(
        kind="first_case", occurred_on=on, institution_id=institution, subject_type=SUBJECT,
        subject_id=next(_ids), technology_class="restricted", technology_code=code, subject_label="测试技术"))
    (row,) = await Obligation.select().where(Obligation.id.is_in(ids))
    return row


@pytest.mark.rule("JL-12")
async def test_hook_deadline_exemptions_a_grandfathered_technology_is_exempt_with_its_evidence(deployment):
    hooks = _host({"rule": "JL-12", "obligation": "filing", "codes": ["G03"], "evidence": EVIDENCE}).view()
    exempt = await _first_case(hooks, deployment["hospital_a"])
    assert exempt["status"] == "exempt" and exempt["exempt_evidence"] == EVIDENCE
    assert exempt["exempt_plugin"] == "grandfather" and exempt["due_on"] == D("2025-10-23")  # the rule's date, kept
    # The evidence has columns of its own: the manual waiver's stay empty.
    assert exempt["waived_reason"] == "" and exempt["waived_by"] == ""
    # Another technology is not covered: its deadline stands.
    assert (await _first_case(hooks, deployment["hospital_a"], code="G04"))["status"] == "open"
    # It is never reminded of, and never "overdue".
    decorated = service.decorate(dict(exempt), *await service.read_context(hooks, D("2026-01-01")))
    assert decorated["state"] == "exempt" and decorated["days_left"] is None


@pytest.mark.rule("JL-12")
async def test_an_institution_exemption_and_a_cut_off_day(deployment):
    hooks = _host({"rule": "JL-12", "obligation": "filing", "institutions": ["DEMO-A-0001"],
                   "before": "2025-10-01", "evidence": EVIDENCE}).view()
    assert (await _first_case(hooks, deployment["hospital_a"]))["status"] == "exempt"
    assert (await _first_case(hooks, deployment["hospital_b"]))["status"] == "open"  # another institution
    # Begun on or after the cut-off: not grandfathered.
    assert (await _first_case(hooks, deployment["hospital_a"], on=D("2025-10-09")))["status"] == "open"


@pytest.mark.rule("JL-12")
async def test_an_open_obligation_becomes_exempt_when_the_exemption_arrives_and_reopens_when_it_goes(deployment):
    plain = deployment["host"].view()
    row = await _first_case(plain, deployment["hospital_a"])
    assert row["status"] == "open"
    host = _host({"rule": "JL-12", "obligation": "filing", "codes": ["G03"], "evidence": EVIDENCE})
    assert await service.recompute_open(host.view()) >= 1
    after = await Obligation.select().where(Obligation.id == row["id"]).first()
    assert after["status"] == "exempt" and after["exempt_evidence"] == EVIDENCE and after["waived_reason"] == ""
    # A hand waiver is not possible on it any more; the exemption is the record.
    with pytest.raises(Exception, match="已办结或已豁免"):
        await service.waive(SYSTEM, row["id"], "手工豁免")
    # The plugin switched off: the obligation is open again, with its date.
    await service.recompute_open(host.view(frozenset({"grandfather"})))
    back = await Obligation.select().where(Obligation.id == row["id"]).first()
    assert back["status"] == "open" and back["exempt_evidence"] == "" and back["due_on"] == row["due_on"]


@pytest.mark.parametrize("exemption, text", [
    ({"rule": "JL-99", "obligation": "filing", "codes": ["G03"], "evidence": EVIDENCE}, "JL-99"),
    ({"rule": "JL-12", "obligation": "filing", "codes": ["G03"], "evidence": " "}, "evidence"),
    ({"rule": "JL-12", "obligation": "filing", "evidence": EVIDENCE}, "codes 与 institutions"),
    ({"rule": "JL-12", "obligation": "filing", "code": ["G03"], "evidence": EVIDENCE}, "code"),
])
def test_a_bad_exemption_stops_the_start_naming_the_plugin(exemption, text):
    with pytest.raises(DeadlineRuleError, match=text) as exc:
        service.exemptions_of(_host(exemption).view())
    assert "grandfather" in str(exc.value)
    from web.app import create_app

    with pytest.raises(PluginConfigError, match="grandfather"):
        create_app(_host(exemption))


def test_exemption_matching_is_exact():
    rule = rules.check_rules([("p", [{"id": "R-1", "event": "first_case", "obligation": "filing", "title": "t",
                                       "article": "a", "role": "medical_affairs",
                                       "offset": {"amount": 1, "unit": "weeks"}}])])[0]
    e = rules.Exemption(rule="R-1", obligation="filing", evidence="e", codes=("G03",), institutions=("L1",),
                        before=D("2025-10-01"))
    assert e.covers(rule, "G03", "L1", D("2025-09-30"))
    assert not e.covers(rule, "G03", "L1", D("2025-10-01"))
    assert not e.covers(rule, "G04", "L1", D("2025-09-30")) and not e.covers(rule, "G03", "L2", D("2025-09-30"))
    other = rules.Exemption(rule="R-1", obligation="filing_completion", evidence="e", codes=("G03",))
    assert not other.covers(rule, "G03", "L1", D("2025-09-30"))


@pytest.mark.rule("JL-12")
async def test_the_obligations_page_lists_exempt_ones_with_their_evidence(deployment, login_as):
    hooks = _host({"rule": "JL-12", "obligation": "filing", "codes": ["G03"], "evidence": EVIDENCE}).view()
    row = await _first_case(hooks, deployment["hospital_a"])
    client = await login_as("medaffairs_a")
    page = await client.get("/obligations/")
    assert page.status_code == 200 and 'id="obligation-exempt"' in page.text and EVIDENCE in page.text
    detail = await client.get(f"/obligations/{row['id']}")
    assert "依规豁免" in detail.text and EVIDENCE in detail.text and 'id="waive-form"' not in detail.text
    # Another hospital does not see it.
    other = await (await login_as("medaffairs_b")).get("/obligations/")
    assert EVIDENCE not in other.text


@pytest.mark.rule("JL-12")
async def test_a_filing_whose_deadline_is_exempt_shows_the_evidence_not_a_countdown(deployment, login_as):
    from core.admission.tables import Project
    from core.filing import service as filing
    from tests.filing_helpers import actor, admitted_project, forget_filing_obligations

    project_id = await admitted_project(deployment["host"].view())
    code = (await Project.select(Project.technology_code).where(Project.id == project_id).first())["technology_code"]
    hooks = _host({"rule": "JL-12", "obligation": "filing", "codes": [code], "evidence": EVIDENCE}).view()
    try:
        filing_id = await filing.on_first_case(await actor("medaffairs_a"), hooks, project_id=project_id,
                                               case_date=D("2026-03-09"), info="首例", today=D("2026-03-09"))
        page = await (await login_as("medaffairs_a")).get(f"/filings/{filing_id}")
        assert page.status_code == 200 and 'id="exemption"' in page.text and EVIDENCE in page.text
        assert 'id="days-left"' not in page.text
    finally:
        await forget_filing_obligations()


async def test_the_third_province_expresses_grandfathering_and_a_listing_grace_with_no_core_change(deployment):
    """The third province of tests/plugins (written from docs/plugins.md) declares both."""
    from tests.plugins import third_province

    hooks = PluginHost(("third_province", "hospital_default"), extra={"third_province": third_province}).view()
    assert ("ZJ-30", "filing") in {r.key for r in service.rules_of(hooks)}
    (grandfathered,) = service.exemptions_of(hooks)
    assert grandfathered.plugin == "third_province" and grandfathered.rule == "ZJ-7"
    old = await _first_case(hooks, deployment["hospital_a"], code="G09", on=D("2019-06-03"))
    assert old["status"] == "exempt" and old["rule_id"] == "ZJ-7" and "免予备案" in old["exempt_evidence"]
    assert old["exempt_before"] == grandfathered.before and old["exempt_article"] == grandfathered.article
    new = await _first_case(hooks, deployment["hospital_a"], code="G09", on=D("2026-03-09"))
    assert new["status"] == "open" and new["rule_id"] == "ZJ-7"


@pytest.mark.rule("JL-12")
async def test_the_evidence_shown_is_the_plugins_evidence_article_cut_off_and_plugin(deployment, login_as):
    hooks = _host({"rule": "JL-12", "obligation": "filing", "institutions": ["DEMO-A-0001"], "before": "2025-10-01",
                   "evidence": EVIDENCE, "article": "《示范省实施细则》第四十二条"}).view()
    row = await _first_case(hooks, deployment["hospital_a"])
    assert (row["exempt_article"], row["exempt_before"]) == ("《示范省实施细则》第四十二条", D("2025-10-01"))
    detail = (await (await login_as("medaffairs_a")).get(f"/obligations/{row['id']}")).text
    for shown in (EVIDENCE, "《示范省实施细则》第四十二条", "2025-10-01", "grandfather", "JL-12"):
        assert shown in detail.split('id="exemption"')[1].split("</td>")[0]


@pytest.mark.rule("JL-12")
async def test_evidence_kept_in_the_waivers_columns_moves_to_its_own_at_the_next_sync(deployment):
    """Exempt obligations recorded before the evidence had columns of its own (migration
    2026-12-04T21:28:20): the next sync of the exemptions rewrites them from the plugin."""
    from core.audit.tables import AuditEvent

    host = _host({"rule": "JL-12", "obligation": "filing", "codes": ["G03"], "evidence": EVIDENCE})
    row = await _first_case(host.view(), deployment["hospital_a"])
    await Obligation.update({Obligation.waived_reason: EVIDENCE, Obligation.waived_by: "grandfather",
                             Obligation.exempt_evidence: "", Obligation.exempt_plugin: ""}).where(
        Obligation.id == row["id"])
    await service.recompute_open(host.view())
    moved = await Obligation.select().where(Obligation.id == row["id"]).first()
    assert (moved["status"], moved["exempt_evidence"], moved["exempt_plugin"]) == ("exempt", EVIDENCE, "grandfather")
    assert moved["waived_reason"] == "" and moved["waived_by"] == ""
    assert await AuditEvent.exists().where((AuditEvent.record_id == row["id"])
                                           & (AuditEvent.action == "obligation.exempt_evidence"))
