"""Alembic environment: always run from code (``engine.ledger.migrate``) on a connection it passes in."""

from alembic import context

from engine.ledger.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
