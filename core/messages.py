"""The UI's strings (zh-CN), in one place. Templates call ``t("key")``."""

MESSAGES: dict[str, str] = {
    "app.name": "医疗技术临床应用管理平台",
    "app.short": "ClinTech",
    "nav.dashboard": "工作台",
    "nav.institution": "本机构",
    "nav.departments": "科室管理",
    "nav.institutions": "辖区医疗机构",
    "nav.admin.users": "用户管理",
    "nav.admin.institutions": "医疗机构",
    "nav.admin.regions": "行政区划",
    "nav.admin.plugins": "插件管理",
    "nav.admin.audit": "审计日志",
    "nav.logout": "退出登录",
    "login.title": "登录",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.expired": "登录已过期或尚未登录，请重新登录",
    "login.logged_out": "您已安全退出",
    "error.404": "未找到您要访问的页面或记录",
    "error.403": "您无权执行此操作",
    "error.csrf": "页面已过期（安全令牌无效），请刷新页面后重试",
    "error.400": "提交的内容格式不正确",
    "error.500": "系统内部错误，请稍后重试；问题已记录",
    "error.db": "数据库暂时无法连接，请稍后重试",
    "error.title": "出错了",
    "form.save": "保存",
    "form.cancel": "取消",
    "form.saved": "已保存",
    "form.create": "新建",
    "form.edit": "编辑",
    "form.errors": "提交未成功，请根据提示修改",
    "plugin.on": "已启用",
    "plugin.off": "已停用",
    "plugin.switch_on": "启用",
    "plugin.switch_off": "停用",
    "plugin.not_in_deployment": "未列入本部署（CLINTECH_PLUGINS）",
    "source.built-in": "内置",
    "source.third-party": "第三方",
    "source.test": "测试",
    "yes": "是",
    "no": "否",
}


def t(key: str, **kwargs: object) -> str:
    """The Chinese string for ``key``; a missing key shows itself, never crashes."""
    text = MESSAGES.get(key, key)
    return text.format(**kwargs) if kwargs else text
