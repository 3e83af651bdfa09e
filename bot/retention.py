"""Audit retention as a service of `zbrain serve`: prune the audit log at start and then once a
day, so exchanges older than ZBRAIN_AUDIT_RETENTION_DAYS (and their feedback) do not pile up.
The keys of handled platform events go after a day: platforms stop retrying within minutes.

Pruning is a DELETE that can take a while on a large log, so it runs in a thread; a failure is
logged and retried at the next interval instead of stopping the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from sqlalchemy import Engine

from bot.settings import Settings
from knowledge.audit import AuditLog
from knowledge.handled_events import HandledEvents
from knowledge.sql import utcnow

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 3600.0
EVENT_KEYS_KEPT = dt.timedelta(days=1)


class AuditRetention:
    name = "audit retention"

    def __init__(
        self,
        audit: AuditLog,
        older_than: dt.timedelta,
        *,
        every_seconds: float = DAY_SECONDS,
        events: HandledEvents | None = None,
    ) -> None:
        self.audit = audit
        self.events = events
        self.older_than = older_than
        self.every_seconds = every_seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.prune_once()
        self._task = asyncio.create_task(self._loop(), name="audit retention")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def prune_once(self) -> int | None:
        """Prune now; the number of exchanges removed, or None when pruning failed."""
        try:
            removed = await asyncio.to_thread(self.audit.prune, self.older_than)
            if self.events is not None:
                await asyncio.to_thread(self.events.forget_before, utcnow() - EVENT_KEYS_KEPT)
        except Exception as exc:
            # No traceback: a database error's frames can hold the URL with its password.
            log.error("audit retention failed: %s: %s", type(exc).__name__, exc)
            return None
        log.info(
            "audit retention: removed %d exchange(s) older than %d days",
            removed,
            self.older_than.days,
        )
        return removed

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every_seconds)
            await self.prune_once()


def audit_retention(settings: Settings, engine: Engine) -> AuditRetention:
    """The service for these settings, on the engine `zbrain serve` already opened."""
    return AuditRetention(
        AuditLog(engine),
        dt.timedelta(days=settings.audit_retention_days),
        events=HandledEvents(engine),
    )
