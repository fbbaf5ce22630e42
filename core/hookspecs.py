"""Every hook a ClinTech plugin may implement — the plugin author's one page.

Implement a hook with ``from core import hookimpl`` and a function of the same
name taking (a subset of) the listed keyword arguments. Hooks marked
"first result" stop at the first non-None answer: a hospital- or province-specific
plugin answers for its own institutions (``tryfirst=True``) and returns ``None``
for the rest, so the default plugin answers for them. "Collect all" hooks gather
every enabled plugin's answer; such a hook may return an awaitable.

Arguments are msgspec structs or plain values, never database rows. The types of
every argument and answer are in ``core.contract`` (importable by plugin authors);
core converts each answer to the annotated type and refuses one that does not
convert, naming the plugin, the hook and the field (at load time where the answer
does not depend on the call). A plugin may answer with the structs or with plain
dicts/lists of the same shape. A plugin declares the API it was written for with a
module attribute ``CLINTECH_API = "2"`` (``core.contract.HOOK_API_VERSION``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pluggy

from core.catalog.schemas import CatalogEdition, ImportSlot
from core.contract import (
    Actor,
    CalendarOverride,
    CaseInput,
    CaseTechnology,
    Channel,
    CreditItem,
    DeadlineRule,
    DemoRegion,
    DisclosureField,
    Exemption,
    FilingCheck,
    FilingFormSpec,
    FormSpec,
    Grade,
    InstitutionInfo,
    Material,
    MenuItem,
    PersonInfo,
    Problem,
    ProjectInfo,
    ProvincePolicy,
    QcIndicator,
    QcTechnologyInfo,
    RestrictedScope,
    RulesInForce,
    Step,
    TechnologyInfo,
    WarningRule,
)

hookspec = pluggy.HookspecMarker("clintech")


# ---------------------------------------------------------------- catalogues and rules


@hookspec
def register_catalogs() -> list[CatalogEdition | ImportSlot] | None:
    """Collect all. The catalogue editions (目录) this plugin supplies.

    Return ``core.catalog.loader.load_dir(<plugin folder>/catalog)``: the editions
    (``CatalogEdition``) and admin-import slots (``ImportSlot``) read from the plugin's
    TOML/JSON data files. The loader raises ``CatalogLoadError`` naming file, row and
    field for any wrong entry; that plugin's catalogue is then not loaded at all (and is
    reported on the admin plugin page and by ``clintech plugins``) while the others are.
    Editions with the same ``(scope, key)`` from several plugins must be identical and
    are merged; an edition serves new work while one plugin supplying it is enabled.
    """


@hookspec
def deadline_rules() -> list[DeadlineRule] | None:
    """Collect all. Deadline rules as data (synchronous): a list of
    ``core.contract.DeadlineRule`` structs or dicts of the same shape, one per rule.

    Keys (checked at load time by ``core.obligations.rules.check_rules``; an unknown
    key, event, obligation kind, ``when`` fact, unit or role is an error naming the
    plugin and the rule, and a plugin with any bad rule loads none)::

        id          str   the RULES.md id shown with every obligation, e.g. "NAT-11"
        event       str   the triggering domain event kind (below)
        obligation  str   the obligation kind created (below); (id, obligation) is unique
        title       str   what must be done, in Chinese
        article     str   the source article's text (Chinese), shown on screen
        role        str   who must act: clinician, dept_head, qc_officer, medical_affairs,
                          ethics, expert, hospital_head, regulator, qc_center
        offset      {"amount": int > 0,
                     "unit": "working_days" | "calendar_days" | "weeks" | "months",
                     "direction": "after" | "before"}        (default "after")
        recurrence  {"month": 1..12, "period_months": {class: int > 0}}
                    instead of ``offset``: one obligation per year whose ``month``
                    starts inside the monitoring period after the event, due on that
                    month's last day (HOSP-17); it has no direction
        scope       {"classes": [prohibited|restricted|routine, …], "codes": ["G01", …]}
                    optional; empty means every technology
        when        {extra key: value}  optional; the event's ``extra`` must match; only
                    the facts the event carries (below) may be tested
        replaces    [{"id": rule id, "obligation": kind}, …]  optional; drops exactly
                    those rules from the deployment (a province rule restating a
                    national one over NAT-29); one id may name two rules (NAT-11:
                    ``filing`` and the regulator's ``filing_completion``), so both parts
                    are given; naming a rule the deployment lacks is an error
        note        str   optional; shown next to the rule, e.g. a window that is a
                    deployment setting because the source gives no number

    Event kinds (``core.obligations.rules.EVENTS``) and the facts ``when`` may test:
    first_case, filing_materials_complete, discharge, case_performed, enrolment_notice,
    training_start, exam, admission (ethics_pending), publicity_start (step),
    rules_effective (filed, rules) and technology_listed (filed, edition) — the last
    two are fired for every institution already using a technology in scope when a
    plugin's rules take effect or a catalogue edition lists it
    (transitional periods); ``filed`` is whether the institution already
    has submitted a filing for it.
    Obligation kinds (``rules.OBLIGATIONS``): filing, filing_completion, case_report,
    training_base_filing, training_plan, exam_results, ethics_proof, publicity,
    qc_annual_report, self_assessment, physician_application, case_follow_up (fulfilled when
    the case's follow-up — 30-day 转归 and death — is recorded after discharge).

    Example: ``[{"id": "XX-38", "event": "discharge", "obligation": "case_report",
    "title": "限制类技术病例逐例报送", "article": "…出院后15个工作日内完成报送。",
    "role": "medical_affairs", "offset": {"amount": 15, "unit": "working_days",
    "direction": "after"}, "scope": {"classes": ["restricted"]}}]``
    """


@hookspec
def deadline_exemptions() -> list[Exemption] | None:
    """Collect all. Exemptions (grandfathering) from deadline rules, synchronous: a
    list of ``core.contract.Exemption`` (or dicts of its shape). An obligation a covered event would create is recorded as exempt
    (依规豁免, with the evidence shown where obligations are listed) instead of open; an
    open one is marked exempt by the next ``recompute_deadlines`` run, and reopens if
    the exemption is withdrawn. Keys (checked at load, errors name the plugin)::

        rule          str   the rule id, e.g. "XX-12"
        obligation    str   the obligation kind of that rule, e.g. "filing"
                            ((rule, obligation) must be a rule of the deployment)
        evidence      str   why, in Chinese, shown with the obligation (e.g. the
                            document that exempts it)
        codes         [str] technology codes exempted (empty: every technology)
        institutions  [str] licence numbers (登记号) of the institutions exempted
                            (empty: every institution); codes or institutions or both
        before        date  optional; only events before this day (grandfathering
                            technologies begun before a cut-off)
        article       str   optional; the source text, shown after the evidence

    Example: ``[{"rule": "XX-12", "obligation": "filing", "codes": ["G03"],
    "before": date(2021, 7, 1), "evidence": "本细则施行前已完成备案，按第四十二条自评"}]``
    """


@hookspec
def rules_in_force() -> list[RulesInForce] | None:
    """Collect all. When this plugin's rules take effect, synchronous: a list of
    ``core.contract.RulesInForce`` (or dicts) ``{"key", "title", "effective_on",
    "setting", "article"}``. ``key`` names the rules
    (e.g. "jilin-2021", given to rules as the ``rules`` fact), ``title`` the document;
    ``effective_on`` the day (a date or ISO string) or, when the source leaves it blank,
    ``setting`` the environment variable the deployment sets it in. From that day the
    worker's ``fire_transition_events`` job reports ``rules_effective`` for every
    institution already using a technology (an admitted project admitted on or before
    that day), once per project, with the fact ``filed`` (a filing was submitted), so
    a province's transitional rules fire. Likewise ``technology_listed`` is
    reported when a catalogue edition newly lists a technology (not in the edition it
    supersedes) for projects admitted on or before the edition's ``effective_on``."""


@hookspec
def calendar_overrides() -> list[CalendarOverride] | Awaitable[list[CalendarOverride]] | None:
    """Collect all (may be async). Local adjustments to China's official working-day
    calendar, as a list of ``(date, is_working_day, note)`` tuples:

    - ``date``: a ``datetime.date`` (or an ISO string ``"2026-03-04"``);
    - ``is_working_day``: ``True`` for an extra working day (调休上班), ``False`` for
      an extra rest day; must be a real ``bool``;
    - ``note``: the Chinese name shown with the day, e.g. ``"春节"`` or ``"本省临时假日"``.

    Example: ``[(date(2026, 3, 4), False, "本省临时假日"), ("2026-03-07", True, "调休上班")]``.

    They apply on top of ``chinesecalendar``; the admin's entered holiday notices
    apply on top of them (the admin wins on the same day). They never make a year
    *known*: a year missing from ``chinesecalendar`` stays provisional (CAL-4) until
    the admin enters its State Council notice. An item that cannot be read is
    skipped, logged and shown on the admin's calendar page, never a crash.
    Return ``[]`` when there is nothing to add."""


@hookspec
def qc_indicators(technology: QcTechnologyInfo) -> list[QcIndicator] | Awaitable[list[QcIndicator]] | None:
    """Collect all (may be async). Quality-control indicators (质控指标) a case of
    ``technology`` records and the QC pages compare against targets (HOSP-14), added to
    the project's own (application form) and the catalogue's. ``technology`` is
    ``core.qc.indicators.TechnologyInfo`` (``code``, ``name``, ``tech_class``,
    ``institution_id``, ``project_id``). A list of dicts: ``name`` (or ``title``),
    ``kind`` ("rate": 是/否 per case, shown as a share; "number": shown as the mean;
    "text"), ``target`` (e.g. "≤2%", "<120") and ``unit``; the first name wins."""


# ---------------------------------------------------------------- hospital workflow


@hookspec(firstresult=True)
def admission_steps(project: ProjectInfo) -> list[Step] | None:
    """First result (hospital). The ordered steps of the admission workflow (准入)
    for ``project`` (``ProjectInfo``: ``institution_id``, ``path`` "round" (yearly
    round, HOSP-4) or "temporary" (HOSP-12), ``tech_class``, ``grade``, ``form`` …).
    Stops at first non-None result.

    Each step is one of the tagged structs of ``core.contract.Step`` (or a dict with
    its ``kind``): ``key``, ``title``, ``role`` (who acts), ``rule``, ``admits`` (True
    on the approval after which the project is admitted) and the kind's own options:
    ``ArgumentationStep`` (kind ``argumentation``; ``considerations``), ``EthicsStep``
    (``ethics``, two thirds HOSP-21), ``ReviewStep`` (``review``; ``written_reply``),
    ``PanelStep`` (``panel``; ``min_experts``, ``criteria``, ``by_grade_and_class``),
    ``PublicityStep`` (``publicity``; ``weeks``), ``ApprovalStep`` (``approval``),
    ``DocumentStep`` (``document``), ``FilingStep`` (``filing``). An unknown kind or
    option is an error naming the plugin and the field. The steps are frozen on the
    project at its first submission."""


@hookspec(firstresult=True)
def application_form(project: ProjectInfo) -> FormSpec | None:
    """First result (hospital). The form spec of the application
    (《临床新技术立项准入申请表》) for ``project`` (as in ``admission_steps``).
    Stops at first non-None result.

    A dict (or ``core.admission.schemas.FormSpec``): ``title`` and ``sections``, each
    with ``key``, ``title`` and ``fields``; a field has ``key``, ``label``, ``kind``
    (text, textarea, date, number, select with ``options``, table with ``columns``,
    ``grade`` — the ``grades`` scale, ``subject`` — a 诊疗科目 checked against the
    institution's registered ones, NAT-43), ``required``, ``rule``, ``help`` and
    ``min_length``. Core knows the keys ``evidence`` (HOSP-6), ``products`` (NAT-9b)
    and ``grade`` (HOSP-1)."""


@hookspec(firstresult=True)
def grades(project: ProjectInfo) -> list[Grade] | None:
    """First result (hospital). The grade scale offered for ``project`` (HOSP-1:
    一级/二级/三级 by default) as ``[(value, label), …]``. Stops at first non-None result."""


@hookspec
def validate_project(project: ProjectInfo, person: PersonInfo) -> list[Problem] | None:
    """Collect all. Problems (``core.errors.Problem`` or dicts with ``message``,
    ``field``, ``rule``) that forbid submitting ``project`` led by ``person``
    (``core.admission.schemas.PersonInfo``: ``years_as_resident``, ``visiting``,
    ``qualifications`` …); an empty list when there are none. Core adds the
    national refusals itself (NAT-9, NAT-9b, NAT-43)."""


@hookspec
def validate_case(case: CaseInput) -> list[Problem] | None:
    """Collect all. Problems (``core.errors.Problem`` or dicts with ``message``, ``field``,
    ``rule``) found in a case report (病例报送) ``case`` — a ``core.cases.rules.CaseInput``
    (``case_id``, ``technology_code``, dates ``admitted_on``/``operated_on``/
    ``discharged_on``, ``operators``, ``indication``, ``outcome``, ``qc_values`` …) that
    passed core's own checks. Any problem refuses the whole batch it belongs to."""


@hookspec(firstresult=True)
def restricted_scope(technology: CaseTechnology) -> RestrictedScope | None:
    """First result. Whether one case of a restricted technology counts as restricted,
    from the operation's level in the institution's surgery-grading catalogue (NAT-16):
    ``technology`` is a ``core.contract.CaseTechnology`` (``code``, ``tech_class``, the
    catalogue's ``surgery_levels``, the case's ``surgery_level`` or None). Answer a
    ``core.contract.RestrictedScope`` (``restricted``, ``rule``, ``reason``) for the
    technologies a province limits by level; None keeps the catalogue's class. Stops at
    first non-None result. A case that does not count as restricted opens no filing, no
    case-report obligation and no unfiled warning."""


# ---------------------------------------------------------------- province: filing and reporting


@hookspec(firstresult=True)
def filing_materials(technology: TechnologyInfo, institution: InstitutionInfo) -> list[Material] | None:
    """First result (province). The ordered list of materials a restricted-technology
    filing (备案) needs, each with its key, Chinese title, whether it is required and
    the rule id. Stops at first non-None result.

    ``technology`` is ``core.filing.service.TechnologyInfo`` (code, name, tech_class,
    specification); ``institution`` is ``core.admission.schemas.InstitutionInfo``.
    A list of ``Material`` (``{"key", "title", "rule", "required", "local"}``) in the
    province's order (six in one province, five in another, uploaded in that order); a
    ``local`` material is the one the licence-issuing region's department specifies,
    asked for only where its region's setting names such materials. Core reads two keys:
    ``form`` is the signed scan of the filing form, ``argumentation`` the management-
    committee and ethics-committee argumentation that NAT-13 requires. The materials
    core reads are declared in ``core.contract.CORE_MATERIALS``: one the province does
    not list is added at the end of its list (an upload slot under core's title), and
    it is required whatever the province says."""


@hookspec(firstresult=True)
def filing_form(technology: TechnologyInfo, institution: InstitutionInfo) -> FilingFormSpec | None:
    """First result (province). The filing form (备案表) — its layout only — (converted to
    ``core.contract.FilingFormSpec``). Stops at first non-None result. Arguments as for
    ``filing_materials``. Keys::

        title        str   e.g. "医疗技术临床应用备案表"
        template     str   the printable Jinja template in the plugin's template_dirs,
                           rendered to PDF with ``spec``, ``values``, ``staff``, ``known``
        rule         str   the rule that prescribes the form
        fields       [{"key", "label", "kind": text|textarea|date, "prefill", "required", "help"}]
                     ``prefill`` names what the portal knows: institution_name,
                     institution_grade, licence_no, region_name, licence_region_name,
                     licence_department, technology_name, technology_code, first_case_on,
                     lead_name, lead_title, contact_name, self_assessment, assessment_basis
        staff_columns [[key, label], …]  the staff table (name, sex, scope, title)
        pledge       str   the institution's pledge printed above the signature
        note         str   printed under the form

    Who annotates the licence, which certificates are checked and which rules the pages
    cite is the filing *policy*: ``province_policy``.
    """


@hookspec
def province_policy() -> ProvincePolicy | dict | None:
    """Collect all, merged. The rules this deployment's pages cite and how its filings
    are handled, as a (partial) dict of ``core.contract.ProvincePolicy``; core merges
    every answer key by key, the first answer for a key winning (the built-in national
    plugin answers last, so a province replaces only what its text changes)::

        filing   {"rule", "deadline_text", "completion_rule", "desk_text",
                  "completed_text", "annotation": {"mode": "direct" | "push", "channel",
                  "recipient", "rule"}, "withdrawal_rule", "cancellation_rule",
                  "lead_certificates", "lead_rule", "physician_certificates",
                  "physicians_rule", "physicians_heading", "assessment_basis",
                  "assessment_rule", "assessment_note"}
        cases    {"rules": [id, …], "his_rule"}
        consistency          {"rule", "text"}  the filing/licence consistency check

    Example: ``{"filing": {"rule": "XX-5", "completed_text": "完成备案"}}``.
    """


@hookspec
def validate_filing(filing: FilingCheck) -> list[Problem] | None:
    """Collect all. Problems (``core.errors.Problem`` or dicts with ``message``, ``field``,
    ``rule``) that block submitting a restricted-technology filing, beyond core's own
    (materials, NAT-13 ethics, the lead belonging to the institution, the certificates
    the policy names, the form's required fields). ``filing`` is a
    ``core.contract.FilingCheck`` (self-assessment, basis and reference, ``lead`` and
    ``physicians`` as ``PersonCheck`` with ``visiting`` and ``qualifications``).
    Fields: ``self_assessment``, ``assessment_basis``, ``assessment_reference``,
    ``lead``, ``physicians``."""


@hookspec
def reporting_channels() -> list[Channel] | None:
    """Collect all. Channels that deliver filings, cases, reports and admissions to an
    authority (provincial platform, university system), synchronous: a list of dicts.

    Keys (converted to ``core.outbox.channels.Channel``; a bad one is an error naming
    the plugin)::

        key               str   stable id stored on every delivery, e.g. "henan_platform";
                                the first answer for a key wins (``tryfirst`` overrides)
        name              str   the authority system's Chinese name, shown on screen
        kinds             [str] payloads it accepts: "filing", "case", "report", "admission"
        transport         str   "http": POST to the configured endpoint, falling back to a
                                package for manual upload while none is configured;
                                "package": always a package (zip + manifest)
        endpoint_setting  str   the environment variable with the endpoint URL, e.g.
                                "CLINTECH_CHANNEL_HENAN_PLATFORM_URL"; the token and the
                                timeout (seconds) are the same name ending in _TOKEN / _TIMEOUT
        authority         str   optional; who receives (e.g. 某省卫生健康委员会)
        materials         [{"key", "title", "required", "rule"}]  optional; the order
                                attachments are sent and packaged in
        rules             [str] optional; RULES.md ids it serves (HOSP-11 …)
        description       str   optional; shown on the admin's channel page

    The outbox (``core.outbox.service``) owns delivery: retries, backoff, the
    Idempotency-Key, statuses; the answer protocol is in ``core.outbox.rules``.
    """


@hookspec
def disclosure_fields() -> list[DisclosureField] | None:
    """Collect all. The columns of the public lists of filed institutions (NAT-40,
    the province's rule), synchronous: a list of dicts ``{"key", "label", "rule"}`` in order.
    Keys core fills: ``institution``, ``region``, ``technology``, ``filed_on``,
    ``case_count``, ``filing_department``; the first answer for a key wins. With no
    answer the national minimum is shown (institution, technology, filing date,
    cumulative cases — NAT-24)."""


@hookspec
def warning_rules() -> list[WarningRule] | None:
    """Collect all. Risk warnings (风险预警) as data, synchronous: a list of
    ``core.contract.WarningRule`` (or dicts of its shape), one per warning the deployment
    raises. Core evaluates each rule's ``detector`` on live data (the worker's
    ``evaluate_warnings`` job, and a regulator's 重新检测) and raises one warning per
    institution and finding, citing ``rule``::

        key          str   stable id, e.g. "late_report"; the first answer for a key wins
                           (the built-in national plugin answers last, so a province
                           replaces the national wording and rule id of a key)
        detector     str   what core looks for (``core.supervision.detectors.DETECTORS``): unreported_cases,
                           late_report, unfiled_cases, prohibited_technology,
                           filing_annotation, stopped_technology, unauthorised_operator,
                           learning_curve (CUSUM alarm on a new technology's early cases)
        rule         str   the rule id cited, e.g. "NAT-41"
        title        str   the Chinese title
        description  str   what it detects, in Chinese
        audience     [str] roles that see it (regulator, qc_center, medical_affairs,
                           hospital_head, dept_head, qc_officer); regulators see their
                           region's, an institution's roles their own
        severity     str   notice | warning | serious

    An unknown detector is an error naming the plugin and the key. Example:
    ``[{"key": "late_report", "detector": "late_report", "rule": "XX-38",
    "title": "病例未按时报送", "severity": "warning"}]``."""


@hookspec
def credit_items() -> list[CreditItem] | None:
    """Collect all. The items and weights of the yearly credit score of an institution's
    technology management (信誉评分), synchronous: a list of ``core.contract.CreditItem`` (or
    dicts), the first answer for a ``key`` winning (the national plugin answers last)::

        key          str    stable id, e.g. "case_reporting"
        title        str    the Chinese title shown in the breakdown
        rule         str    the rule cited, e.g. "NAT-39"
        measure      str    obligations_on_time | warnings | stops (core measures it)
        points       float  the points at stake (the score's maximum is their sum)
        kinds        [str]  obligations_on_time: the obligation kinds counted
        per_item     float  warnings / stops: points lost per record
        description  str    how it is measured, in Chinese

    Every point lost links to the records behind it. Example:
    ``[{"key": "case_reporting", "title": "病例报送及时", "rule": "XX-40",
    "measure": "obligations_on_time", "points": 30, "kinds": ["case_report"]}]``."""


@hookspec(firstresult=True)
def demo_region() -> DemoRegion | None:
    """First result (province). The province and cities ``clintech demo`` builds:
    ``{"province": (name, code[, department]), "cities": [(name, code[, department]), …]}``
    — ``department`` is the region's health department as pages name it (备案部门,
    发证机关; default "<name>卫生健康委员会", an admin edits it): every city named is
    built (hospital A in the first, hospital B in the second, or the first when only
    one is named). Stops at first non-None result."""


# ---------------------------------------------------------------- web extensions


@hookspec
def template_dirs() -> list[str] | None:
    """Collect all. Folders of Jinja templates (a list of paths). Put the plugin's own
    pages under a folder named after the plugin (``jilin/about.html``). A template with
    the name of a core page replaces that page only if the plugin lists the name in
    ``template_overrides``; the core page stays reachable as ``default:<name>``. An
    undeclared clash with a core page, or two plugins serving the same name, is an error
    at start naming the plugin and the template."""


@hookspec
def template_overrides() -> list[str] | None:
    """Collect all. The core pages this plugin's ``template_dirs`` replace, as template
    names, e.g. ``["obligations/detail.html"]``. Each must be a core page and be present
    in the plugin's folders (a typo is an error at start). Return ``[]`` for none."""


@hookspec
def menu_items(user: Actor) -> list[MenuItem] | None:
    """Collect all. Navigation entries for ``user`` (an ``Actor``): a list of dicts
    ``{"label": str, "href": str}``; return ``[]`` for users it has nothing for."""


@hookspec
def register_routes() -> list[Any] | None:
    """Collect all. Litestar route handlers the plugin adds. They answer 404 while
    the plugin is switched off."""
