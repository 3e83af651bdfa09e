"""The SQL database (SQLite by default, any SQLAlchemy URL by DATABASE_URL, PostgreSQL
through psycopg 3). Its schema is kept by the migrations in knowledge/migrations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url

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


def make_engine(url: str) -> Engine:
    """Create the engine and bring the database's schema to this version's (migrations)."""
    from knowledge.migrations import upgrade

    parsed = engine_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # First, so that switching a new file to WAL waits for a second process too.
            cursor.execute("PRAGMA busy_timeout=30000")
            # WAL lets a reader (zbrain status) work while an ingest writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    upgrade(engine)
    return engine


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
