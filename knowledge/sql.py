"""The SQL database (SQLite by default, any SQLAlchemy URL by DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url

metadata = MetaData()


def make_engine(url: str) -> Engine:
    """Create the engine and the tables this version knows."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            # WAL lets a reader (zbrain status) work while an ingest writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

    # Importing the table modules registers them on `metadata`.
    import bot.conversations  # noqa: F401
    import retrieval.calibration  # noqa: F401
    import retrieval.embedding_cache  # noqa: F401

    metadata.create_all(engine)
    return engine


def describe_url(url: str) -> str:
    """The URL with any password hidden, for status output and logs."""
    return make_url(url).render_as_string(hide_password=True)
