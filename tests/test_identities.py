"""The identity registry: first contact records a person without a role, grants and
revocations decide the effective role, and two processes meeting one new person both succeed."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from knowledge.identities import (
    Identity,
    IdentityRegistry,
    UnknownIdentityError,
    identities,
    new_code,
)
from knowledge.model import Role, visible_to
from knowledge.sql import make_engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def registry(engine: Engine) -> IdentityRegistry:
    return IdentityRegistry(engine)


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(identities)).scalar_one()


def test_admin_reads_everything_like_a_manager() -> None:
    assert visible_to(Role.ADMIN) == visible_to(Role.MANAGER)
    assert Role("admin") is Role.ADMIN


def test_first_contact_records_a_person_with_the_default_role(registry, engine) -> None:  # type: ignore[no-untyped-def]
    first = registry.resolve("slack", "U1", default_role="staff", display_name="Li Wei")
    assert first == Identity("slack", "U1", "staff", display_name="Li Wei")
    assert first.key == "slack:U1" and not first.granted
    # The default is the caller's, per call: nothing was granted, so nothing was stored.
    assert registry.resolve("slack", "U1").role == "guest"
    assert _rows(engine) == 1


def test_display_name_follows_the_platform(registry) -> None:  # type: ignore[no-untyped-def]
    registry.resolve("telegram", "42", display_name="Anna")
    assert registry.resolve("telegram", "42", display_name="Anna M.").display_name == "Anna M."
    # A message that carries no name keeps the one known.
    assert registry.resolve("telegram", "42").display_name == "Anna M."


def test_granted_role_beats_the_default_and_revoking_makes_a_guest(registry) -> None:  # type: ignore[no-untyped-def]
    registry.resolve("slack", "U2", default_role="staff")
    granted = registry.grant("slack", "U2", "manager", by="cli:admin")
    assert (granted.role, granted.granted) == ("manager", True)
    assert registry.resolve("slack", "U2", default_role="staff").role == "manager"

    revoked = registry.revoke("slack", "U2", by="cli:admin")
    assert (revoked.role, revoked.revoked) == ("guest", True)
    # A revoked workspace member does not get staff back from the platform's hint.
    assert registry.resolve("slack", "U2", default_role="staff").role == "guest"

    again = registry.grant("slack", "U2", "staff")
    assert (again.role, again.revoked) == ("staff", False)


def test_partner_needs_a_known_node_in_any_spelling(registry) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="partner needs a node"):
        registry.grant("telegram", "7", "partner")
    with pytest.raises(ValueError, match="node 'paris' is not one of: boston, cambridge, munich"):
        registry.grant("telegram", "7", "partner", node="paris")
    with pytest.raises(ValueError, match="role 'owner' is not one of"):
        registry.grant("telegram", "7", "owner")
    assert registry.get("telegram", "7") is None  # nothing stored by the refusals

    assert registry.grant("telegram", "7", "partner", node="慕尼黑").node == "munich"
    assert registry.grant("telegram", "8", "partner", node="München").node == "munich"
    assert registry.grant("telegram", "9", "partner", node="Tel Aviv").node == "tel-aviv"


def test_grant_before_first_contact_and_unknown_revoke(registry) -> None:  # type: ignore[no-untyped-def]
    registry.grant("slack", "U9", "admin")
    assert registry.resolve("slack", "U9", display_name="Boss").role == "admin"
    with pytest.raises(UnknownIdentityError, match="unknown user slack:NOBODY"):
        registry.revoke("slack", "NOBODY")


def test_language_is_remembered_and_validated(registry) -> None:  # type: ignore[no-untyped-def]
    registry.resolve("telegram", "5")
    assert registry.set_language("telegram", "5", "de").language == "de"
    assert registry.resolve("telegram", "5").language == "de"
    with pytest.raises(ValueError, match="language 'xx'"):
        registry.set_language("telegram", "5", "xx")
    assert registry.set_language("telegram", "5", None).language is None


def test_list_filters_on_the_effective_role(registry) -> None:  # type: ignore[no-untyped-def]
    registry.resolve("slack", "A")
    registry.grant("slack", "B", "staff")
    registry.grant("telegram", "C", "partner", node="boston")
    registry.grant("telegram", "D", "partner", node="munich")
    registry.revoke("telegram", "D")
    assert [p.key for p in registry.list()] == ["slack:A", "slack:B", "telegram:C", "telegram:D"]
    assert [p.key for p in registry.list(role="partner")] == ["telegram:C"]
    assert [p.key for p in registry.list(role="guest")] == ["slack:A", "telegram:D"]
    assert [p.key for p in registry.list(include_revoked=False)] == [
        "slack:A",
        "slack:B",
        "telegram:C",
    ]


def test_threads_meeting_one_new_person_all_succeed(registry, engine) -> None:  # type: ignore[no-untyped-def]
    results: list[Identity] = []
    failures: list[BaseException] = []
    start = threading.Barrier(6)

    def meet() -> None:
        start.wait()
        try:
            results.append(registry.resolve("slack", "NEW", display_name="New"))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=meet) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert {person.key for person in results} == {"slack:NEW"} and len(results) == 6
    assert _rows(engine) == 1


def test_processes_meeting_one_new_person_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    make_engine(url).dispose()
    start_at = time.time() + 3  # after every child has paid for its imports
    racer = (
        "import time\n"
        "from knowledge.identities import IdentityRegistry\n"
        "from knowledge.sql import make_engine\n"
        f"registry = IdentityRegistry(make_engine({url!r}))\n"
        f"time.sleep(max(0.0, {start_at} - time.time()))\n"
        "for n in range(20):\n"
        "    registry.resolve('telegram', str(n), display_name='x')\n"
    )
    children = [
        subprocess.Popen([sys.executable, "-c", racer], stderr=subprocess.PIPE, text=True, cwd=ROOT)
        for _ in range(3)
    ]
    errors = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], errors
    assert _rows(make_engine(url)) == 20


def test_postgres_resolves_concurrently(postgres_schema_url: str) -> None:
    engine = make_engine(postgres_schema_url)
    try:
        registry = IdentityRegistry(engine)
        failures: list[BaseException] = []
        start = threading.Barrier(4)

        def meet() -> None:
            start.wait()
            try:
                registry.resolve("slack", "PG", default_role="staff")
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=meet) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        assert _rows(engine) == 1
        assert registry.grant("slack", "PG", "partner", node="boston").role == "partner"
    finally:
        engine.dispose()


def test_invite_codes_never_start_like_an_option() -> None:
    codes = [new_code() for _ in range(2000)]
    assert all(code[0].isalnum() and len(code) == 20 for code in codes)
