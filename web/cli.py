"""The ``clintech`` command: serve, migrate, demo, plugins, users."""

from __future__ import annotations

import asyncio
import functools
import sys
import warnings

import click

from core.errors import DatabaseUnavailable, DomainError
from core.plugins import PluginConfigError, PluginHost
from core.settings import get_settings

# Piccolo warns (with a source line) when it cannot reach the database; the CLI says
# so itself in one plain line.
warnings.filterwarnings("ignore", message=r".*Unable to connect to database")


def _fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(2)


def plain_errors(fn):
    """Known failures print one plain line and exit 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (PluginConfigError, DatabaseUnavailable, ValueError) as exc:
            _fail(str(exc))
        except DomainError as exc:
            _fail("；".join(p.message + (f"（{p.field}）" if p.field else "") for p in exc.problems))
        except OSError as exc:
            _fail(f"数据库无法连接：{exc}")
        except Exception as exc:
            # A driver error (a database that answers but refuses) is still one plain line.
            if type(exc).__module__.split(".")[0] in ("asyncpg", "sqlite3"):
                _fail(f"数据库错误：{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            raise

    return wrapper


def _host() -> PluginHost:
    return PluginHost(get_settings().plugins)


async def _migrate() -> None:
    from core import db

    await db.migrate()


@click.group()
def main() -> None:
    """ClinTech Portal 医疗技术临床应用管理平台"""


@main.command()
@plain_errors
def migrate() -> None:
    """Create or upgrade the database schema."""
    _host()
    asyncio.run(_migrate())
    click.echo(f"数据库已是最新结构：{get_settings().database_url.split('@')[-1]}")


@main.command()
@click.option("--scale", "scale", default=0, type=int,
              help="另外生成一个规模省份：N 家医疗机构及其项目、备案和多年病例（批量写入，用于压测）")
@click.option("--cases", "case_count", default=0, type=int, help="规模病例总数（默认每家机构 1000 例）")
@click.option("--years", default=3, type=int, help="病例覆盖的年数")
@plain_errors
def demo(scale: int, case_count: int, years: int) -> None:
    """Load the demo deployment (idempotent) and print the demo logins."""
    from core import demo as demo_data
    from core.system import service as system

    host = _host()

    async def run():
        from core import db

        await _migrate()
        await db.start_pool()  # PostgreSQL: thousands of small statements, not as many connections
        try:
            hooks = host.view(await system.disabled_plugins())
            logins = await demo_data.load(hooks)
            from core import demo_states

            for line in await demo_states.everything(hooks):
                click.echo(line)
            if scale > 0:
                from core import demo_scale

                await demo_scale.build(hooks, scale, case_count or scale * 1000, years=years, log=click.echo)
        finally:
            await db.close_pool()
        return logins

    logins = asyncio.run(run())
    click.echo(f"演示数据已就绪。所有演示账号的密码：{demo_data.DEMO_PASSWORD}")
    for line in demo_data.login_table(logins):
        click.echo(line)


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--workers", default=1, type=int)
@click.option("--jobs/--no-jobs", "run_jobs", default=None,
              help="后台任务（提醒、报送队列、时限重算）随服务运行（默认，亦可设 CLINTECH_JOBS）；"
                   "多主机部署用 --no-jobs，并在一台主机上运行 clintech worker")
@plain_errors
def serve(host: str, port: int, workers: int, run_jobs: bool | None) -> None:
    """Serve the portal (migrates first); runs the background jobs too unless --no-jobs."""
    import os

    import uvicorn

    if run_jobs is not None:
        # uvicorn imports web.asgi (in this process, or in its worker processes): the
        # environment carries the choice there.
        os.environ["CLINTECH_JOBS"] = "inline" if run_jobs else "separate"
        get_settings.cache_clear()
    _host()
    asyncio.run(_migrate())
    settings = get_settings()
    click.echo(f"ClinTech Portal 运行于 http://{host}:{port}/")
    if settings.jobs_inline:
        click.echo(f"后台任务（提醒、报送队列、时限重算）随服务运行，每 {settings.jobs_interval} 秒一轮")
    else:
        click.echo("后台任务未随服务运行：请在一台主机上运行 clintech worker")
    uvicorn.run("web.asgi:app", host=host, port=port, workers=workers, log_level="warning",
                proxy_headers=False)


@main.command()
@plain_errors
def plugins() -> None:
    """List installed plugins: name, version, source, hooks, state."""
    from core.system import service as system

    host = _host()
    disabled: frozenset[str] = frozenset()
    try:
        disabled = asyncio.run(system.disabled_plugins())
    except Exception:  # no database yet: show the deployment's configured set
        pass
    view = host.view(disabled)
    for p in host.plugins():
        state = ("on" if view.is_enabled(p.name) else "off") if p.in_deployment else "not in deployment"
        click.echo(f"{p.name:<18} {p.version:<8} {p.source:<12} {state:<18} {', '.join(p.hooks)}")
    from core.catalog import service as catalog

    report = asyncio.run(catalog.load(host))
    for name, pc in report.plugins.items():
        if pc.ok:
            click.echo(f"  目录 {name}: " + ("、".join(f"{e.title}（{len(e.entries)} 项）" for e in pc.editions) or "无"))
        else:
            click.echo(f"  目录 {name}: 加载失败", err=True)
            for problem in pc.problems:
                click.echo(f"    {problem}", err=True)


@main.group("plugin")
def plugin_group() -> None:
    """插件开发：生成插件骨架"""


@plugin_group.command("new")
@click.argument("name")
@click.option("--dir", "parent", default=".", type=click.Path(file_okay=False), help="写入的目录（默认当前目录）")
def plugin_new(name: str, parent: str) -> None:
    """Write a working plugin package NAME/ (entry point, hooks, catalogue, deadline rules, a test)."""
    from pathlib import Path

    from web import scaffold

    try:
        root = scaffold.write(name, Path(parent))
    except scaffold.ScaffoldError as exc:
        _fail(str(exc))
    shown = str(root) if root.is_absolute() else f"./{root}"
    click.echo(f"已生成插件 {name}：{shown}")
    click.echo(f"  pip install -e {shown}")
    click.echo(f"  pytest {shown}")
    click.echo(f"  CLINTECH_PLUGINS={name},hospital_default clintech demo")


@main.group()
def catalog() -> None:
    """Technology catalogues (目录)."""


@catalog.command("sync")
@plain_errors
def catalog_sync() -> None:
    """Load every plugin's catalogue files into the database now."""
    from core.catalog import service as catalog_service

    host = _host()

    async def run():
        await _migrate()
        return await catalog_service.sync(host)

    report = asyncio.run(run())
    click.echo(f"目录已同步：{len(report.merged)} 个版本")
    for name, problems in report.failures().items():
        click.echo(f"插件 {name} 的目录加载失败：", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)


@main.group()
def users() -> None:
    """Manage users."""


@users.command("list")
@plain_errors
def users_list() -> None:
    """List the users: name, display name, roles, state."""
    from core.accounts import service as accounts

    _host()

    async def run():
        await _migrate()
        return await accounts.list_users()

    for u in asyncio.run(run()):
        click.echo(f"{u['username']:<20} {u['display_name']:<10} {','.join(u['roles']):<24} "
                   f"{'active' if u['active'] else 'inactive'}")


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--institution", type=int)
@click.option("--region", type=int)
@click.password_option()
@plain_errors
def users_add(username, display_name, roles, institution, region, password) -> None:
    """Create a user (e.g. the first admin of a production deployment)."""
    from core.accounts import service as accounts
    from core.accounts.schemas import SYSTEM, UserInput

    _host()

    async def run():
        await _migrate()
        return await accounts.create_user(SYSTEM, UserInput(
            username=username, display_name=display_name, roles=list(roles), institution=institution,
            region=region, password=password))

    click.echo(f"已创建用户 {username}（编号 {asyncio.run(run())}）")


@main.group("calendar")
def calendar_group() -> None:
    """Working days on the deployment calendar (official + plugins + entered notices)."""


def _calendar_date(value: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        _fail(f"日期「{value}」格式不正确，应为 YYYY-MM-DD，例如 2025-09-26")


def _deployment_calendar():
    from core.holidays import service as holidays

    cal, warning = asyncio.run(holidays.deployment_calendar(_host()))
    if warning:
        click.echo(f"注意：{warning}", err=True)
    return cal


@calendar_group.command("add")
@click.argument("start")
@click.argument("days")
@click.option("--before", is_flag=True, help="Count backwards (CAL-3).")
@plain_errors
def calendar_add(start: str, days: str, before: bool) -> None:
    """Print the DAYS-th working day after START (CAL-1; START is not counted)."""
    from core.calendar import MAX_COUNT

    day = _calendar_date(start)
    if not days.strip().isdigit() or int(days) > MAX_COUNT:
        _fail(f"工作日数「{days}」不正确，应为 0 到 {MAX_COUNT} 之间的整数")
    cal = _deployment_calendar()
    due = cal.working_days_before(day, int(days)) if before else cal.add_working_days(day, int(days))
    click.echo(due.date.isoformat())
    if due.provisional:
        click.echo(f"暂定日期：{due.provisional_note()}")


@calendar_group.command("check")
@click.argument("day")
@plain_errors
def calendar_check(day: str) -> None:
    """Say whether DAY is a working day, and why (make-up day, holiday name, weekend)."""
    parsed = _calendar_date(day)
    click.echo(_deployment_calendar().day_info(parsed).sentence())


@main.command()
@click.option("--interval", default=60, type=int, show_default=True, help="两轮之间的秒数")
@click.option("--once", is_flag=True, help="只运行一轮（供脚本和定时任务使用）")
@plain_errors
def worker(interval: int, once: bool) -> None:
    """Run the background jobs (reminders, outbox, …) in a loop; safe to run several."""
    from core import jobs

    host = _host()

    async def run() -> None:
        await _migrate()
        while True:
            results = await jobs.run_round(host, "worker")
            click.echo("；".join(f"{name.rsplit('.', 1)[-1]}: {n}" for name, n in results.items()) or "没有后台任务")
            if once:
                return
            await asyncio.sleep(max(interval, 1))

    asyncio.run(run())


if __name__ == "__main__":
    main()
