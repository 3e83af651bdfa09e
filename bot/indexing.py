"""Re-indexing after a lead save, in the background: the save returns at once and one worker
thread brings the leads' text views, BM25 and the vector copy up to date.

The worker coalesces: saves that arrive while it is busy wait as one batch of lead ids, and it
re-reads each lead when it gets to it, so the index shows the lead as stored then, whatever
order the saves came in. The thread lives only while there is work (a new one starts with the
next save); it is not a daemon, so a process that exits lets it finish writing the index
instead of leaving it half written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from knowledge.leads import Lead

log = logging.getLogger(__name__)

Load = Callable[[str], Lead | None]  # the lead as stored now, None when it is gone
Index = Callable[[list[Lead]], object]


class LeadIndexer:
    def __init__(self, load: Load, index: Index, name: str = "zbrain-lead-indexing") -> None:
        self._load = load
        self._index = index
        self._name = name
        self._changed = threading.Condition()
        self._pending: dict[str, None] = {}  # lead ids in arrival order
        self._failed: dict[str, None] = {}  # ids whose last re-index failed; retried next time
        self._busy = False
        self._worker: threading.Thread | None = None
        self._closed = False

    def submit(self, changed: Iterable[Lead]) -> None:
        """Queue the changed leads (the store's listener) and return at once."""
        ids = [lead.id for lead in changed if lead.id]
        with self._changed:
            if self._closed:
                inline = True
            else:
                inline = False
                self._queue(ids)
                self._start()
        if inline:
            # After close there is no worker to leave behind: index in the caller's thread.
            self._run_batch([*dict.fromkeys([*self._take_failed(), *ids])])

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued lead is indexed; leads whose re-index failed are tried once
        more. True when nothing is left to index (none failed), False on timeout or failure."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            if self._failed:
                self._queue([])
                self._start()
            while self._pending or self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return not self._failed

    def close(self, timeout: float | None = None) -> bool:
        """Flush, then index any later save in the saver's thread: no worker outlives this."""
        done = self.flush(timeout)
        with self._changed:
            self._closed = True
            worker = self._worker
        if worker is not None and done:
            worker.join(timeout)
        return done

    @property
    def failed(self) -> list[str]:
        """Lead ids whose last re-index failed (they are retried with the next save)."""
        with self._changed:
            return list(self._failed)

    # -- the worker ----------------------------------------------------------------------
    def _queue(self, ids: list[str]) -> None:
        # Under the lock. Failed leads ride along with the next batch.
        for lead_id in [*self._failed, *ids]:
            self._pending[lead_id] = None
        self._failed.clear()
        self._changed.notify_all()

    def _take_failed(self) -> list[str]:
        with self._changed:
            failed = list(self._failed)
            self._failed.clear()
        return failed

    def _start(self) -> None:
        # Under the lock: at most one worker at a time.
        if self._worker is None and self._pending:
            self._worker = threading.Thread(target=self._work, name=self._name, daemon=False)
            self._worker.start()

    def _work(self) -> None:
        while True:
            with self._changed:
                if not self._pending:
                    self._worker = None
                    self._changed.notify_all()
                    return
                batch = list(self._pending)
                self._pending.clear()
                self._busy = True
            try:
                self._run_batch(batch)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()

    def _run_batch(self, ids: list[str]) -> None:
        if not ids:
            return
        try:
            current = [lead for lead in map(self._load, ids) if lead is not None]
            if current:
                self._index(current)
        except Exception:
            with self._changed:
                for lead_id in ids:
                    self._failed[lead_id] = None
            log.exception(
                "re-indexing leads %s failed; they stay unsearchable until the next save or "
                "flush retries them",
                ", ".join(ids),
            )
