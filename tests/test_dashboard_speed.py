"""Issue 15 (speed) — what the dashboard keeps or builds once per process, and that it
still reads what it read before: counted and compared, never timed.

* The session query and each user's open-obligations query are compiled once
  (``core.db.Prepared``) and read what piccolo's own query reads; a session deleted or
  expired, or its user deactivated, logs out at the very next request; a plugin switch
  reaches the next request (the switches are read with the session, as before).
* The to-do rows are built in Python (``web.templating.todo_rows``): the same markup as
  the template loop they replace, every text escaped.
* The to-do list reads the brief columns of the open obligations (``open_for(brief=True)``):
  the same values as the full rows.
* A project's current step read from its stored JSON once per process equals the step
  converted from the whole workflow.
* The settings follow the environment at once.
* The side navigation is drawn in Python (``web.templating.nav_items``, kept per distinct
  navigation): the template loop's markup; a role change, a new message or a new
  admission task shows in the next page's navigation (a plugin switch: above).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.accounts import service as accounts
from core.accounts.tables import User, UserSession
from core.admission import service as admission
from core.admission.tables import Project
from core.dashboard.todo import Task
from core.obligations import service as obligations
from core.settings import get_settings
from tests.admission_helpers import actor


def _token_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


async def test_the_prepared_session_query_reads_what_piccolos_query_reads(login_as):
    client = await login_as("medaffairs_a")
    token = client.cookies.get("clintech_session")
    now = dt.datetime.now(dt.UTC)
    ours = await accounts._SESSION_QUERY.run(_token_hash(token), now)
    theirs = await accounts._session_query(_token_hash(token), now)
    assert ours is not None and ours == theirs
    assert ours["user"]["username"] == "medaffairs_a" and isinstance(ours["user"]["roles"], list)
    # An unknown token and an expired session read nothing, as piccolo's query does.
    assert await accounts._SESSION_QUERY.run(_token_hash("no-such-token"), now) is None
    later = now + dt.timedelta(days=3650)
    assert await accounts._SESSION_QUERY.run(_token_hash(token), later) is None
    assert await accounts._session_query(_token_hash(token), later) is None


async def test_a_deleted_session_logs_out_at_the_next_request(login_as):
    client = await login_as("clinician_a")
    assert (await client.get("/")).status_code == 200
    await UserSession.delete().where(UserSession.token_hash == _token_hash(client.cookies.get("clintech_session")))
    answer = await client.get("/", follow_redirects=False)
    assert answer.status_code != 200 or "工作台" not in answer.text
    assert answer.status_code in (302, 303, 401) and "login" in answer.headers.get("location", "/login")


async def test_an_expired_session_or_a_deactivated_user_is_logged_out_at_the_next_request(login_as):
    client = await login_as("depthead_a")
    assert (await client.get("/")).status_code == 200
    token_hash = _token_hash(client.cookies.get("clintech_session"))
    user = (await UserSession.select(UserSession.user).where(UserSession.token_hash == token_hash).first())["user"]
    await User.update({User.active: False}).where(User.id == user)
    try:
        assert (await client.get("/", follow_redirects=False)).status_code in (302, 303, 401)
    finally:
        await User.update({User.active: True}).where(User.id == user)
    assert (await client.get("/")).status_code == 200
    await UserSession.update({UserSession.expires_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
        UserSession.token_hash == token_hash)
    assert (await client.get("/", follow_redirects=False)).status_code in (302, 303, 401)


async def test_a_plugin_switch_shows_on_the_next_dashboard(login_as):
    """The switches come with the session query: the jilin menu item leaves the next page."""
    admin = await login_as("admin")
    client = await login_as("medaffairs_a")
    assert "吉林省备案要求" in (await client.get("/")).text
    try:
        assert (await admin.post("/admin/plugins/jilin", data={"enabled": "0"})).status_code in (200, 303)
        assert "吉林省备案要求" not in (await client.get("/")).text
    finally:
        await admin.post("/admin/plugins/jilin", data={"enabled": "1"})
    assert "吉林省备案要求" in (await client.get("/")).text


@pytest.mark.parametrize("username", ["medaffairs_a", "head_a", "clinician_a", "depthead_a", "regulator_city1",
                                      "regulator_province", "qccenter", "admin"])
async def test_brief_open_obligations_are_the_full_rows_values(deployment, username):
    hooks = deployment["host"].view()
    who = await actor(username)
    full = await obligations.open_for(who, hooks)
    brief = await obligations.open_for(who, hooks, brief=True)
    keys = ("id", "title", "subject_label", "kind_label", "rule_id", "article", "due_on", "state", "days_left",
            "institution_name")
    assert [{k: r[k] for k in keys} for r in brief] == [{k: r[k] for k in keys} for r in full]
    # … and the prepared query reads what piccolo's query reads, twice in a row.
    again = await obligations.open_for(who, hooks, brief=True)
    assert [r["id"] for r in again] == [r["id"] for r in brief]


# The template loop the Python rows replaced (dashboard/_todo.html before issue 15).
_LOOP = """{% for task in tasks %}
    <tr data-task="{{ task.key }}" data-state="{{ task.state }}">
      <td>{% if task.due_on %}{{ task.due_on.isoformat() }}{% if task.days_left is not none %}<br><span class="muted">{% if task.days_left >= 0 %}剩余 {{ task.days_left }} 个工作日{% else %}逾期 {{ -task.days_left }} 个工作日{% endif %}</span>{% endif %}{% elif task.since %}<span class="muted">自 {{ task.since.isoformat() }} 起</span>{% else %}<span class="muted">—</span>{% endif %}</td>
      <td>{{ task.source_label }}</td>
      <td><a href="{{ task.link }}">{{ task.title }}</a>{% if task.institution %}<br><span class="muted">{{ task.institution }}</span>{% endif %}</td>
      <td>{{ task.action }}</td>
      <td>{% if task.rule %}<span class="tag">{{ task.rule }}</span>{% endif %}{% if task.article %}<details><summary class="muted">条文</summary><p class="article">{{ task.article }}</p></details>{% endif %}</td>
      <td><span class="state state-{{ task.state }}">{{ task.state_label }}</span></td>
    </tr>
{% endfor %}"""


def test_the_to_do_rows_are_the_template_loops_markup_escaped():
    from markupsafe import Markup

    from web.templating import build_environment, todo_rows

    day = dt.date(2026, 5, 20)
    tasks = [
        Task(key="obligation-1", source="obligation", title="<script>alert('x')</script> & \"引号\"",
             action="提交 <b>材料</b>", link="/obligations/1?a=1&b=2", due_on=day, state="overdue", days_left=-3,
             rule="NAT-11", article="第十一条 <条文> & '引号'", institution="示范医院甲 & 乙"),
        Task(key="obligation-2", source="obligation", title="甲", action="乙", link="/o/2", due_on=day,
             state="open", days_left=0),
        Task(key="obligation-3", source="obligation", title="甲", action="乙", link="/o/3", due_on=day,
             state="due_soon", days_left=4, since=day),
        Task(key="warning-4", source="warning", title="预警", action="请答复", link="/warnings/4", since=day,
             rule="W-1"),
        Task(key="summary-5", source="summary", title="总结", action="决定", link="/qc/reports/summary/5"),
        Task(key="project-6", source="admission", title=Markup("<i>已转义</i>"), action="表决", link="/admission/6",
             due_on=day, state="open"),
    ]
    env = build_environment([])
    expected = env.from_string(_LOOP).render(tasks=tasks)
    assert str(todo_rows(tasks)) + "\n" == expected
    assert "<script>" not in str(todo_rows(tasks)) and "&lt;script&gt;" in str(todo_rows(tasks))


async def test_the_current_step_read_from_the_stored_json_is_the_converted_workflows(deployment):
    from tests.admission_helpers import valid_form

    hooks = deployment["host"].view()
    clinician = await actor("clinician_a")
    project_id = await admission.create_project(clinician, hooks, admission.NewProject(
        title="当前步骤测试项目", path="temporary", outside_lists=True))
    await admission.submit(clinician, hooks, project_id, valid_form())
    rows = await Project.select(Project.id, Project.steps, Project.current_step).where(
        Project.current_step.is_not_null()).output(load_json=True)
    raw = {r["id"]: r["steps"] for r in await Project.raw("SELECT id, steps FROM admission_project")}
    assert rows
    for row in rows:
        _, step = admission._step(admission._frozen_steps(row), row["current_step"])
        text = raw[row["id"]] if isinstance(raw[row["id"]], str) else __import__("json").dumps(raw[row["id"]])
        assert admission._current_step(text, row["current_step"]) == step
        assert admission._current_step(row["steps"], row["current_step"]) == step
    # A legacy step (options in a dict of their own) reads as before.
    legacy = [{"key": "a", "kind": "review", "title": "形式审查", "role": "medical_affairs", "options": {"rule": "X-1"}}]
    assert admission._current_step(legacy, "a") == admission.frozen_step(legacy[0])
    assert admission._current_step(__import__("json").dumps(legacy), "a") == admission.frozen_step(legacy[0])
    assert admission._current_step(legacy, "b") is None


def test_the_settings_follow_the_environment_at_once(monkeypatch):
    before = get_settings()
    assert get_settings() is before  # nothing changed: the same settings
    monkeypatch.setenv("CLINTECH_SITE_NAME", "某省医疗技术临床应用管理平台")
    assert get_settings().site_name == "某省医疗技术临床应用管理平台"
    monkeypatch.setenv("CLINTECH_DUE_SOON_DAYS", "9")
    assert get_settings().due_soon_days == 9
    monkeypatch.delenv("CLINTECH_SITE_NAME")
    monkeypatch.delenv("CLINTECH_DUE_SOON_DAYS")
    assert get_settings().site_name == before.site_name and get_settings().due_soon_days == before.due_soon_days


# The template loop the Python navigation replaced (base.html before issue 15's nav_items).
_NAV_LOOP = """    <ul>
    {% for item in nav %}
      <li><a href="{{ item.href }}" {% if current_path == item.href %}aria-current="page"{% endif %}>{{ item.label }}{% if item.count %} <span class="badge">{{ item.count }}</span>{% endif %}</a></li>
    {% endfor %}
    </ul>
"""


def test_the_navigation_is_the_template_loops_markup_escaped():
    from markupsafe import Markup

    from core.contract import MenuItem
    from web.templating import build_environment, nav_items

    env = build_environment([])
    navs = [
        [{"label": "工作台", "href": "/"}, {"label": "站内消息", "href": "/inbox", "count": 65},
         {"label": "新技术准入", "href": "/admission", "key": "admission", "count": 0},
         {"label": "<b>插件</b> & \"引号\"", "href": "/p/x?a=1&b=<2>"}, MenuItem(label="吉林省备案要求", href="/p/jilin"),
         {"label": Markup("<i>已转义</i>"), "href": "/p/y", "count": "3 & 4"}, {"label": "无计数", "href": "/z",
                                                                               "count": None}],
        [],
    ]
    for nav in navs:
        for current in ("/", "/inbox", "/p/x?a=1&b=<2>", "/p/jilin", "/elsewhere", None):
            assert str(nav_items(nav, current)) == env.from_string(_NAV_LOOP).render(
                nav=nav, current_path=current), (nav, current)
    # Kept per distinct navigation: another count or another current page draws anew.
    first = nav_items(navs[0], "/")
    assert str(nav_items(navs[0], "/")) == str(first)
    counted = [dict(item, count=66) if isinstance(item, dict) and item["href"] == "/inbox" else item
               for item in navs[0]]
    assert '<span class="badge">66</span>' in nav_items(counted, "/")
    assert '<a href="/inbox" aria-current="page">' in nav_items(navs[0], "/inbox")


def _side_nav(html: str) -> str:
    import re

    return re.search(r'<nav class="side"[^>]*>(.*?)</nav>', html, flags=re.S).group(1)


async def test_a_role_change_shows_in_the_next_navigation(login_as):
    """The navigation is drawn from the roles the session query reads at each request."""
    client = await login_as("medaffairs_a")
    assert 'href="/outbox"' in _side_nav((await client.get("/")).text)
    user = (await User.select(User.id, User.roles).where(User.username == "medaffairs_a")
            .output(load_json=True))[0]
    assert "medical_affairs" in user["roles"]
    try:
        await User.update({User.roles: ["clinician"]}).where(User.id == user["id"])
        nav = _side_nav((await client.get("/")).text)
        assert 'href="/outbox"' not in nav and 'href="/departments"' not in nav
    finally:
        await User.update({User.roles: user["roles"]}).where(User.id == user["id"])
    assert 'href="/outbox"' in _side_nav((await client.get("/")).text)


async def test_a_new_message_and_a_new_admission_task_show_in_the_next_badges(login_as, deployment):
    """The badges are counted at each request: a new message raises the inbox's, a project
    submitted for review raises the department head's 新技术准入 count on the very next page
    (and leaves it when the step is done)."""
    import re

    from core import clock
    from core.db import write_transaction
    from core.inbox import service as inbox
    from tests.admission_helpers import valid_form, walk

    def badge(html: str, href: str) -> int:
        found = re.search(rf'<a href="{re.escape(href)}" [^>]*>[^<]*(?: <span class="badge">(\d+)</span>)?</a>',
                          _side_nav(html))
        return int(found.group(1) or 0)

    client = await login_as("depthead_a")
    page = (await client.get("/")).text
    unread, waiting = badge(page, "/inbox"), badge(page, "/admission")
    me = await User.select(User.id).where(User.username == "depthead_a").first()
    async with write_transaction():
        await inbox.deliver([me["id"]], "导航计数测试", "正文")
    assert badge((await client.get("/")).text, "/inbox") == unread + 1
    hooks = deployment["host"].view()
    clinician = await actor("clinician_a")
    project_id = await admission.create_project(clinician, hooks, admission.NewProject(
        title="导航计数测试项目", path="temporary", outside_lists=True))
    await admission.submit(clinician, hooks, project_id, valid_form())
    page = (await client.get("/")).text
    assert badge(page, "/admission") == waiting + 1 and f'data-task="project-{project_id}"' in page
    await walk(hooks, project_id, "ethics", clock.today())
    page = (await client.get("/")).text
    assert badge(page, "/admission") == waiting and f'data-task="project-{project_id}"' not in page


async def test_the_sqlite_reader_reads_in_one_trip_what_a_cursor_reads_and_sees_each_commit(deployment):
    """``core.db.SQLiteReaderEngine`` runs a SELECT and reads it to the end in one trip to its
    connection's thread: the rows a cursor read gives, and a write committed since is seen."""
    from core.db import engine, is_sqlite, write_transaction
    from core.inbox.tables import InboxMessage

    if not is_sqlite():
        pytest.skip("SQLite's reader connection")
    db = engine()
    sql = f"SELECT id, username, roles FROM {User._meta.tablename} ORDER BY id"
    rows = await db._run_in_new_connection(sql)
    connection = await db._reader()
    async with connection.execute(sql) as cursor:
        assert rows == await cursor.fetchall() and rows and isinstance(rows[0], dict)
    count = f"SELECT COUNT(*) AS n FROM {InboxMessage._meta.tablename}"
    before = (await db._run_in_new_connection(count))[0]["n"]
    me = await User.select(User.id).where(User.username == "clinician_a").first()
    from core.inbox import service as inbox

    async with write_transaction():
        await inbox.deliver([me["id"]], "读取测试", "正文")
    assert (await db._run_in_new_connection(count))[0]["n"] == before + 1
