"""The payment ledger (兑现台账): rounds and claim lines in a real database.

SQLite by default (``claims.db`` or ``sqlite:///claims.db``), PostgreSQL for a bureau's shared deployment
(``postgresql://…``), through one code path (SQLAlchemy Core 2); the schema is versioned by Alembic
migrations shipped in this package (``engine.ledger.migrate``). Optional: ``pip install huiqi[ledger]``.

The core engine never imports this package; it sees a ledger only through ``engine.claims.ClaimLookup``,
which ``engine.ledger.lookup.DatabaseClaims`` implements.
"""


def open_lookup(url: str):
    """A ``ClaimLookup`` over the ledger at ``url`` (``engine.ledger.lookup.DatabaseClaims``)."""
    from engine.ledger.lookup import open_lookup as _open

    return _open(url)
