"""Jilin's filing policy and checks (seed 001, 《吉林省医疗技术临床应用管理办法实施细则》).

JL-12: the institution files with the department that issued its licence — that
department's desk in this portal; the department completes within 15 working days,
notes the licence copy, enters 备注三 in the 医疗机构电子化注册系统 and reports up to the
province. The provincial platform (JL-37) supervises and receives cases (JL-38); it does
not receive filings, so no filing is delivered to it.
"""

from __future__ import annotations

from core import hookimpl
from core.errors import Problem

POLICY = {
    "filing": {
        "rule": "JL-12",
        "deadline_text": "开展首例临床应用之日起15个工作日内，向核发《医疗机构执业许可证》的卫生健康行政部门备案",
        "completion_rule": "JL-12",
        "desk_text": "备案部门应当自收到完整备案材料之日起15个工作日内完成备案，并在该医疗机构的《医疗机构执业许可证》"
                     "副本备注栏予以注明，同时将技术名称、完成备案时间等信息录入“医疗机构电子化注册系统”中“备注三”一栏，"
                     "同时将备案技术逐级上报至省级卫生健康行政部门",
        "completed_text": "完成备案，已在副本备注栏注明并录入“备注三”，已逐级上报至省级卫生健康行政部门",
        "annotation": {"mode": "direct", "rule": "JL-12"},
        # No withdrawal procedure of its own: withdrawing updates the annotation (JL-12).
        "withdrawal_rule": "JL-12",
        "cancellation_rule": "JL-26",
        # JL-12 (五): the lead's 医师资格证书、医师执业证书; (六): each physician's.
        "lead_certificates": ["医师资格证", "医师执业证"],
        "lead_rule": "JL-12",
        "physician_certificates": ["医师资格证", "医师执业证"],
        "physicians_rule": "JL-12",
        "physicians_heading": "本机构开展限制类技术医师名单（JL-12（六）：每名医师的医师资格证书、医师执业证书）",
    },
    # JL-16: the body's members — heads of medical affairs, quality, pharmacy, nursing,
    # infection control and equipment, senior clinical, management and ethics staff — headed
    # by the institution's head; other institutions a working group or designated staff.
    "body": {"rule": "JL-16", "posts": ["head", "medical_affairs", "quality", "pharmacy", "nursing", "infection",
                                         "equipment", "clinical", "management", "ethics"],
             "posts_rule": "JL-16", "small_rule": "JL-16",
             # JL-17: 目录管理、手术分级、医师授权、质量控制、档案管理、动态评估等制度 (as NAT-16).
             "systems_rule": "JL-17"},
    # JL-21: surgery privileges follow the physician's ability, training AND examination results.
    # JL-27: physicians who will perform a restricted technology take its standardised training;
    # the provincial QC centre keeps the database of them. JL-43 (second paragraph): a physician
    # moving in from another province is reviewed by the QC centre, passing counts as training.
    "authorisation": {
        "exam_rule": "JL-21",
        # JL-20: each physician's technology archive (授权、开展、差错事故、培训及考核), the basis of
        # capability assessment and authorisation changes.
        "archive_rule": "JL-20",
        "training_rule": "JL-27",
        "training_text": "拟开展限制类技术的医师应当按照相关技术临床应用管理规范要求接受规范化培训；"
                         "省医疗机构质量监测评价中心建立数据库，统一管理开展限制类技术临床应用医师（第二十七条）",
        "transitional_rule": "JL-43",
        "transitional_text": "自本细则施行之日起2个月内，已具备开展限制类医疗技术条件的医师应当向所在医疗机构提出申请，"
                             "由医疗机构组织评议后将名单报给核发其《医疗机构执业许可证》的卫生健康行政部门。"
                             "卫生健康行政部门向社会公示无异后，报省医疗机构质量监测评价中心（第四十三条）",
        "transfer_rule": "JL-43",
        "transfer_text": "外省医师调入省内医疗机构的，拟开展限制类医疗技术的，应由调入医疗机构审核后向省医疗机构质量监测评价中心申请，"
                         "由省医疗机构质量监测评价中心组织评议，评议合格的视同规范化培训合格（第四十三条）",
    },
    "cases": {
        "rules": ["NAT-37", "JL-38"],
        "his_rule": "JL-38",
    },
    # JL-14: no restricted technology without the ethics committee's approval (as NAT-13);
    # JL-26: stop triggers as NAT-25, and the province may suspend a technology province-wide.
    "lifecycle": {
        "ethics": {"rule": "JL-14", "text": "未经伦理委员会审查通过的，不得应用于临床"},
        "stop": {"rule": "JL-26", "text": "应当立即停止该项医疗技术的临床应用"},
        "region_suspension": {"rule": "JL-26", "text": "省卫生健康委核查确属医疗技术本身存在问题的，暂停该项医疗技术在本地区的临床应用，"
                                                       "并向国家卫生健康委报告"},
        # JL-22: first use in the institution only after its own argumentation; JL-23: the
        # institution's evaluation of restricted technologies, stop at once on serious problems.
        "first_use": {"rule": "JL-22", "text": "对已证明安全有效，但属本机构首次应用的医疗技术，应当组织开展本机构技术能力和"
                                                "安全保障能力论证，通过论证的方可开展医疗技术临床应用"},
        "evaluation": {"rule": "JL-23", "text": "对限制类技术的质量安全和技术保证能力进行重点评估，并根据评估结果及时调整本机构医疗技术"
                                                "临床应用管理目录和有关管理要求；存在严重质量安全问题或者不再符合有关技术管理要求的，"
                                                "立即停止该项技术的临床应用"},
    },
}


# JL-38 (every case within 15 working days of discharge), JL-12 (six: the physicians who
# perform it; the licence copy's 备注三); the other warnings keep the national wording.
WARNINGS = [
    {"key": "late_report", "detector": "late_report", "rule": "JL-38", "title": "病例未在出院后15个工作日内报送",
     "description": "限制类技术病例未在患者出院后15个工作日内报送至国家和省级信息平台（第三十八条）",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "warning"},
    {"key": "unreported_cases", "detector": "unreported_cases", "rule": "JL-38", "title": "病例逾期未报送",
     "description": "限制类技术病例出院后15个工作日内未报送至国家和省级信息平台（第三十八条）",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "serious"},
    {"key": "unauthorised_operator", "detector": "unauthorised_operator", "rule": "JL-12",
     "title": "术者不在备案的医师名单内",
     "description": "限制类技术病例的术者不在该技术备案时报送的本机构开展该技术医师名单（第十二条（六））内，"
                    "也不是技术负责人",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "serious"},
    {"key": "operator_without_authorisation", "detector": "operator_without_authorisation", "rule": "JL-21",
     "title": "术者在手术日期无有效授权",
     "description": "病例的术者在手术日期没有医院按专业能力、培训情况和考核结果授予的该技术或该级别手术权限（第二十一条）",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "warning"},
    {"key": "disclosure_incomplete", "detector": "disclosure_incomplete", "rule": "JL-25",
     "title": "院务公开缺少手术分级管理目录",
     "description": "开展限制类技术的医疗机构没有现行的手术分级管理目录：限制类技术目录、手术分级管理目录和限制类技术临床应用情况"
                    "应当纳入本机构院务公开范围（第二十五条）",
     "audience": ["regulator", "qc_center", "medical_affairs", "hospital_head"], "severity": "warning"},
    {"key": "untrained_operators", "detector": "untrained_operators", "rule": "JL-27",
     "title": "开展限制类技术的医师无规范化培训记录",
     "description": "拟开展限制类技术的医师应当按照相关技术临床应用管理规范要求接受规范化培训（第二十七条）：术者没有培训证书"
                    "或培训基地结业考核合格记录",
     "audience": ["regulator", "qc_center", "medical_affairs"], "severity": "warning"},
    {"key": "filing_annotation", "detector": "filing_annotation", "rule": "JL-12",
     "title": "备案未在副本及“备注三”登记",
     "description": "备案已完成，执业许可证副本备注栏及医疗机构电子化注册系统“备注三”未登记或不一致（第十二条）",
     "audience": ["regulator"], "severity": "notice"},
]


@hookimpl
def credit_items():
    """JL-40 (credit scoring linked to the social credit system) measures JL-38's deadline and
    JL-25's disclosure."""
    return [{"key": "case_reporting", "title": "病例出院后15个工作日内报送", "rule": "JL-38",
             "measure": "obligations_on_time", "points": 30, "kinds": ["case_report"],
             "description": "第四十条信誉评分：到期的病例报送（出院后15个工作日内，第三十八条）按时完成的比例"},
            {"key": "disclosure", "title": "院务公开", "rule": "JL-25", "measure": "disclosure", "points": 10,
             "per_item": 10, "description": "第四十条信誉评分：限制类技术目录、手术分级管理目录和限制类技术临床应用情况纳入院务公开"
                                            "（第二十五条）；年末（本年度为今日）无现行手术分级管理目录扣10分，开展限制类技术后才公开的扣5分"}]


@hookimpl
def warning_rules():
    """JL-38 and JL-12 as warnings."""
    return WARNINGS


@hookimpl
def province_policy():
    """JL-12, JL-14, JL-26, JL-38 as the pages cite them."""
    return POLICY


@hookimpl
def validate_filing(filing):
    """JL-12 (五): the lead is a registered physician whose main practice is this institution
    (not a visiting one); (六): the list of physicians who will perform it."""
    problems = []
    if filing.lead is not None and filing.lead.of_institution and filing.lead.visiting:
        problems.append(Problem(f"技术负责人{filing.lead.name}为进修医师，须为以本机构为主要执业机构的注册医师",
                                "lead", "JL-12"))
    if not filing.physicians:
        problems.append(Problem("请填写开展该技术的医师名单", "physicians", "JL-12"))
    return problems
