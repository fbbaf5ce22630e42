"""What a user does for their own account (issue 11 point 13): change their password,
see their sessions and end any of them. Audited; never touches anyone else's account."""

from __future__ import annotations

from argon2.exceptions import InvalidHashError, VerificationError

from core.accounts.rules import MIN_PASSWORD
from core.accounts.schemas import Actor
from core.accounts.service import _hasher, _now, _token_hash
from core.accounts.tables import User, UserSession
from core.audit import service as audit
from core.db import write_transaction
from core.errors import DomainError, NotFound, Problem


async def change_password(actor: Actor, current: str, new: str, confirm: str, session_token: str | None) -> int:
    """Check the current password, set the new one and end the user's other sessions
    (a password changed because it leaked locks out whoever holds it). Returns how many
    other sessions were ended."""
    row = await User.select(User.password_hash).where(User.id == actor.id).first()
    if row is None:
        raise NotFound("未找到该用户")
    try:
        ok = _hasher.verify(row["password_hash"], current or "")
    except (VerificationError, InvalidHashError):
        ok = False
    problems = []
    if not ok:
        problems.append(Problem("当前密码不正确", "current"))
    if len(new or "") < MIN_PASSWORD:
        problems.append(Problem(f"新密码至少 {MIN_PASSWORD} 位", "new"))
    elif ok and new == current:
        problems.append(Problem("新密码不能与当前密码相同", "new"))
    if (new or "") != (confirm or ""):
        problems.append(Problem("两次输入的新密码不一致", "confirm"))
    if problems:
        raise DomainError(problems)
    keep = _token_hash(session_token) if session_token else ""
    async with write_transaction():
        await User.update({User.password_hash: _hasher.hash(new)}).where(User.id == actor.id)
        others = await UserSession.delete().where(
            (UserSession.user == actor.id) & (UserSession.token_hash != keep)).returning(UserSession.id)
        await audit.record(actor, "user.password", "user", actor.id, after={"other_sessions_ended": len(others)},
                           institution_id=actor.institution_id)
    return len(others)


async def sessions(actor: Actor, session_token: str | None) -> list[dict]:
    """The user's live sessions, newest first; ``current`` marks this browser's."""
    current = _token_hash(session_token) if session_token else ""
    rows = await UserSession.select(UserSession.id, UserSession.token_hash, UserSession.created_at,
                                    UserSession.expires_at).where(
        (UserSession.user == actor.id) & (UserSession.expires_at > _now())).order_by(UserSession.id, ascending=False)
    return [{"id": r["id"], "created_at": r["created_at"], "expires_at": r["expires_at"],
             "current": r["token_hash"] == current} for r in rows]


async def end_session(actor: Actor, session_id: int) -> None:
    """End one of the user's own sessions (another user's answers like a missing one)."""
    async with write_transaction():
        gone = await UserSession.delete().where(
            (UserSession.id == session_id) & (UserSession.user == actor.id)).returning(UserSession.id)
        if not gone:
            raise NotFound("未找到该登录会话")
        await audit.record(actor, "user.session_end", "user", actor.id, after={"session": session_id},
                           institution_id=actor.institution_id)
