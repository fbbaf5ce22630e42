"""SQLite's connection pool (``core.db.SQLiteReaderEngine``, issue 9): transactions and
writes outside one reuse the engine's connections instead of opening one each (a new
connection parses the whole schema first), and a connection is given back only in a clean
state — committed or rolled back, never inside a transaction a failed COMMIT left open.

Counted and compared, never timed. SQLite only (PostgreSQL has asyncpg's pool).
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tests.conftest import DB_KIND

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="SQLite 的连接池（PostgreSQL 用 asyncpg 的连接池）")


@pytest.fixture
def opened(monkeypatch):
    """The connections the engine opens during the test (readers and pooled)."""
    from core.db import engine

    db = engine()
    made: list = []
    connect = db._connect

    async def counting():
        connection = await connect()
        made.append(connection)
        return connection

    monkeypatch.setattr(db, "_connect", counting)
    return made


async def _me() -> int:
    from core.accounts.tables import User

    return (await User.select(User.id).where(User.username == "clinician_a").first())["id"]


async def _titled(title: str) -> int:
    """Rows with ``title``, read by a connection of its own (what another process sees)."""
    from core.db import engine
    from core.inbox.tables import InboxMessage

    with sqlite3.connect(engine().path) as connection:
        (n,) = connection.execute(f"SELECT COUNT(*) FROM {InboxMessage._meta.tablename} WHERE title = ?",
                                  (title,)).fetchone()
    connection.close()
    return n


async def test_ten_write_transactions_in_a_row_open_one_connection_and_each_commits(deployment, opened):
    from core.db import write_transaction
    from core.inbox import service as inbox

    me = await _me()
    opened.clear()
    for n in range(10):
        async with write_transaction():
            await inbox.deliver([me], "连接池：逐个提交", f"第 {n} 条")
        assert await _titled("连接池：逐个提交") == n + 1  # committed before the next one starts
    assert len(opened) <= 1


async def test_a_write_outside_a_transaction_returns_its_rows_on_a_pooled_connection(deployment, opened):
    from core.db import engine
    from core.inbox.tables import InboxMessage

    me = await _me()
    opened.clear()
    for n in range(5):
        rows = await InboxMessage.insert(InboxMessage(user=me, title="连接池：单条写入", body=str(n))).returning(
            InboxMessage.id)
        assert rows and isinstance(rows[0]["id"], int)
    assert await _titled("连接池：单条写入") == 5
    assert len(opened) <= 1
    idle = engine()._idle[id(asyncio.get_running_loop())]
    assert idle and not any(c.in_transaction for c in idle)


async def test_a_failed_transaction_rolls_back_and_its_connection_serves_the_next_one_clean(deployment, opened):
    from core.db import engine, write_transaction
    from core.inbox import service as inbox

    me = await _me()
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await inbox.deliver([me], "连接池：回滚", "不应留下")
            raise RuntimeError("a step failed")
    assert await _titled("连接池：回滚") == 0
    idle = engine()._idle[id(asyncio.get_running_loop())]
    assert not any(c.in_transaction for c in idle)
    async with write_transaction():  # not "cannot start a transaction within a transaction"
        await inbox.deliver([me], "连接池：回滚之后", "提交")
    assert await _titled("连接池：回滚之后") == 1


async def test_a_connection_whose_commit_failed_is_closed_not_given_back(deployment, opened):
    """A deferred foreign key fails at COMMIT, which leaves SQLite's transaction open: that
    connection must not serve the next transaction."""
    from core.db import engine, write_transaction
    from core.inbox import service as inbox
    from core.inbox.tables import InboxMessage

    db = engine()
    opened.clear()
    with pytest.raises(sqlite3.IntegrityError):
        async with write_transaction():
            failing = db.current_transaction.get().connection
            await failing.execute("PRAGMA defer_foreign_keys = ON")
            await InboxMessage.insert(InboxMessage(user=10**9, title="连接池：提交失败", body=""))
    assert failing not in db._idle.get(id(asyncio.get_running_loop()), [])
    assert await _titled("连接池：提交失败") == 0
    async with write_transaction():
        await inbox.deliver([await _me()], "连接池：提交失败之后", "提交")
    assert await _titled("连接池：提交失败之后") == 1


async def test_concurrent_transactions_each_have_a_connection_and_the_pool_keeps_a_few(deployment):
    from core.db import engine
    from core.inbox.tables import InboxMessage

    db = engine()
    me = await _me()
    everyone_inside = asyncio.Event()
    held: list = []

    async def one() -> None:
        async with db.transaction():  # deferred: these may overlap, each on its own connection
            held.append(db.current_transaction.get().connection)
            if len(held) == 8:
                everyone_inside.set()
            await everyone_inside.wait()
            await InboxMessage.select(InboxMessage.id).where(InboxMessage.user == me)

    await asyncio.gather(*(one() for _ in range(8)))
    assert len({id(c) for c in held}) == 8  # eight transactions open at once: eight connections
    idle = db._idle[id(asyncio.get_running_loop())]
    assert len(idle) == db.POOL and set(idle) <= set(held)  # the rest were closed


async def test_closing_the_readers_closes_the_pooled_connections_too(deployment):
    from core.db import engine, write_transaction
    from core.inbox import service as inbox

    db = engine()
    async with write_transaction():
        await inbox.deliver([await _me()], "连接池：关闭", "")
    pooled = list(db._idle[id(asyncio.get_running_loop())])
    assert pooled
    await db.close_readers()  # what the kit does before it replaces the file
    assert db._idle == {} and db._readers == {}
    for connection in pooled:
        with pytest.raises(ValueError):  # aiosqlite: "no active connection"
            await connection.execute("SELECT 1")


async def test_foreign_keys_hold_inside_a_transaction_on_a_pooled_connection(deployment):
    """Queries inside a transaction skip piccolo's ``PRAGMA foreign_keys = 1`` before each
    statement: the pooled connection has it from when it was opened."""
    from core.db import write_transaction
    from core.inbox.tables import InboxMessage

    for _ in range(2):  # a new connection, then the same one given back
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            async with write_transaction():
                await InboxMessage.insert(InboxMessage(user=10**9, title="连接池：外键", body=""))
    assert await _titled("连接池：外键") == 0
