"""The Litestar application factory."""

from __future__ import annotations

import logging

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from core import db
from core.plugins import PluginConfigError, PluginHost
from core.settings import get_settings
from web import errors
from web.assets import STATIC
from web.context import plugin_enabled, provide_actor, provide_hooks, provide_layout
from web.limits import check_request
from web.security import SecurityHeadersMiddleware
from web.templating import build_environment


def _plugin_routers(host: PluginHost) -> list[Router]:
    """Each plugin's routes behind a guard that answers 404 while it is switched off."""
    routers = []
    for plugin, handlers in host.view().answers("register_routes"):
        if handlers:
            routers.append(Router(path="/", route_handlers=handlers, guards=[plugin_enabled(plugin)]))
    return routers


async def _sync_catalogs(app: Litestar) -> None:
    """Sync the plugins' catalogues at start-up; a plugin whose files fail is logged
    (and shown on the admin plugin page), the others load."""
    from core.catalog import service as catalog

    try:
        report = await catalog.ensure_synced(app.state.plugin_host)
    except Exception as exc:  # the portal still starts; the catalogue syncs at first use
        logging.getLogger("clintech").error("目录同步失败：%s", exc)
        return
    for name, problems in report.failures().items():
        logging.getLogger("clintech").error("插件 %s 的目录加载失败（%d 个问题）", name, len(problems))


def _check_deadline_rules(host: PluginHost) -> None:
    """A plugin with a bad deadline rule, exemption or rules-in-force declaration stops
    the start with a message naming it."""
    from core.obligations.rules import DeadlineRuleError
    from core.obligations.service import exemptions_of, in_force_of

    try:
        exemptions_of(host.view())  # checks the rules, then the exemptions against them
        in_force_of(host.view())
    except DeadlineRuleError as exc:
        raise PluginConfigError(f"时限规则无效：{exc}") from exc
    from core.contract import ContractError
    from core.supervision.service import rules_in_force

    try:
        rules_in_force(host.view())  # an unknown detector stops the start, naming the plugin
    except ContractError as exc:
        raise PluginConfigError(str(exc)) from exc


def _template_dirs(host: PluginHost) -> list[str]:
    """Plugin template folders; an undeclared clash with a core page or between two
    plugins stops the start with a message naming the plugin and the template."""
    from web.templating import TemplateClashError, plugin_template_dirs

    try:
        return plugin_template_dirs(host)
    except TemplateClashError as exc:
        raise PluginConfigError(f"插件模板冲突：{exc}") from exc


def _job_runner(host: PluginHost, interval: int):
    """Start/stop handlers running the background jobs in this process (``clintech serve``)."""
    import asyncio

    from core import jobs

    tasks: list[asyncio.Task] = []

    async def start() -> None:
        tasks.append(asyncio.create_task(jobs.run_forever(host, interval, "serve"), name="clintech-jobs"))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        tasks.clear()

    return start, stop


async def _freeze_heap(app: Litestar) -> None:
    """Move what start-up built (modules, plugins, templates, catalogues: some 200,000 objects)
    out of the cyclic garbage collector's reach (``gc.freeze``). A full collection otherwise
    walks all of it: measured on the 1,000-institution deployment, each one stopped a request
    for ~80 ms (a page of p50 40 ms answered 120 ms at p99); frozen, it takes ~1 ms. Only the
    served app does this (``web.asgi``): in-process test apps come and go and must be collected."""
    import gc

    gc.collect()
    gc.freeze()


def create_app(host: PluginHost | None = None, *, run_jobs: bool = False, freeze_heap: bool = False) -> Litestar:
    """The portal; with ``run_jobs`` the background jobs run alongside (``clintech serve``);
    with ``freeze_heap`` what start-up built is frozen out of the garbage collector (served app)."""
    from web.accounts.controllers import LoginController
    from web.accounts.own import AccountController
    from web.admin.controllers import (
        AdminAuditController,
        AdminInstitutionController,
        AdminPluginController,
        AdminRegionController,
        AdminUserController,
    )
    from web.admission.controllers import AdmissionController, FileController
    from web.api.cases import PATH as CASES_API_PATH
    from web.api.cases import ROUTES as CASES_API
    from web.api.catalog import ROUTES as CATALOG_API
    from web.apitokens.controllers import ApiTokenController
    from web.body.controllers import BodyController
    from web.calendar.controllers import CalendarAdminController
    from web.cases.controllers import CaseController
    from web.catalog.controllers import CatalogAdminController, CatalogController
    from web.dashboard.controllers import DashboardController
    from web.evaluation.controllers import EvaluationController
    from web.filing.controllers import FilingController, PublicFilingController
    from web.grading.controllers import GradingController, PublicGradingController
    from web.health import healthz
    from web.lifecycle.controllers import LifecycleController
    from web.obligations.controllers import InboxController, ObligationController, ical_feed
    from web.outbox.controllers import AdminChannelController, OutboxController
    from web.people.controllers import PeopleController
    from web.qc.controllers import QC_ROUTES
    from web.site import emblem
    from web.supervision.controllers import (
        AnalyticsController,
        CreditController,
        CusumController,
        OpenDataController,
        WarningController,
    )
    from web.tenancy.controllers import DepartmentController, InstitutionController
    from web.training.controllers import TrainingController

    settings = get_settings()
    host = host or PluginHost(settings.plugins)
    plugin_dirs = _template_dirs(host)
    _check_deadline_rules(host)
    start_jobs, stop_jobs = _job_runner(host, settings.jobs_interval) if run_jobs else (None, None)
    app = Litestar(
        route_handlers=[
            LoginController,
            AccountController,
            DashboardController,
            InstitutionController,
            DepartmentController,
            AdminUserController,
            AdminInstitutionController,
            AdminRegionController,
            AdminPluginController,
            AdminAuditController,
            CatalogController,
            CatalogAdminController,
            *CATALOG_API,
            CalendarAdminController,
            ObligationController,
            InboxController,
            ical_feed,
            OutboxController,
            AdminChannelController,
            AdmissionController,
            FilingController,
            LifecycleController,
            PublicFilingController,
            EvaluationController,
            FileController,
            CaseController,
            GradingController,
            PeopleController,
            BodyController,
            TrainingController,
            PublicGradingController,
            *CASES_API,
            ApiTokenController,
            *QC_ROUTES,
            WarningController,
            CreditController,
            AnalyticsController,
            CusumController,
            OpenDataController,
            healthz,
            emblem,
            create_static_files_router(path="/static", directories=[STATIC], name="static"),
            *_plugin_routers(host),
        ],
        dependencies={
            "actor": Provide(provide_actor),
            "hooks": Provide(provide_hooks),
            "layout": Provide(provide_layout),
        },
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(build_environment(plugin_dirs))),
        # The case API authenticates by bearer token, never by cookie: no CSRF there.
        csrf_config=CSRFConfig(secret=settings.secret, cookie_samesite="lax", exclude=[CASES_API_PATH]),
        plugins=[HTMXPlugin()],
        exception_handlers=errors.HANDLERS,
        before_request=check_request,
        request_max_body_size=settings.max_request_bytes,
        openapi_config=OpenAPIConfig(title="ClinTech Portal API", version="0.1.0"),
        logging_config=LoggingConfig(log_exceptions="debug", configure_root_logger=False),
        debug=settings.debug,
        on_startup=[db.start_pool, _sync_catalogs, *([start_jobs] if start_jobs else []),
                    *([_freeze_heap] if freeze_heap else [])],
        on_shutdown=[*([stop_jobs] if stop_jobs else []), db.close_pool],
    )
    app.state.plugin_host = host
    app.state.jobs_inline = run_jobs
    # Outermost: the security headers reach every answer, unrouted 404s and errors included.
    app.asgi_handler = SecurityHeadersMiddleware(app.asgi_handler)
    if settings.count_queries:
        from web.metrics import QueryCountMiddleware

        app.asgi_handler = QueryCountMiddleware(app.asgi_handler)
    logging.getLogger("clintech").setLevel(logging.INFO)
    return app
