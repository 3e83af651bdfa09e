"""Invite codes: made for a node, stored only as a hash, redeemed once, within their time,
and never after being revoked; of two people redeeming one code at once exactly one wins."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import Engine, select

from knowledge.identities import (
    Identity,
    IdentityRegistry,
    InviteError,
    InviteStore,
    invites,
)
from knowledge.sql import make_engine
from tests.clock import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def store(engine: Engine, clock: Clock) -> InviteStore:
    return InviteStore(engine, clock=clock)


def test_a_code_fits_a_telegram_deep_link_and_is_never_stored(store, engine) -> None:  # type: ignore[no-untyped-def]
    made = [store.create("munich") for _ in range(20)]
    for invite in made:
        assert re.fullmatch(r"[A-Za-z0-9_-]{16,24}", invite.code), invite.code
    assert len({invite.code for invite in made}) == 20
    with engine.connect() as conn:
        stored = " ".join(str(value) for row in conn.execute(select(invites)) for value in row)
    assert not any(invite.code in stored for invite in made)


def test_redeeming_makes_a_partner_of_the_node(store, clock) -> None:  # type: ignore[no-untyped-def]
    invite = store.create("慕尼黑", created_by="cli:admin")
    assert invite.node == "munich"
    assert invite.expires_at == clock.now + dt.timedelta(days=7)
    person = store.redeem(f"  {invite.code} ", "telegram", "1001", display_name="Max")
    assert person == Identity(
        "telegram", "1001", "partner", node="munich", display_name="Max", granted=True
    )
    assert IdentityRegistry(store.engine).resolve("telegram", "1001").role == "partner"


def test_a_code_works_once(store) -> None:  # type: ignore[no-untyped-def]
    invite = store.create("boston")
    store.redeem(invite.code, "telegram", "1")
    with pytest.raises(InviteError) as refused:
        store.redeem(invite.code, "telegram", "2")
    assert refused.value.reason == "used"
    assert store.registry.get("telegram", "2") is None
    # The same person following the link again is simply still in.
    assert store.redeem(invite.code, "telegram", "1").role == "partner"


def test_an_expired_code_says_when_it_expired(store, clock) -> None:  # type: ignore[no-untyped-def]
    invite = store.create("cambridge", expires=dt.timedelta(days=3))
    clock.now += dt.timedelta(days=3)
    with pytest.raises(InviteError) as refused:
        store.redeem(invite.code, "telegram", "1")
    assert refused.value.reason == "expired"
    assert refused.value.expires_at == invite.expires_at
    clock.now -= dt.timedelta(seconds=1)
    assert store.create("cambridge") and store.redeem(invite.code, "telegram", "1").node == (
        "cambridge"
    )


def test_revoked_and_unknown_codes_are_refused(store) -> None:  # type: ignore[no-untyped-def]
    invite = store.create("tel-aviv")
    store.revoke(invite.code)
    store.revoke(invite.code)  # twice is no error
    with pytest.raises(InviteError) as refused:
        store.redeem(invite.code, "telegram", "1")
    assert refused.value.reason == "revoked"
    for code in ("nope", invite.code[:-1], ""):
        with pytest.raises(InviteError) as unknown:
            store.redeem(code, "telegram", "1")
        assert unknown.value.reason == "unknown"
    with pytest.raises(InviteError) as never_made:
        store.revoke("never-made-code")
    assert never_made.value.reason == "unknown"
    assert store.registry.get("telegram", "1") is None


def test_a_redeemed_code_cannot_be_revoked(store) -> None:  # type: ignore[no-untyped-def]
    invite = store.create("boston")
    store.redeem(invite.code, "telegram", "1")
    with pytest.raises(InviteError, match="redeemed by telegram:1") as refused:
        store.revoke(invite.code)
    assert refused.value.reason == "used"


def test_bad_node_or_duration_makes_no_code(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="node 'paris' is not one of"):
        store.create("paris")
    with pytest.raises(ValueError, match="expire in the future"):
        store.create("munich", expires=dt.timedelta(0))
    assert store.list() == []


def test_list_shows_each_invites_status(store, clock) -> None:  # type: ignore[no-untyped-def]
    used, revoked, expiring, open_ = (store.create("munich") for _ in range(4))
    store.redeem(used.code, "telegram", "1")
    store.revoke(revoked.code)
    listed = store.list()
    assert [info.status(clock.now) for info in listed] == ["open", "open", "revoked", "used"]
    assert listed[-1].redeemed_by == "telegram:1"
    clock.now += dt.timedelta(days=8)
    assert [info.status(clock.now) for info in store.list()] == [
        "expired",
        "expired",
        "revoked",
        "used",
    ]


def _race(
    store: InviteStore, code: str, people: int, prefix: str = "racer"
) -> tuple[list[Identity], list[InviteError]]:
    won: list[Identity] = []
    lost: list[InviteError] = []
    other: list[BaseException] = []
    start = threading.Barrier(people)

    def redeem(n: int) -> None:
        start.wait()
        try:
            won.append(store.redeem(code, "telegram", f"{prefix}{n}"))
        except InviteError as exc:
            lost.append(exc)
        except BaseException as exc:  # reported below
            other.append(exc)

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert other == []
    return won, lost


def test_two_people_redeeming_one_code_at_once_exactly_one_wins(store) -> None:  # type: ignore[no-untyped-def]
    for round_ in range(5):
        invite = store.create("munich")
        won, lost = _race(store, invite.code, 2, prefix=f"round{round_}-")
        assert len(won) == 1 and [e.reason for e in lost] == ["used"]
    partners = store.registry.list(role="partner")
    assert len(partners) == 5


def test_postgres_redeems_once_under_a_race(postgres_schema_url: str) -> None:
    engine = make_engine(postgres_schema_url)
    try:
        store = InviteStore(engine)
        invite = store.create("boston")
        won, lost = _race(store, invite.code, 4)
        assert len(won) == 1 and [e.reason for e in lost] == ["used"] * 3
        assert [p.node for p in store.registry.list(role="partner")] == ["boston"]
    finally:
        engine.dispose()
