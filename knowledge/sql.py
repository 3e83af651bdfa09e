"""The SQL database (SQLite by default, any SQLAlchemy URL by DATABASE_URL, PostgreSQL
through psycopg 3). Its schema is kept by the migrations in knowledge/migrations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)

metadata = MetaData()

# psycopg2 is not a dependency: a plain postgresql:// URL (SQLAlchemy's default driver for it
# is psycopg2) or a postgres:// one as many hosts hand out would otherwise fail to load.
_PSYCOPG_ALIASES = ("postgresql", "postgres")


def engine_url(url: str) -> URL:
    """The URL as given, with a PostgreSQL URL that names no driver pointed at psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in _PSYCOPG_ALIASES:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


class DatabaseUnavailable(Exception):
    """The database URL cannot be used: malformed, a driver missing, a directory missing, the
    server unreachable. One line saying what to do, never the password; the caller names the
    setting the URL came from."""


_EXAMPLES = "sqlite:///path/to/zbrain.db or postgresql://user:password@host/dbname"
# What to install for the SQLAlchemy dialects people try; psycopg 3 ships with zbrain.
_DRIVERS = {
    "mysql": "pip install mysqlclient (or pip install pymysql and write mysql+pymysql://)",
    "mariadb": "pip install mariadb",
    "mssql": "pip install pyodbc",
    "oracle": "pip install oracledb",
    "postgresql": "pip install 'psycopg[binary]'",
}
_CONNECT_TIMEOUT_SECONDS = 10


def make_engine(url: str, *, create_directory: bool = True) -> Engine:
    """Create the engine and bring the database's schema to this version's (migrations).

    A SQLite file's missing directory is created with `create_directory` (for the data dir
    zbrain owns); a URL a person wrote is opened without it, so a typo in a directory is an
    error and not silently a new, empty database. Raises DatabaseUnavailable when the URL
    cannot be used."""
    from knowledge.migrations import upgrade

    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _sqlite_directory(Path(parsed.database), create_directory)
    connect_args: dict[str, Any] = {}
    if backend == "postgresql" and "connect_timeout" not in parsed.query:
        # libpq waits for the operating system's TCP timeout (minutes) on a dead host.
        connect_args["connect_timeout"] = _CONNECT_TIMEOUT_SECONDS
    try:
        engine = create_engine(parsed, connect_args=connect_args)
    except NoSuchModuleError:
        raise DatabaseUnavailable(
            f"{parsed.drivername}:// is not a kind of database zbrain can use; use {_EXAMPLES}"
        ) from None
    except ImportError as exc:
        install = _DRIVERS.get(backend, f"install the Python driver for {backend}")
        raise DatabaseUnavailable(
            f"the Python driver for {parsed.drivername}:// is not installed ({exc}); "
            f"{install}; or use {_EXAMPLES}"
        ) from None
    if backend == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # First, so that switching a new file to WAL waits for a second process too.
            cursor.execute("PRAGMA busy_timeout=30000")
            # WAL lets a reader (zbrain status) work while an ingest writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            # SQLite's documented setting for WAL: commits skip the fsync (50 answers at once
            # queued on it), and a power cut can lose the last commits but never corrupt.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    _first_connection(engine, parsed, describe_url(url))
    upgrade(engine)
    return engine


def _parse(url: str) -> URL:
    try:
        return engine_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseUnavailable(f"not a database URL; expected one such as {_EXAMPLES}") from None


def _sqlite_directory(file: Path, create: bool) -> None:
    folder = file.parent
    if folder.is_dir():
        return
    if create and not folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
        return
    if folder.exists():
        raise DatabaseUnavailable(
            f"{folder} is a file, not a directory, so the SQLite file {file.name} cannot be "
            "made in it; name a file in an existing directory"
        )
    raise DatabaseUnavailable(
        f"the directory {folder} for the SQLite file {file.name} does not exist; create it "
        f"(mkdir -p {folder}) or name a file in an existing directory"
    )


def _first_connection(engine: Engine, parsed: URL, shown: str) -> None:
    """Connect once, so an unreachable server or unopenable file is one clear error; the
    connection goes back to the pool for the migrations check."""
    try:
        with engine.connect():
            pass
    except (OperationalError, InterfaceError) as exc:
        engine.dispose()
        reason = _first_line(exc, parsed.password)
        if parsed.get_backend_name() == "sqlite":
            raise DatabaseUnavailable(
                f"cannot open the SQLite database {parsed.database} ({reason}); "
                "check the path and its permissions"
            ) from None
        raise DatabaseUnavailable(
            f"cannot connect to {shown} ({reason}); check that the server is running and "
            "that host, port, user, password and database name are right"
        ) from None


def _first_line(exc: DBAPIError, password: str | None) -> str:
    # The driver's own words, first line only ("Connection refused", "password
    # authentication failed for user ..."), without SQLAlchemy's "(psycopg.OperationalError)"
    # prefix and with the password scrubbed in case a driver echoes the connection string.
    text = str(exc.orig) if exc.orig is not None else str(exc)
    line = next((part.strip() for part in text.splitlines() if part.strip()), "no reason given")
    line = line.removeprefix("connection failed: ")
    if password:
        line = line.replace(password, "***")
    return line


def describe_url(url: str) -> str:
    """The URL with any password hidden, for status output and logs."""
    return make_url(url).render_as_string(hide_password=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A datetime read back from the database, with its zone: SQLite hands back naive
    datetimes, and everything is stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
