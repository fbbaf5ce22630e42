"""The default hospital's admission policy (seed 000, procedure of seed 002):
the workflow steps, the application form, the grade scale and the hospital's refusals.

Core runs each step by its kind (the step's struct in ``core.contract``); this module
only says which steps, in which order, who acts, and with what options. A hospital with other rules ships its own
plugin answering these hooks first (``tryfirst=True``) for its own institutions.
"""

from __future__ import annotations

from core import hookimpl
from core.contract import (
    ApprovalStep,
    ArgumentationStep,
    DocumentStep,
    EthicsStep,
    FilingStep,
    PanelStep,
    PublicityStep,
    ReviewStep,
)
from core.errors import Problem

# HOSP-4: what the department argumentation must weigh before applying.
CONSIDERATIONS = (
    ("planned", "科室本年度拟开展的临床新技术（系统梳理、收集）"),
    ("cultivate", "拟重点培育及后期拟参加大学临床新技术等级评定的技术"),
    ("equipment", "需购置引进相关设备、耗材开展的技术"),
    ("fees", "有申报物价收费需求的技术"),
)
# HOSP-9: for restricted technologies the experts focus on these.
RESTRICTED_CRITERIA = (
    ("qualification", "人员资质"),
    ("plan", "技术方案"),
    ("qc", "质控指标"),
)

# HOSP-4 … HOSP-11: the yearly round.
STEPS = [
    ArgumentationStep(key="department", title="科室专项论证", role="dept_head", rule="HOSP-4",
                      considerations=CONSIDERATIONS),
    EthicsStep(key="ethics", title="医学伦理委员会审查", role="ethics", rule="HOSP-7"),
    ReviewStep(key="formal", title="医务处形式审查", role="medical_affairs", rule="HOSP-8", written_reply=True),
    PanelStep(key="expert", title="专家组专项审查论证", role="expert", rule="HOSP-9", criteria=RESTRICTED_CRITERIA,
              min_experts=1),
    PublicityStep(key="publicity", title="院内公示一周", role="medical_affairs", rule="HOSP-10", weeks=1),
    ApprovalStep(key="approval", title="院长审批", role="hospital_head", rule="HOSP-10", admits=True),
    DocumentStep(key="document", title="正式成文下发", role="medical_affairs", rule="HOSP-10"),
    FilingStep(key="university", title="报大学教务处备案", role="medical_affairs", rule="HOSP-11"),
]

# HOSP-12: the temporary path outside the yearly round. Ethics review still applies
# to every application (HOSP-7: 所有申报准入的新技术，必须先通过医院医学伦理委员会审查).
TEMPORARY_STEPS = [
    ReviewStep(key="department", title="科室领导审核把关", role="dept_head", rule="HOSP-12"),
    EthicsStep(key="ethics", title="医学伦理委员会审查", role="ethics", rule="HOSP-7"),
    PanelStep(key="expert", title="按等级和类别组织专家审核", role="expert", rule="HOSP-12",
              criteria=RESTRICTED_CRITERIA, min_experts=1, by_grade_and_class=True),
    ApprovalStep(key="office", title="医务处逐级呈批", role="medical_affairs", rule="HOSP-12"),
    ApprovalStep(key="head", title="院长审签", role="hospital_head", rule="HOSP-12", admits=True),
    FilingStep(key="university", title="报大学教务处备案", role="medical_affairs", rule="HOSP-11"),
]

# HOSP-1: the three grades of a new technology.
GRADES = [
    ["一级", "一级技术（国际前沿创新技术）"],
    ["二级", "二级技术（国内前沿创新技术）"],
    ["三级", "三级技术（对原有技术的整理、规范、改良，或国内已广泛开展）"],
]


def _text(key: str, label: str, rule: str = "HOSP-8", help: str = "") -> dict:
    return {"key": key, "label": label, "kind": "textarea", "required": True, "rule": rule, "min_length": 10,
            "help": help}


# Rules: HOSP-8 (content from seed 002), HOSP-6, HOSP-13/14, NAT-9b, NAT-43 and HOSP-1
FORM = {
    "title": "临床新技术立项准入申请表",
    "sections": [
        {"key": "basic", "title": "一、基本信息", "fields": [
            {"key": "grade", "label": "技术等级", "kind": "grade", "required": True, "rule": "HOSP-1",
             "help": "按创新程度和培育价值分为一、二、三级"},
            {"key": "subject", "label": "所属诊疗科目", "kind": "subject", "required": True, "rule": "NAT-43",
             "help": "须在本机构《医疗机构执业许可证》登记的诊疗科目范围内"},
            {"key": "planned_start", "label": "拟开展日期", "kind": "date"},
        ]},
        {"key": "content", "title": "二、申请内容", "fields": [
            _text("status_home_abroad", "国内外或其他省、市医院临床应用基本情况"),
            _text("significance", "临床应用意义"),
            _text("indications", "适应症"),
            _text("contraindications", "禁忌症"),
            _text("efficacy", "疗效判定标准、评价方法（有效性、安全性、可行性分析及社会经济效益预测）"),
            _text("route", "技术路线、技术操作规范和操作流程"),
            _text("capacity", "科室技术力量、人力配备和设施等支撑条件"),
            _text("risks", "可预见的风险评估及风险防范应急预案"),
        ]},
        {"key": "evidence", "title": "三、前期数据与佐证（HOSP-6）", "fields": [
            {"key": "evidence", "label": "前期有效数据或国内外同类开展情况", "kind": "table", "rule": "HOSP-6",
             "columns": [["kind", "类型（前期数据/文献/外单位开展）"], ["source", "出处或单位"], ["summary", "要点"]],
             "help": "无有效数据支撑验证的新技术不得申报；也可在附件中上传佐证材料"},
        ]},
        {"key": "team", "title": "四、项目团队", "fields": [
            {"key": "team", "label": "项目组成员", "kind": "table", "required": True, "rule": "HOSP-8",
             "columns": [["name", "姓名"], ["title", "职称"], ["duty", "项目分工"], ["scope", "执业范围"]]},
        ]},
        {"key": "qc", "title": "五、项目质控小组与质控指标（HOSP-13、HOSP-14）", "fields": [
            {"key": "qc_officer", "label": "项目质控员（可为项目负责人本人）", "kind": "text", "required": True,
             "rule": "HOSP-13"},
            {"key": "qc_indicators", "label": "质控指标及具体指标参数", "kind": "table", "required": True,
             "rule": "HOSP-14", "columns": [["name", "指标名称"], ["target", "目标值/参数"], ["method", "统计方法"]],
             "help": "在科室主任指导下制定；限制类技术须对照国家质控指标本地化"},
        ]},
        {"key": "products", "title": "六、使用的药品、医疗器械（NAT-9b）", "fields": [
            {"key": "products", "label": "药品/器械/耗材及批准证明", "kind": "table", "rule": "NAT-9b",
             "columns": [["name", "名称"], ["kind", "类别"], ["approval_no", "注册证号/批准文号"],
                         ["certificates", "三证（生产许可证、经营许可证、产品合格证）"], ["approved", "是否已批准上市（是/否）"]],
             "help": "未经国家药品监督管理部门批准上市的药品、器械不得使用"},
        ]},
    ],
}


@hookimpl(trylast=True)
def admission_steps(project):
    """The default workflow: the yearly round (HOSP-4 … HOSP-11) or the temporary
    path (HOSP-12); a hospital's own plugin answers first for its institutions."""
    steps = TEMPORARY_STEPS if getattr(project, "path", "round") == "temporary" else STEPS
    return list(steps)


@hookimpl(trylast=True)
def application_form(project):
    """The 《临床新技术立项准入申请表》 with every HOSP-8 item."""
    return FORM


@hookimpl(trylast=True)
def grades(project):
    """HOSP-1: 一级 / 二级 / 三级."""
    return [tuple(g) for g in GRADES]


@hookimpl
def validate_project(project, person):
    """HOSP-5 (the lead), HOSP-6 (evidence), HOSP-14 (indicator targets)."""
    problems = []
    if project.tech_class == "restricted":
        # HOSP-5: the specification's requirements of the lead, as the catalogue carries them,
        # read against the lead's certificates in force, title and years of practice. A
        # technology whose catalogue entry states none has nothing to check (the page says so).
        if project.technology_lead is not None:
            missing = project.technology_lead.unmet(qualifications=person.qualifications, title=person.title,
                                                    years_in_practice=person.years_in_practice)
        else:
            missing = [q for q in project.technology_requirements if q not in person.qualifications]
        if missing:
            problems.append(Problem(
                f"项目负责人不符合该限制类技术管理规范的人员资质要求：缺少{'、'.join(missing)}", "lead", "HOSP-5"))
    else:
        if person.visiting:
            problems.append(Problem("进修医师不能担任常规类新技术的项目负责人", "lead", "HOSP-5"))
        elif person.years_as_resident < 3:
            problems.append(Problem(
                f"常规类新技术的项目负责人须从事住院医师岗位3年以上（当前 {person.years_as_resident} 年）",
                "lead", "HOSP-5"))
    evidence = [r for r in project.form.get("evidence") or [] if any(str(v).strip() for v in r.values())]
    if not evidence and not project.has_evidence_files:
        problems.append(Problem("须有前期有效数据支撑，或国内外其他单位开展同类技术的佐证；无佐证不得申报",
                                "evidence", "HOSP-6"))
    for row in project.form.get("qc_indicators") or []:
        if row.get("name") and not str(row.get("target") or "").strip():
            problems.append(Problem(f"质控指标「{row['name']}」须填写具体指标参数", "qc_indicators", "HOSP-14"))
    return problems
