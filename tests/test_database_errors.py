"""A database URL that cannot be used is one line naming the variable and what to do, exit
code 2, never a traceback and never the password."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.database import database_engine
from bot.settings import ConfigError, load_settings
from knowledge.sql import DatabaseUnavailable, make_engine
from tests.conftest import run_cli


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _one_line(args: tuple[str, ...], env: dict[str, str], cwd: Path) -> str:
    result = run_cli(*args, env=env, cwd=cwd, timeout=120)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://zb:s3cret-pw@127.0.0.1:{port}/zbrain?connect_timeout=3",
            "DATABASE_URL: cannot connect to postgresql://zb:***@127.0.0.1:{port}/zbrain",
        ),
        ("mysql://zb:s3cret-pw@localhost/zbrain", "pip install mysqlclient"),
        ("mysql://zb:s3cret-pw@localhost/zbrain", "DATABASE_URL: the Python driver for mysql://"),
        ("postgres//zb:s3cret-pw@host/zbrain", "DATABASE_URL: expected a database URL such as"),
        ("postgresql://zb:s3cret-pw@host:fivefour/db", "DATABASE_URL: expected a database URL"),
        ("postgersql://zb:s3cret-pw@host/zbrain", "postgersql:// is not a kind of database"),
        (
            "sqlite:///{tmp}/nonexistent/dir/z.db",
            "DATABASE_URL: the directory {tmp}/nonexistent/dir for the SQLite file z.db does "
            "not exist; create it",
        ),
    ],
)
def test_cli_database_url_problems_are_one_line(tmp_path: Path, url: str, expected: str) -> None:
    port = _closed_port()
    url = url.format(port=port, tmp=tmp_path)
    env = {"DATABASE_URL": url, "ZBRAIN_DATA_DIR": str(tmp_path / "data")}
    line = _one_line(("leads", "list"), env, tmp_path)
    assert expected.format(port=port, tmp=tmp_path) in line
    assert "s3cret-pw" not in line
    assert not (tmp_path / "nonexistent").exists()  # no directory made on the way


def test_other_commands_say_the_same(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/missing/z.db"}
    for args in (("status",), ("search", "hydrogen"), ("ask", "hi")):
        assert "DATABASE_URL: the directory" in _one_line(args, env, tmp_path)
    assert not (tmp_path / "missing").exists()


def test_the_default_database_still_makes_its_data_dir(tmp_path: Path) -> None:
    settings = load_settings(ZBRAIN_DATA_DIR=str(tmp_path / "fresh" / "data"))
    database_engine(settings).dispose()
    assert (tmp_path / "fresh" / "data" / "zbrain.db").is_file()


def test_the_embedding_cache_url_is_named_when_it_is_the_bad_one(tmp_path: Path) -> None:
    settings = load_settings(
        ZBRAIN_DATA_DIR=str(tmp_path), ZBRAIN_EMBEDDING_CACHE_URL="sqlite:////no/such/dir/c.db"
    )
    with pytest.raises(ConfigError, match=r"^ZBRAIN_EMBEDDING_CACHE_URL: the directory /no/such"):
        database_engine(settings, cache=True)


def test_an_unopenable_sqlite_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "z.db").mkdir()  # a directory where the file should be
    with pytest.raises(DatabaseUnavailable, match=r"cannot open the SQLite database .*z\.db"):
        make_engine(f"sqlite:///{tmp_path / 'z.db'}", create_directory=False)
