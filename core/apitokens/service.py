"""Per-institution API tokens (接口令牌) for the HIS interface (NAT-37: 逐例报送, from the hospital's HIS).

The admin issues a token to an institution and sees it once; only its SHA-256 is
stored. ``authenticate`` turns a bearer token into the ``Actor`` the case service
sees: scoped to that institution, with the pseudo-role ``his``. A revoked token
authenticates nothing. The only writer of ``api_token``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from core.accounts.schemas import Actor
from core.apitokens.tables import ApiToken
from core.audit import service as audit
from core.db import Prepared, write_transaction
from core.errors import DomainError, Forbidden, NotFound, Problem
from core.tenancy.tables import Institution

TOKEN_PREFIX = "ct_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("只有系统管理员可以签发或吊销接口令牌")


async def issue(actor: Actor, institution_id: int, name: str) -> tuple[int, str]:
    """Issue a token for ``institution_id``; returns ``(id, token)`` — the token is shown once."""
    _admin(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError(Problem("请填写令牌用途（如：HIS 病例报送）", "name"))
    if not await Institution.exists().where(Institution.id == institution_id):
        raise DomainError(Problem("请选择医疗机构", "institution"))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with write_transaction():
        rows = await ApiToken.insert(ApiToken(institution=institution_id, name=name[:100], prefix=token[:10],
                                              token_hash=_hash(token), created_by=actor.id or None)
                                     ).returning(ApiToken.id)
        await audit.record(actor, "apitoken.issue", "api_token", rows[0]["id"],
                           after={"name": name, "prefix": token[:10]}, institution_id=institution_id)
    return rows[0]["id"], token


async def revoke(actor: Actor, token_id: int) -> None:
    """Revoke a token at once; requests carrying it answer 401 from then on."""
    _admin(actor)
    row = await ApiToken.select().where(ApiToken.id == token_id).first()
    if row is None:
        raise NotFound("未找到该接口令牌")
    if row["revoked_at"] is not None:
        return
    async with write_transaction():
        await ApiToken.update({ApiToken.revoked_at: dt.datetime.now(dt.UTC)}).where(ApiToken.id == token_id)
        await audit.record(actor, "apitoken.revoke", "api_token", token_id, before={"prefix": row["prefix"]},
                           after={"revoked": True}, institution_id=row["institution"])


async def list_tokens(actor: Actor) -> list[dict]:
    """Every token (admin), newest first, with its institution's name."""
    _admin(actor)
    return await ApiToken.select(*ApiToken.all_columns(exclude=[ApiToken.token_hash]),
                                 ApiToken.institution.name).order_by(ApiToken.id, ascending=False)


# Every API request runs it: built once (``core.db.Prepared``).
_TOKEN_QUERY = Prepared(lambda token_hash: ApiToken.select(
    ApiToken.id, ApiToken.institution, ApiToken.name, ApiToken.prefix, ApiToken.revoked_at,
    ApiToken.institution.name).where(ApiToken.token_hash == token_hash).first(), 1)


async def authenticate(token: str | None) -> Actor | None:
    """The actor of a live bearer token, or None (unknown, malformed or revoked)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = await _TOKEN_QUERY.run(_hash(token))
    if row is None or row["revoked_at"] is not None:
        return None
    return Actor(id=0, username=f"api:{row['prefix']}", display_name=f"接口令牌 {row['name']}", roles=("his",),
                 institution_id=row["institution"], institution_name=row["institution.name"])
