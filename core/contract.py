"""The typed contract between core and its plugins: what every hook receives and answers.

``core/hookspecs.py`` names the hooks; this module says the shape of their arguments and
answers, as msgspec structs a plugin author imports (``from core.contract import PanelStep``).
A plugin may answer with these structs or with plain dicts/lists of the same shape; core
converts every answer through ``HOOKS[hook].answer`` and an answer that does not convert is
a ``ContractError`` naming the plugin, the hook and the field:

- at load time (``PluginHost``) for answers that do not depend on the call — the hooks
  without arguments, and the workflow, form and filing hooks probed with sample arguments
  (``HOOKS[hook].probes``);
- at call time (``HookView``) for every answer.

Adding a hook: declare it in ``core/hookspecs.py`` annotated with its types, add its
structs here (``forbid_unknown_fields=True`` so a misspelt key is an error, a docstring per
struct naming each field's meaning and rule), add ``HOOKS["name"] = Contract(answer=…)``
and document it in ``docs/plugins.md`` (``tests/test_docs.py`` checks it).

A plugin declares the API version it was written for as a module attribute
``CLINTECH_API = "2"`` (major, or "major.minor"); ``PluginHost`` refuses a plugin whose
major differs from ``HOOK_API_VERSION``'s, naming it. Version 2 (December 2026): typed
answers; admission steps carry their options as fields of the step (``PanelStep.min_experts``)
instead of an ``options`` dict.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from core.accounts.schemas import Actor
from core.cases.rules import CaseInput
from core.catalog.schemas import StaffRequirement
from core.errors import Problem

HOOK_API_VERSION = "2.0"

# ---------------------------------------------------------------- arguments


class InstitutionInfo(msgspec.Struct, frozen=True):
    """A medical institution as plugins see it (``filing_materials``, ``filing_form``)."""

    id: int
    name: str
    licence_no: str
    grade: str
    registered_subjects: tuple[str, ...] = ()


class PersonInfo(msgspec.Struct, frozen=True):
    """The project lead as the rules see them (HOSP-5), for ``validate_project``:
    ``qualifications`` the certificate names in force (as medical affairs keeps them),
    ``title`` the professional title, ``years_in_practice`` whole years since the issue of
    the lead's practice certificate (None when none is recorded with its date)."""

    id: int
    display_name: str
    title: str = ""
    roles: tuple[str, ...] = ()
    institution_id: int | None = None
    resident_since: dt.date | None = None
    years_as_resident: int = 0
    visiting: bool = False
    qualifications: tuple[str, ...] = ()
    years_in_practice: int | None = None


class ProjectInfo(msgspec.Struct, frozen=True):
    """A project as plugins see it (never a database row): ``admission_steps``,
    ``application_form``, ``grades``, ``validate_project``. ``path`` is "round" (the
    yearly round, HOSP-4) or "temporary" (HOSP-12); ``tech_class`` prohibited,
    restricted or routine. ``technology_lead``: the catalogue's requirements of the lead
    from the technology's specification (HOSP-5), None when the catalogue states none;
    ``technology_requirements`` (older plugins) are its certificate and title names."""

    id: int | None
    institution_id: int
    department_id: int | None
    department_subject: str
    title: str
    path: str
    tech_class: str
    outside_lists: bool
    technology_code: str = ""
    technology_name: str = ""
    technology_specification: str = ""
    technology_requirements: tuple[str, ...] = ()
    technology_lead: StaffRequirement | None = None
    grade: str = ""
    form: dict[str, Any] = {}
    has_evidence_files: bool = False
    today: dt.date | None = None


class TechnologyInfo(msgspec.Struct, frozen=True):
    """The technology a filing is for (``filing_materials``, ``filing_form``)."""

    code: str
    name: str
    tech_class: str
    specification: str = ""


class QcTechnologyInfo(msgspec.Struct, frozen=True):
    """What ``qc_indicators`` receives: the technology of a project (or a catalogue entry)."""

    code: str
    name: str
    tech_class: str
    institution_id: int | None = None
    project_id: int | None = None


class CaseTechnology(msgspec.Struct, frozen=True):
    """What ``restricted_scope`` receives: a case's technology as the catalogue cites it
    (``surgery_levels``: the levels the catalogue limits it to, e.g. ``(3, 4)``) and the
    case's operation as the institution's grading catalogue grades it (NAT-16):
    ``surgery_level`` 1–4, or None when the case names no operation."""

    code: str
    name: str
    tech_class: str
    surgery_levels: tuple[int, ...] = ()
    surgery_level: int | None = None
    operation_code: str = ""


# ``validate_case`` receives ``CaseInput`` (core.cases.rules) and ``menu_items`` an ``Actor``
# (core.accounts.schemas); both are re-exported here.


# ---------------------------------------------------------------- answers: admission (hospital)

# A (key, Chinese label) pair: an argumentation consideration, a panel criterion, a grade.
Choice = tuple[str, str]
Criterion = Choice
Consideration = Choice
Grade = Choice


class StepBase(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="kind"):
    """What every admission step has (``admission_steps``). The step's ``kind`` (its tag)
    says how core runs it and which options it takes; each kind below is one struct.

    - ``key``: stable id within the workflow (stored on the project's decisions);
    - ``title``: Chinese, shown on every page; ``role``: who acts (dept_head, ethics,
      medical_affairs, expert, hospital_head …); ``rule``: the RULES.md id it serves;
    - ``admits``: True on the approval after which the project counts as admitted.
    """

    key: str
    title: str
    role: str
    rule: str = ""
    admits: bool = False

    @property
    def kind(self) -> str:
        return type(self).__struct_config__.tag  # type: ignore[return-value]


class ArgumentationStep(StepBase, frozen=True, tag="argumentation"):
    """The department head approves, returns or rejects, covering every consideration (HOSP-4)."""

    considerations: tuple[Consideration, ...] = ()


class EthicsStep(StepBase, frozen=True, tag="ethics"):
    """The ethics committee votes; two thirds of all its members decide, a recused member
    still counting (HOSP-21); all voted or recused short of that: 未通过, back to the lead;
    before any vote medical affairs may let it proceed, the approval owed within 3 months (HOSP-7)."""


class ReviewStep(StepBase, frozen=True, tag="review"):
    """Approve / return / reject with a reason; ``written_reply``: a written reason either way (HOSP-8)."""

    written_reply: bool = False


class PanelStep(StepBase, frozen=True, tag="panel"):
    """Medical affairs assembles at least ``min_experts`` experts who score and vote, then
    concludes (HOSP-9). ``criteria`` are scored 0–100 for restricted technologies;
    ``by_grade_and_class`` asks for experts chosen by the project's grade and class (HOSP-12)."""

    min_experts: Annotated[int, msgspec.Meta(ge=1)] = 1
    criteria: tuple[Criterion, ...] = ()
    by_grade_and_class: bool = False


class PublicityStep(StepBase, frozen=True, tag="publicity"):
    """Open to every hospital user with objections; ends after ``weeks`` with every
    objection answered (HOSP-10)."""

    weeks: Annotated[int, msgspec.Meta(ge=1)] = 1


class ApprovalStep(StepBase, frozen=True, tag="approval"):
    """Approve / return / reject."""


class DocumentStep(StepBase, frozen=True, tag="document"):
    """The official approval document (文号, printable PDF)."""


class FilingStep(StepBase, frozen=True, tag="filing"):
    """Queued to the hospital's reporting channel of kind ``admission`` (HOSP-11)."""


Step = ArgumentationStep | EthicsStep | ReviewStep | PanelStep | PublicityStep | ApprovalStep | DocumentStep \
    | FilingStep
STEP_TYPES: tuple[type[StepBase], ...] = (ArgumentationStep, EthicsStep, ReviewStep, PanelStep, PublicityStep,
                                          ApprovalStep, DocumentStep, FilingStep)
STEP_KINDS: tuple[str, ...] = tuple(t.__struct_config__.tag for t in STEP_TYPES)  # type: ignore[misc]


class FieldSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One field of the application form. ``kind``: text, textarea, select (``options``),
    date, number, table (rows of ``columns``), subject (a 诊疗科目 checked against the
    institution's registered ones, NAT-43), grade (the ``grades`` scale, HOSP-1)."""

    key: str
    label: str
    kind: str = "text"
    required: bool = False
    rule: str = ""
    help: str = ""
    options: tuple[Choice, ...] = ()
    columns: tuple[Choice, ...] = ()
    min_length: int = 0
    min_rows: int = 0


class Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: str
    title: str
    fields: tuple[FieldSpec, ...]


class FormSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The application form (《临床新技术立项准入申请表》) a hospital plugin supplies.
    Core knows the field keys ``evidence`` (HOSP-6), ``products`` (NAT-9b) and ``grade`` (HOSP-1)."""

    title: str
    sections: tuple[Section, ...]

    def fields(self) -> list[FieldSpec]:
        return [f for s in self.sections for f in s.fields]

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields() if f.key == key), None)


# ---------------------------------------------------------------- answers: filing and reporting (province)


class Material(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One material of the province's ordered filing list (``filing_materials``)."""

    key: str
    title: str
    rule: str = ""
    required: bool = True
    # The material the local department specifies (e.g. "当地卫生健康行政部门规定的其他材料"):
    # required, with what it specifies as ``note``, where the licence-issuing region's setting
    # names such materials; not asked for otherwise.
    local: bool = False
    note: str = ""  # set by core from the region's setting, for a ``local`` material


# Materials core itself reads, whatever the province: a filing cannot be submitted without
# them (NAT-13: the management body's and ethics committee's argumentation is part of the
# filing, NAT-11 (2)). A province lists them in its own place and words; one it does not
# list is added at the end of its list, so there is always an upload slot for it.
# The title is the one core shows when the province does not name it.
FORM_MATERIAL = "form"
ARGUMENTATION_MATERIAL = "argumentation"
CORE_MATERIALS: tuple[Material, ...] = (
    Material(ARGUMENTATION_MATERIAL, "本机构医疗技术临床应用管理组织和伦理委员会论证材料", "NAT-13", True),
)


class FormField(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One field of the filing form. ``prefill`` names what the portal already knows:
    institution_name, institution_grade, licence_no, region_name, licence_region_name,
    licence_department (the licence-issuing department's name from the region data),
    technology_name, technology_code, first_case_on, lead_name, lead_title,
    contact_name, self_assessment, assessment_basis. ``kind``: text, textarea, date."""

    key: str
    label: str
    kind: str = "text"
    prefill: str = ""
    required: bool = False
    help: str = ""


class FilingFormSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The filing form (备案表) — its layout — as ``filing_form`` answers. Who annotates the
    licence, which certificates are checked and which rules pages cite is the province's
    filing policy (``province_policy`` → ``FilingPolicy``)."""

    title: str
    template: str  # the printable Jinja template, from the plugin's template_dirs
    rule: str = ""  # the rule that prescribes the form
    fields: tuple[FormField, ...] = ()
    staff_columns: tuple[Choice, ...] = (("name", "姓名"), ("sex", "性别"), ("scope", "执业范围"), ("title", "职称"))
    pledge: str = ""
    note: str = ""

    def field(self, key: str) -> FormField | None:
        return next((f for f in self.fields if f.key == key), None)


# ---------------------------------------------------------------- answers: the province's policy
# ``province_policy`` answers (partial) dicts of ``ProvincePolicy``; core.policy merges them,
# the first answer for a key winning (the built-in national plugin answers last).


class Labelled(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A rule id and the Chinese text shown with it."""

    rule: str = ""
    text: str = ""


class Annotation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who puts 备注三 on the licence copy. ``direct``: the filing department itself;
    ``push``: the filing department pushes technology name and filing date through
    ``channel`` to ``recipient`` (e.g. the licensing office), which annotates the copy —
    the push is the filing department's own delivery, on its desk, and its obligation is
    done when the push is sent or its receipt recorded."""

    mode: Annotated[str, msgspec.Meta(pattern="^(direct|push)$")] = "direct"
    channel: str = ""
    recipient: str = ""
    rule: str = ""


class FilingPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How a restricted-technology filing is handled, and what its pages cite.

    - ``rule`` / ``deadline_text``: the hospital's filing rule and how its deadline reads;
    - ``completion_rule`` / ``desk_text``: the filing department's duty as its desk states it;
    - ``completed_text``: what a completed filing says happened;
    - ``annotation``: who annotates the licence copy (``Annotation``);
    - ``withdrawal_rule``, ``cancellation_rule``: shown with those actions;
    - ``lead_certificates`` / ``lead_rule``, ``physician_certificates`` / ``physicians_rule``:
      certificates checked before submission, cited with that rule;
    - ``physicians_heading``: the heading of the physician table;
    - ``assessment_basis``: the institution chooses 管理规范 or 专家共识, with
      ``assessment_rule`` and ``assessment_note`` (shown when no specification is known).
    """

    rule: str = ""
    deadline_text: str = "首例之日起15个工作日内"
    completion_rule: str = ""
    desk_text: str = "核发《医疗机构执业许可证》的卫生健康行政部门自收到完整备案材料之日起15个工作日内完成备案"
    completed_text: str = "完成备案"
    annotation: Annotation = Annotation()
    withdrawal_rule: str = ""
    cancellation_rule: str = ""
    lead_certificates: tuple[str, ...] = ()
    lead_rule: str = ""
    physician_certificates: tuple[str, ...] = ()
    physicians_rule: str = ""
    physicians_heading: str = "开展该技术的医师"
    assessment_basis: bool = False
    assessment_rule: str = ""
    assessment_note: str = ""


class CasesPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What the case pages cite: ``rules`` named on the case page, ``his_rule`` (HIS
    reporting, API tokens). The regulator's warnings are ``warning_rules``."""

    rules: tuple[str, ...] = ()
    his_rule: str = ""


class LifecyclePolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a technology's life after admission cites (``core.lifecycle``):

    - ``ethics``: the province's own restatement of NAT-13 (no restricted technology
      before the ethics committee's approval), named beside NAT-13 on every refusal;
    - ``stop``: the province's restatement of NAT-25 (stop at once), named on stops;
    - ``region_suspension``: the rule under which a region's regulator suspends a
      technology for every institution of its region, and how the page says it;
    - ``conditions_change``: the rule that makes an institution whose key staff,
      equipment or conditions changed re-file or stop, and its text (empty: none);
    - ``first_use``: the province's restatement of NAT-21 (a technology new to the
      institution is argued by it before first use), named beside NAT-21;
    - ``evaluation``: its restatement of NAT-22 (the institution evaluates the technologies
      it uses and stops those with serious problems), named beside NAT-22;
    - ``first_use_ethics``: the province also requires the ethics committee's review before
      a first use (a workflow without an ethics step before it admits is refused, naming
      ``first_use``'s rule).
    """

    ethics: Labelled = Labelled()
    stop: Labelled = Labelled()
    region_suspension: Labelled = Labelled(rule="NAT-25", text="暂停该项医疗技术在本地区的临床应用")
    conditions_change: Labelled = Labelled()
    first_use: Labelled = Labelled()
    evaluation: Labelled = Labelled()
    first_use_ethics: bool = False


class BodyPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The institution's technology-management body as the province restates it (``core.body``):
    ``rule`` cited for the body (NAT-15 nationally); ``posts``: the member posts the province
    requires (keys of ``core.body.rules.POSTS``, e.g. "head", "medical_affairs", "pharmacy"),
    with ``posts_rule``; ``small_rule``: the rule that lets other institutions set up a
    working group or designate staff ("" when the province says nothing); ``systems_rule``:
    the province's restatement of NAT-16 (the institution's systems: catalogue, surgery
    grading, authorisation, QC, archives, evaluation), named beside it on the systems page."""

    rule: str = "NAT-15"
    posts: tuple[str, ...] = ()
    posts_rule: str = ""
    small_rule: str = ""
    systems_rule: str = ""


class AuthorisationPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Physicians' authorisations (``core.people``):

    - ``exam_rule``: the province's rule that makes examination results part of every
      grant's basis (NAT-20 names ability and training only); "" when it adds nothing;
    - ``archive_rule``: the province's restatement of NAT-19 (each physician's technology
      archive, the basis of authorisation changes), named beside it on the archive;
    - ``training_rule`` / ``training_text``: the province's rule that a physician performing
      a restricted technology has passed its standardised training, as the province's
      database of trained physicians shows it — a technology grant without such a record is
      refused naming it; "" when the province requires no such record (the records found
      are still shown in the grant's basis);
    - ``transfer_rule`` / ``transfer_text``: the province's rule under which a physician
      moving in from another province is reviewed by the provincial QC centre, passing
      counting as training; "" when the province has no such review (no page offers it);
    - ``transitional_rule`` / ``transitional_text``: the province's rule under which, when its
      rules take effect, physicians already qualified apply to their institution, which
      reviews them and reports the list to the licence-issuing department, which publicises
      it and reports it to the QC centre (the listed physicians join its database); the
      application fulfils the rule's ``physician_application`` obligation; "" when none."""

    exam_rule: str = ""
    archive_rule: str = ""
    training_rule: str = ""
    training_text: str = ""
    transfer_rule: str = ""
    transfer_text: str = ""
    transitional_rule: str = ""
    transitional_text: str = ""


class ProvincePolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The deployment's policy (``province_policy``, merged)."""

    filing: FilingPolicy = FilingPolicy()
    cases: CasesPolicy = CasesPolicy()
    lifecycle: LifecyclePolicy = LifecyclePolicy()
    consistency: Labelled = Labelled(text="备案与副本备注一致性核查")
    body: BodyPolicy = BodyPolicy()
    authorisation: AuthorisationPolicy = AuthorisationPolicy()


class PersonCheck(msgspec.Struct, frozen=True):
    """A person named on a filing, as ``validate_filing`` receives it."""

    name: str
    user_id: int | None = None
    of_institution: bool = False  # an active member of the filing institution
    visiting: bool = False  # a visiting physician (进修): main practice elsewhere
    qualifications: tuple[str, ...] = ()


class FilingCheck(msgspec.Struct, frozen=True):
    """A filing as ``validate_filing`` receives it, before submission."""

    institution_id: int
    technology_code: str
    technology_name: str
    has_specification: bool
    self_assessment: str
    assessment_basis: str
    assessment_reference: str
    lead: PersonCheck | None
    physicians: tuple[PersonCheck, ...]
    form: dict[str, str] = {}


CHANNEL_KINDS = ("filing", "case", "report", "admission", "evaluation")
CHANNEL_TRANSPORTS = ("http", "package")


class ChannelMaterial(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One material in the order the authority wants it (e.g. a province's scans in its order)."""

    key: str
    title: str
    required: bool = True
    rule: str = ""


class Channel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A reporting channel as a plugin declares it (``reporting_channels``; data, no code).

    - ``key``: stable identifier stored on each delivery, e.g. ``"henan_platform"``.
    - ``name``: the authority system's Chinese name, shown on every page (``title`` accepted).
    - ``kinds``: payloads it accepts — any of ``filing``, ``case``, ``report``, ``admission``,
      ``evaluation`` (a provincial evaluation's conclusion to the national commission, EVAL-10).
    - ``transport``: ``"http"`` (POST to the configured endpoint; a package when none is
      configured) or ``"package"`` (always a package for manual upload).
    - ``endpoint_setting``: the environment variable holding the endpoint URL; the
      token and timeout are the same name with ``_TOKEN`` / ``_TIMEOUT`` for ``_URL``.
    - ``materials``: attachment order for packages and HTTP bodies (key, title, required).
    - ``rules``: RULES.md ids the channel serves (shown on screen and in manifests).
    - ``plugin``: set by core to the plugin that declared it.
    """

    key: Annotated[str, msgspec.Meta(min_length=1)]
    name: str
    kinds: tuple[Annotated[str, msgspec.Meta(pattern="^(filing|case|report|admission|evaluation)$")], ...]
    transport: Annotated[str, msgspec.Meta(pattern="^(http|package)$")] = "http"
    endpoint_setting: str = ""
    authority: str = ""
    materials: tuple[ChannelMaterial, ...] = ()
    rules: tuple[str, ...] = ()
    description: str = ""
    plugin: str = ""

    def accepts(self, kind: str) -> bool:
        return kind in self.kinds

    @property
    def setting(self) -> str:
        return self.endpoint_setting or f"CLINTECH_CHANNEL_{self.key.upper()}_URL"


WARNING_SEVERITIES = ("notice", "warning", "serious")
WARNING_AUDIENCE = ("regulator", "qc_center", "medical_affairs", "hospital_head", "dept_head", "qc_officer")


class WarningRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A risk warning (风险预警) as data (``warning_rules``): what core's ``detector`` finds on
    live data is raised as a warning citing ``rule``.

    - ``key``: stable id stored on every warning raised, e.g. ``"late_report"``; the first
      answer for a key wins (the built-in national plugin answers last);
    - ``detector``: one of core's detectors (``core.supervision.detectors.DETECTORS``);
    - ``rule`` / ``title`` / ``description``: the rule id cited, the Chinese title and what
      it detects, shown with every warning;
    - ``audience``: the roles that see it — regulators and the QC centre see their region's,
      the institution's roles their own institution's;
    - ``severity``: ``notice`` (提示), ``warning`` (警告) or ``serious`` (严重).
    """

    key: Annotated[str, msgspec.Meta(pattern="^[a-z][a-z0-9_]{1,39}$")]
    detector: str
    rule: str
    title: str
    description: str = ""
    audience: tuple[Annotated[str, msgspec.Meta(pattern="^(" + "|".join(WARNING_AUDIENCE) + ")$")], ...] = (
        "regulator", "qc_center", "medical_affairs")
    severity: Annotated[str, msgspec.Meta(pattern="^(" + "|".join(WARNING_SEVERITIES) + ")$")] = "warning"


CREDIT_MEASURES = ("obligations_on_time", "warnings", "stops", "disclosure")


class CreditItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One item of the yearly credit score (信誉评分, ``credit_items``): ``points`` at stake,
    measured by core's ``measure`` on the institution's records of the year.

    - ``obligations_on_time``: the share of the obligations of ``kinds`` (e.g. case_report,
      filing, qc_annual_report) due in the year that were done on time earns that share of
      ``points``; each late or overdue one loses its part, linked;
    - ``warnings``: each risk warning raised in the year loses ``per_item`` (× 2 serious,
      × 0.5 notice; halved when closed after the institution's answer), linked;
    - ``stops``: each suspension or stop of a technology in the year loses ``per_item``;
    - ``disclosure``: an institution performing restricted technologies discloses its
      surgery-grading catalogue with its restricted list (院务公开, NAT-24): none in force at
      the year's end (or today) loses ``per_item``; one in force only after the year's
      restricted work began loses half of it; linked to the public page and the catalogue.
    """

    key: Annotated[str, msgspec.Meta(pattern="^[a-z][a-z0-9_]{1,39}$")]
    title: str
    rule: str
    measure: Annotated[str, msgspec.Meta(pattern="^(" + "|".join(CREDIT_MEASURES) + ")$")]
    points: Annotated[float, msgspec.Meta(gt=0, le=1000)]
    kinds: tuple[str, ...] = ()
    per_item: Annotated[float, msgspec.Meta(ge=0, le=1000)] = 0.0
    description: str = ""


class DisclosureField(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A column of the public lists (``disclosure_fields``; ``title`` accepted for ``label``).
    Keys core fills: institution, region, technology, filed_on, case_count, filing_department."""

    key: Annotated[str, msgspec.Meta(min_length=1)]
    label: str
    rule: str = ""


RegionSpec = Annotated[tuple[str, ...], msgspec.Meta(min_length=2, max_length=3)]


class DemoRegion(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The province and cities ``clintech demo`` builds: ``(name, code)`` or ``(name, code,
    department)`` — the region's health department as pages name it (备案部门, 发证机关)."""

    province: RegionSpec
    cities: tuple[RegionSpec, ...]


# ---------------------------------------------------------------- answers: other hooks


class QcIndicator(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A quality-control indicator (``qc_indicators``, HOSP-14). ``kind``: "rate" (是/否 per
    case, shown as a share), "number" (shown as the mean) or "text"; empty: core guesses
    from the name. ``title`` is accepted for ``name``."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    kind: str = ""
    target: str = ""
    unit: str = ""


class MenuItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A navigation entry (``menu_items``)."""

    label: str
    href: str


# ``calendar_overrides`` items are (date or ISO string, is_working_day, note); the calendar
# reads them one by one and skips (and shows the admin) any it cannot read (CAL rules).
CalendarOverride = tuple[dt.date, bool, str]


# ---------------------------------------------------------------- answers: deadline rules
# ``deadline_rules``, ``deadline_exemptions`` and ``rules_in_force`` answer these (or dicts of
# the same shape). ``core.obligations.rules`` converts them itself and checks them against
# core's vocabularies (event kinds ``rules.EVENTS``, obligation kinds ``rules.OBLIGATIONS``,
# units, roles), reporting every problem with the plugin and the rule at start-up.


class Offset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A period counted from the triggering event's date.

    amount     a positive whole number (at most 250 working days, 366 days, 52 weeks, 60 months)
    unit       "working_days" (CAL-1, the event day not counted), "calendar_days", "weeks",
               "months" (CAL-2: a period ending on a rest day moves to the next working day)
    direction  "after" (default) or "before" the event (a province's training rules)"""

    amount: int
    unit: str
    direction: str = "after"


class Recurrence(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Instead of an offset: one obligation per year in ``month`` (1–12) for every year of a
    monitoring period that starts at the event and lasts ``period_months[technology class]``
    months, due on that month's last day (HOSP-17). It has no direction."""

    month: int
    period_months: dict[str, int]


class Scope(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Which technologies a rule applies to: ``classes`` (prohibited / restricted / routine)
    and ``codes`` (catalogue codes, e.g. "G03"); an empty tuple means any."""

    classes: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()


class RuleRef(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One rule of the deployment: its ``id`` and the ``obligation`` kind it creates. An id
    such as NAT-11 names two rules (the institution's ``filing`` and the regulator's
    ``filing_completion``), so ``replaces`` and exemptions name both parts."""

    id: str
    obligation: str


class DeadlineRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One deadline rule (``deadline_rules``): an obligation with a legal due date that a
    domain event creates.

    id          the RULES.md id shown with every obligation, e.g. "NAT-11"
    event       the triggering event kind (``core.obligations.rules.EVENTS``)
    obligation  the obligation kind created (``rules.OBLIGATIONS``); (id, obligation) is unique
    title       what must be done (Chinese)
    article     the source article's text (Chinese), shown on screen
    role        who must act (clinician, medical_affairs, regulator …)
    offset      the period (``Offset``), or
    recurrence  yearly obligations (``Recurrence``) — exactly one of the two
    scope       which technologies (``Scope``); default every one
    when        facts the event must carry (``{"filed": False}``); only those its event has
    replaces    the rules (``RuleRef``) this one supersedes in the deployment (a province rule over NAT-29)
    note        shown next to the rule (e.g. a window that is a deployment setting)
    consequence what core enforces while an obligation of the rule is overdue (open past its
                due date): ``"no_use"`` — the institution may not use the technology (cases,
                first case and filing refused naming the rule) until it is done, exempt or
                waived (a province's "不得再开展"); ``""`` (default): none
    plugin      set by core: the plugin that supplied it"""

    id: str
    event: str
    obligation: str
    title: str
    article: str
    role: str
    offset: Offset | None = None
    recurrence: Recurrence | None = None
    scope: Scope = Scope()
    when: dict[str, Any] = {}
    replaces: tuple[RuleRef, ...] = ()
    note: str = ""
    consequence: str = ""
    plugin: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.obligation)

    def applies_to(self, event_kind: str, technology_class: str, technology_code: str,
                   extra: dict[str, Any]) -> bool:
        if event_kind != self.event:
            return False
        if self.scope.classes and technology_class not in self.scope.classes:
            return False
        if self.scope.codes and technology_code not in self.scope.codes:
            return False
        return all(extra.get(k) == v for k, v in self.when.items())

    def offset_text(self) -> str:
        """The period in Chinese, e.g. "后15个工作日"."""
        if self.recurrence is not None:
            return f"监测期内每年{self.recurrence.month}月"
        assert self.offset is not None
        unit = {"working_days": "个工作日", "calendar_days": "日", "weeks": "周", "months": "个月"}[self.offset.unit]
        side = "前" if self.offset.direction == "before" else "后"
        return f"{side}{self.offset.amount}{unit}"


class Exemption(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Technologies or institutions exempt from one deadline rule (``deadline_exemptions``,
    grandfathering): the obligation is recorded as exempt (依规豁免), with the evidence
    shown, instead of open.

    rule, obligation  the rule exempted (a rule of the deployment)
    evidence          why (Chinese), shown with the obligation; required
    codes             technology codes exempted (empty: every technology)
    institutions      licence numbers (登记号) exempted (empty: every institution);
                      ``codes`` or ``institutions`` or both (then: those institutions for those codes)
    before            only events before this day (technologies begun before a cut-off)
    article           the source text, shown after the evidence
    plugin            set by core"""

    rule: str
    obligation: str
    evidence: str
    codes: tuple[str, ...] = ()
    institutions: tuple[str, ...] = ()
    before: dt.date | None = None
    article: str = ""
    plugin: str = ""

    def covers(self, rule: DeadlineRule, code: str, licence_no: str, event_on: dt.date) -> bool:
        if (self.rule, self.obligation) != rule.key:
            return False
        if self.codes and code not in self.codes:
            return False
        if self.institutions and licence_no not in self.institutions:
            return False
        return self.before is None or event_on < self.before

    @property
    def shown(self) -> str:
        """What screens show: the evidence, then the article when given."""
        return f"{self.evidence}（{self.article}）" if self.article else self.evidence


class RulesInForce(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A plugin's rules and the day they take effect (``rules_in_force``): from that day
    core reports ``rules_effective`` for every institution already using a technology, so
    transitional rules fire (a province's transitional periods).

    key           names the rules; rules test it as the fact ``rules``, e.g. "jilin-2021"
    title         the document, e.g. 《某省医疗技术临床应用管理办法实施细则》
    effective_on  the day, when the source gives it; else
    setting       the environment variable the deployment sets the day in (ISO date) — Jilin's
                  第四十五条 leaves it blank ("本细则自2021年 月 日起施行")
    article       the source text, shown
    plugin        set by core"""

    key: str
    title: str
    effective_on: dt.date | None = None
    setting: str = ""
    article: str = ""
    plugin: str = ""


class RestrictedScope(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Whether one case of a restricted technology counts as restricted (``restricted_scope``):
    ``restricted`` False takes the case out of filing, case reporting and the regulator's
    unfiled warnings; ``rule`` and ``reason`` (Chinese) are shown on the case."""

    restricted: bool
    rule: str
    reason: str


# ---------------------------------------------------------------- checking answers


class ContractError(ValueError):
    """A plugin's answer does not convert to the hook's contract."""

    def __init__(self, plugin: str, hook: str, field: str, detail: str):
        self.plugin, self.hook, self.field, self.detail = plugin, hook, field, detail
        where = f"字段 {field}" if field else "回答"
        super().__init__(f"插件 {plugin} 的钩子 {hook} 的回答不符合接口约定：{where}：{detail}")


def _rename(mapping: dict[str, str]) -> Callable[[Any], Any]:
    """Accept ``old`` for ``new`` in a list of dicts (e.g. ``title`` for ``label``)."""

    def prepare(answer: Any) -> Any:
        if not isinstance(answer, list | tuple):
            return answer
        out = []
        for item in answer:
            if isinstance(item, dict):
                item = dict(item)
                for old, new in mapping.items():
                    if old in item and new not in item:
                        item[new] = item.pop(old)
                    elif old in item and new in item:
                        item.pop(old)
            out.append(item)
        return out

    return prepare


def _channels(answer: Any) -> Any:
    answer = _rename({"title": "name"})(answer)
    if isinstance(answer, list):  # the plugin's name is core's to set
        answer = [{k: v for k, v in a.items() if k != "plugin"} if isinstance(a, dict) else a for a in answer]
    return answer


def _problems(answer: Any) -> Any:
    """A single Problem is accepted for a list of one."""
    return [answer] if isinstance(answer, Problem | dict) else answer


def _qc(answer: Any) -> Any:
    answer = [{"name": a} if isinstance(a, str) else a for a in answer] if isinstance(answer, list) else answer
    return _rename({"title": "name"})(answer)


def _probe_project(institution_id: int = 0, path: str = "round", tech_class: str = "routine") -> ProjectInfo:
    return ProjectInfo(id=None, institution_id=institution_id, department_id=None, department_subject="",
                       title="", path=path, tech_class=tech_class, outside_lists=False)


_PROBE_INSTITUTION = InstitutionInfo(id=0, name="", licence_no="", grade="")
_PROBE_TECHNOLOGY = TechnologyInfo(code="", name="", tech_class="restricted")


def _project_probes() -> list[dict[str, Any]]:
    return [{"project": _probe_project(path=p, tech_class=c)} for p in ("round", "temporary")
            for c in ("routine", "restricted")]


def _filing_probes() -> list[dict[str, Any]]:
    return [{"technology": _PROBE_TECHNOLOGY, "institution": _PROBE_INSTITUTION}]


class Contract(msgspec.Struct, frozen=True):
    """How core checks one hook's answers.

    - ``answer``: the type one plugin's answer converts to (``None`` answers are "no answer");
    - ``prepare``: accepted spellings turned into the contract's before converting;
    - ``probes``: argument sets core calls the hook with at load time to check answers that
      do not depend on the call (a hook without arguments is probed with none);
    - ``checked``: False for hooks whose answers core reads itself (catalogues, deadline rules,
      calendar items, routes), converted and reported where they are read.
    """

    answer: Any = Any
    prepare: Callable[[Any], Any] | None = None
    probes: Callable[[], list[dict[str, Any]]] | None = None
    checked: bool = True


HOOKS: dict[str, Contract] = {
    "register_catalogs": Contract(checked=False),  # core.catalog.loader's own checks, per plugin
    "deadline_rules": Contract(checked=False),  # core.obligations.rules.check_rules
    "deadline_exemptions": Contract(checked=False),  # core.obligations.rules.check_exemptions
    "rules_in_force": Contract(checked=False),  # core.obligations.rules.check_in_force
    "calendar_overrides": Contract(checked=False),  # item by item, see CalendarOverride
    "qc_indicators": Contract(answer=list[QcIndicator], prepare=_qc),
    "admission_steps": Contract(answer=list[Step], probes=_project_probes),
    "application_form": Contract(answer=FormSpec, probes=_project_probes),
    "grades": Contract(answer=list[Grade], probes=_project_probes),
    "validate_project": Contract(answer=list[Problem], prepare=_problems),
    "validate_case": Contract(answer=list[Problem], prepare=_problems),
    "restricted_scope": Contract(answer=RestrictedScope),
    "filing_materials": Contract(answer=list[Material], probes=_filing_probes),
    "filing_form": Contract(answer=FilingFormSpec, probes=_filing_probes),
    # Partial answers merged key by key; core.policy converts and checks each itself.
    "province_policy": Contract(checked=False),
    "validate_filing": Contract(answer=list[Problem], prepare=_problems),
    "reporting_channels": Contract(answer=list[Channel], prepare=_channels, probes=lambda: [{}]),
    "disclosure_fields": Contract(answer=list[DisclosureField], prepare=_rename({"title": "label"}),
                                  probes=lambda: [{}]),
    "demo_region": Contract(answer=DemoRegion, probes=lambda: [{}]),
    # Detector names are checked where the rules are read (core.supervision.detectors).
    "warning_rules": Contract(answer=list[WarningRule], probes=lambda: [{}]),
    "credit_items": Contract(answer=list[CreditItem], probes=lambda: [{}]),
    "template_dirs": Contract(answer=list[str], probes=lambda: [{}]),
    "template_overrides": Contract(answer=list[str], probes=lambda: [{}]),
    "menu_items": Contract(answer=list[MenuItem]),
    "register_routes": Contract(checked=False),  # Litestar handlers, read once at start-up
}

_AT = re.compile(r"^(?P<detail>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def convert(plugin: str, hook: str, answer: Any) -> Any:
    """One plugin's answer to ``hook`` as the contract's type; ``ContractError`` naming
    the plugin, the hook and the field when it does not convert."""
    contract = HOOKS.get(hook)
    if answer is None or contract is None or not contract.checked:
        return answer
    if contract.prepare is not None:
        answer = contract.prepare(answer)
    try:
        return msgspec.convert(answer, contract.answer, from_attributes=True)
    except msgspec.ValidationError as exc:
        match = _AT.match(str(exc))
        detail, path = (match["detail"], match["path"] or "") if match else (str(exc), "")
        unknown = re.search(r"unknown field `([^`]+)`", detail)
        if unknown:
            path = f"{path}.{unknown[1]}"
        raise ContractError(plugin, hook, path.lstrip(".") or "", detail) from None


def api_version_problem(plugin: str, declared: Any) -> str | None:
    """The Chinese refusal for a plugin declaring another major ``CLINTECH_API``, else None."""
    if declared is None:
        return None
    major = str(declared).strip().split(".")[0]
    ours = HOOK_API_VERSION.split(".")[0]
    if major != ours:
        return (f"插件 {plugin} 声明的接口版本 CLINTECH_API = {declared!r} 与本系统的插件接口版本 "
                f"{HOOK_API_VERSION} 不兼容（主版本须为 {ours}）；请升级该插件或改用与之匹配的系统版本")
    return None


__all__ = [
    "CHANNEL_KINDS", "CHANNEL_TRANSPORTS", "CORE_MATERIALS", "HOOKS", "HOOK_API_VERSION", "STEP_KINDS", "STEP_TYPES",
    "Actor", "Annotation", "ApprovalStep", "CasesPolicy", "FilingCheck", "FilingPolicy", "Labelled", "LifecyclePolicy", "PersonCheck",
    "ProvincePolicy", "RegionSpec", "ArgumentationStep", "CalendarOverride", "CaseInput", "Channel",
    "ChannelMaterial", "Choice", "Consideration", "Contract", "ContractError", "Criterion", "DeadlineRule",
    "DemoRegion", "Exemption", "Offset", "Recurrence", "RuleRef", "RulesInForce", "Scope",
    "DisclosureField", "DocumentStep", "EthicsStep", "FieldSpec", "FilingFormSpec", "FilingStep", "FormField",
    "FormSpec", "Grade", "InstitutionInfo", "Material", "MenuItem", "PanelStep", "PersonInfo", "Problem",
    "ProjectInfo", "PublicityStep", "AuthorisationPolicy", "BodyPolicy", "CaseTechnology", "RestrictedScope", "QcIndicator", "QcTechnologyInfo",
    "ReviewStep", "Section", "StaffRequirement", "Step", "StepBase",
    "TechnologyInfo", "WARNING_AUDIENCE", "WARNING_SEVERITIES", "WarningRule", "CREDIT_MEASURES", "CreditItem", "convert",
]
