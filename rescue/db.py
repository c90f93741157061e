"""Database plumbing (SQLAlchemy only): declarative base, aware-UTC datetimes, engines and write transactions."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime given; use aware UTC datetimes"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


WRITE_OPTION = "rescue_write"  # execution option: this connection's transactions will write


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def ping(engine: Engine) -> None:
    """Run a trivial query on `engine`; raises when the database is unreachable."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def make_engine(url: str):
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # let SQLAlchemy, not pysqlite, begin transactions, so SAVEPOINTs nest correctly
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # a writing transaction takes the write lock first: a read lock cannot be upgraded while another
            # connection writes (WAL), which fails at once with "database is locked" instead of waiting
            immediate = conn.get_execution_options().get(WRITE_OPTION)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """The engine and session factories of one app (the app factory keeps it in app.extensions["db"]).

    `write_session_factory` makes sessions whose transactions begin with SQLite's write lock (BEGIN IMMEDIATE),
    for requests that will write; on PostgreSQL it is the same as `session_factory`.
    """

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(**{WRITE_OPTION: True})
        self.write_session_factory = sessionmaker(writer, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Take SQLite's write lock as the transaction's first statement (call it before any read).

    In WAL mode a transaction that reads and then writes cannot wait for a concurrent writer and fails
    with "database is locked"; one whose first statement writes waits (busy timeout) instead, and its
    later reads see the latest commit. PostgreSQL locks rows instead, so this does nothing there.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE app_state SET key = key WHERE 0"))


def one_at_a_time(session: Session, name: str) -> None:
    """Make transactions that call this with the same `name` run one after another until they end.

    For read-then-insert allocations such as the day's next incident number. PostgreSQL takes a transaction-level
    advisory lock; SQLite has one writer at a time already (see begin_write and BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
