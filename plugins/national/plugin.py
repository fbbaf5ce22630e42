"""The national plugin's hooks (seed 002, rules NAT-*): every one ``trylast``."""

from __future__ import annotations

from typing import Any

from core import hookimpl
from core.catalog.loader import load_dir
from plugins import deadlines, national


def rules(*ids: str) -> list[dict[str, Any]]:
    """National deadline rules as fresh dicts (all of them when no id is given)."""
    found = deadlines.load(national.DEADLINES)
    return [r for r in found if not ids or r["id"] in ids]


@hookimpl(trylast=True)
def register_catalogs():
    """The national restricted list (2017 edition, replaced by the 2022 edition on
    2022-04-20) and the prohibited technologies the sources name (NAT-9)."""
    return load_dir(national.CATALOG_DIR)


@hookimpl(trylast=True)
def deadline_rules():
    """NAT-11 (filing; the department's completion), NAT-29 (training base); a province
    rule replaces one of them by id."""
    return rules()


# EVAL-10: a provincial department that evaluated a technology reports to the national
# commission (国家卫生健康委医政司); without a configured endpoint the report is a package
# the department uploads by hand.
CHANNEL = {
    "key": "national_commission",
    "name": "国家卫生健康委医政司（医疗技术临床应用评估）",
    "authority": "国家卫生健康委员会",
    "kinds": ["evaluation"],
    "transport": "http",
    "endpoint_setting": "CLINTECH_CHANNEL_NATIONAL_COMMISSION_URL",
    "rules": ["EVAL-10"],
    "description": "省级卫生健康行政部门经核实评估、研判确认技术本身存在有关问题的，及时向国家卫生健康委医政司报告（EVAL-10）。",
}


@hookimpl(trylast=True)
def reporting_channels():
    """EVAL-10: the national commission, which receives provincial evaluations' conclusions;
    NAT-36 / NAT-37: the national platform, which receives every restricted-technology case
    beside the province's platform."""
    from plugins.national.channels import PLATFORM

    return [dict(CHANNEL), dict(PLATFORM)]


# NAT-24 / NAT-40: the national minimum of the public lists.
DISCLOSURE = [
    {"key": "institution", "label": "医疗机构", "rule": "NAT-40"},
    {"key": "technology", "label": "限制类技术名称", "rule": "NAT-40"},
    {"key": "filed_on", "label": "完成备案时间", "rule": "NAT-24"},
    {"key": "case_count", "label": "累计开展例数", "rule": "NAT-24"},
]


@hookimpl(trylast=True)
def disclosure_fields():
    """NAT-24 / NAT-40: institution, technology, filing date, cumulative cases."""
    return DISCLOSURE


# NAT-11: the department completes within 15 working days of complete materials, notes the
# licence copy and reports up to the province; NAT-25 cancels; NAT-37 reports cases one by
# one; NAT-41 (4)(5)(6): not filing, not reporting, not reporting to the platforms.
POLICY = {
    "filing": {
        "rule": "NAT-11",
        "deadline_text": "开展首例临床应用之日起15个工作日内，向核发《医疗机构执业许可证》的卫生行政部门备案",
        "completion_rule": "NAT-11",
        "desk_text": "核发《医疗机构执业许可证》的卫生健康行政部门自收到完整备案材料之日起15个工作日内完成备案，"
                     "在《医疗机构执业许可证》副本备注栏予以注明，并逐级上报至省级卫生行政部门",
        "completed_text": "完成备案，已逐级上报至省级卫生行政部门",
        "annotation": {"mode": "direct", "rule": "NAT-11"},
        "cancellation_rule": "NAT-25",
        "lead_rule": "NAT-11",
        "physicians_heading": "开展该技术的医师",
    },
    "cases": {
        "rules": ["NAT-37"],
        "his_rule": "NAT-37",
    },
    "consistency": {"rule": "", "text": "备案与副本备注一致性核查"},
    # NAT-25: after a report of case (4) the provincial department verifies and may suspend
    # the technology in its region (the national text as seed 001 repeats it).
    "lifecycle": {"region_suspension": {"rule": "NAT-25", "text": "核查确属医疗技术本身存在问题的，暂停该项医疗技术在本地区的临床应用"}},
}


@hookimpl(trylast=True)
def province_policy():
    """The national rules each page cites, until a province plugin says otherwise."""
    return POLICY


# The warnings every deployment raises (NAT-41: the violations the portal can detect), in the
# national measure's words; a province replaces a key's wording and rule id with its own.
WARNINGS = [
    {"key": "late_report", "detector": "late_report", "rule": "NAT-41", "title": "病例未按时报送",
     "description": "限制类技术病例未按规定时限报送至信息平台（第三十七条逐例报送；第四十一条（五）未按要求报送）",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "warning"},
    {"key": "unreported_cases", "detector": "unreported_cases", "rule": "NAT-41", "title": "病例逾期未报送",
     "description": "限制类技术病例已过报送时限仍未报送至信息平台（第三十七条；第四十一条（五）（六））",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "serious"},
    {"key": "unfiled_cases", "detector": "unfiled_cases", "rule": "NAT-41", "title": "限制类技术已开展病例但未完成备案",
     "description": "开展限制类技术但未按规定完成备案（第十一条；第四十一条（四）未按要求备案）",
     "audience": ["regulator", "qc_center", "medical_affairs", "hospital_head"], "severity": "serious"},
    {"key": "prohibited_technology", "detector": "prohibited_technology", "rule": "NAT-9", "title": "开展禁止类技术",
     "description": "现行目录列为禁止类的技术仍有病例（第九条；第四十三条）",
     "audience": ["regulator", "qc_center", "medical_affairs", "hospital_head"], "severity": "serious"},
    {"key": "stopped_technology", "detector": "stopped_technology", "rule": "NAT-25",
     "title": "已停止的技术仍在开展",
     "description": "技术已停止临床应用（备案已注销或医疗机构决定停止）后仍有病例（第二十五条）",
     "audience": ["regulator", "qc_center", "medical_affairs", "hospital_head"], "severity": "serious"},
    {"key": "unauthorised_operator", "detector": "unauthorised_operator", "rule": "NAT-20",
     "title": "术者未获授权开展限制类技术",
     "description": "限制类技术病例的术者不在该技术备案的医师名单内（第二十条：手术授权动态管理）",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "warning"},
    {"key": "no_management_body", "detector": "no_management_body", "rule": "NAT-41",
     "title": "未设立医疗技术临床应用管理专门组织",
     "description": "二级以上医院未设医疗技术临床应用管理专门组织，或其他医疗机构未设工作小组、未指定专（兼）职人员"
                    "（第十五条；第四十一条（一））",
     "audience": ["regulator", "qc_center", "medical_affairs", "hospital_head"], "severity": "warning"},
    {"key": "operator_without_authorisation", "detector": "operator_without_authorisation", "rule": "NAT-20",
     "title": "术者在手术日期无有效授权",
     "description": "病例的术者在手术日期没有该限制类技术或该级别手术的有效授权（第二十条：手术授权动态管理）",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "warning"},
    {"key": "filing_annotation", "detector": "filing_annotation", "rule": "NAT-11",
     "title": "备案未在执业许可证副本备注",
     "description": "备案已完成（或已撤销、注销），执业许可证副本备注未登记或与备案不一致（第十一条）",
     "audience": ["regulator"], "severity": "notice"},
    {"key": "no_management_rules", "detector": "no_management_rules", "rule": "NAT-41",
     "title": "未建立医疗技术临床应用管理规章制度",
     "description": "管理组织没有制定本机构医疗技术临床应用管理制度的决定记录（第十五条；第四十一条（二））",
     "audience": ["regulator", "qc_center", "medical_affairs", "hospital_head"], "severity": "warning"},
    {"key": "disclosure_incomplete", "detector": "disclosure_incomplete", "rule": "NAT-41",
     "title": "院务公开缺少手术分级管理目录",
     "description": "开展限制类技术的医疗机构没有现行的手术分级管理目录，院务公开不完整（第二十四条；第四十一条（七））",
     "audience": ["regulator", "qc_center", "medical_affairs", "hospital_head"], "severity": "warning"},
    {"key": "untrained_operators", "detector": "untrained_operators", "rule": "NAT-41",
     "title": "开展限制类技术的医师无规范化培训记录",
     "description": "限制类技术病例的术者没有规范化培训证书或培训基地结业考核合格记录（第二十六条；第四十一条（八））",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "warning"},
    {"key": "learning_curve", "detector": "learning_curve", "rule": "NAT-22", "title": "新技术学习曲线报警",
     "description": "新准入技术早期病例（每名术者前30例）的并发症CUSUM越过报警线：作为技术评估（第二十二条）"
                    "和医师授权（第二十条）的依据",
     "audience": ["regulator", "qc_center", "medical_affairs", "qc_officer"], "severity": "warning"},
]


@hookimpl(trylast=True)
def warning_rules():
    """NAT-9, NAT-11, NAT-20, NAT-25, NAT-41 as warnings, until a province words them its way."""
    return WARNINGS


# The credit score's items and weights (NAT-39 gives no formula: these are this portal's,
# shown with every score). 100 points: reporting, filing and QC reports on time, warnings, stops,
# disclosure (NAT-24).
CREDIT = [
    {"key": "case_reporting", "title": "病例按时报送", "rule": "NAT-37", "measure": "obligations_on_time",
     "points": 30, "kinds": ["case_report"], "description": "到期的逐例报送事项中按时完成的比例（按权威平台回执日计）"},
    {"key": "filing", "title": "备案及时完整", "rule": "NAT-11", "measure": "obligations_on_time",
     "points": 15, "kinds": ["filing"], "description": "首例之日起15个工作日内提交完整备案材料的比例"},
    {"key": "qc_report", "title": "质控年报按时提交", "rule": "NAT-39", "measure": "obligations_on_time",
     "points": 10, "kinds": ["qc_annual_report"], "description": "到期的质量控制情况年报表按时提交的比例"},
    {"key": "warnings", "title": "风险预警", "rule": "NAT-41", "measure": "warnings", "points": 30, "per_item": 5,
     "description": "本年度产生的风险预警，每条扣5分（严重×2、提示×0.5；机构答复后关闭的减半）"},
    {"key": "stops", "title": "技术暂停或停止", "rule": "NAT-25", "measure": "stops", "points": 5, "per_item": 5,
     "description": "本年度技术被暂停或停止临床应用的次数，每次扣5分"},
    {"key": "disclosure", "title": "院务公开", "rule": "NAT-24", "measure": "disclosure", "points": 10, "per_item": 10,
     "description": "开展限制类技术的机构公开限制类技术目录、手术分级管理目录和临床应用情况：年末（本年度为今日）无现行手术分级"
                    "管理目录扣10分，开展限制类技术后才公开的扣5分"},
]


@hookimpl(trylast=True)
def credit_items():
    """NAT-39: the national items and weights, until a province weighs them its way."""
    return CREDIT
