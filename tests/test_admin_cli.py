"""`zbrain invite`, `zbrain users` and `zbrain audit` as an admin uses them: what they print,
what they store, and one clear line with exit code 2 for bad input, storing nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import Engine
from typer.testing import CliRunner

from bot.cli import app
from knowledge.audit import AuditLog, Exchange
from knowledge.identities import IdentityRegistry, InviteError, InviteStore
from knowledge.sql import make_engine


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "data"
    monkeypatch.setenv("ZBRAIN_DATA_DIR", str(target))
    return target


@pytest.fixture
def engine(data_dir: Path) -> Engine:
    return make_engine(f"sqlite:///{(data_dir / 'zbrain.db').resolve()}")


def zbrain(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def _error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_invite_prints_a_code_that_redeems(engine: Engine, data_dir: Path) -> None:
    result = zbrain("invite", "--node", "慕尼黑", "--expires", "3d", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert set(shown) == {"code", "node", "expires", "link"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,24}", shown["code"])
    assert shown["node"] == "munich" and shown["link"] is None
    expires = dt.datetime.fromisoformat(shown["expires"])
    assert abs(expires - (dt.datetime.now(dt.UTC) + dt.timedelta(days=3))) < dt.timedelta(minutes=1)
    person = InviteStore(engine).redeem(shown["code"], "telegram", "1001")
    assert (person.role, person.node) == ("partner", "munich")
    # Only the SQL database was opened: no index built, no samples ingested.
    assert not (data_dir / "chroma").exists()


def test_invite_link_once_the_bot_is_named(data_dir: Path) -> None:
    env = {"ZBRAIN_TELEGRAM_BOT_NAME": "@zhaoshang_bot"}
    shown = json.loads(zbrain("invite", "--node", "boston", "--json", env=env).stdout)
    assert shown["link"] == f"https://t.me/zhaoshang_bot?start={shown['code']}"

    plain = zbrain("invite", "--node", "boston", env=env)
    assert plain.exit_code == 0
    code = re.search(r"code\s+(\S+)", plain.stdout).group(1)  # type: ignore[union-attr]
    assert f"https://t.me/zhaoshang_bot?start={code}" in plain.stdout
    assert "expires" in plain.stdout and "works once" in plain.stdout
    assert "link" not in zbrain("invite", "--node", "boston").stdout


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--node", "paris"), "node 'paris' is not one of: boston, cambridge, munich, tel-aviv"),
        (("--node", "munich", "--expires", "3x"), "--expires '3x': expected a duration"),
        (("--node", "munich", "--expires", "0d"), "--expires '0d'"),
        ((), "--node is required"),
    ],
)
def test_bad_invite_input_is_one_line_and_stores_nothing(
    engine: Engine, args: tuple[str, ...], problem: str
) -> None:
    assert problem in _error(zbrain("invite", *args))
    assert InviteStore(engine).list() == []


def test_invite_revoke_and_list(engine: Engine) -> None:
    code = json.loads(zbrain("invite", "--node", "tel-aviv", "--json").stdout)["code"]
    revoked = zbrain("invite", "revoke", code)
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    with pytest.raises(InviteError) as refused:
        InviteStore(engine).redeem(code, "telegram", "1")
    assert refused.value.reason == "revoked"
    assert "unknown invite code" in _error(zbrain("invite", "revoke", "no-such-code"))

    listed = json.loads(zbrain("invite", "list", "--json").stdout)
    assert [(i["node"], i["status"]) for i in listed] == [("tel-aviv", "revoked")]
    assert code not in zbrain("invite", "list").stdout


def test_users_grant_list_revoke(engine: Engine) -> None:
    granted = zbrain("users", "grant", "telegram:42", "partner", "--node", "München")
    assert granted.exit_code == 0 and "telegram:42 is now partner of the munich node" in (
        granted.stdout
    )
    assert zbrain("users", "grant", "slack:U1", "admin").exit_code == 0
    IdentityRegistry(engine).resolve("slack", "U2", display_name="Li Wei")  # seen, not granted

    people = json.loads(zbrain("users", "list", "--json").stdout)
    assert [(p["user"], p["role"], p["node"]) for p in people] == [
        ("slack:U1", "admin", None),
        ("slack:U2", None, None),
        ("telegram:42", "partner", "munich"),
    ]
    partners = json.loads(zbrain("users", "list", "--role", "partner", "--json").stdout)
    assert [p["user"] for p in partners] == ["telegram:42"]

    revoked = zbrain("users", "revoke", "telegram:42")
    assert revoked.exit_code == 0 and "guest" in revoked.stdout
    assert IdentityRegistry(engine).resolve("telegram", "42").role == "guest"
    table = zbrain("users", "list").stdout
    assert "3 people" in table and "revoked" in table and "granted" in table


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("grant", "telegram:7", "partner"), "a partner needs a node"),
        (("grant", "telegram:7", "partner", "--node", "paris"), "node 'paris' is not one of"),
        (("grant", "telegram:7", "owner"), "role 'owner' is not one of"),
        (("grant", "7", "staff"), "expected PLATFORM:USER_ID"),
        (("revoke", "telegram:7"), "unknown user telegram:7"),
        (("list", "--role", "boss"), "role 'boss' is not one of"),
    ],
)
def test_bad_users_input_is_one_line_and_stores_nothing(
    engine: Engine, args: tuple[str, ...], problem: str
) -> None:
    assert problem in _error(zbrain("users", *args))
    assert IdentityRegistry(engine).list() == []


def _record(engine: Engine) -> None:
    log = AuditLog(engine)
    now = dt.datetime.now(dt.UTC)
    for n, (question, days) in enumerate(
        [("慕尼黑节点有哪些氢能政策？", 0), ("Which policies apply in Boston?", 10)]
    ):
        log.record(
            Exchange(
                reply_id=f"r{n}",
                at=now - dt.timedelta(days=days),
                platform="telegram" if n == 0 else "slack",
                user_id=f"u{n}",
                role="partner",
                conversation_id="c",
                intent="ask",
                question=question,
                doc_ids=("policy-h2",),
                visibilities=("public",),
                answer="…",
                mode="llm",
                latency_ms=900,
            )
        )
    log.feedback("r0", "telegram", "u0", 1)


def test_audit_table_json_filters_and_export(engine: Engine, tmp_path: Path) -> None:
    _record(engine)
    table = zbrain("audit")
    assert table.exit_code == 0 and "2 exchanges" in table.stdout and "question" in table.stdout

    everything = json.loads(zbrain("audit", "--json").stdout)
    assert [e["reply_id"] for e in everything] == ["r0", "r1"]
    assert everything[0]["thumbs_up"] == 1
    recent = json.loads(zbrain("audit", "--since", "7d", "--json").stdout)
    assert [e["reply_id"] for e in recent] == ["r0"]
    by_user = json.loads(zbrain("audit", "--user", "slack:u1", "--json").stdout)
    assert [e["reply_id"] for e in by_user] == ["r1"]
    since_day = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).date().isoformat()
    assert len(json.loads(zbrain("audit", "--since", since_day, "--json").stdout)) == 2

    target = tmp_path / "out" / "audit.csv"
    exported = zbrain("audit", "--export", str(target))
    assert exported.exit_code == 0 and "2 exchanges written to" in exported.stdout
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[1]["question"] == "慕尼黑节点有哪些氢能政策？" and rows[1]["thumbs_up"] == "1"

    assert "--since 'yesterday'" in _error(zbrain("audit", "--since", "yesterday"))
    assert "--since '3x'" in _error(zbrain("audit", "--since", "3x"))
