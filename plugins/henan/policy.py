"""Henan's filing policy and checks (seed 004, 豫卫医函〔2024〕86号 二、三、四).

Who does what: the institution files through the 河南省医疗技术临床应用信息系统 (HN-2.2b);
the filing department (医政科、妇科) pushes technology name and filing date to the
licensing office (审批办), which annotates the licence copy (HN-2.2c).
"""

from __future__ import annotations

from core import hookimpl
from core.errors import Problem

POLICY = {
    "filing": {
        "rule": "HN-2.2b",
        "deadline_text": "开展首例临床应用之日起15个工作日内，通过河南省医疗技术临床应用信息系统提交",
        "completion_rule": "HN-2.2c",
        "desk_text": "备案部门（医政科、妇科）应当自收到完整备案材料之日起15个工作日内，将医疗机构开展限制类技术"
                     "临床应用的技术名称、完成备案时间等信息推送至发证部门（审批办等），发证部门据此对副本进行备注",
        "completed_text": "完成备案；技术名称、完成备案时间由备案部门推送至发证部门（审批办）备注副本",
        "annotation": {"mode": "push", "channel": "henan_platform", "recipient": "发证部门（审批办）",
                       "rule": "HN-2.2c"},
        "withdrawal_rule": "HN-2.2c",
        "cancellation_rule": "NAT-25",
        # HN-2.2b (4): the lead's 执业医师证书 (and the hospital's authorisation, a scan).
        "lead_certificates": ["医师执业证"],
        "lead_rule": "HN-2.2b",
        # The notice asks for no physician list: no certificates checked per physician.
        "physician_certificates": [],
        "physicians_heading": "开展该技术的人员（备案表人员情况）",
        "assessment_basis": True,
        "assessment_rule": "HN-2.2a",
        "assessment_note": "技术目录未载明该技术的管理规范：如无相应技术规范，以相关专业专家共识为准（HN-2.2a）。",
    },
    # HN-1 (一)(一): a body under the quality committee (or working group), with medical affairs,
    # quality, pharmacy, nursing, infection control and equipment departments taking part.
    "body": {"rule": "HN-1", "posts": ["medical_affairs", "quality", "pharmacy", "nursing", "infection", "equipment"],
             "posts_rule": "HN-1",
             # HN-1 (一)(一): 落实医疗技术目录管理、手术分级管理、医师授权、质量控制、档案管理、动态评估等管理制度.
             "systems_rule": "HN-1"},
    "cases": {
        "rules": ["NAT-37", "HN-3"],
        "his_rule": "HN-3",
    },
    "consistency": {"rule": "HN-4.3", "text": "限制类技术系统备案与副本备注信息一致性核查"},
    # HN-4.2: key staff, equipment or conditions changed → re-file or stop.
    "lifecycle": {"conditions_change": {"rule": "HN-4.2", "text": "从事该项医疗技术的主要专业技术人员或关键设备、设施及其他辅助条件"
                                                                 "发生变化的，要及时严格按照程序进行重新备案或停止临床应用"},
                  # HN-4.1: first use argued by the quality-and-safety committee, reviewed by ethics.
                  "first_use": {"rule": "HN-4.1", "text": "属医疗机构首次应用的医疗技术，由本机构医疗质量与安全委员会审定、"
                                                          "医学伦理委员会审查，通过论证的方可开展临床应用"},
                  # HN-4.1: ... 医学伦理委员会审查 — the workflow reviews ethics before it admits.
                  "first_use_ethics": True},
}


# HN-3: reminders for filed technologies whose cases are not reported in time; the risk
# knowledge base's warnings for restricted technologies without qualification or filing and
# for prohibited technologies. HN-4.3: filings against the licence annotations.
WARNINGS = [
    {"key": "late_report", "detector": "late_report", "rule": "HN-3", "title": "已备案但未及时上报病例信息",
     "description": "开展一例、上报一例：已备案技术的病例未及时上报（三）",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "warning"},
    {"key": "unreported_cases", "detector": "unreported_cases", "rule": "HN-3", "title": "已开展病例逾期未上报",
     "description": "开展一例、上报一例：病例已过时限仍未上报（三）",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "serious"},
    {"key": "unfiled_cases", "detector": "unfiled_cases", "rule": "HN-4.3", "title": "限制类技术已开展病例但未完成备案",
     "description": "限制类技术未备案即开展（三：风险知识库预警；四（三）：纠正漏报）",
     "audience": ["regulator", "qc_center", "medical_affairs", "hospital_head"], "severity": "serious"},
    {"key": "prohibited_technology", "detector": "prohibited_technology", "rule": "HN-3", "title": "开展禁止类技术",
     "description": "风险知识库预警：开展禁止类技术（三；五：从严查处）",
     "audience": ["regulator", "qc_center", "medical_affairs", "hospital_head"], "severity": "serious"},
    {"key": "unauthorised_operator", "detector": "unauthorised_operator", "rule": "HN-3",
     "title": "不具备资质人员开展限制类技术",
     "description": "风险知识库预警：限制类技术病例的术者不在备案人员名单内（三）",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "serious"},
    {"key": "operator_without_authorisation", "detector": "operator_without_authorisation", "rule": "HN-3",
     "title": "术者无有效授权开展限制类技术",
     "description": "风险知识库预警：病例的术者在手术日期没有医院对该技术或该级别手术的有效授权（三）",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "serious"},
    {"key": "disclosure_incomplete", "detector": "disclosure_incomplete", "rule": "HN-2.3",
     "title": "院务公开缺少手术分级管理目录",
     "description": "医疗机构应公开限制类技术目录、手术分级管理目录和限制类技术临床应用情况（二（三）1）：开展限制类技术但没有现行的手术分级管理目录",
     "audience": ["regulator", "qc_center", "medical_affairs", "hospital_head"], "severity": "warning"},
    {"key": "filing_annotation", "detector": "filing_annotation", "rule": "HN-4.3",
     "title": "系统备案与副本备注信息不一致",
     "description": "定期核查系统备案信息与执业许可证副本备注信息是否一致（四（三））",
     "audience": ["regulator"], "severity": "notice"},
]


@hookimpl
def warning_rules():
    """HN-3, HN-4.3 and HN-2.3 as warnings."""
    return WARNINGS


@hookimpl
def province_policy():
    """HN-2.2b/c, HN-2.2a, HN-3, HN-4.2, HN-4.3, HN-2.1 as the pages cite them."""
    return POLICY


@hookimpl
def validate_filing(filing):
    """HN-2.2a: self-assessment against the national or Henan specification, or — where
    none exists — the relevant expert consensus, named. HN-2.2b (4): the lead is a
    practising physician registered at this institution (not a visiting one)."""
    problems = []
    basis, reference = filing.assessment_basis, filing.assessment_reference.strip()
    if basis not in ("specification", "consensus"):
        problems.append(Problem("请选择自我评估依据", "assessment_basis", "HN-2.2a"))
    elif basis == "specification" and not filing.has_specification and not reference:
        problems.append(Problem("该技术目录未载明管理规范：请填写所依据的规范名称，或改为依据相关专业专家共识",
                                "assessment_reference", "HN-2.2a"))
    elif basis == "consensus" and not reference:
        problems.append(Problem("请填写所依据的专家共识名称", "assessment_reference", "HN-2.2a"))
    if filing.lead is not None and filing.lead.of_institution and filing.lead.visiting:
        problems.append(Problem(f"技术负责人{filing.lead.name}为进修医师，须为在本机构注册的执业医师", "lead", "HN-2.2b"))
    return problems
