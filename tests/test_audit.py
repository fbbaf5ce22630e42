"""The audit trail: one event per state change, in the change's transaction, from one writer."""

from __future__ import annotations

import ast
import secrets
from pathlib import Path

import pytest

from core.accounts.schemas import SYSTEM, Actor, UserInput
from core.tenancy.schemas import DepartmentInput, InstitutionInput, RegionInput

ROOT = Path(__file__).resolve().parent.parent


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


async def events_since(last_id: int) -> list[dict]:
    from core.audit.tables import AuditEvent

    return await AuditEvent.select().where(AuditEvent.id > last_id).order_by(AuditEvent.id).output(load_json=True)


async def last_event_id() -> int:
    from core.audit.tables import AuditEvent

    row = await AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id, ascending=False).first()
    return row["id"] if row else 0


@pytest.fixture
async def admin(deployment) -> Actor:
    return Actor(id=deployment["users"]["admin"]["id"], username="admin", display_name="系统管理员", roles=("admin",))


async def test_every_state_change_writes_exactly_one_event_with_actor_action_record_before_after(deployment, admin):
    """Each service that changes state, one after the other: one event each, naming the change."""
    from core.accounts import service as accounts
    from core.system import service as system
    from core.tenancy import service as tenancy

    changes = []

    async def step(expected_action: str, fn):
        start = await last_event_id()
        record_id = await fn()
        events = await events_since(start)
        assert [e["action"] for e in events] == [expected_action], expected_action
        changes.append((events[0], record_id))
        return record_id

    code = unique("A")
    county = await step("region.create", lambda: tenancy.create_region(
        admin, RegionInput(name="审计县", code=code, level="county", parent=deployment["city1"])))

    async def rename():
        await tenancy.rename_region(admin, county, "审计区")
        return county

    await step("region.rename", rename)
    licence = unique("AUD-")
    inst = await step("institution.create", lambda: tenancy.create_institution(
        admin, InstitutionInput(name="审计医院", licence_no=licence, grade="二级甲等", region=county,
                                registered_subjects=["内科", "外科"])))

    async def update_inst():
        await tenancy.update_institution(admin, inst, InstitutionInput(
            name="审计医院", licence_no=licence, grade="三级乙等", region=county, registered_subjects=["内科", "外科"]))
        return inst

    await step("institution.update", update_inst)
    dept = await step("department.create", lambda: tenancy.create_department(
        admin, inst, DepartmentInput(name="审计内科", subject="内科")))

    async def update_dept():
        await tenancy.update_department(admin, dept, DepartmentInput(name="审计内科", subject="外科"))
        return dept

    await step("department.update", update_dept)
    username = unique("t_audit_")
    user = await step("user.create", lambda: accounts.create_user(admin, UserInput(
        username=username, display_name="审计用户", roles=["clinician"], institution=inst, password="audit-pass-01")))

    async def update_user():
        await accounts.update_user(admin, user, UserInput(
            username=username, display_name="审计用户", roles=["clinician"], institution=inst, active=False))
        return user

    await step("user.update", update_user)

    async def switch():
        await system.set_plugin_enabled(admin, deployment["host"], "jilin", False)

    await step("plugin.switch", switch)

    for event, record_id in changes:
        assert event["actor_id"] == admin.id and event["actor_name"] == "admin"
        assert event["at"] is not None and event["record_type"]
        assert event["record_id"] == record_id
        assert event["after"] is not None
    by_action = {e["action"]: e for e, _ in changes}
    assert by_action["region.rename"]["before"] == {"name": "审计县"}
    assert by_action["region.rename"]["after"] == {"name": "审计区"}
    assert (by_action["institution.update"]["before"]["grade"], by_action["institution.update"]["after"]["grade"]) == (
        "二级甲等", "三级乙等")
    assert by_action["institution.update"]["institution_id"] == inst
    assert by_action["department.update"]["before"]["subject"] == "内科"
    assert by_action["department.update"]["after"]["subject"] == "外科"
    assert by_action["user.update"]["before"]["active"] is True and by_action["user.update"]["after"]["active"] is False
    assert "password" not in by_action["user.create"]["after"]  # never a password or its hash
    assert by_action["plugin.switch"]["after"] == {"name": "jilin", "enabled": False}


async def test_a_refused_change_writes_neither_the_change_nor_an_event(deployment, admin):
    from core.errors import DomainError
    from core.tenancy import service as tenancy
    from core.tenancy.tables import Region

    start, regions = await last_event_id(), await Region.count()
    with pytest.raises(DomainError):
        await tenancy.create_region(admin, RegionInput(name="错层", code=unique("X"), level="province",
                                                       parent=deployment["city1"]))
    assert await events_since(start) == [] and await Region.count() == regions


async def test_a_failure_after_the_row_write_rolls_back_both_the_change_and_its_event(deployment, admin):
    """The service's transaction joins the caller's; a failure after the row and the event
    were written inside it leaves neither behind."""
    from core.db import write_transaction
    from core.tenancy import service as tenancy
    from core.tenancy.tables import Region

    code = unique("RB")
    start = await last_event_id()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with write_transaction():
            region_id = await tenancy.create_region(
                admin, RegionInput(name="回滚县", code=code, level="county", parent=deployment["city1"]))
            # Inside the transaction both are there …
            assert await Region.exists().where(Region.id == region_id)
            assert [e["action"] for e in await events_since(start)] == ["region.create"]
            raise Boom()
    # … and after the failure neither is.
    assert not await Region.exists().where(Region.code == code)
    assert await events_since(start) == []


async def test_a_database_error_inside_the_change_rolls_back_the_event_too(deployment, admin):
    """A unique-constraint failure on the second write of one transaction undoes the first."""
    from core.db import write_transaction
    from core.tenancy import service as tenancy
    from core.tenancy.tables import Region

    code = unique("DU")
    start = await last_event_id()
    with pytest.raises(Exception) as exc:
        async with write_transaction():
            await tenancy.create_region(admin, RegionInput(name="第一", code=code, level="county",
                                                           parent=deployment["city1"]))
            # Bypasses the service's own duplicate check: the database refuses the row.
            await Region.insert(Region(name="重复", code=code, level="county", parent=deployment["city1"]))
    assert "unique" in str(exc.value).lower()
    assert await Region.count().where(Region.code == code) == 0
    assert await events_since(start) == []


async def test_audit_record_outside_a_transaction_raises(deployment, admin):
    from core.audit import service as audit

    start = await last_event_id()
    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        await audit.record(admin, "test.outside", "test", 1, after={"x": 1})
    assert await events_since(start) == []


async def test_the_system_actor_is_recorded_by_name(deployment):
    from core.tenancy import service as tenancy

    start = await last_event_id()
    region_id = await tenancy.create_region(SYSTEM, RegionInput(name="系统县", code=unique("S"), level="county",
                                                                parent=deployment["city2"]))
    [event] = await events_since(start)
    assert (event["actor_id"], event["actor_name"], event["record_id"]) == (None, "system", region_id)


# ---------------------------------------------------------------- one writer


_WRITES = {"insert", "update", "delete", "raw", "alter", "create_table", "save", "remove", "add_m2m"}


def _python_files():
    for folder in ("core", "web", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            if "piccolo_migrations" not in path.parts:
                yield path


def test_only_the_audit_service_writes_audit_events():
    """Scans the source: nothing but core/audit/service.py creates AuditEvent rows, and
    nothing at all updates or deletes them (the trail is append-only)."""
    writer = ROOT / "core" / "audit" / "service.py"
    offenders = []
    for path in _python_files():
        text = path.read_text(encoding="utf-8")
        if "audit_event" in text.lower() and any(
            f"{verb} audit_event" in text.lower() for verb in ("insert into", "update", "delete from")
        ):
            offenders.append(f"{path.relative_to(ROOT)}: SQL on audit_event")
        if "AuditEvent" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "AuditEvent":
                if node.attr in _WRITES and not (path == writer and node.attr == "insert"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: AuditEvent.{node.attr}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "AuditEvent":
                if path != writer:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: AuditEvent(...)")
    assert not offenders, "Audit events are written only by core.audit.service.record: " + "; ".join(offenders)


def test_every_service_that_writes_calls_the_audit_service():
    """A core module that opens a write transaction also records audit events (``record``,
    or ``record_many`` for a batch), unless it is listed in ``NOT_AUDITED`` with the reason
    (bookkeeping that is not a domain record)."""
    missing = []
    for path in (ROOT / "core").rglob("*.py"):
        rel = str(path.relative_to(ROOT))
        if rel in NOT_AUDITED or "piccolo_migrations" in rel:
            continue
        text = path.read_text(encoding="utf-8")
        if "async with write_transaction" in text and "record(" not in text and "record_many(" not in text:
            missing.append(rel)
    assert not missing, (
        f"These modules change state without an audit event: {missing}. Call "
        "core.audit.service.record(...) inside the transaction, or list the module in NOT_AUDITED "
        "in tests/test_audit.py with the reason."
    )


NOT_AUDITED: dict[str, str] = {
    "core/db.py": "defines write_transaction itself",
}


def test_audit_actions_read_in_chinese():
    from core.messages import audit_action, record_type

    assert audit_action("user.create") == "用户·新建"
    assert audit_action("filing.complete") == "限制类技术备案·完成"
    assert audit_action("calendar.notice.replace") == "节假日日历·替换放假安排"
    assert audit_action("mystery.thing") == "mystery·thing"  # never hidden, never a crash
    assert record_type("admission_project") == "新技术项目"


async def test_audit_page_shows_actions_in_chinese(deployment, login_as):
    client = await login_as("admin")
    page = await client.get("/admin/audit")
    assert "新建了用户" in page.text and 'data-action="user.create"' in page.text
