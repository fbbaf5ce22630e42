"""Admission step kinds as a registry (core/admission/kinds): one module per kind owns its
actions, who may use them, the work list's wording, its entry logic and its partial — and
the registry, the contract's step structs and the templates agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.accounts.schemas import Actor
from core.admission import kinds
from core.contract import STEP_KINDS, STEP_TYPES, EthicsStep, PanelStep, PublicityStep, ReviewStep
from tests.test_admission_http import submitted_project, version_of

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"


def test_every_step_kind_of_the_contract_has_its_module_and_partial():
    assert set(kinds.KINDS) == set(STEP_KINDS) == {t.__struct_config__.tag for t in STEP_TYPES}
    for name, kind in kinds.KINDS.items():
        assert kind.kind == name
        assert (TEMPLATES / kind.template).is_file(), kind.template
        assert set(kind.actions) <= set(kinds.STEP_ACTIONS), name


def test_no_kind_switch_is_left_outside_the_registry():
    """The switch over step kinds lives in core/admission/kinds only: not in the work list,
    the abilities, the controller or the actions partial."""
    root = TEMPLATES.parent.parent
    for path in ("core/admission/service.py", "web/admission/controllers.py", "web/templates/admission/_actions.html"):
        text = (root / path).read_text(encoding="utf-8")
        kinds_compared = re.findall(r"""step\.kind (?:==|!=|in|not in) \(?["'](\w+)""", text)
        assert set(kinds_compared) <= {"publicity"}, (path, kinds_compared)  # the publicity list and its end
    for path in ("web/admission/controllers.py", "web/templates/admission/_actions.html"):
        assert "step.kind" not in (root / path).read_text(encoding="utf-8"), path


def _actor(uid: int, *roles: str, department: int | None = 10) -> Actor:
    return Actor(id=uid, username=f"u{uid}", display_name=f"用户{uid}", roles=roles, institution_id=1,
                 department_id=department)


def _ctx(actor: Actor, step, status: str = "in_review", members=(), voters=()) -> kinds.StepContext:
    project = {"id": 1, "lead": 99, "department": 10, "status": status, "revision": 1}
    return kinds.StepContext(actor=actor, project=project, step=step, members=frozenset(members),
                             voters=frozenset(voters))


@pytest.mark.rule("HOSP-9")
def test_panel_kind_medical_affairs_assembles_then_concludes_experts_vote_once():
    step = PanelStep(key="expert", title="专家组评审", role="expert", rule="HOSP-9")
    panel = kinds.of(step)
    ma, expert = _actor(1, "medical_affairs"), _actor(2, "expert")
    assert panel.abilities(_ctx(ma, step)) == {"panel"}
    assert panel.work(_ctx(ma, step)) == "组建专家组"
    assert panel.abilities(_ctx(expert, step, members={2})) == {"vote"}
    assert panel.abilities(_ctx(expert, step, members={2}, voters={2})) == set()
    assert panel.abilities(_ctx(ma, step, members={2}, voters={2})) == {"decide"}
    assert panel.work(_ctx(ma, step, members={2}, voters={2})) == "专家评审结论"
    assert panel.acting_role(step) == "medical_affairs"


@pytest.mark.rule("HOSP-21")
def test_ethics_kind_members_vote_once_and_medical_affairs_may_let_it_proceed():
    step = EthicsStep(key="ethics", title="伦理审查", role="ethics", rule="HOSP-7")
    ethics = kinds.of(step)
    member, ma = _actor(3, "ethics"), _actor(1, "medical_affairs")
    assert ethics.abilities(_ctx(member, step)) == {"vote"} and ethics.work(_ctx(member, step)) == "伦理审查表决"
    assert ethics.abilities(_ctx(member, step, voters={3})) == set() and ethics.work(_ctx(member, step, voters={3})) is None
    assert ethics.abilities(_ctx(ma, step)) == {"proceed"}
    assert ethics.abilities(_ctx(ma, step, voters={3})) == set()  # never past a committee that voted


@pytest.mark.rule("HOSP-10")
def test_publicity_kind_anyone_objects_even_the_lead_medical_affairs_answers_and_closes():
    step = PublicityStep(key="publicity", title="院内公示", role="medical_affairs", rule="HOSP-10")
    publicity = kinds.of(step)
    lead, nurse, ma = _actor(99, "clinician"), _actor(5, "clinician"), _actor(1, "medical_affairs")
    assert publicity.abilities(_ctx(lead, step)) == {"object"}
    assert publicity.abilities(_ctx(nurse, step)) == {"object"}
    assert publicity.abilities(_ctx(ma, step)) == {"object", "answer", "close"}
    assert publicity.abilities(_ctx(nurse, step, status="returned")) == set()


@pytest.mark.rule("HOSP-8")
def test_deciding_kinds_only_their_role_and_a_department_head_only_for_their_department():
    step = ReviewStep(key="department", title="科室审核", role="dept_head", rule="HOSP-12")
    review = kinds.of(step)
    own, other = _actor(7, "dept_head", department=10), _actor(8, "dept_head", department=11)
    assert review.abilities(_ctx(own, step)) == {"decide"} and review.work(_ctx(own, step)) == "科室审核"
    assert review.abilities(_ctx(other, step)) == set() and review.work(_ctx(other, step)) is None
    lead = _actor(99, "dept_head", department=10)
    assert review.abilities(_ctx(lead, step)) == set()  # never on one's own project


@pytest.mark.rule("HOSP-12")
async def test_the_project_page_shows_the_current_kinds_partial_with_the_version(deployment, login_as):
    project_id = await submitted_project(login_as, "步骤类型局部模板")
    depthead = await login_as("depthead_a")
    page = (await depthead.get(f"/admission/projects/{project_id}")).text
    version = await version_of(project_id)
    form = re.search(r'<form[^>]*id="decide-form".*?</form>', page, re.S).group(0)
    assert f'name="version" value="{version}"' in form and 'value="decide"' in form
    assert "vote-form" not in page and "办理。" not in re.search(r'id="actions".*?</section>', page, re.S).group(0)
    response = await depthead.post(f"/admission/projects/{project_id}/step", data={
        "action": "decide", "decision": "approve", "reason": "同意", "version": str(version)})
    assert response.status_code == 303, response.text
    ethics_page = (await (await login_as("ethics_a")).get(f"/admission/projects/{project_id}")).text
    assert 'id="vote-form"' in ethics_page and "HOSP-21" in ethics_page and "decide-form" not in ethics_page
    ma_page = (await (await login_as("medaffairs_a")).get(f"/admission/projects/{project_id}")).text
    assert 'id="proceed-form"' in ma_page and "vote-form" not in ma_page
    clinician_page = (await (await login_as("clinician_a")).get(f"/admission/projects/{project_id}")).text
    actions = re.search(r'id="actions".*?</section>', clinician_page, re.S).group(0)
    assert "<form" not in actions and "办理。" in actions  # the lead only sees who acts
