"""Alembic migrations of the hub's database; run by hub.store.migrate (no alembic.ini: see docs/hub-store.md)."""
