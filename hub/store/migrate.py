"""Schema migrations of the hub's database with Alembic, configured here in code: no alembic.ini to find at run time,
the scripts are found in the installed package (hub/store/migrations).

The store calls upgrade_to_head when it opens, inside one BEGIN IMMEDIATE transaction: an upgrade that fails
leaves the database as it was, and two processes opening the same file never migrate it twice.

For developers (docs/hub-store.md):
    python -m hub.store.migrate revision -m "incident plans" [--autogenerate]
    python -m hub.store.migrate current deme.db
"""
import argparse
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from hub.store.engine import sqlite_engine, write_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseTooNewError(RuntimeError):
    """The database is at a schema revision this code does not have: a newer hub wrote it."""


def alembic_config(connection=None):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    # Revisions are numbered 0001, 0002...: the files sort in the order they apply.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def head_revision():
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revisions(connection):
    """The revisions the database is at: () for an empty database or one from before migrations."""
    return MigrationContext.configure(connection).get_current_heads()


def upgrade_to_head(connection):
    """Bring the database on `connection` (in a transaction, which the caller commits) to the newest revision.
    A database from before migrations is adopted by revision 0001 with its rows. Raises DatabaseTooNewError for
    a database that a newer hub has migrated further: this code would misread it."""
    config = alembic_config(connection)
    script = ScriptDirectory.from_config(config)
    current = current_revisions(connection)
    if current == (script.get_current_head(),):
        return  # the usual start: nothing to run, and nothing for Alembic to log
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = [revision for revision in current if revision not in known]
    if unknown:
        raise DatabaseTooNewError(
            "%s is at schema revision %s, which this hub does not know (its newest is %s): a newer version of the "
            "hub wrote it. Run that version or a newer one; this one would misread the database, and there is no "
            "automatic downgrade." % (connection.engine.url.database, ", ".join(unknown), script.get_current_head()))
    command.upgrade(config, "head")


def next_revision_id(script):
    numbers = [int(revision.revision) for revision in script.walk_revisions() if revision.revision.isdigit()]
    return "%04d" % (max(numbers, default=0) + 1)


def new_revision(message, autogenerate=False):
    """Write the next revision script into hub/store/migrations/versions. With autogenerate, Alembic fills it from
    the differences between hub.store.schema and a scratch database upgraded to the current head."""
    script = ScriptDirectory.from_config(alembic_config())
    rev_id = next_revision_id(script)
    if not autogenerate:
        return command.revision(alembic_config(), message, rev_id=rev_id)
    with tempfile.TemporaryDirectory() as scratch:
        engine = sqlite_engine(Path(scratch) / "head.db")
        try:
            with write_engine(engine).begin() as connection:
                upgrade_to_head(connection)
                return command.revision(alembic_config(connection), message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m hub.store.migrate", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="write the next migration script")
    revision.add_argument("-m", "--message", required=True, help="what the migration does")
    revision.add_argument("--autogenerate", action="store_true",
                          help="fill it from the differences between hub/store/schema.py and the current head")
    current = commands.add_parser("current", help="the revision a database is at (read only)")
    current.add_argument("database", type=Path)
    args = parser.parse_args(argv)
    if args.command == "revision":
        created = new_revision(args.message, args.autogenerate)
        print(created.path)
        return 0
    if not args.database.exists():
        parser.error("no database at %s" % args.database)
    engine = sqlite_engine(args.database)
    try:
        with engine.connect() as connection:
            revisions = current_revisions(connection)
    finally:
        engine.dispose()
    print("%s: %s (this code's head: %s)" % (args.database, ", ".join(revisions) or "no revision (before migrations)",
                                             head_revision()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
