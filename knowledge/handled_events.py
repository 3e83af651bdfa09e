"""Platform events already handled, so a retried delivery (Slack's `X-Slack-Retry-Num` with
the same `event_id`, a Telegram update sent twice) never produces a second answer. The key
lives in SQL so that it holds across workers and restarts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Column, DateTime, Engine, Index, String, Table, delete
from sqlalchemy.exc import IntegrityError

from knowledge.sql import metadata, utcnow

handled_events = Table(
    "handled_events",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("event_key", String(200), primary_key=True),
    Column("handled_at", DateTime(timezone=True), nullable=False),
)
Index("ix_handled_events_handled_at", handled_events.c.handled_at)


class HandledEvents:
    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def claim(self, platform: str, event_key: str) -> bool:
        """True for the first worker to claim this event; False for every later delivery."""
        if not event_key:
            return True  # nothing to deduplicate on: handle it
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    handled_events.insert().values(
                        platform=platform, event_key=event_key[:200], handled_at=self.clock()
                    )
                )
        except IntegrityError:
            return False
        return True

    def forget_before(self, cutoff: dt.datetime) -> int:
        """Drop keys older than `cutoff` (platforms stop retrying after minutes)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(handled_events).where(handled_events.c.handled_at < cutoff)
            )
        return result.rowcount or 0
