"""The scheduled manager digest: posted once per period whatever fires it (the cron job, a retry,
a restart's catch-up, a second process), retried after a failure up to the limit, and served
by `zbrain serve`."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, create_engine, select

from adapters.terminal import TerminalPoster
from bot.channels import FilePoster, PosterRegistry, UnknownChannelError, read_posts
from bot.leads.digest import (
    DigestRunner,
    DigestSchedule,
    digest_runs,
    latest_fire_time,
    summary_digest,
)
from bot.messages import Attachment, Reply
from bot.serve import check_digest_channel, digest_schedule, run_services
from bot.services import Services
from bot.settings import ConfigError, load_settings
from knowledge.lead_seed import sample_leads
from knowledge.lead_store import LeadStore
from knowledge.sql import make_engine
from tests.conftest import child_env, run_cli

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_8 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI)
WEEKLY = CronTrigger.from_crontab("0 8 * * MON", timezone=SHANGHAI)
CHANNEL = "file:managers"


def make_posters(settings, out):  # type: ignore[no-untyped-def]
    """The posters `zbrain serve` starts with: the outbox folder and the terminal."""
    from adapters.terminal import TerminalPoster

    posters = PosterRegistry()
    posters.register("file:", FilePoster(settings.resolved_outbox_dir))
    posters.register("terminal:", TerminalPoster(out))
    return posters


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class FlakyPoster:
    """Fails its first `failures` posts, then posts to the outbox."""

    def __init__(self, target: FilePoster, failures: int, error: str = "connection reset") -> None:
        self.target = target
        self.failures = failures
        self.error = error
        self.calls = 0

    async def post(self, channel: str, reply: Reply) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(self.error)
        return await self.target.post(channel, reply)


class SlowPoster:
    def __init__(self, target: FilePoster, seconds: float) -> None:
        self.target = target
        self.seconds = seconds

    async def post(self, channel: str, reply: Reply) -> str:
        await asyncio.sleep(self.seconds)
        return await self.target.post(channel, reply)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'zbrain.db'}")
    LeadStore(engine).save_many(sample_leads(), "test")
    yield engine
    engine.dispose()


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


def make_runner(
    engine: Engine,
    poster: object,
    clock: Callable[[], dt.datetime] | None = None,
    **options: object,
) -> DigestRunner:
    return DigestRunner(
        engine,
        poster,  # type: ignore[arg-type]
        CHANNEL,
        summary_digest(engine, "zh"),
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


async def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    # Generous: it returns as soon as the check holds, and a loaded CI machine is slow.
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def test_a_run_posts_the_summary_once_and_a_re_run_of_the_period_does_not(
    engine: Engine, outbox: Path
) -> None:
    runner = make_runner(engine, FilePoster(outbox), Clock(MONDAY_8))

    first = asyncio.run(runner.run(MONDAY_8))
    again = asyncio.run(runner.run(MONDAY_8))

    assert first.status == "posted" and first.period == "2026-11-30T08:00:00+08:00"
    assert again.status == "already-posted" and again.message_id == first.message_id
    posts = read_posts(outbox)
    assert len(posts) == 1
    assert posts[0]["channel"] == CHANNEL and posts[0]["id"] == first.message_id
    assert "线索总数：35" in str(posts[0]["text"])
    assert "2026-11-23 – 2026-11-30" in str(posts[0]["text"])
    # The same chart a manager gets in chat travels with the digest.
    assert [f["mime_type"] for f in posts[0]["files"]] == ["image/png"]  # type: ignore[union-attr]
    assert (outbox / str(posts[0]["files"][0]["path"])).read_bytes().startswith(b"\x89PNG")  # type: ignore[index]

    next_week = asyncio.run(runner.run(MONDAY_8 + dt.timedelta(days=7)))
    assert next_week.status == "posted"
    assert len(read_posts(outbox)) == 2


def test_two_digests_on_one_running_loop_both_carry_the_models_narrative(
    engine: Engine, outbox: Path
) -> None:
    """One long-lived LLM client, two runs on the service's loop: the keep-alive connection of
    the first must still serve the second (no loop of its own per build)."""
    from bot.llm import LLMClient
    from tests.fake_openai import FakeOpenAI, serve_fake_openai

    written = "本期线索推进平稳，氢能项目最为活跃。"
    with serve_fake_openai(FakeOpenAI(responder=lambda body: written)) as fake:
        settings = load_settings(
            OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="k", ZBRAIN_LLM_MODEL="m"
        )
        llm = LLMClient(settings)
        runner = DigestRunner(
            engine, FilePoster(outbox), CHANNEL, summary_digest(engine, "zh", llm=llm)
        )

        async def two_weeks() -> list[str]:
            try:
                first = await runner.run(MONDAY_8)
                second = await runner.run(MONDAY_8 + dt.timedelta(days=7))
            finally:
                await llm.aclose()
            return [first.status, second.status]

        assert asyncio.run(two_weeks()) == ["posted", "posted"]
    posts = read_posts(outbox)
    assert len(posts) == 2 and all(written in str(p["text"]) for p in posts)
    assert len(fake.chat_requests()) == 2 and fake.connections == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_firing_for_one_period_post_it_once(
    backend: str, tmp_path: Path, outbox: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    engines = [make_engine(url) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes = []

    def process(engine: Engine) -> None:
        # Each "process" has its own engine and outbox writer, as two `zbrain serve` would.
        runner = make_runner(engine, SlowPoster(FilePoster(outbox), 0.3), Clock(MONDAY_8))
        start.wait()
        outcomes.append(asyncio.run(runner.run(MONDAY_8)))

    threads = [threading.Thread(target=process, args=(e,)) for e in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for engine in engines:
            engine.dispose()

    assert sorted(o.status for o in outcomes) == ["in-progress", "posted"]
    assert len(read_posts(outbox)) == 1


def test_a_run_left_running_by_a_dead_process_is_taken_over_once_stale(
    engine: Engine, outbox: Path
) -> None:
    with engine.begin() as conn:
        conn.execute(
            digest_runs.insert().values(
                schedule=f"manager-digest:{CHANNEL}",
                period="2026-11-30T08:00:00+08:00",
                status="running",
                attempts=1,
                created_at=MONDAY_8.astimezone(dt.UTC),
                updated_at=MONDAY_8.astimezone(dt.UTC),
            )
        )
    clock = Clock(MONDAY_8 + dt.timedelta(minutes=10))
    runner = make_runner(engine, FilePoster(outbox), clock)

    assert asyncio.run(runner.run(MONDAY_8)).status == "in-progress"
    assert read_posts(outbox) == []

    clock.now = MONDAY_8 + dt.timedelta(minutes=31)
    taken_over = asyncio.run(runner.run(MONDAY_8))
    assert taken_over.status == "posted" and taken_over.attempts == 2
    assert len(read_posts(outbox)) == 1


def test_a_failing_post_is_retried_by_the_scheduler_and_posted_once(
    engine: Engine, outbox: Path
) -> None:
    poster = FlakyPoster(FilePoster(outbox), failures=2)
    clock = Clock(MONDAY_8 - dt.timedelta(minutes=1))
    runner = make_runner(engine, poster, clock, retries=3)
    schedule = DigestSchedule(runner, WEEKLY, retry_seconds=0.05, clock=clock)

    async def monday_morning() -> None:
        await schedule.start()
        clock.now = MONDAY_8 + dt.timedelta(seconds=1)
        first = await schedule.fire()
        assert first is not None and first.status == "failed" and first.will_retry
        await eventually(lambda: getattr(runner.record(MONDAY_8), "status", "") == "posted")
        await schedule.stop()

    asyncio.run(monday_morning())
    record = runner.record(MONDAY_8)
    assert record is not None and record.attempts == 3 and record.last_error is None
    assert poster.calls == 3
    assert len(read_posts(outbox)) == 1
    # A late retry of the posted period (another process's, say) posts nothing.
    assert asyncio.run(runner.run(MONDAY_8)).status == "already-posted"
    assert len(read_posts(outbox)) == 1


def test_after_the_retry_limit_the_period_is_marked_failed_and_logged_without_secrets(
    engine: Engine, outbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "xoxb-0000-not-a-real-token"
    poster = FlakyPoster(FilePoster(outbox), failures=99, error=f"token {secret} was rejected")
    clock = Clock(MONDAY_8 - dt.timedelta(minutes=1))
    runner = make_runner(engine, poster, clock, retries=2, secrets=[secret])
    schedule = DigestSchedule(runner, WEEKLY, retry_seconds=0.02, clock=clock)

    async def monday_morning() -> None:
        await schedule.start()
        clock.now = MONDAY_8 + dt.timedelta(seconds=1)
        await schedule.fire()
        await eventually(lambda: getattr(runner.record(MONDAY_8), "attempts", 0) == 3)
        await asyncio.sleep(0.1)  # time for a fourth attempt, were one scheduled
        assert [job.id for job in schedule.scheduler.get_jobs()] == ["digest"]
        await schedule.stop()

    asyncio.run(monday_morning())
    record = runner.record(MONDAY_8)
    assert record is not None and record.status == "failed" and record.attempts == 3
    assert record.last_error is not None and "ConnectionError" in record.last_error
    assert poster.calls == 3 and read_posts(outbox) == []
    given_up = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(given_up) == 1 and "giving up" in given_up[0].getMessage()
    assert secret not in caplog.text and secret not in record.last_error
    # The next firing for that period (a restart's catch-up) does not try again.
    assert asyncio.run(runner.run(MONDAY_8)).status == "gave-up"
    assert poster.calls == 3


def test_a_database_down_at_fire_time_is_retried_once_it_is_back(
    tmp_path: Path, outbox: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'late.db'}"
    # No tables yet: every claim fails as it would against an unreachable database.
    engine = create_engine(url)
    clock = Clock(MONDAY_8 - dt.timedelta(minutes=1))
    runner = make_runner(engine, FilePoster(outbox), clock, retries=2)
    schedule = DigestSchedule(runner, WEEKLY, retry_seconds=0.05, clock=clock)

    async def monday_morning() -> None:
        await schedule.start()
        clock.now = MONDAY_8 + dt.timedelta(seconds=1)
        first = await schedule.fire()
        assert first is not None and first.status == "failed" and first.attempts == 0
        make_engine(url).dispose()  # the database is back, migrated
        await eventually(lambda: getattr(runner.record(MONDAY_8), "status", "") == "posted")
        await schedule.stop()

    asyncio.run(monday_morning())
    assert len(read_posts(outbox)) == 1
    engine.dispose()


def test_the_scheduler_fires_the_digest_on_its_trigger(engine: Engine, outbox: Path) -> None:
    every_second = CronTrigger(second="*", timezone=dt.UTC)
    runner = make_runner(engine, FilePoster(outbox))
    schedule = DigestSchedule(runner, every_second, catch_up=dt.timedelta(0))
    started = dt.datetime.now(dt.UTC)

    def fired_after_start() -> bool:
        with engine.connect() as conn:
            periods = conn.execute(
                select(digest_runs.c.period).where(digest_runs.c.status == "posted")
            ).scalars()
            return any(dt.datetime.fromisoformat(p) > started for p in periods)

    async def serve_briefly() -> None:
        await schedule.start()
        await eventually(fired_after_start, seconds=2.5)
        await schedule.stop()

    asyncio.run(serve_briefly())
    assert read_posts(outbox)


def test_a_restart_soon_after_a_missed_run_posts_it_and_later_restarts_do_not(
    engine: Engine, outbox: Path
) -> None:
    clock = Clock(MONDAY_8 + dt.timedelta(minutes=20))
    runner = make_runner(engine, FilePoster(outbox), clock)

    async def start_and_stop() -> None:
        schedule = DigestSchedule(runner, WEEKLY, clock=clock)
        await schedule.start()
        await eventually(lambda: getattr(runner.record(MONDAY_8), "status", "") == "posted")
        await schedule.stop()

    asyncio.run(start_and_stop())
    asyncio.run(start_and_stop())
    assert len(read_posts(outbox)) == 1


def test_a_run_missed_long_ago_is_reported_not_posted(
    engine: Engine, outbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(MONDAY_8 + dt.timedelta(days=1))
    schedule = DigestSchedule(make_runner(engine, FilePoster(outbox), clock), WEEKLY, clock=clock)

    async def start_and_stop() -> None:
        await schedule.start()
        await asyncio.sleep(0.1)
        await schedule.stop()

    asyncio.run(start_and_stop())
    assert read_posts(outbox) == []
    assert "2026-11-30T08:00:00+08:00" in caplog.text and "zbrain serve --once" in caplog.text


def test_serve_schedules_the_digest_on_the_configured_cron(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.leads.digest")
    berlin = ZoneInfo("Europe/Berlin")
    settings = load_settings(
        ZBRAIN_DATA_DIR=str(tmp_path / "data"),
        ZBRAIN_DIGEST_CRON="30 9 * * MON-FRI",
        ZBRAIN_DIGEST_TIMEZONE="Europe/Berlin",
        ZBRAIN_DIGEST_CHANNEL=CHANNEL,
    )
    posters = make_posters(settings, io.StringIO())
    channel = check_digest_channel(settings, posters)
    assert channel == CHANNEL
    saturday = Clock(dt.datetime(2026, 11, 28, 12, 0, tzinfo=berlin))
    schedule = digest_schedule(settings, Services(settings), posters, channel, clock=saturday)

    async def start_and_stop() -> None:
        await schedule.start()
        job = schedule.scheduler.get_job("digest")
        assert job is not None
        fields = {field.name: str(field) for field in job.trigger.fields}
        assert (fields["minute"], fields["hour"], fields["day_of_week"]) == ("30", "9", "mon-fri")
        assert job.trigger.timezone == berlin
        next_run = job.next_run_time.astimezone(berlin)
        assert (next_run.hour, next_run.minute) == (9, 30) and next_run.weekday() < 5
        await schedule.stop()

    asyncio.run(start_and_stop())
    assert "next run at" in caplog.text
    # Friday's run is too old to catch up on a Saturday: reported, not posted.
    assert read_posts(settings.resolved_outbox_dir) == []


def test_digest_settings_default_to_monday_8_in_shanghai_and_off() -> None:
    settings = load_settings()
    assert settings.digest_channel is None
    assert (settings.digest_language, settings.digest_retries) == ("zh", 3)
    assert settings.digest_retry_seconds == 300
    assert settings.resolved_outbox_dir == Path(".zbrain") / "outbox"
    trigger = CronTrigger.from_crontab(
        settings.digest_cron, timezone=ZoneInfo(settings.digest_timezone)
    )
    thursday = dt.datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI)
    assert trigger.get_next_fire_time(None, thursday) == MONDAY_8
    assert latest_fire_time(trigger, thursday) == MONDAY_8 - dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ZBRAIN_DIGEST_CRON", "0 25 * * MON", "crontab expression"),
        ("ZBRAIN_DIGEST_CRON", "every monday", "crontab expression"),
        # APScheduler 3 would read 1 as Tuesday.
        ("ZBRAIN_DIGEST_CRON", "0 8 * * 1", "name the weekdays"),
        ("ZBRAIN_DIGEST_TIMEZONE", "Asia/Zhengzhou", "IANA time zone"),
        ("ZBRAIN_DIGEST_LANGUAGE", "ja", "zh"),
    ],
)
def test_a_bad_digest_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert variable in str(caught.value) and expected in str(caught.value)


def test_a_digest_channel_no_adapter_serves_is_refused_at_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.serve")
    posters = make_posters(load_settings(), io.StringIO())
    assert check_digest_channel(load_settings(), posters) is None
    assert "digest disabled: ZBRAIN_DIGEST_CHANNEL is not set" in caplog.text
    with pytest.raises(ConfigError, match=r"ZBRAIN_DIGEST_CHANNEL: .*'#managers'.*'file:"):
        check_digest_channel(load_settings(ZBRAIN_DIGEST_CHANNEL="#managers"), posters)


def test_posters_are_chosen_by_the_channel_prefix_and_keep_attachments(tmp_path: Path) -> None:
    terminal_out = io.StringIO()
    posters = PosterRegistry()
    posters.register("file:", FilePoster(tmp_path / "outbox"))
    posters.register("file:archive/", FilePoster(tmp_path / "archive"))
    posters.register("terminal:", TerminalPoster(terminal_out))
    chart = Attachment("../chart.png", b"\x89PNG fake", "image/png")
    reply = Reply(text="本周线索 35 条", files=(chart,), language="zh")

    async def post_all() -> None:
        await posters.post("file:managers", reply)
        await posters.post("file:archive/2026", reply)
        await posters.post("terminal:", reply)

    asyncio.run(post_all())
    (post,) = read_posts(tmp_path / "outbox")
    assert post["channel"] == "file:managers" and post["text"] == "本周线索 35 条"
    (saved,) = post["files"]  # type: ignore[misc]
    assert (tmp_path / "outbox" / saved["path"]).read_bytes() == b"\x89PNG fake"
    assert Path(saved["path"]).parent.parent.name == "files"  # kept inside the outbox
    assert len(read_posts(tmp_path / "archive")) == 1
    assert "本周线索 35 条" in terminal_out.getvalue()
    with pytest.raises(UnknownChannelError):
        posters.resolve("slack:#managers")


def test_services_stop_in_reverse_order_even_when_one_fails_to_stop() -> None:
    events: list[str] = []

    class Recorder:
        def __init__(self, name: str, broken: bool = False) -> None:
            self.name = name
            self.broken = broken

        async def start(self) -> None:
            events.append(f"start {self.name}")

        async def stop(self) -> None:
            events.append(f"stop {self.name}")
            if self.broken:
                raise RuntimeError("stuck")

    async def serve_then_stop() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, stop.set)
        await run_services([Recorder("digest"), Recorder("slack", broken=True)], stop)

    asyncio.run(serve_then_stop())
    assert events == ["start digest", "start slack", "stop slack", "stop digest"]


def test_serve_refuses_a_missing_or_unknown_channel_before_loading_anything(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    unset = run_cli("serve", env=cli_env, cwd=tmp_path, timeout=60)
    unknown = run_cli(
        "serve", env={**cli_env, "ZBRAIN_DIGEST_CHANNEL": "#managers"}, cwd=tmp_path, timeout=60
    )
    assert unset.returncode == 2 and "ZBRAIN_DIGEST_CHANNEL is not set" in unset.stderr
    assert unknown.returncode == 2 and "ZBRAIN_DIGEST_CHANNEL" in unknown.stderr
    assert "Traceback" not in unset.stderr + unknown.stderr
    assert not Path(cli_env["ZBRAIN_DATA_DIR"]).exists()


def test_serve_once_posts_the_digest_and_serve_stops_cleanly_on_sigterm(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**cli_env, "ZBRAIN_DIGEST_CHANNEL": CHANNEL}
    outbox = Path(cli_env["ZBRAIN_DATA_DIR"]) / "outbox"

    # A fresh data dir: this run loads the samples first.
    first = run_cli("serve", "--once", env=env, cwd=tmp_path, timeout=900)
    assert first.returncode == 0, first.stderr
    assert "posted (message" in first.stdout
    posts = read_posts(outbox)
    assert len(posts) == 1 and "线索总数：35" in str(posts[0]["text"])

    again = run_cli("serve", "--once", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "already posted" in again.stdout
    assert len(read_posts(outbox)) == 1

    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=child_env(env),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    serving = threading.Event()

    def read_log() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            lines.append(line)
            if "serving:" in line:
                serving.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        assert serving.wait(timeout=60), "".join(lines)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, "".join(lines)
    finally:
        if server.poll() is None:
            server.kill()
    reader.join(timeout=5)
    log = "".join(lines)
    assert "next run at" in log and "stopped" in log
    assert len(read_posts(outbox)) == 1
