"""Ledger databases for tests: a SQLite file, and a fresh database on a real PostgreSQL server.

PostgreSQL comes from ``HUIQI_TEST_PG_URL`` (``scripts/ci/postgres.sh`` starts a server and prints it), else
the address that script uses. Where no server answers, PostgreSQL tests are skipped with a loud warning; under
CI (``CI`` set) they fail instead, since CI must have it.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator

import pytest

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:54329/postgres"
DIALECTS = ("sqlite", "postgresql")


def _admin_url() -> str:
    return os.environ.get("HUIQI_TEST_PG_URL", DEFAULT_PG_URL)


def _unavailable(reason: str) -> None:
    message = (f"!!! PostgreSQL NOT AVAILABLE ({reason}): the ledger's PostgreSQL tests are SKIPPED. "
               "Run `bash scripts/ci/postgres.sh` and export HUIQI_TEST_PG_URL. !!!")
    if os.environ.get("CI"):
        pytest.fail(message)
    warnings.warn(message, stacklevel=2)
    print("\n" + message)
    pytest.skip(message)


def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from engine.ledger.db import normalise_url

    admin_url = make_url(normalise_url(_admin_url()))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"huiqi_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means: no PostgreSQL here
        admin.dispose()
        _unavailable(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=DIALECTS, name="ledger_url")
def ledger_url_fixture(request, tmp_path) -> Iterator[str]:
    """An empty ledger database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "claims.db")
    else:
        yield from postgres_database()


def snapshot(url: str) -> dict:
    """Every row of every ledger table, for "exactly as before" comparisons."""
    from sqlalchemy import MetaData, select

    from engine.ledger.db import connect

    engine = connect(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        state = {name: sorted(map(tuple, connection.execute(select(table)).all()), key=repr)
                 for name, table in sorted(meta.tables.items())}
    engine.dispose()
    return state
