"""Schema versions: Alembic migrations shipped in this package, configured in code (no alembic.ini), so they
run the same from a source checkout and from an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from engine.ledger.db import LedgerError, writing

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head()


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate forward to ``revision`` in one transaction; returns (revision before, revision after)."""
    before = current_revision(engine)
    if before is not None and before not in known_revisions():
        raise _newer(before)
    with writing(engine) as connection:
        command.upgrade(_config(connection), revision)
    return before, current_revision(engine)


def require_current(engine: Engine) -> None:
    """Refuse to work on a ledger that is not initialised, or not at this version's schema."""
    revision = current_revision(engine)
    if revision is None:
        raise LedgerError("台账尚未初始化：请先运行 huiqi ledger init 台账地址",
                          "the ledger is not initialised: run huiqi ledger init URL first")
    if revision not in known_revisions():
        raise _newer(revision)
    if revision != head_revision():
        raise LedgerError(f"台账结构版本 {revision} 较旧：请运行 huiqi ledger init 台账地址 升级到 {head_revision()}",
                          f"the ledger's schema is at revision {revision}: run huiqi ledger init URL to migrate it "
                          f"to {head_revision()}")


def _newer(revision: str) -> LedgerError:
    return LedgerError(f"台账结构版本 {revision} 由更新版本的 Huiqi 创建，本版本无法使用；请升级 Huiqi",
                       f"the ledger's schema revision {revision} was made by a newer Huiqi; upgrade Huiqi to use it")
