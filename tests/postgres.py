"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, start it on
127.0.0.1 with its sockets in that folder, and remove it all afterwards."""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

DATABASE = "zbrain_test"
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; this system user comes with Debian's packages.
SERVER_ACCOUNT = "postgres"


class PostgresUnavailable(Exception):
    """No PostgreSQL server can be started here; the message says why (a reason to skip)."""


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's versioned folders."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    for initdb_path in sorted(candidates, key=version, reverse=True):
        bindir = Path(initdb_path).parent
        if (bindir / "pg_ctl").exists():
            return bindir
    return None


def server_account() -> pwd.struct_passwd | None:
    """Who runs the server commands: None for this user, or the account to switch to."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root and there is no {SERVER_ACCOUNT!r} user to run PostgreSQL as"
        ) from None


def _as_account(command: list[str], account: pwd.struct_passwd | None) -> list[str]:
    if account is None:
        return command
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", account.pw_name, "--", *command]
    return ["su", account.pw_name, "-s", "/bin/sh", "-c", shlex.join(command)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(
            f"{what} failed ({result.returncode}): {' '.join(command)}\n"
            f"{result.stdout}\n{result.stderr}"
        )


@contextmanager
def temporary_server(bindir: Path, account: pwd.struct_passwd | None) -> Iterator[str]:
    """Start a private server and yield a postgresql+psycopg URL of an empty database."""
    root = Path(tempfile.mkdtemp(prefix="zbrain-pg-"))
    try:
        if account is not None:
            os.chown(root, account.pw_uid, account.pw_gid)
        data = root / "data"
        _run(
            _as_account(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    SUPERUSER,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                account,
            ),
            root,
            "initdb",
        )
        port = _free_port()
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            # Durability buys nothing for a server deleted at the end of the run.
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
                f"unix_socket_directories = '{root}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
        pg_ctl = str(bindir / "pg_ctl")
        log = root / "server.log"
        try:
            _run(
                _as_account(
                    [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"], account
                ),
                root,
                "pg_ctl start",
            )
        except RuntimeError as exc:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"{exc}\nserver log:\n{server_log}") from None
        try:
            with psycopg.connect(
                host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", autocommit=True
            ) as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
            yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
        finally:
            # Immediate: nothing in it is worth a checkpoint.
            _run(
                _as_account([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], account),
                root,
                "pg_ctl stop",
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
