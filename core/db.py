"""The database: engine from DATABASE_URL, write transactions, migrations, health."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

from core.errors import DatabaseUnavailable

# Queries run in the current request (``count_queries``), for the benchmark's
# ``queries`` figure: set by ``web.security.QueryCountMiddleware`` when
# CLINTECH_COUNT_QUERIES=1; None (nothing counted) otherwise.
_QUERY_COUNT: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("clintech_queries", default=None)


def _counted() -> None:
    box = _QUERY_COUNT.get()
    if box is not None:
        box[0] += 1


@contextlib.contextmanager
def count_queries() -> Iterator[list[int]]:
    """Count the queries run inside the block (in this task and those it starts):
    ``with count_queries() as n: ...; n[0]``."""
    box = [0]
    token = _QUERY_COUNT.set(box)
    try:
        yield box
    finally:
        _QUERY_COUNT.reset(token)


class CountingPostgresEngine(PostgresEngine):
    """PostgresEngine that counts its queries (see ``count_queries``)."""

    async def run_querystring(self, querystring, in_pool: bool = True):
        _counted()
        return await super().run_querystring(querystring, in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = True):
        _counted()
        return await super().run_ddl(ddl, in_pool)


class _PooledTransaction(SQLiteTransaction):
    """piccolo's SQLite transaction on a connection of the engine's pool: taken at the
    start, given back at the end (closed instead if the transaction did not end)."""

    __slots__ = ()

    async def get_connection(self):
        return await self.engine._take()

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            await self.engine._give(self.connection, broken=True)
            self.engine.current_transaction.reset(self.context)
            raise
        await self.engine._give(self.connection)
        self.engine.current_transaction.reset(self.context)
        return exception is None


class SQLiteReaderEngine(SQLiteEngine):
    """SQLiteEngine that keeps its connections instead of opening one (and a thread) per
    query or transaction, as piccolo does: a new connection parses the whole schema before
    its first statement (3.4 ms of CPU for the portal's 266 tables, indexes and triggers),
    and ``clintech demo`` opened about 700 of them.

    * Plain SELECTs outside transactions run on one long-lived reader connection per event
      loop. Safe with WAL: the connection is in autocommit mode and piccolo reads every
      cursor to the end, so each SELECT sees the latest committed data.
    * Transactions and writes outside one take a connection from the loop's pool and give
      it back when they end (``_PooledTransaction``); a connection still inside a
      transaction (a failed COMMIT or ROLLBACK) is closed, never given back. At most
      ``POOL`` idle connections are kept per loop.

    ``close_readers`` closes them all (before the file is replaced: the test kit's copies).
    """

    POOL = 4

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._readers: dict[int, aiosqlite.Connection] = {}
        self._idle: dict[int, list[aiosqlite.Connection]] = {}

    async def _connect(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        connection._thread.daemon = True  # never keep a CLI process alive
        await connection
        connection.row_factory = dict_factory
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    async def _reader(self) -> aiosqlite.Connection:
        loop = asyncio.get_running_loop()
        connection = self._readers.get(id(loop))
        if connection is None:
            connection = self._readers[id(loop)] = await self._connect()
        return connection

    async def _take(self) -> aiosqlite.Connection:
        idle = self._idle.get(id(asyncio.get_running_loop()))
        return idle.pop() if idle else await self._connect()

    async def _give(self, connection: aiosqlite.Connection, *, broken: bool = False) -> None:
        idle = self._idle.setdefault(id(asyncio.get_running_loop()), [])
        if broken or connection.in_transaction or len(idle) >= self.POOL:
            await connection.close()
        else:
            idle.append(connection)

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,
                    allow_nested: bool = True) -> SQLiteTransaction:
        return _PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def run_querystring(self, querystring, in_pool: bool = False):
        _counted()
        return await super().run_querystring(querystring, in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = False):
        _counted()
        return await super().run_ddl(ddl, in_pool)

    async def _run_in_existing_connection(self, connection, query, args=None, query_type="generic", table=None):
        """A query inside a transaction: piccolo's, less its ``PRAGMA foreign_keys = 1``
        before every statement (a second trip to the connection's thread). Every connection
        a transaction gets here has it set once, when opened (``_connect``)."""
        if query_type == "insert" and sqlite3.sqlite_version_info < (3, 35):  # no RETURNING: piccolo's way
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()

    async def close_readers(self) -> None:
        """Close every connection the engine keeps, readers and pooled, of every event loop
        (before the file is replaced, e.g. by the test kit giving a test module its own copy
        of the database)."""
        readers, self._readers = self._readers, {}
        idle, self._idle = self._idle, {}
        for connection in [*readers.values(), *(c for pool in idle.values() for c in pool)]:
            # stop() hands the close to the connection's own thread: safe from any loop.
            if (done := connection.stop()) is not None:
                await done

    async def _run_in_new_connection(self, query, args=None, query_type="generic", table=None):
        if query_type != "generic" or not query.lstrip()[:6].upper() == "SELECT":
            if query_type == "insert" and sqlite3.sqlite_version_info < (3, 35):  # no RETURNING: piccolo's way
                return await super()._run_in_new_connection(query, args, query_type, table)
            connection = await self._take()
            try:
                cursor = await connection.execute(query, args or [])
                try:
                    rows = await cursor.fetchall()
                finally:
                    await cursor.close()
            except BaseException:
                await self._give(connection, broken=True)
                raise
            await self._give(connection)
            return rows
        connection = await self._reader()
        # One trip to the connection's thread (execute and read to the end), not three
        # (execute, fetch, close): each trip wakes both threads.
        return await connection.execute_fetchall(query, args or [])


class _Slot:
    """Stands for a value of a ``Prepared`` query while it is built: found again, by
    identity, among the compiled query's arguments. ``index`` is the value's position, or
    (position, item) for an item of a list value."""

    __slots__ = ("index",)

    def __init__(self, index: int | tuple[int, int]) -> None:
        self.index = index


class Prepared:
    """A piccolo SELECT built and compiled once per engine, then run with new values.

    ``build(*slots)`` returns the query (a ``Select``, or its ``.first()``); each slot
    stands for one of the values ``run(*values)`` is called with. Building and compiling a
    select of many joined columns costs piccolo more than the database takes to answer a
    small indexed query; a page that runs the same query at every request builds it once.
    The rows are processed by the built query itself (JSON loading, nesting), so they
    are what running it would give. Each value must reach the SQL as given (compared with
    a column: no Enum, Table instance or JSON value), so every slot must appear among
    the compiled arguments — checked when it is built.

    The values at the positions in ``lists`` are lists (for ``is_in``): ``build`` gets a
    list of as many slots, and the query is compiled once per engine and per combination
    of those lists' lengths (an empty list: the caller decides, as piccolo refuses
    ``is_in([])``). A batch of cases asks the same dozen reads with lists of one or a few
    items, and each would cost piccolo more to build than the database to answer.
    """

    SHAPES = 64  # compiled shapes kept per query (lengths of its lists); beyond: start over

    def __init__(self, build: Any, arity: int, lists: tuple[int, ...] = ()) -> None:
        self.build = build
        self.arity = arity
        self.lists = lists
        self._compiled: dict[tuple, tuple] = {}

    def _compile(self, db: Engine, lengths: tuple[int, ...]) -> tuple:
        from piccolo.query.methods.select import First

        sizes = dict(zip(self.lists, lengths, strict=True))
        slots = [[_Slot((i, k)) for k in range(sizes[i])] if i in sizes else _Slot(i) for i in range(self.arity)]
        query = self.build(*slots)
        first = isinstance(query, First)
        select = query.query if first else query
        (querystring,) = select.querystrings
        sql, args = querystring.compile_string(engine_type=db.engine_type)
        used = {a.index for a in args if type(a) is _Slot}
        wanted = {(i, k) for i in sizes for k in range(sizes[i])} | (set(range(self.arity)) - set(sizes))
        if used != wanted:
            raise ValueError(f"prepared query: values {sorted(wanted - used, key=str)} do not reach the SQL")
        if len(self._compiled) >= self.SHAPES:
            self._compiled.clear()
        entry = (db, select, first, sql, list(args), querystring.query_type, querystring.table)
        self._compiled[(id(db), lengths)] = entry
        return entry

    async def run(self, *values: Any) -> Any:
        db = engine()
        lengths = tuple(len(values[i]) for i in self.lists)
        entry = self._compiled.get((id(db), lengths))
        if entry is None or entry[0] is not db:
            entry = self._compile(db, lengths)
        _, select, first, sql, args, query_type, table = entry
        querystring = QueryString("", query_type=query_type, table=table)
        querystring._frozen_compiled_strings = (sql, [
            a if type(a) is not _Slot else values[a.index] if type(a.index) is int else values[a.index[0]][a.index[1]]
            for a in args])
        rows = await select._process_results(await db.run_querystring(querystring))
        if first:
            return rows[0] if rows else None
        return rows


def engine_from_url(url: str) -> Engine:
    """``sqlite:///path`` (the embedded default) or ``postgresql://user@host:port/db``."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "sqlite":
        path = Path(parsed.path if url.startswith("sqlite:////") else url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        # A generous busy timeout: concurrent writers wait instead of failing.
        return SQLiteReaderEngine(path=str(path), timeout=30)
    if parsed.scheme in ("postgres", "postgresql"):
        return CountingPostgresEngine(
            config={
                "host": parsed.hostname or "127.0.0.1",
                "port": parsed.port or 5432,
                "user": urllib.parse.unquote(parsed.username or "postgres"),
                "password": urllib.parse.unquote(parsed.password or "") or None,
                "database": parsed.path.lstrip("/") or "clintech",
                "timeout": 5,
            }
        )
    raise ValueError(f"DATABASE_URL 无法识别: {url!r}（应为 sqlite:///路径 或 postgresql://…）")


def engine() -> Engine:
    from core.piccolo_conf import DB

    return DB


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


_WRITE_LOCKS: dict[int, asyncio.Lock] = {}


def _write_lock() -> asyncio.Lock:
    """One FIFO lock per event loop for SQLite writes."""
    loop = asyncio.get_running_loop()
    lock = _WRITE_LOCKS.get(id(loop))
    if lock is None:
        lock = _WRITE_LOCKS[id(loop)] = asyncio.Lock()
    return lock


@contextlib.asynccontextmanager
async def reads_together() -> AsyncIterator[None]:
    """Run a phase's reads on one pooled connection (PostgreSQL: a transaction, READ
    COMMITTED, so each statement still sees what is committed when it runs): one acquire and
    one reset of the connection instead of one each per query — a batch of cases' check
    reads about twenty times. SQLite: nothing (its reads share one connection already).
    Inside a transaction: joins it."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        yield
        return
    async with db.transaction():
        yield


@contextlib.asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A write transaction: IMMEDIATE on SQLite so concurrent writers queue, not fail.

    Nested calls join the outer transaction (piccolo keeps it in a ContextVar).
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        if db.current_transaction.get() is not None:  # nested: join the outer one
            async with db.transaction(transaction_type=TransactionType.immediate):
                yield
            return
        # Writers of this process queue in arrival order on one lock (issue 12.10): SQLite's
        # own busy handler polls with growing sleeps, so under 50 concurrent writers some
        # waited 20 s while others went first. The IMMEDIATE lock and the busy timeout
        # still order this process against others (the worker, the CLI).
        async with _write_lock():
            async with db.transaction(transaction_type=TransactionType.immediate):
                yield
    else:
        async with db.transaction():
            yield


async def start_pool() -> None:
    """PostgreSQL: open the connection pool (unless CLINTECH_DB_POOL=0); SQLite: nothing.
    The app's startup hook: no parameter (Litestar would pass the app to one)."""
    await open_pool(min_size=2)


async def open_pool(min_size: int) -> None:
    """``start_pool`` with ``min_size`` connections opened at once; the test kit opens its
    pools here too, so tests run on the portal's pool."""
    from core.settings import get_settings

    if isinstance(engine(), PostgresEngine) and get_settings().db_pool and not engine().pool:
        await engine().start_connection_pool(min_size=min_size, max_size=10, reset=_keep_session)


async def _keep_session(connection: Any) -> None:
    """What a connection returned to the pool needs beyond asyncpg's own rollback of an
    open transaction: nothing. asyncpg's default reset (``pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL``) is a round trip at every release — three in a batch of
    cases — for session state the portal never sets: no session advisory lock, cursor,
    ``LISTEN`` or ``SET`` outside a transaction (``tests/test_prepared.py`` keeps it so)."""


async def close_pool() -> None:
    if isinstance(engine(), PostgresEngine) and engine().pool:
        await engine().close_connection_pool()


async def check() -> dict:
    """Ping the database: ``{"ok": bool, "engine": ..., "error": ...}``."""
    db = engine()
    name = "sqlite" if isinstance(db, SQLiteEngine) else "postgresql"
    try:
        await db.run_ddl("SELECT 1")
    except Exception as exc:  # any driver error means "not answering"
        return {"ok": False, "engine": name, "error": str(exc)[:200]}
    return {"ok": True, "engine": name}


async def migrate() -> None:
    """Bring the schema up to date with the piccolo migrations of every app."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    status = await check()
    if not status["ok"]:
        raise DatabaseUnavailable(f"数据库无法连接（{status['engine']}）：{status['error']}")
    db = engine()
    if isinstance(db, SQLiteEngine):
        # WAL lets readers work while a writer commits; it persists in the file.
        await db.run_ddl("PRAGMA journal_mode=WAL")
    await _adopt_squashed_schema(db)
    with contextlib.redirect_stdout(None):
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"数据库迁移失败：{result.message}")


# The twelve migrations of 2026-11-25, squashed into the initial migration on 2026-12-04.
_SQUASHED_LAST = "2026-11-25T18:41:00:000000"
_INITIAL = "2026-12-04T16:30:40:856353"
_SUPERSEDED_INDEXES = ("case_record_late", "case_record_restricted", "obligation_institution_status_due")


async def _adopt_squashed_schema(db: Engine) -> None:
    """A database migrated before the squash already has the initial schema: record the
    initial migration as applied (and drop the indexes it no longer creates) instead of
    creating every table again."""
    from piccolo.apps.migrations.tables import Migration

    if not await Migration.table_exists():
        return
    ran = {row["name"] for row in await Migration.select(Migration.name)}
    if _SQUASHED_LAST not in ran or _INITIAL in ran:
        return
    async with db.transaction():
        for name in _SUPERSEDED_INDEXES:
            await db.run_ddl(f"DROP INDEX IF EXISTS {name}")
        await Migration.insert(Migration(name=_INITIAL, app_name="clintech"))


# PostgreSQL takes at most 32,767 parameters a statement (SQLite 32,766 since 3.32).
_MAX_PARAMETERS = 30000


async def allocate_ids(table: Any, count: int) -> list[int]:
    """``count`` new primary keys of ``table``, ascending, for rows a batch inserts later in
    its write transaction (so rows that cite them — a case's obligation, its delivery —
    can be written first, and the row itself once, complete). PostgreSQL draws them from
    the table's sequence (one query); SQLite continues after the largest id, safe because
    the write transaction holds the database (an ``INTEGER PRIMARY KEY`` without
    AUTOINCREMENT: what SQLite itself would assign)."""
    if count <= 0:
        return []
    name = table._meta.tablename
    pk = table._meta.primary_key._meta.db_column_name
    if engine().current_transaction.get() is None:
        raise RuntimeError("allocate_ids must be called inside the write transaction")
    if is_sqlite():
        rows = await table.raw(f'SELECT COALESCE(MAX("{pk}"), 0) AS top FROM "{name}"')
        top = int(rows[0]["top"])
        return list(range(top + 1, top + 1 + count))
    sequence = await _sequence(table)
    rows = await table.raw(f"SELECT nextval('{sequence}'::regclass) AS id FROM generate_series(1, {{}})", count)
    return sorted(int(r["id"]) for r in rows)


_SEQUENCES: dict[tuple[int, str], str] = {}


async def _sequence(table: Any) -> str:
    """The PostgreSQL sequence of ``table``'s primary key, looked up once per engine:
    ``pg_get_serial_sequence`` in the ``nextval`` itself is evaluated for every id drawn —
    ten times the cost of the ``nextval`` (1.2 ms for a batch's 200 deliveries)."""
    name, pk = table._meta.tablename, table._meta.primary_key._meta.db_column_name
    key = (id(engine()), name)
    found = _SEQUENCES.get(key)
    if found is None:
        rows = await table.raw(f"SELECT pg_get_serial_sequence('\"{name}\"', '{pk}') AS sequence")
        found = _SEQUENCES[key] = rows[0]["sequence"].replace("'", "''")
    return found


_SHAPES: dict[tuple[Any, bool], tuple] = {}


def _json_dumper() -> Any:
    """piccolo's ``dump_json`` (orjson when installed, else ``json.dumps(default=str)``),
    the stdlib encoder built once instead of per value: the same text."""
    from piccolo.utils import encoding

    if encoding.ORJSON:
        return encoding.dump_json
    import json

    return json.JSONEncoder(default=str).encode


def _shape(table: Any, with_pk: bool) -> tuple:
    """A table's insert shape, worked out once: column names in the database, keys of the
    rows, the JSON keys, and each column's default (a constant, or a piccolo ``Default``
    whose ``python()`` is called per insert, e.g. the time now)."""
    found = _SHAPES.get((table, with_pk))
    if found is None:
        from piccolo.columns import JSON, JSONB
        from piccolo.columns.defaults.base import Default

        columns = [c for c in table._meta.columns if not c._meta.primary_key or with_pk]
        defaults = []
        for column in columns:
            default = None if column._meta.primary_key else column.get_default_value()
            defaults.append((column._meta.name, default, isinstance(default, Default)))
        found = _SHAPES[(table, with_pk)] = (
            [c._meta.db_column_name for c in columns], [c._meta.name for c in columns],
            frozenset(c._meta.name for c in columns if isinstance(c, (JSON, JSONB))), defaults, _json_dumper())
    return found


def _row_values(table: Any, rows: list[dict]) -> tuple[list[str], list[str], list[list[Any]]]:
    """The column names (in the database, and as keys of ``rows``) and each row's values,
    a column left out taking its default (worked out once per call), JSON dumped as
    piccolo dumps it. The primary key is written only when the rows carry it."""
    names, keys, json_keys, default_of, dump = _shape(table, table._meta.primary_key._meta.name in rows[0])
    pairs = [(key, default.python() if is_default else default) for key, default, is_default in default_of]
    json_at = [index for index, key in enumerate(keys) if key in json_keys]
    # One comprehension a row, then only the JSON columns revisited: the same values as
    # testing every column of every row, at a third of the cost for a batch's 800 rows.
    out = [[row.get(key, default) for key, default in pairs] for row in rows]
    # One value object written in several rows (a case's payload queued to each platform)
    # is dumped once: the rows hold it for the whole call, so its id stays its own.
    dumped: dict[int, str] = {}
    for values in out:
        for index in json_at:
            value = values[index]
            if value is not None and not isinstance(value, str):
                text = dumped.get(id(value))
                if text is None:
                    text = dumped[id(value)] = dump(value)
                values[index] = text
    return names, keys, out


async def insert_many(table: Any, rows: list[dict], returning: tuple[str, ...] = ()) -> list[dict]:
    """Insert ``rows`` (column name → value) — what ``table.insert(*(table(**v) for v in
    rows))`` writes, without a Table instance per row and piccolo's conversion per value
    (in a batch of 100 cases those cost more than the database's own work). Columns a row
    leaves out take the column's default; JSON values are dumped as piccolo dumps them;
    a row may carry its primary key (``allocate_ids``). Runs in the current transaction;
    returns the ``returning`` columns of each row, in order.

    Inside a PostgreSQL transaction the rows go in by ``COPY`` (what the scale demo and
    the benchmark's raw insert use; triggers fire as for an INSERT), their ids drawn first
    when ``returning`` asks for them; elsewhere one multi-row ``INSERT … RETURNING``."""
    if not rows:
        return []
    transaction = engine().current_transaction.get()
    if transaction is not None and not is_sqlite():
        return await _copy_many(table, transaction.connection, rows, returning)
    names, keys, values = _row_values(table, rows)
    tail = f" RETURNING {', '.join(f'{chr(34)}{r}{chr(34)}' for r in returning)}" if returning else ""
    head = f'INSERT INTO "{table._meta.tablename}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) VALUES '
    if transaction is not None:  # SQLite: the transaction's own connection, no QueryString per value
        return await _sqlite_many(transaction.connection, head, tail, values)
    one = "(" + ", ".join("{}" for _ in keys) + ")"
    per_statement = max(1, _MAX_PARAMETERS // len(keys))
    out: list[dict] = []
    for start in range(0, len(values), per_statement):
        chunk = values[start:start + per_statement]
        found = await table.raw(head + ", ".join(one for _ in chunk) + tail, *(v for row in chunk for v in row))
        out += found or []
    return out


async def _sqlite_many(connection: Any, head: str, tail: str, values: list[list[Any]]) -> list[dict]:
    """The multi-row INSERT on the SQLite transaction's connection (piccolo's adapters,
    registered with ``sqlite3``, convert dates and datetimes as for its own queries)."""
    _counted()
    one = "(" + ", ".join("?" for _ in values[0]) + ")"
    per_statement = max(1, _MAX_PARAMETERS // len(values[0]))
    out: list[dict] = []
    connection.row_factory = dict_factory
    for start in range(0, len(values), per_statement):
        chunk = values[start:start + per_statement]
        async with connection.execute(head + ", ".join(one for _ in chunk) + tail,
                                      [v for row in chunk for v in row]) as cursor:
            out += await cursor.fetchall()
    return out


async def _copy_many(table: Any, connection: Any, rows: list[dict], returning: tuple[str, ...]) -> list[dict]:
    """PostgreSQL: ``COPY`` the rows in on the transaction's connection (one round trip,
    no statement to parse and plan per batch size), after drawing their ids when asked."""
    pk = table._meta.primary_key._meta.name
    if returning and pk not in rows[0]:
        ids = await allocate_ids(table, len(rows))
        rows = [row | {pk: new_id} for row, new_id in zip(rows, ids, strict=True)]
    names, keys, values = _row_values(table, rows)
    _counted()
    await connection.copy_records_to_table(table._meta.tablename, records=values, columns=names)
    if not returning:
        return []
    at = {key: names.index(key) for key in returning}
    return [{key: row[at[key]] for key in returning} for row in values]


def ids_clause(column: str, ids: Any) -> Any:
    """A where-clause ``column IN (…)`` for integer ids, written into the statement
    (each ``int()``-checked; none matches nothing): a list page asks for a thousand
    institutions, and piccolo's ``is_in`` converts and binds every value in Python — most
    of such a small read's time. ``column`` as it appears in the query, e.g.
    ``'"institution"."id"'``."""
    from piccolo.query import WhereRaw

    return WhereRaw(f"{column} IN ({', '.join(str(int(i)) for i in sorted(set(ids))) or '-1'})")

