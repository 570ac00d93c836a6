"""Alembic's environment: migrations run on the connection hub.store.migrate passes, inside its transaction."""
from alembic import context

from hub.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("the hub's migrations run through hub.store.migrate (python -m hub.store.migrate --help), "
                       "on a database connection, not from an alembic.ini")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite changes a table's columns by rebuilding it: autogenerate writes such changes as batch operations.
    render_as_batch=True,
    # The engine emits BEGIN itself (hub/store/engine.py), so DDL on SQLite is transactional.
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
