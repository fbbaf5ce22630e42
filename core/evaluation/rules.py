"""Pure rules of the evaluation procedure (seed 003, 《医疗技术临床应用情况评估工作规程》):
each returns problems naming its RULES.md id."""

from __future__ import annotations

import datetime as dt

from core.errors import Problem

# EVAL-5: the situations in which an evaluation is started (第五条 (一)–(八)).
TRIGGERS: dict[int, str] = {
    1: "（一）临床应用在行业内存在较大争议",
    2: "（二）临床应用过程中发生非操作因素导致的重大或多例不良事件，或者出现不可控制风险",
    3: "（三）随科学技术发展进步，对该技术安全性、有效性认识发生变化",
    4: "（四）国际、国内有新的循证医学证据证明该技术存在质量安全问题，或国际上已经淘汰、列入禁止类技术",
    5: "（五）省级卫生健康行政部门、国家卫生健康委有关直属和联系单位、国家医学中心、国家级质控中心、行业学协会等"
       "反映临床应用效果不确切，或存在重大质量、安全、伦理风险",
    6: "（六）工作中发现存在严重异常问题",
    7: "（七）群众反映问题较为集中或社会关注度较高",
    8: "（八）其他需要进行评估的情形",
}

# EVAL-12: what the procedure does not apply to (第十二条).
DOMAINS: dict[str, str] = {
    "medical": "医疗技术（适用本规程）",
    "organ_transplant": "人体器官移植技术",
    "assisted_reproduction": "人类辅助生殖技术",
    "maternal_infant": "母婴保健专项技术",
    "tcm": "中医类医疗技术",
    "drug": "药品",
    "device": "医疗器械",
}
# Names that betray an excluded domain whatever was declared (EVAL-12).
EXCLUDED_WORDS = {"人体器官移植": "organ_transplant", "辅助生殖": "assisted_reproduction",
                  "母婴保健": "maternal_infant"}

# EVAL-6: what the evaluating centre gathers.
FILE_KINDS = {"literature": "国内外文献", "guideline": "诊疗指南", "consensus": "专家共识", "other": "其他资料"}

# EVAL-7: the fields the panel covers.
FIELDS = {"clinical": "临床医学", "management": "医疗管理", "ethics": "医学伦理"}
MIN_EXPERTS = 7

VOTES = {"agree": "同意", "disagree": "不同意", "recuse": "回避"}

# EVAL-8: the measures a conclusion leads to, and the catalogue class each gives.
OUTCOMES = {"prohibited": "列入禁止类技术，禁止应用于临床（EVAL-8（一））",
            "restricted": "列入限制类技术目录，严格管理（EVAL-8（二））",
            "strengthened": "制（修）订管理规范和操作规范、加强质量控制，强化管理（EVAL-8（三））"}
OUTCOME_SHORT = {"prohibited": "禁止类", "restricted": "限制类", "strengthened": "强化管理"}


def check_start(*, trigger: int | None, situation: str, domain: str, name: str, region_level: str) -> list[Problem]:
    """EVAL-10: a provincial department evaluates; EVAL-5: on one of its triggers,
    with the situation described; EVAL-12: never an excluded domain."""
    problems: list[Problem] = []
    if region_level != "province":
        problems.append(Problem("医疗技术临床应用情况评估由省级卫生健康行政部门组织（EVAL-10）", None, "EVAL-10"))
    if not name.strip():
        problems.append(Problem("请选择或填写被评估的医疗技术", "technology_name"))
    if trigger not in TRIGGERS:
        problems.append(Problem("请选择启动评估的情形（第五条所列情形之一）", "trigger", "EVAL-5"))
    if len(situation.strip()) < 10:
        problems.append(Problem("请写明启动评估的具体情况（至少10字）", "situation", "EVAL-5"))
    if domain not in DOMAINS:
        problems.append(Problem("请选择技术所属类别", "domain", "EVAL-12"))
    else:
        excluded = domain if domain != "medical" else next(
            (d for word, d in EXCLUDED_WORDS.items() if word in name), None)
        if excluded:
            problems.append(Problem(
                f"{DOMAINS[excluded]}的临床应用评估不适用本规程（第十二条），不能在此启动评估", "domain", "EVAL-12"))
    return problems


def check_panel(experts: list[tuple[str, str]]) -> list[Problem]:
    """EVAL-7: an odd number of experts, at least 7, covering clinical medicine, medical
    management and medical ethics; ``experts``: (name, field)."""
    problems: list[Problem] = []
    names = [n.strip() for n, _ in experts]
    if any(not n for n in names):
        problems.append(Problem("每位专家须填写姓名", "experts", "EVAL-7"))
    if len(set(names)) != len(names):
        problems.append(Problem("专家名单中有重复的姓名", "experts", "EVAL-7"))
    if any(f not in FIELDS for _, f in experts):
        problems.append(Problem("请为每位专家选择专业领域", "experts", "EVAL-7"))
    count = len(experts)
    if count < MIN_EXPERTS:
        problems.append(Problem(f"论证专家不少于{MIN_EXPERTS}名，现为{count}名", "experts", "EVAL-7"))
    elif count % 2 == 0:
        problems.append(Problem(f"论证专家人数应为奇数，现为{count}名", "experts", "EVAL-7"))
    missing = [label for key, label in FIELDS.items() if key not in {f for _, f in experts}]
    if missing:
        problems.append(Problem(f"专家须涵盖临床医学、医疗管理、医学伦理等领域，缺少：{'、'.join(missing)}",
                                "experts", "EVAL-7"))
    return problems


def conclusion_valid(panel_size: int, agree: int) -> bool:
    """EVAL-7: 经超过三分之二的专家同意有效 — strictly more than two thirds of the panel's
    experts; a recused expert stays on the panel, so recusals never lower the bar."""
    return panel_size > 0 and agree * 3 > panel_size * 2


def votes_needed(panel_size: int) -> int:
    """The fewest agreeing experts that make a conclusion valid (EVAL-7): 7 → 5, 9 → 7."""
    return panel_size * 2 // 3 + 1


def check_sitting(*, held_on: dt.date | None, today: dt.date, votes: dict[int, tuple[str, str]],
                  panel: list[int], outcome: str, recommendation: str, effective_on: dt.date | None,
                  specification: str, qc_indicators: list[str]) -> list[Problem]:
    """A sitting's record: held (not in the future), every expert's vote, a reason for each
    recusal (EVAL-7), the proposed measure (EVAL-8) with its date of effect; a strengthened
    management names the revised specification or QC indicators (EVAL-8 (三))."""
    problems: list[Problem] = []
    if held_on is None:
        problems.append(Problem("请填写论证会议日期", "held_on", "EVAL-7"))
    elif held_on > today:
        problems.append(Problem("论证会议日期不能晚于今天", "held_on", "EVAL-7"))
    for expert in panel:
        vote, opinion = votes.get(expert, ("", ""))
        if vote not in VOTES:
            problems.append(Problem("请记录每位专家的表决意见（专家论证责任制）", f"vote_{expert}", "EVAL-7"))
        elif vote == "recuse" and len(opinion.strip()) < 2:
            problems.append(Problem("回避的专家须写明回避事由（可能影响结论公正性的情形）", f"opinion_{expert}", "EVAL-7"))
    if outcome not in OUTCOMES:
        problems.append(Problem("请选择论证的管理措施建议", "outcome", "EVAL-8"))
    if len(recommendation.strip()) < 10:
        problems.append(Problem("请写明评估结论和临床应用管理建议（至少10字）", "recommendation", "EVAL-7"))
    if effective_on is None:
        problems.append(Problem("请填写管理措施的施行日期", "effective_on", "EVAL-8"))
    elif held_on is not None and effective_on < held_on:
        problems.append(Problem("施行日期不能早于论证会议日期", "effective_on", "EVAL-8"))
    if outcome == "strengthened" and not specification.strip() and not qc_indicators:
        problems.append(Problem("强化管理须给出修订的管理规范或质量控制指标", "specification", "EVAL-8"))
    return problems


def new_class(outcome: str, current_class: str) -> str:
    """The catalogue class a measure gives (EVAL-8): prohibited, restricted, or unchanged."""
    return {"prohibited": "prohibited", "restricted": "restricted"}.get(outcome, current_class or "routine")


def qc_lines(text: str) -> list[str]:
    """QC indicators typed one per line (or separated by ；)."""
    return [p.strip() for p in text.replace("；", "\n").replace(";", "\n").splitlines() if p.strip()]


# NAT-22: what the institution's own evaluation concludes.
REVIEW_RESULTS = {"continue": "继续开展", "adjust": "调整管理要求后继续开展（目录、管理要求或医师权限）",
                  "stop": "停止临床应用"}


# NAT-22 (seed 001 第二十三条, seed 004 四（二）): what an "adjust" result adjusts.
ADJUSTMENT_KINDS = {
    "catalogue": "本机构医疗技术临床应用管理目录（技术分级、类别或开展范围）",
    "requirements": "有关管理要求（适应证、开展条件、质控指标等）",
    "privileges": "医师相关技术临床应用权限",
}


def check_review(*, reviewed_on: dt.date | None, today: dt.date, committee: str, findings: str, result: str,
                 adjustments: str, kinds: list[str] = ()) -> list[Problem]:
    """NAT-22: the management committee's evaluation — when, who, what it found, and its
    result; an adjustment says what is adjusted (the catalogue, the management
    requirements, physicians' privileges)."""
    problems: list[Problem] = []
    if reviewed_on is None:
        problems.append(Problem("请填写评估（会议）日期", "reviewed_on", "NAT-22"))
    elif reviewed_on > today:
        problems.append(Problem("评估日期不能晚于今天", "reviewed_on", "NAT-22"))
    if len(committee.strip()) < 2:
        problems.append(Problem("请填写作出评估结论的管理委员会（参会人员）", "committee", "NAT-22"))
    if len(findings.strip()) < 10:
        problems.append(Problem("请写明评估发现（质量安全情况和技术保证能力，至少10字）", "findings", "NAT-22"))
    if result not in REVIEW_RESULTS:
        problems.append(Problem("请选择评估结果：继续开展、调整或停止", "result", "NAT-22"))
    elif result == "adjust":
        if not kinds or any(k not in ADJUSTMENT_KINDS for k in kinds):
            problems.append(Problem("请选择调整的事项：管理目录、管理要求或医师技术权限", "adjustment_kinds", "NAT-22"))
        if len(adjustments.strip()) < 4:
            problems.append(Problem("请写明调整的内容（改变了什么：范围、人员、适应证等）", "adjustments", "NAT-22"))
    return problems
