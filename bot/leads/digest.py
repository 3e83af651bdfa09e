"""The scheduled manager digest: built from the lead summary, posted to a configured channel.

Never doubled: every run first claims its (schedule, period) row in `digest_runs`, whose
UNIQUE constraint lets exactly one process insert it; the period is the scheduled fire time, so
a re-fire, a retry, a catch-up after a restart and a second `zbrain serve` all land on the same
row. Whoever finds the row posted, or running and fresh, does nothing. A failed attempt is
recorded and retried until the retry limit. A row left "running" by a process that died is
taken over once it is older than `stale_after`.

One window remains, as with any external post: a process that dies after the platform accepted
the post but before it recorded it leaves a "running" row that another process takes over
later and posts again. Keeping `stale_after` far above a normal run's duration keeps that to
crashes in the middle of a post.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import (
    Engine,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot import i18n
from bot.channels import Poster
from bot.leads.labels import name
from bot.leads.narrative import amount_text
from bot.leads.summary import STALLED_DAYS, LeadSummary, SummaryFilter, summarize
from bot.llm import LLMClient
from bot.messages import Reply
from knowledge.digest_runs import digest_runs
from knowledge.glossary import Glossary, cached_glossary

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=30)
# A digest still worth posting after a restart that missed its time; later ones are only
# reported (`zbrain serve --once` posts them).
CATCH_UP = dt.timedelta(hours=6)
# How long `stop` lets a digest that is being posted finish before cancelling it.
STOP_GRACE_SECONDS = 30.0
ERROR_CHARS = 500

Status = Literal["posted", "already-posted", "in-progress", "failed", "gave-up"]
# Builds the digest for a day, on the service's own event loop (blocking work in threads).
Build = Callable[[dt.date], Awaitable[Reply]]


@dataclass(frozen=True)
class Outcome:
    status: Status
    period: str
    attempts: int
    message_id: str | None = None
    error: str | None = None
    will_retry: bool = False

    def describe(self, channel: str) -> str:
        where = f"digest for {self.period} to {channel}"
        match self.status:
            case "posted":
                return f"{where}: posted (message {self.message_id}, attempt {self.attempts})"
            case "already-posted":
                return f"{where}: already posted (message {self.message_id}); not posted again"
            case "in-progress":
                return f"{where}: another run is posting it now; not posted again"
            case "gave-up":
                return (
                    f"{where}: not posted, gave up after {self.attempts} attempts "
                    f"(last error: {self.error})"
                )
            case _ if self.attempts == 0:
                return f"{where}: could not start ({self.error}); will retry"
            case _:
                then = "will retry" if self.will_retry else "giving up"
                return f"{where}: attempt {self.attempts} failed ({self.error}); {then}"


@dataclass(frozen=True)
class RunRecord:
    status: str
    attempts: int
    message_id: str | None
    last_error: str | None


def period_key(fire_time: dt.datetime) -> str:
    """The scheduled fire time in the schedule's time zone: the same for every process and
    every retry of that run."""
    return fire_time.isoformat(timespec="seconds")


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DigestRunner:
    """One digest (a channel and a builder) and the bookkeeping that posts each period once."""

    def __init__(
        self,
        engine: Engine,
        poster: Poster,
        channel: str,
        build: Build,
        *,
        retries: int = 3,
        stale_after: dt.timedelta = STALE_AFTER,
        clock: Callable[[], dt.datetime] | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.engine = engine
        self.poster = poster
        self.channel = channel
        self.build = build
        self.retries = retries
        self.stale_after = stale_after
        self.clock = clock or _utcnow
        self.secrets = tuple(secrets)

    def _now(self) -> dt.datetime:
        # In UTC: SQLite drops the offset when it stores a datetime.
        return self.clock().astimezone(dt.UTC)

    @property
    def schedule(self) -> str:
        # Per channel: moving the digest to another channel posts the period there too.
        return f"manager-digest:{self.channel}"

    async def run(self, fire_time: dt.datetime) -> Outcome:
        """Post the digest for the run scheduled at `fire_time`, unless it is posted or being
        posted; one attempt, whose outcome says whether a retry is due."""
        period = period_key(fire_time)
        try:
            claimed = await asyncio.to_thread(self._claim, period)
        except Exception as exc:
            # The database, most likely: nothing could be recorded, so the caller's retry is
            # all that brings the period back.
            outcome = Outcome("failed", period, 0, error=self.describe_error(exc), will_retry=True)
            log.warning("%s", outcome.describe(self.channel))
            return outcome
        if isinstance(claimed, Outcome):
            log.info("%s", claimed.describe(self.channel))
            return claimed
        row_id, attempt = claimed
        try:
            reply = await self.build(fire_time.date())
            message_id = await self.poster.post(self.channel, reply)
        except asyncio.CancelledError:
            # Shutting down mid-post: leave the period to a retry rather than "running" until
            # it turns stale.
            self._finish(row_id, attempt, "failed", error="interrupted by shutdown")
            raise
        except Exception as exc:
            error = self.describe_error(exc)
            will_retry = attempt <= self.retries
            await asyncio.to_thread(self._finish, row_id, attempt, "failed", error=error)
            outcome = Outcome("failed", period, attempt, error=error, will_retry=will_retry)
            if will_retry:
                log.warning("%s", outcome.describe(self.channel))
            else:
                log.error("%s", outcome.describe(self.channel))
            return outcome
        try:
            recorded = await asyncio.to_thread(
                self._finish, row_id, attempt, "posted", message_id=message_id
            )
        except Exception as exc:
            # Posted all the same: no retry, or the channel would show it twice.
            log.error(
                "digest for %s to %s: posted as %s but not recorded (%s); the run stays "
                "'running' and is taken over, and posted again, once %s stale",
                period,
                self.channel,
                message_id,
                self.describe_error(exc),
                self.stale_after,
            )
            recorded = True
        if not recorded:
            log.warning(
                "digest for %s to %s: posted as %s after another process took the run over "
                "as stale; the channel may show it twice",
                period,
                self.channel,
                message_id,
            )
        outcome = Outcome("posted", period, attempt, message_id=message_id)
        log.info("%s", outcome.describe(self.channel))
        return outcome

    def record(self, fire_time: dt.datetime) -> RunRecord | None:
        """What is stored for the run scheduled at `fire_time`, if anything."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(digest_runs).where(
                    digest_runs.c.schedule == self.schedule,
                    digest_runs.c.period == period_key(fire_time),
                )
            ).first()
        if row is None:
            return None
        return RunRecord(row.status, row.attempts, row.message_id, row.last_error)

    def describe_error(self, exc: BaseException) -> str:
        # Only the exception's one line, scrubbed: a traceback or a poster's error text could
        # carry a token or a password.
        text = scrub(f"{type(exc).__name__}: {exc}", self.secrets)
        return " ".join(text.split())[:ERROR_CHARS]

    def _claim(self, period: str) -> tuple[int, int] | Outcome:
        """(row id, attempt number) when this process may post the period now, else the
        outcome that explains why not."""
        now = self._now()
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    digest_runs.insert().values(
                        schedule=self.schedule,
                        period=period,
                        status="running",
                        attempts=1,
                        created_at=now,
                        updated_at=now,
                    )
                )
                return int(result.inserted_primary_key[0]), 1
        except IntegrityError:
            pass  # the period is claimed already: see by whom and how it went
        with self.engine.connect() as conn:
            row = conn.execute(
                select(digest_runs).where(
                    digest_runs.c.schedule == self.schedule, digest_runs.c.period == period
                )
            ).one()
        if row.status == "posted":
            return Outcome("already-posted", period, row.attempts, message_id=row.message_id)
        if row.status == "running" and now - _aware(row.updated_at) < self.stale_after:
            return Outcome("in-progress", period, row.attempts)
        if row.status == "failed" and row.attempts > self.retries:
            return Outcome("gave-up", period, row.attempts, error=row.last_error)
        if row.status == "running":
            log.warning(
                "digest for %s to %s: taking over a run left unfinished since %s",
                period,
                self.channel,
                _aware(row.updated_at).isoformat(timespec="seconds"),
            )
        # Compare-and-set on (status, attempts): of two processes taking over the same row,
        # exactly one updates it.
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(digest_runs)
                .where(
                    digest_runs.c.id == row.id,
                    digest_runs.c.status == row.status,
                    digest_runs.c.attempts == row.attempts,
                )
                .values(status="running", attempts=row.attempts + 1, updated_at=now)
            ).rowcount
        if taken != 1:
            return Outcome("in-progress", period, row.attempts + 1)
        return int(row.id), row.attempts + 1

    def _finish(
        self,
        row_id: int,
        attempt: int,
        status: str,
        *,
        message_id: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Record how the attempt ended; False when the row is no longer this attempt's."""
        now = self._now()
        values: dict[str, Any] = {"status": status, "updated_at": now, "last_error": error}
        if status == "posted":
            values.update(message_id=message_id, posted_at=now)
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(digest_runs)
                .where(
                    digest_runs.c.id == row_id,
                    digest_runs.c.attempts == attempt,
                    digest_runs.c.status == "running",
                )
                .values(**values)
            ).rowcount
        return changed == 1


def latest_fire_time(trigger: BaseTrigger, now: dt.datetime) -> dt.datetime | None:
    """The last time at or before `now` the trigger fires (APScheduler 3 only looks ahead):
    the period a run that fires now, or `--once`, belongs to."""
    window = dt.timedelta(minutes=2)
    # Growing windows keep the stepping short for an every-minute cron and a yearly one alike.
    while window < dt.timedelta(days=5 * 366):
        fire = trigger.get_next_fire_time(None, now - window)
        if fire is not None and fire <= now:
            while True:
                following = trigger.get_next_fire_time(fire, fire)
                if following is None or following > now:
                    return fire
                fire = following
        window *= 4
    return None


class DigestSchedule:
    """The digest as a service of `zbrain serve`: an APScheduler job on the cron trigger, a
    one-off retry job after each failed attempt, and a catch-up at start for a run missed
    while no process was serving."""

    name = "digest"

    def __init__(
        self,
        runner: DigestRunner,
        trigger: BaseTrigger,
        *,
        retry_seconds: float = 300.0,
        catch_up: dt.timedelta = CATCH_UP,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.runner = runner
        self.trigger = trigger
        self.retry_seconds = retry_seconds
        self.catch_up = catch_up
        self.clock = clock or _utcnow
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self._in_flight: set[asyncio.Task[Any]] = set()

    @property
    def channel(self) -> str:
        return self.runner.channel

    async def start(self) -> None:
        self.scheduler.start()
        job = self.scheduler.add_job(
            self.fire,
            self.trigger,
            id="digest",
            name=f"digest to {self.channel}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(self.catch_up.total_seconds())),
        )
        log.info(
            "digest to %s scheduled (%s); next run at %s",
            self.channel,
            self.trigger,
            job.next_run_time.isoformat(timespec="seconds") if job.next_run_time else "never",
        )
        await self._catch_up()

    async def stop(self) -> None:
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        if self._in_flight:
            log.info("waiting for the digest being posted to finish")
            await asyncio.wait(set(self._in_flight), timeout=STOP_GRACE_SECONDS)
        self.scheduler.shutdown(wait=False)

    async def fire(self) -> Outcome | None:
        """The cron job: post the period that is due now."""
        fire_time = latest_fire_time(self.trigger, self.clock())
        if fire_time is None:
            return None
        return await self.run_period(fire_time)

    async def run_period(self, fire_time: dt.datetime, tries: int = 1) -> Outcome:
        """Run the period now and schedule a retry if it failed; `tries` counts this process's
        runs of the period, which bounds retries even when the database records none."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            outcome = await self.runner.run(fire_time)
        finally:
            if task is not None:
                self._in_flight.discard(task)
        if outcome.will_retry and tries <= self.runner.retries and self.scheduler.running:
            # The scheduler's own time, not `clock`: that one names periods (tests move it).
            run_date = _utcnow() + dt.timedelta(seconds=self.retry_seconds)
            self.scheduler.add_job(
                self.run_period,
                "date",
                run_date=run_date,
                args=[fire_time, tries + 1],
                id=f"digest-retry {outcome.period}",
                name=f"retry of the digest for {outcome.period}",
                replace_existing=True,
                misfire_grace_time=None,
            )
            log.info(
                "digest for %s: retrying at %s",
                outcome.period,
                run_date.isoformat(timespec="seconds"),
            )
        return outcome

    async def _catch_up(self) -> None:
        now = self.clock()
        fire_time = latest_fire_time(self.trigger, now)
        if fire_time is None:
            return
        try:
            record = await asyncio.to_thread(self.runner.record, fire_time)
        except Exception as exc:
            log.warning("cannot read the digest runs (%s)", self.runner.describe_error(exc))
            record = None
        if record is not None and record.status == "posted":
            return
        if now - fire_time <= self.catch_up:
            log.info("digest for %s was not posted yet: posting it now", period_key(fire_time))
            self.scheduler.add_job(
                self.run_period,
                args=[fire_time],
                id=f"digest-catch-up {period_key(fire_time)}",
                misfire_grace_time=None,
            )
        else:
            state = "never attempted" if record is None else f"{record.status}"
            log.warning(
                "digest for %s to %s was not posted (%s) and is too old to post automatically; "
                "`zbrain serve --once` posts it now",
                period_key(fire_time),
                self.channel,
                state,
            )


def _label(key: str, language: str, **values: object) -> str:
    return i18n.text(f"digest.{key}", language, **values)


def _with_ids(line: str, values: list[str], language: str, limit: int = 8) -> str:
    """The line, then the ids it counts ("L-0003, L-0006 and 2 more") when there are any."""
    if not values:
        return line
    shown = values[:limit]
    if len(values) > limit:
        shown.append(i18n.plural("summary.more", len(values) - limit, language))
    return _label("with_ids", language, line=line, ids=i18n.list_of(shown, language))


def digest_text(summary: LeadSummary, language: str, glossary: Glossary | None = None) -> str:
    """The summary's figures as plain text, labelled in the digest's language."""
    glossary = glossary or cached_glossary()

    def count(values: list[Any]) -> str:
        return i18n.number(len(values), language)

    def stage(key: str) -> str:
        return name("stages", key, language, glossary)

    lines = [
        f"{_label('title', language)} · {summary.period_start} – {summary.period_end}",
        _label("total", language, n=i18n.number(summary.total, language)),
        _with_ids(_label("new", language, n=count(summary.new)), summary.new, language),
        _with_ids(
            _label("advanced", language, n=count(summary.advanced)),
            [f"{a['id']} {stage(a['from'])}→{stage(a['to'])}" for a in summary.advanced],
            language,
        ),
        _with_ids(
            i18n.plural(
                "digest.stalled",
                int(summary.filters.get("stalled_days", STALLED_DAYS)),
                language,
                n=count(summary.stalled),
            ),
            summary.stalled,
            language,
        ),
        _with_ids(
            _label("unassigned", language, n=count(summary.unassigned)),
            [str(u["id"]) for u in summary.unassigned],
            language,
        ),
    ]
    stages = [
        f"{stage(key)} {i18n.number(n, language)}" for key, n in summary.by_stage.items() if n
    ]
    if stages:
        lines.append(_label("by_stage", language, stages=" · ".join(stages)))
    if summary.largest:
        lines.append(_label("largest", language))
        for item in summary.largest:
            amount = amount_text(item["amount"], item["currency"], language)
            lines.append(f"  {item['id']} {item['company']}: {amount}")
    return "\n".join(lines)


def summary_digest(
    engine: Engine,
    language: str = "zh",
    where: SummaryFilter | None = None,
    llm: LLMClient | None = None,
) -> Build:
    """The default digest: the figures of the last week's lead summary as text, then the
    same narrative and chart a manager gets when asking in chat."""
    from bot.leads.reports import summary_reply

    chosen = where or SummaryFilter(period="week")

    async def build(today: dt.date) -> Reply:
        # On the loop that owns the LLM client: its pooled connections belong to that loop.
        summary = await asyncio.to_thread(summarize, engine, chosen, today)
        chat = await summary_reply(engine, chosen, language, today, llm, role="manager")
        narrative = chat.text.split("\n\n", 1)[0]
        figures = await asyncio.to_thread(digest_text, summary, language)
        return Reply(
            text=f"{figures}\n\n{narrative}",
            files=chat.files,
            mode=chat.mode,
            language=language,
        )

    return build
