"""Schema migrations for the SQL store (Alembic), shipped inside the package.

`knowledge.sql.make_engine` calls `upgrade(engine)`, so every start brings the database to
`HEAD`; no alembic.ini is needed at run time. When the database is already at `HEAD` that costs
one small query and Alembic is not even imported (the CLI opens the engine on every command).

Adding a revision (the next one is 0006):

1. Define the new or changed `Table` where the code uses it. A new table module is added to
   `TABLE_MODULES` below, so that autogenerate and the drift test see it.
2. From the repository root (pyproject.toml's `[tool.alembic]` names this folder as the script
   location), let Alembic draft the revision against a scratch database at the current head:

       alembic -x url=sqlite:////tmp/zbrain-draft.db upgrade head
       alembic -x url=sqlite:////tmp/zbrain-draft.db revision --autogenerate \\
           --rev-id 0006 -m "what it adds"

   or write it by hand from `alembic revision --rev-id 0006 -m "what it adds"`. Without
   `-x url=...` the CLI uses DATABASE_URL / ZBRAIN_DATA_DIR like zbrain itself.
3. Review the file in versions/: spell columns out with `op.create_table`/`op.add_column` and
   never import the Table objects, so the revision keeps describing the schema of its day.
4. Set `HEAD` below to the new id. tests/test_migrations.py fails until `HEAD` is the script
   directory's head and the migrated schema equals the Tables' `metadata`, on SQLite and
   (when its binaries are present) PostgreSQL.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, MetaData, inspect, text

if TYPE_CHECKING:
    # Imported where used: an up-to-date database must not pay for importing Alembic.
    from alembic.config import Config

HEAD = "0006"
TABLE_MODULES = (
    "bot.conversations",
    "retrieval.calibration",
    "retrieval.embedding_cache",
    "knowledge.leads",
    "knowledge.lead_drafts",
    "knowledge.digest_runs",
    "knowledge.identities",
    "knowledge.audit",
    "knowledge.handled_events",
    "knowledge.group_bindings",
)
SCRIPT_LOCATION = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"
# Arbitrary but fixed: every zbrain process migrating one PostgreSQL database takes this lock.
_PG_LOCK_KEY = 0x7A627261696E  # "zbrain"


class DatabaseSchemaError(Exception):
    """The database cannot be brought to this version's schema; the message says why."""


def target_metadata() -> MetaData:
    """The `metadata` holding every Table this version defines."""
    for module in TABLE_MODULES:
        importlib.import_module(module)
    from knowledge.sql import metadata

    return metadata


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at; None for an empty one or one made before migrations."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def alembic_config() -> Config:
    """An Alembic Config for the packaged scripts (works from an installed wheel)."""
    from alembic.config import Config

    config = Config()
    # ConfigParser interpolation would read a '%' in the path as a substitution.
    config.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to HEAD; safe when several processes start at once."""
    with engine.connect() as conn:
        if current_revision(conn) == HEAD:
            return

    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config()
    # Imported before the lock is taken: on a busy machine the imports can outlast another
    # process's busy timeout.
    target_metadata()
    with engine.connect() as conn:
        _lock_for_migration(conn)
        # Another process may have migrated while this one waited for the lock.
        revision = current_revision(conn)
        if revision == HEAD:
            conn.rollback()
            return
        known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
        if revision is not None and revision not in known:
            conn.rollback()
            raise DatabaseSchemaError(
                f"the database schema is at revision {revision}, which this version of zbrain "
                f"does not know (it knows up to {HEAD}): it was made by a newer zbrain"
            )
        # env.py runs the revisions on this connection, inside the transaction begun above,
        # so a failure leaves the database as it was (DDL is transactional on both backends).
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


def _lock_for_migration(conn: Connection) -> None:
    """Begin the migration transaction holding a lock that a second migrator waits on."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        # The write lock up front: a second process waits (busy_timeout) instead of failing
        # with "table already exists" halfway through.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    else:
        conn.begin()
