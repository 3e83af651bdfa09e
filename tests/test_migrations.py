"""Schema migrations: the database a fresh, an old (create_all) or a concurrent start ends
with is the one the Table definitions describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from bot.conversations import conversation_turns
from knowledge.migrations import (
    HEAD,
    DatabaseSchemaError,
    alembic_config,
    current_revision,
    target_metadata,
)
from knowledge.sql import describe_url, engine_url, make_engine
from retrieval.calibration import language_stats
from retrieval.embedding_cache import embedding_cache
from tests.conftest import schema_diff

ROOT = Path(__file__).resolve().parent.parent


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


def _fill(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            conversation_turns.insert().values(
                platform="terminal",
                conversation_id="c1",
                user_id="u1",
                speaker="user",
                text="你好",
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        conn.execute(
            language_stats.insert().values(
                collection="kb", language="zh", chunks=3, vector_sum=b"\x00" * 8
            )
        )
        conn.execute(
            embedding_cache.insert().values(model="m", text_sha256="ab" * 32, dim=2, vector=b"1234")
        )


def _counts(engine: Engine) -> dict[str, int]:
    """Rows per table, of the tables that exist."""
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (conversation_turns, language_stats, embedding_cache)
            if table.name in present
        }


def test_head_is_the_last_revision_shipped() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_current_head() == HEAD, "set knowledge.migrations.HEAD to the new revision"


def test_fresh_sqlite_is_migrated_to_the_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'zbrain.db'}")
    assert _revision(engine) == HEAD
    assert schema_diff(engine) == []


@pytest.mark.parametrize("made_before", ["all tables", "embedding cache only"])
def test_database_from_before_migrations_is_adopted_with_its_rows(
    tmp_path: Path, made_before: str
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    # What the version before migrations left behind with metadata.create_all.
    baseline = [conversation_turns, language_stats, embedding_cache]
    tables = baseline if made_before == "all tables" else [embedding_cache]
    target_metadata().create_all(old, tables=tables)
    with old.begin() as conn:
        conn.execute(
            embedding_cache.insert().values(model="m", text_sha256="cd" * 32, dim=2, vector=b"x")
        )
    if made_before == "all tables":
        _fill(old)
    before = _counts(old)
    assert len(before) == (3 if made_before == "all tables" else 1)
    old.dispose()

    engine = make_engine(url)
    assert _revision(engine) == HEAD
    assert schema_diff(engine) == []
    after = _counts(engine)
    assert {name: after[name] for name in before} == before


def test_up_to_date_database_opens_without_alembic(tmp_path: Path) -> None:
    """make_engine runs at every CLI start: at head it must stay one query, not a migration."""
    url = f"sqlite:///{tmp_path / 'zbrain.db'}"
    make_engine(url).dispose()
    probe = (
        "import sys, time\n"
        "from knowledge.sql import make_engine\n"
        "start = time.perf_counter()\n"
        f"make_engine({url!r})\n"
        "print(round((time.perf_counter() - start) * 1000, 1), 'alembic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    milliseconds, alembic_loaded = result.stdout.split()
    assert alembic_loaded == "False"
    assert float(milliseconds) < 500


def test_processes_starting_together_on_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    start_at = time.time() + 3  # after every child has paid for its imports
    racer = (
        "import time\n"
        "from knowledge.sql import make_engine\n"
        f"time.sleep(max(0.0, {start_at} - time.time()))\n"
        f"make_engine({url!r})\n"
    )
    children = [
        subprocess.Popen([sys.executable, "-c", racer], stderr=subprocess.PIPE, text=True, cwd=ROOT)
        for _ in range(4)
    ]
    errors = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0, 0, 0, 0], errors
    engine = make_engine(url)
    assert _revision(engine) == HEAD
    assert schema_diff(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_schema_from_a_newer_version_is_refused_clearly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'zbrain.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(DatabaseSchemaError, match="revision 9999.*newer zbrain"):
        make_engine(url)


def test_postgres_urls_use_psycopg_and_passwords_stay_hidden() -> None:
    for given in ("postgresql://bot:hunter2@db/zbrain", "postgres://bot:hunter2@db/zbrain"):
        assert engine_url(given).drivername == "postgresql+psycopg"
        assert "hunter2" not in describe_url(given)
    assert engine_url("postgresql+psycopg://db/zbrain").drivername == "postgresql+psycopg"
    assert engine_url("sqlite:///x.db") == make_url("sqlite:///x.db")


def test_postgres_is_migrated_from_empty_to_head_and_back(postgres_schema_url: str) -> None:
    engine = make_engine(postgres_schema_url)
    try:
        assert _revision(engine) == HEAD
        assert schema_diff(engine) == []
        _fill(engine)
        assert set(_counts(engine).values()) == {1}

        config = alembic_config()
        with engine.connect() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
            conn.commit()
        assert _revision(engine) is None
        with engine.connect() as conn:
            assert conn.execute(text("SELECT to_regclass('embedding_cache')")).scalar() is None
    finally:
        engine.dispose()


def test_plain_postgresql_url_and_concurrent_starts(postgres_schema_url: str) -> None:
    """A user's postgresql:// URL works, and starts racing on one database all succeed."""
    plain = make_url(postgres_schema_url).set(drivername="postgresql")
    url = plain.render_as_string(hide_password=False)
    engines: list[Engine] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            engines.append(make_engine(url))
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert failures == []
        assert engines[0].dialect.driver == "psycopg"
        assert _revision(engines[0]) == HEAD
        assert schema_diff(engines[0]) == []
    finally:
        for engine in engines:
            engine.dispose()


def test_an_upgrade_from_the_first_revision_keeps_every_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    engine = create_engine(url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    _fill(engine)
    before = _counts(engine)
    engine.dispose()

    upgraded = make_engine(url)
    assert _revision(upgraded) == HEAD
    assert schema_diff(upgraded) == []
    after = _counts(upgraded)
    assert {name: after[name] for name in before} == before
    assert inspect(upgraded).has_table("leads") and inspect(upgraded).has_table("lead_events")
