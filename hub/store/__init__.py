"""The hub's durable store (SQLite, WAL, synchronous=FULL) through SQLAlchemy Core, its schema migrated by Alembic.

    schema.py      the tables at the newest revision: the one place the schema is written
    api.py         Store, the only way the rest of the hub reads and writes the database
    engine.py      the SQLite engine: pragmas on every connection, BEGIN / BEGIN IMMEDIATE emitted by us
    migrate.py     Alembic configured in code; the store upgrades to head when it opens
    migrations/    env.py and versions/ (docs/hub-store.md: how to add one)
"""
from hub.store.api import ALERT_COLUMNS, DEVICE_COLUMNS, STATES, TRANSITIONS, Store, TransitionError
from hub.store.migrate import DatabaseTooNewError

__all__ = ["ALERT_COLUMNS", "DEVICE_COLUMNS", "STATES", "TRANSITIONS", "DatabaseTooNewError", "Store",
           "TransitionError"]
