"""Ledger URLs → SQLAlchemy engines, one code path for SQLite and PostgreSQL.

* ``claims.db`` or ``sqlite:///claims.db``: an embedded SQLite file.
* ``postgresql://user@host/db``: PostgreSQL through psycopg 3 (the ``+psycopg`` driver is filled in).

On SQLite a write transaction (``writing``) starts with ``BEGIN IMMEDIATE``: a writer takes the database's
write lock at the start of its transaction, so two clerks recording at once queue instead of deadlocking on
a lock upgrade; readers begin deferred and never wait for a writer's lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SQLITE_BUSY_TIMEOUT_S = 60  # how long a second writer waits for the first one's transaction
_WRITE = "huiqi_write"  # execution option marking a write transaction


class LedgerError(Exception):
    """A ledger command cannot proceed; the message is given in Chinese and English."""

    def __init__(self, message_zh: str, message_en: str):
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh}\n{message_en}")

    def text(self, lang: str) -> str:
        return self.message_en if lang == "en" else f"{self.message_zh}\n{self.message_en}"


def normalise_url(url: str) -> str:
    """A plain file path becomes ``sqlite:///path``; ``postgresql://`` gets the psycopg 3 driver."""
    text = str(url).strip()
    if "://" not in text:
        if not text:
            raise LedgerError("未给出台账地址", "no ledger URL given")
        return "sqlite:///" + str(Path(text))
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise LedgerError(f"台账地址无法识别：{text}", f"cannot read the ledger URL: {text}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise LedgerError(f"不支持的数据库：{parsed.get_backend_name()}（可用 SQLite 或 PostgreSQL）",
                          f"unsupported database: {parsed.get_backend_name()} (use SQLite or PostgreSQL)")
    return parsed.render_as_string(hide_password=False)


def connect(url: str, create: bool = False) -> Engine:
    """An engine for ``url`` (see ``normalise_url``). A SQLite file must exist unless ``create`` (``ledger init``):
    a mistyped path is an error, not a new empty ledger."""
    target = make_url(normalise_url(url))
    if target.get_backend_name() == "sqlite":
        database = target.database or ""
        if database and database != ":memory:" and not Path(database).parent.exists():
            raise LedgerError(f"台账文件所在的文件夹不存在：{Path(database).parent}",
                              f"the ledger file's folder does not exist: {Path(database).parent}")
        if database and database != ":memory:" and not create and not Path(database).is_file():
            raise LedgerError(f"找不到台账文件：{database}（新台账请先运行 huiqi ledger init {database}）",
                              f"ledger file not found: {database} (for a new ledger run huiqi ledger init {database})")
        engine = create_engine(target, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _sqlite_transactions(engine)
        return engine
    try:
        # timestamps in UTC whatever the server's zone: they are compared and shown as UTC text
        return create_engine(target, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})
    except ModuleNotFoundError:
        raise LedgerError("缺少 PostgreSQL 驱动：请安装 huiqi[ledger]（psycopg）",
                          "the PostgreSQL driver is missing: install huiqi[ledger] (psycopg)") from None


def _sqlite_transactions(engine: Engine) -> None:
    """pysqlite's own transaction handling would begin lazily (deferred); take the write lock up front."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(_WRITE) else "BEGIN")


@contextlib.contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed when the block ends, rolled back on any exception (or a kill)."""
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE: True})
        with connection.begin():
            yield connection
