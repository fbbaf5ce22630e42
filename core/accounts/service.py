"""Accounts: passwords (argon2), login with rate limits, server-side sessions, users."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core import listing
from core.accounts import person as person_service
from core.accounts.roles import ROLE_LABELS
from core.accounts.rules import check_user_input
from core.accounts.schemas import Actor, PersonInput, UserInput, UserRow
from core.accounts.tables import LoginAttempt, User, UserSession
from core.audit import service as audit
from core.db import Prepared, write_transaction
from core.errors import DomainError, NotFound, Problem
from core.messages import t
from core.settings import get_settings
from core.tenancy.tables import Department, Institution, Region

# Tests may lower argon2's cost (CLINTECH_FAST_HASH=1) so a suite can create many
# users; the algorithm stays argon2id. Production never sets it.
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    if get_settings().fast_hash
    else PasswordHasher()
)
# Verified against for unknown users, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")

LOGIN_WINDOW = dt.timedelta(minutes=15)
WRONG_LOGIN = "用户名或密码错误"


class Throttle(msgspec.Struct, frozen=True):
    """Failed logins of one kind of key: the first ``free`` within ``LOGIN_WINDOW`` cost
    nothing; each further one doubles the wait before the next attempt (1 s, 2 s, 4 s …)
    up to ``cap`` seconds. A wait, never a lock: the owner gets in once it has passed."""

    prefix: str
    free: int
    cap: int


# One user at one address (the typical guesser) slows down fast; an account attacked from
# many addresses slows down later and waits at most a minute (its owner is never shut
# out for long); an address (a hospital NAT shares one) only after many failures.
THROTTLES = (Throttle("pair", 3, 300), Throttle("user", 10, 60), Throttle("addr", 20, 300))


def _keys(username: str, address: str) -> dict[str, str]:
    return {"pair": f"pair:{username}|{address}", "user": f"user:{username}", "addr": f"addr:{address}"}


def _wait(throttle: Throttle, failures: int, last: dt.datetime | None, now: dt.datetime) -> int:
    """Seconds still to wait before the next attempt under ``throttle``."""
    if failures < throttle.free or last is None:
        return 0
    delay = min(throttle.cap, 2 ** min(failures - throttle.free, 30))
    return max(0, int((last + dt.timedelta(seconds=delay) - now).total_seconds() + 0.999))


async def _failures(keys: list[str], now: dt.datetime) -> dict[str, tuple[int, dt.datetime | None]]:
    """Failures per key within the window and the latest one's time, in one query."""
    from piccolo.query.functions.aggregate import Count, Max

    rows = await LoginAttempt.select(LoginAttempt.key, Count(LoginAttempt.id, alias="n"),
                                     Max(LoginAttempt.at, alias="last")).where(
        LoginAttempt.key.is_in(keys) & (LoginAttempt.at > now - LOGIN_WINDOW)).group_by(LoginAttempt.key)
    return {r["key"]: (r["n"], _aware(r["last"])) for r in rows}


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    if isinstance(value, str):  # SQLite's MAX() answers text
        value = dt.datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


async def login_wait(username: str, address: str, now: dt.datetime | None = None) -> int:
    """Seconds before ``username`` may try again from ``address`` (0: now)."""
    now = now or _now()
    keys = _keys(username.strip().lower(), address)
    seen = await _failures(list(keys.values()), now)
    return max(_wait(th, *seen.get(keys[th.prefix], (0, None)), now) for th in THROTTLES)


class LoginRefused(DomainError):
    status_code = 401


class LoginThrottled(DomainError):
    status_code = 429


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def login(username: str, password: str, address: str, *, now: dt.datetime | None = None) -> str:
    """Check the password and open a session; returns the session token for the cookie.

    A wrong password and an unknown user get the same answer. Failures are counted per
    account, per address and per account-and-address; past each one's free attempts the
    next attempt must wait, longer after each failure (``THROTTLES``) — a wait, never a
    lock. ``address`` is the client's address as ``web.security.client_address`` reads it
    (behind trusted proxies only from their X-Forwarded-For).
    """
    now = now or _now()
    username = username.strip().lower()
    keys = _keys(username, address)
    if wait := await login_wait(username, address, now):
        raise LoginThrottled(t("login.throttled", seconds=wait))
    row = await User.select(User.id, User.password_hash, User.active).where(User.username == username).first()
    ok = False
    try:
        ok = _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password) and bool(row)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or not row["active"]:
        async with write_transaction():
            await LoginAttempt.insert(*(LoginAttempt(key=key, at=now) for key in keys.values()))
        raise LoginRefused(WRONG_LOGIN)
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        await LoginAttempt.delete().where(LoginAttempt.key.is_in([keys["pair"], keys["user"]]))
        await LoginAttempt.delete().where(LoginAttempt.at < now - LOGIN_WINDOW)
        await UserSession.delete().where(UserSession.expires_at < _now())
        await UserSession.insert(
            UserSession(
                token_hash=_token_hash(token),
                user=row["id"],
                expires_at=_now() + dt.timedelta(hours=get_settings().session_hours),
            )
        )
        if _hasher.check_needs_rehash(row["password_hash"]):
            await User.update({User.password_hash: _hasher.hash(password)}).where(User.id == row["id"])
    return token


async def throttled(now: dt.datetime | None = None) -> list[dict]:
    """For the admin: every account and address with failed logins in the window, with
    the failures, the latest one and the seconds still to wait."""
    now = now or _now()
    from piccolo.query.functions.aggregate import Count, Max

    rows = await LoginAttempt.select(LoginAttempt.key, Count(LoginAttempt.id, alias="n"),
                                     Max(LoginAttempt.at, alias="last")).where(
        LoginAttempt.at > now - LOGIN_WINDOW).group_by(LoginAttempt.key)
    by_prefix = {th.prefix: th for th in THROTTLES}
    out = []
    for r in rows:
        prefix, _, subject = r["key"].partition(":")
        throttle = by_prefix.get(prefix)
        if throttle is None:
            continue
        last = _aware(r["last"])
        out.append({"key": r["key"], "kind": prefix, "subject": subject, "failures": r["n"], "last": last,
                    "wait": _wait(throttle, r["n"], last, now), "free": throttle.free})
    return sorted(out, key=lambda x: (-x["wait"], -x["failures"], x["key"]))


async def clear_throttle(actor: Actor, key: str) -> None:
    """The admin lets an account or address try again at once. Audited."""
    async with write_transaction():
        deleted = await LoginAttempt.delete().where(LoginAttempt.key == key).returning(LoginAttempt.id)
        await audit.record(actor, "login.throttle_clear", "login_attempt", None,
                           after={"key": key, "failures": len(deleted)})


_ACTOR_COLUMNS = (
    UserSession.user.id,
    UserSession.user.username,
    UserSession.user.display_name,
    UserSession.user.roles,
    UserSession.user.active,
    UserSession.user.institution.id,
    UserSession.user.institution.name,
    UserSession.user.department.id,
    UserSession.user.region.id,
    UserSession.user.region.path,
    UserSession.user.region.name,
)


async def actor_for_session(token: str | None) -> Actor | None:
    """The actor of a live session token, in one query; ``None`` if absent or expired."""
    return (await session_with_state(token))[0]


class SessionRead(msgspec.Struct, frozen=True):
    """What one request reads with its session, in one query: the deployment state and
    the user's unread inbox count (the navigation's badge)."""

    deployment: Any  # core.system.service.DeploymentState
    unread: int = 0
    departments: int = 0  # the active departments of the user's institution (the dashboard's card)
    # The user's institution's change counter (``core.dashboard.tables.InstitutionChange``):
    # what a process keeps of the institution's dashboard holds while it stays the same.
    work_version: int = 0


def _departments_column():
    from piccolo.querystring import QueryString

    from core.tenancy.tables import Department

    return QueryString(
        f'(SELECT COUNT(*) FROM {Department._meta.tablename} d JOIN {User._meta.tablename} u '
        f'ON u.institution = d.institution WHERE u.id = "{UserSession._meta.tablename}"."user" '
        f'AND d.active)').as_alias("departments")


def _work_version_column():
    from piccolo.querystring import QueryString

    from core.dashboard.tables import InstitutionChange

    return QueryString(
        f'(SELECT c.version FROM {InstitutionChange._meta.tablename} c JOIN {User._meta.tablename} u '
        f'ON u.institution = c.institution WHERE u.id = "{UserSession._meta.tablename}"."user")'
    ).as_alias("work_version")


def _unread_column():
    from piccolo.querystring import QueryString

    from core.inbox.tables import InboxMessage

    return QueryString(
        f'(SELECT COUNT(*) FROM {InboxMessage._meta.tablename} m WHERE m."user" = '
        f'"{UserSession._meta.tablename}"."user" AND m.read_at IS NULL)').as_alias("unread")


def _session_query(token_hash, now):
    from core.system import service as system

    return (
        UserSession.select(*_ACTOR_COLUMNS, *system.state_columns(), _unread_column(), _departments_column(),
                           _work_version_column())
        .where((UserSession.token_hash == token_hash) & (UserSession.expires_at > now))
        .first()
        .output(load_json=True, nested=True)
    )


# Every request with a session runs it: built once (``core.db.Prepared``).
_SESSION_QUERY = Prepared(_session_query, 2)


async def session_with_state(token: str | None) -> tuple[Actor | None, SessionRead | None]:
    """The actor of a live session token with ``SessionRead``, in one query; ``(None,
    None)`` if the token is absent, unknown or expired (or the user deactivated)."""
    from core.system import service as system

    if not token:
        return None, None
    row = await _SESSION_QUERY.run(_token_hash(token), _now())
    if row is None or not row["user"]["active"]:
        return None, None
    u = row["user"]
    actor = Actor(
        id=u["id"],
        username=u["username"],
        display_name=u["display_name"],
        roles=tuple(u["roles"] or ()),
        institution_id=u["institution"]["id"],
        institution_name=u["institution"]["name"],
        department_id=u["department"]["id"],
        region_id=u["region"]["id"],
        region_path=u["region"]["path"],
        region_name=u["region"]["name"],
    )
    return actor, SessionRead(deployment=system.state_from(row), unread=int(row["unread"] or 0),
                              departments=int(row["departments"] or 0), work_version=int(row["work_version"] or 0))


async def logout(token: str | None) -> None:
    if token:
        async with write_transaction():
            await UserSession.delete().where(UserSession.token_hash == _token_hash(token))


# ---------------------------------------------------------------- user administration

_USER_FIELDS = (
    User.id, User.username, User.display_name, User.roles, User.institution,
    User.department, User.region, User.title, User.active,
)


async def list_users(*, institution: int | None = None) -> list[dict]:
    query = User.select(*_USER_FIELDS, User.institution.name, User.region.name).order_by(User.username)
    if institution:
        query = query.where(User.institution == institution)
    return await query.output(load_json=True)


async def user_list_spec() -> listing.ListSpec:
    """The admin's user list (issue 11 point 11): search by login or name, filter by
    institution or state, sort, page and export."""
    names = await Institution.select(Institution.id, Institution.name).order_by(Institution.name)
    return listing.ListSpec(
        table=User, columns=(*_USER_FIELDS, User.institution.name, User.region.name), title="用户",
        search=(User.username, User.display_name), search_hint="用户名或姓名", default_sort="username",
        filters=(listing.Filter(key="institution", label="医疗机构", kind="choice",
                                choices=tuple((str(r["id"]), r["name"]) for r in names),
                                clause=lambda v: User.institution == int(v)),
                 listing.Filter(key="active", label="启用", column=User.active, kind="yes_no")),
        sorts=(listing.Sort("username", "用户名", User.username),
               listing.Sort("display_name", "姓名", User.display_name)),
        export=(listing.field("用户名", "username"),
                listing.field("姓名", "display_name"),
                listing.ExportColumn("角色", lambda r: [ROLE_LABELS.get(x, x) for x in r["roles"] or []]),
                listing.ExportColumn("机构/区划", lambda r: r["institution.name"] or r["region.name"] or ""),
                listing.ExportColumn("状态", lambda r: "启用" if r["active"] else "停用")),
    )


async def get_user(user_id: int) -> UserRow:
    row = await User.select(*_USER_FIELDS).where(User.id == user_id).first().output(load_json=True)
    if row is None:
        raise NotFound("用户不存在")
    return UserRow(**row)


async def _check_references(data: UserInput) -> list[Problem]:
    problems = []
    if data.institution is not None and not await Institution.exists().where(Institution.id == data.institution):
        problems.append(Problem("医疗机构不存在", "institution"))
    if data.department is not None:
        dept = await Department.select(Department.institution).where(Department.id == data.department).first()
        if dept is None or dept["institution"] != data.institution:
            problems.append(Problem("科室不属于所选医疗机构", "department"))
    if data.region is not None and not await Region.exists().where(Region.id == data.region):
        problems.append(Problem("行政区划不存在", "region"))
    return problems


def _snapshot(data: UserInput | UserRow) -> dict:
    return {
        "username": data.username, "display_name": data.display_name, "roles": list(data.roles),
        "institution": data.institution, "department": data.department, "region": data.region,
        "title": data.title, "active": data.active,
    }


async def create_user(actor: Actor, data: UserInput, person: PersonInput | None = None,
                      today: dt.date | None = None) -> int:
    """Create a user (admin, or ``clintech users add``), with their person attributes (HOSP-5)
    when given; audited, in one transaction."""
    data.username = data.username.strip().lower()
    problems = check_user_input(data, creating=True) + await _check_references(data)
    if person is not None:
        problems += person_service.check_person(person, today)
    if await User.exists().where(User.username == data.username):
        problems.append(Problem("用户名已存在", "username"))
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        rows = await User.insert(
            User(
                username=data.username, display_name=data.display_name.strip(), roles=list(data.roles),
                institution=data.institution, department=data.department, region=data.region,
                title=data.title, active=data.active, password_hash=hash_password(data.password or ""),
            )
        ).returning(User.id)
        user_id = rows[0]["id"]
        await audit.record(actor, "user.create", "user", user_id, after=_snapshot(data),
                           institution_id=data.institution)
        if person is not None and person != PersonInput():
            await _set_person(actor, user_id, person)
    return user_id


async def _set_person(actor: Actor, user_id: int, person: PersonInput) -> None:
    """Inside the caller's transaction: HOSP-5's person attributes, audited as ``user.person``."""
    await person_service.set_person(actor, user_id, resident_since=person.resident_since, visiting=person.visiting,
                                    qualifications=person.qualifications)


async def update_user(actor: Actor, user_id: int, data: UserInput, person: PersonInput | None = None,
                      today: dt.date | None = None) -> None:
    """Change a user's name, roles, tenant or status (and password if given), and their person
    attributes (HOSP-5) when given; audited, in one transaction."""
    before = await get_user(user_id)
    data.username = before.username  # usernames are permanent: the audit trail names them
    problems = check_user_input(data, creating=False) + await _check_references(data)
    if person is not None:
        problems += person_service.check_person(person, today)
    if user_id == actor.id and (not data.active or "admin" not in data.roles):
        problems.append(Problem("不能停用自己的账号或移除自己的管理员角色", "roles"))
    if problems:
        raise DomainError(problems)
    values = {
        User.display_name: data.display_name.strip(), User.roles: list(data.roles),
        User.institution: data.institution, User.department: data.department,
        User.region: data.region, User.title: data.title, User.active: data.active,
    }
    if data.password:
        values[User.password_hash] = hash_password(data.password)
    async with write_transaction():
        await User.update(values).where(User.id == user_id)
        if not data.active or data.password:
            await UserSession.delete().where(UserSession.user == user_id)
        after = _snapshot(data) | ({"password": "changed"} if data.password else {})
        await audit.record(actor, "user.update", "user", user_id, before=_snapshot(before), after=after,
                           institution_id=data.institution)
        if person is not None and msgspec.to_builtins(person) != msgspec.to_builtins(
                PersonInput(**await person_service.get_person(user_id))):
            await _set_person(actor, user_id, person)
