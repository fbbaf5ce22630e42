"""Deadline rules are checked when the deployment loads them: a rule that could never
fire (unknown event), creates a kind nobody knows, tests a fact its event never carries,
or replaces a rule that is not there is an error naming the plugin and the rule."""

from __future__ import annotations

import types

import msgspec
import pytest

from core import hookimpl
from core.obligations import rules, service
from core.obligations.rules import DeadlineRuleError
from core.plugins import PluginConfigError, PluginHost

GOOD = {"id": "X-1", "event": "first_case", "obligation": "filing", "title": "备案", "article": "条文",
        "role": "medical_affairs", "offset": {"amount": 15, "unit": "working_days"}}


def module(name: str, **hooks) -> types.ModuleType:
    mod = types.ModuleType(name)
    for hook, fn in hooks.items():
        setattr(mod, hook, hookimpl(fn))
    return mod


@pytest.mark.parametrize("change, field, text", [
    ({"event": "first_cas"}, "event", "first_cas"),            # a typo: would never fire
    ({"obligation": "filling"}, "obligation", "filling"),
    ({"when": {"ethics_pending": True}}, "when", "ethics_pending"),  # first_case carries no such fact
    ({"offset": {"amount": 2, "unit": "fortnights"}}, "offset.unit", "fortnights"),
    ({"ofset": {"amount": 2, "unit": "weeks"}}, "ofset", "ofset"),  # an unknown key
])
def test_a_rule_core_would_never_fire_or_could_not_read_is_refused_naming_plugin_and_rule(change, field, text):
    bad = {**GOOD, "id": "X-2", **change}
    with pytest.raises(DeadlineRuleError) as exc:
        rules.check_rules([("third_province", [GOOD, bad])])
    message = str(exc.value)
    assert "third_province" in message and "X-2" in message and text in message
    assert "X-1" not in message  # the good rule is not blamed


def test_an_unknown_event_stops_the_portal_at_start_naming_the_plugin():
    plugin = module("typo_rules", deadline_rules=lambda: [{**GOOD, "event": "listed"}])
    host = PluginHost(("jilin", "typo_rules"), extra={"typo_rules": plugin})
    from web.app import create_app

    with pytest.raises(PluginConfigError, match="typo_rules.*X-1.*listed"):
        create_app(host)


def test_every_event_core_reports_is_known():
    """The vocabulary is what core emits; the transitional events are part of it."""
    assert {"first_case", "filing_materials_complete", "discharge", "case_performed", "admission",
            "publicity_start", "rules_effective", "technology_listed"} <= set(rules.EVENTS)


@pytest.mark.rule("NAT-11")
@pytest.mark.rule("JL-12")
def test_replaces_names_id_and_obligation_so_the_regulators_deadline_of_the_same_id_stays():
    """A province that restates only the filing deadline of NAT-11 keeps NAT-11's
    completion deadline (the department's 15 working days) — replacing by id alone
    dropped both."""
    from plugins import national

    own = {**GOOD, "id": "XP-12", "offset": {"amount": 20, "unit": "working_days"},
           "replaces": [{"id": "NAT-11", "obligation": "filing"}]}
    keys = {r.key for r in rules.check_rules([("national", national.rules()),
                                               ("third_province", [own])])}
    assert ("XP-12", "filing") in keys and ("NAT-11", "filing_completion") in keys
    assert ("NAT-11", "filing") not in keys


def test_replaces_by_bare_id_or_naming_a_rule_that_is_not_there_is_an_error():
    from plugins import national as national_plugin

    national = ("national", national_plugin.rules())
    with pytest.raises(DeadlineRuleError, match='obligation = "filing"'):
        rules.check_rules([national, ("p", [{**GOOD, "replaces": ["NAT-11"]}])])
    with pytest.raises(DeadlineRuleError, match="NAT-12"):
        rules.check_rules([national, ("p", [{**GOOD, "replaces": [{"id": "NAT-12", "obligation": "filing"}]}])])


@pytest.mark.rule("JL-12")
@pytest.mark.rule("JL-30")
def test_jilin_replaces_exactly_the_national_rules_it_restates():
    keys = {r.key for r in service.rules_of(PluginHost(("jilin", "hospital_default")).view())}
    assert {("JL-12", "filing"), ("JL-12", "filing_completion"), ("JL-30", "training_base_filing")} <= keys
    assert not {k for k in keys if k[0] in ("NAT-11", "NAT-29")}


def test_hook_deadline_rules_accepts_the_contract_structs_as_well_as_dicts():
    from core.contract import DeadlineRule, Exemption, Offset, RulesInForce, Scope

    rule = DeadlineRule(id="JL-38", event="discharge", obligation="case_report", title="病例逐例报送",
                        article="……出院后15个工作日内完成报送。", role="medical_affairs",
                        offset=Offset(amount=15, unit="working_days"), scope=Scope(classes=("restricted",)))
    plugin = module("typed_rules", deadline_rules=lambda: [rule],
                    deadline_exemptions=lambda: [Exemption(rule="JL-38", obligation="case_report",
                                                           codes=("G03",), evidence="依据")],
                    rules_in_force=lambda: [RulesInForce(key="typed", title="办法", effective_on="2026-01-05")])
    host = PluginHost(("typed_rules",), extra={"typed_rules": plugin})
    (loaded,) = [r for r in service.rules_of(host.view()) if r.plugin == "typed_rules"]  # national ones aside
    assert loaded.plugin == "typed_rules" and loaded.offset == Offset(15, "working_days", "after")
    (exemption,) = service.exemptions_of(host.view())
    assert exemption.codes == ("G03",) and exemption.plugin == "typed_rules"
    (in_force,) = service.in_force_of(host.view())
    assert in_force.effective_on.isoformat() == "2026-01-05"
    # A struct with a vocabulary problem is refused like a dict.
    bad = module("typed_bad", deadline_rules=lambda: [msgspec.structs.replace(rule, event="discharged")])
    with pytest.raises(DeadlineRuleError, match="typed_bad.*discharged"):
        service.rules_of(PluginHost(("typed_bad",), extra={"typed_bad": bad}).view())
