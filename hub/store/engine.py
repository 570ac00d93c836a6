"""The SQLAlchemy engine of the hub's SQLite file: WAL, synchronous=FULL, and real transactions.

pysqlite's own transaction handling neither begins a transaction before a SELECT or DDL statement nor lets us
choose BEGIN IMMEDIATE. As SQLAlchemy's SQLite documentation recommends ("Serializable isolation / Savepoints /
Transactional DDL"), it is switched off on every new connection (isolation_level=None) and the `begin` event
emits BEGIN itself: what runs inside `engine.begin()` commits or rolls back as a whole, DDL included.

A write transaction begins with BEGIN IMMEDIATE: the write lock is taken at the start, so a transaction that reads
a counter and then writes it cannot be overtaken by another writer (another process on the same file), and a
busy database fails at BEGIN, before anything was done, never halfway.
"""
from sqlalchemy import create_engine, event
from sqlalchemy.pool import StaticPool

# Execution option of a write engine (see write_engine): the BEGIN to emit.
BEGIN_OPTION = "deme_begin"
# How long a statement waits for another process's lock before failing (sqlite3's timeout, in seconds).
BUSY_TIMEOUT_S = 30


def sqlite_engine(path):
    """An engine over one shared sqlite3 connection (the store serialises its use with its own lock, as it did
    with its sqlite3 connection), which every thread of the hub may use."""
    engine = create_engine(
        "sqlite:///" + str(path),
        poolclass=StaticPool,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
    )
    event.listen(engine, "connect", _configure_connection)
    event.listen(engine, "begin", _begin)
    return engine


def write_engine(engine):
    """The same engine and connection, its transactions beginning with BEGIN IMMEDIATE."""
    return engine.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})


def _configure_connection(dbapi_connection, _connection_record):
    # No implicit BEGIN from pysqlite: _begin emits it. The pragmas run outside any transaction (journal_mode
    # cannot change inside one) and hold for the connection's life.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _begin(connection):
    # A read transaction (plain BEGIN) sees one snapshot of the database and blocks no writer.
    connection.exec_driver_sql(connection.get_execution_options().get(BEGIN_OPTION, "BEGIN"))
