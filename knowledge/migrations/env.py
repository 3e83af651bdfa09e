"""Alembic's environment: run by `knowledge.migrations.upgrade` on the connection it passes in
`config.attributes["connection"]`, or by the `alembic` CLI when drafting a revision."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, MetaData, create_engine, pool

from knowledge.migrations import target_metadata
from knowledge.sql import engine_url

config = context.config


def _run(connection: Connection, metadata: MetaData | None) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


def _cli_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    from bot.settings import load_settings

    return load_settings().resolved_database_url


passed_in: Connection | None = config.attributes.get("connection")
if passed_in is not None:
    # Upgrades need no metadata, and importing every table module would slow the first start.
    _run(passed_in, None)
elif context.is_offline_mode():
    context.configure(url=engine_url(_cli_url()), target_metadata=target_metadata())
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(engine_url(_cli_url()), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection, target_metadata())
        connection.commit()
