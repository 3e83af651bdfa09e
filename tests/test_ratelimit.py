"""Token buckets per identity: a burst is allowed, then one message per refill interval, with
the wait reported exactly; kinds are separate; memory stays bounded; settings are validated."""

from __future__ import annotations

import threading

import pytest

from bot.ratelimit import RateLimiter, parse_rate
from bot.settings import ConfigError, load_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_per_refill_interval() -> None:
    clock = Clock()
    limiter = RateLimiter({"question": (10.0, 3)}, clock=clock)  # one token every 6 s
    assert [limiter.check("telegram:1", "question") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check("telegram:1", "question") == pytest.approx(6.0)
    clock.now += 4
    assert limiter.check("telegram:1", "question") == pytest.approx(2.0)
    clock.now += 2
    assert limiter.check("telegram:1", "question") == 0.0
    assert limiter.check("telegram:1", "question") == pytest.approx(6.0)
    # A long pause refills up to the burst, never beyond it.
    clock.now += 3600
    assert [limiter.check("telegram:1", "question") for _ in range(4)][-1] > 0


def test_people_and_kinds_have_their_own_buckets() -> None:
    clock = Clock()
    limiter = RateLimiter({"question": (1.0, 1), "intake": (1.0, 2)}, clock=clock)
    assert limiter.check("slack:A", "question") == 0.0
    assert limiter.check("slack:A", "question") == pytest.approx(60.0)
    assert limiter.check("slack:B", "question") == 0.0
    assert limiter.check("slack:A", "intake") == 0.0
    assert limiter.check("slack:A", "unknown kind") == 0.0
    assert limiter.check("slack:A", "unknown kind") == 0.0


def test_memory_stays_bounded() -> None:
    clock = Clock()
    # One token every 10 s: a bucket that gave one token is full again 10 s later.
    limiter = RateLimiter({"question": (6.0, 5)}, clock=clock, max_keys=100, sweep_seconds=30)
    for n in range(1000):
        limiter.check(f"telegram:{n}", "question")
    assert len(limiter) == 100
    # Buckets that have refilled are forgotten at the next sweep: they equal fresh ones.
    clock.now += 31
    limiter.check("telegram:new", "question")
    assert len(limiter) == 1
    # One still refilling is kept, so waiting for a sweep grants no fresh burst.
    assert all(limiter.check("telegram:busy", "question") == 0.0 for _ in range(5))
    clock.now += 30.5  # three tokens back
    limiter.check("someone else", "question")  # sweeps
    waits = [limiter.check("telegram:busy", "question") for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] == pytest.approx(10.0 - 0.5)


def test_threads_share_the_allowance() -> None:
    limiter = RateLimiter({"question": (0.001, 50)})  # practically no refill during the test
    allowed: list[float] = []
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait()
        for _ in range(20):
            allowed.append(limiter.check("slack:X", "question"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for wait in allowed if wait == 0.0) == 50


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("10/60s", (10.0, 10)),
        ("30/5m", (6.0, 30)),
        ("100/h", (100 / 60, 100)),
        (" 6 / min ", (6.0, 6)),
        ("0", None),
        ("off", None),
    ],
)
def test_rate_format(text: str, rate: tuple[float, int] | None) -> None:
    parsed = parse_rate(text)
    assert parsed == (pytest.approx(rate[0]), rate[1]) if rate else parsed is None


@pytest.mark.parametrize("text", ["10", "10/60", "ten/60s", "10/0s", "10 per minute", "-1/60s"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="N/<duration>"):
        parse_rate(text)


def test_settings_give_the_limits_and_name_a_bad_one() -> None:
    settings = load_settings()
    assert settings.rate_limits() == {"question": (10.0, 10), "intake": (30.0, 30)}
    assert settings.audit_retention_days == 180 and settings.telegram_bot_name is None
    assert load_settings(ZBRAIN_RATE_QUESTIONS="0").rate_limits() == {"intake": (30.0, 30)}
    assert load_settings(ZBRAIN_TELEGRAM_BOT_NAME="@zhaoshang_bot").telegram_bot_name == (
        "zhaoshang_bot"
    )
    with pytest.raises(ConfigError, match="ZBRAIN_RATE_INTAKE: expected 'N/<duration>'"):
        load_settings(ZBRAIN_RATE_INTAKE="30 per minute")
    with pytest.raises(ConfigError, match="ZBRAIN_AUDIT_RETENTION_DAYS"):
        load_settings(ZBRAIN_AUDIT_RETENTION_DAYS="0")
    with pytest.raises(ConfigError, match="ZBRAIN_TELEGRAM_BOT_NAME"):
        load_settings(ZBRAIN_TELEGRAM_BOT_NAME="https://t.me/x")
