"""The roles of DESIGN.md §1 and where each one's scope comes from."""

ROLE_LABELS: dict[str, str] = {
    "clinician": "项目负责人/医师",
    "dept_head": "科室主任",
    "qc_officer": "质控员",
    "medical_affairs": "医务处",
    "ethics": "伦理委员会",
    "expert": "专家组成员",
    "hospital_head": "院长/分管院长",
    "regulator": "卫生健康行政部门",
    "qc_center": "省质控中心",
    "admin": "系统管理员",
}

# Roles scoped to one institution.
HOSPITAL_ROLES = frozenset(
    {"clinician", "dept_head", "qc_officer", "medical_affairs", "ethics", "expert", "hospital_head"}
)
# Roles scoped to a region of the tree (and everything below it).
REGION_ROLES = frozenset({"regulator", "qc_center"})
DEPLOYMENT_ROLES = frozenset({"admin"})
ALL_ROLES = HOSPITAL_ROLES | REGION_ROLES | DEPLOYMENT_ROLES
