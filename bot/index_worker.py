"""A server's index writes, in a child process.

Embedded Chroma holds the GIL through each write (about 70–90 ms for one lead's delete and
upsert here), so a lead saved in one chat would stall every other conversation on the event
loop, threads or not. `zbrain serve` therefore hands re-indexing to one long-lived child: the
worker thread of `bot.indexing` waits on it with the GIL released, and the server's in-memory
BM25 and vector copies pick up the child's rebuild through their stamp, as they do for
`zbrain ingest` run from another shell. One-shot commands index in-process (no child to start).
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TYPE_CHECKING

from knowledge.leads import Lead

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings

log = logging.getLogger(__name__)
_child_services: Services | None = None


def _reindex_in_child(settings: Settings, lead_ids: list[str]) -> int:
    """Runs in the child: re-index the leads as stored now."""
    global _child_services
    from bot.services import Services

    if _child_services is None or _child_services.settings != settings:
        _child_services = Services(settings)
    services = _child_services
    _ = services.index, services.lexical, services.vectors
    leads = [lead for lead_id in lead_ids if (lead := services.leads.get(lead_id)) is not None]
    if leads:
        services.index_leads(leads)
    return len(leads)


class ChildIndexer:
    """`index(changed)` for `bot.indexing.LeadIndexer`, done by the child process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the child and let it open the index now, not at the first saved lead."""
        self._submit([])

    def __call__(self, changed: list[Lead]) -> int:
        return self._submit([lead.id for lead in changed])

    def _submit(self, ids: list[str]) -> int:
        if self._pool is None:
            # spawn: a fork would copy this process's threads and open database handles.
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        return self._pool.submit(_reindex_in_child, self.settings, ids).result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
